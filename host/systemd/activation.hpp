// SPDX-License-Identifier: MIT
// Socket activation: the listening sockets systemd (or another manager)
// passes, as sd_listen_fds(3) defines it.
#pragma once

#include <string>
#include <vector>

#include "host/config.hpp"

namespace sockhost::host::systemd {

/// One socket passed to this process.
struct PassedSocket {
    int fd = -1;
    std::string name;   // from LISTEN_FDNAMES ("" when none was given)
};

/// The sockets passed to this process: LISTEN_FDS descriptors from 3 when
/// LISTEN_PID is this process, named by LISTEN_FDNAMES (colon-separated).
/// The three variables are unset (no child inherits them) and each
/// descriptor gets FD_CLOEXEC. None when the variables are absent or meant
/// for another process.
std::vector<PassedSocket> take_passed_sockets();

/// The server each passed socket serves, by index into config.servers: the
/// server whose name is the socket's name, else the first not yet matched
/// whose listen address and socket type are the socket's (a port 0 address
/// matches any port). A socket that matches no server is a ConfigError.
std::vector<std::size_t> match_passed_sockets(const std::vector<PassedSocket>& passed, const Config& config);

}  // namespace sockhost::host::systemd
