// SPDX-License-Identifier: MIT
// The host's life: command line -> config -> plugins -> servers -> signals.
#pragma once

namespace sockhost::host {

/// Runs sockhost; returns the process exit status (0 ok, 1 config/plugin/bind
/// error, 2 bad command line).
int run_host(int argc, const char* const argv[]);

}  // namespace sockhost::host
