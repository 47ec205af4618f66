// SPDX-License-Identifier: MIT
// sd_notify: telling systemd (Type=notify) where the host is.
#pragma once

#include <string_view>

namespace sockhost::host::systemd {

/// Sends `state` ("READY=1", "RELOADING=1\nMONOTONIC_USEC=...",
/// "STOPPING=1", "STATUS=...") to the socket in $NOTIFY_SOCKET; nothing when
/// it is unset. Returns false when it is set and the send failed.
///
/// Written here rather than linking libsystemd: the protocol is one datagram
/// of "KEY=VALUE" lines to a Unix socket (a path, or an abstract name after
/// '@'), documented as stable in sd_notify(3) ("NOTES"); libsystemd would add
/// a shared library to the host for these twenty lines.
bool notify(std::string_view state);

/// "RELOADING=1\nMONOTONIC_USEC=<now>", as Type=notify-reload wants it.
bool notify_reloading();

}  // namespace sockhost::host::systemd
