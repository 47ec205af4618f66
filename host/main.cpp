// SPDX-License-Identifier: MIT
// sockhost: a socketserver host that loads request handlers from plugins.
#include "host/app.hpp"

int main(int argc, char* argv[]) { return sockhost::host::run_host(argc, argv); }
