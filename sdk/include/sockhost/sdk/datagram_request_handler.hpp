// SPDX-License-Identifier: MIT
// DatagramRequestHandler: socketserver.DatagramRequestHandler.
#pragma once

#include <memory>
#include <string>

#include "sockhost/sdk/abi.hpp"
#include "sockhost/sdk/base_request_handler.hpp"
#include "sockhost/sdk/buffered_io.hpp"
#include "sockhost/sdk/byte_stream.hpp"

namespace sockhost::sdk {

/// Services one datagram: rfile reads the datagram, whatever is written to
/// wfile is sent back to the client as one datagram by finish() (also when
/// empty, as Python does; skipped for an unnamed Unix client, which cannot
/// be answered).
class SOCKHOST_SDK_API DatagramRequestHandler : public BaseRequestHandler {
public:
    DatagramRequestHandler();
    ~DatagramRequestHandler() override;

    /// May be overridden; call the base first.
    void setup() override;
    /// May be overridden; call the base last. Sends the reply.
    void finish() override;

    Reader& rfile() { return *rfile_; }
    Writer& wfile() { return *wfile_; }
    /// The reply collected so far.
    const std::string& reply() const;

private:
    std::unique_ptr<ByteStream> in_;
    std::unique_ptr<ByteStream> out_;
    std::unique_ptr<Reader> rfile_;
    std::unique_ptr<Writer> wfile_;
};

}  // namespace sockhost::sdk
