// SPDX-License-Identifier: MIT
// Everything a plugin author needs, in one include.
#pragma once

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/base_request_handler.hpp"
#include "sockhost/sdk/buffered_io.hpp"
#include "sockhost/sdk/byte_stream.hpp"
#include "sockhost/sdk/datagram_request_handler.hpp"
#include "sockhost/sdk/errors.hpp"
#include "sockhost/sdk/log_text.hpp"
#include "sockhost/sdk/options.hpp"
#include "sockhost/sdk/plugin.hpp"
#include "sockhost/sdk/server_context.hpp"
#include "sockhost/sdk/socket_address.hpp"
#include "sockhost/sdk/stream_request_handler.hpp"
