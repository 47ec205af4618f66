// SPDX-License-Identifier: MIT
// The sync model: socketserver's plain TCPServer/UDPServer behaviour.
#include "host/concurrency/concurrency.hpp"

namespace sockhost::host {

namespace {
class SyncModel final : public ConcurrencyModel {
public:
    std::string_view name() const override { return "sync"; }
    void process_request(RequestSink& server, PendingRequest& request) override {
        PendingRequest mine = std::move(request);
        server.process_request_inline(mine);
    }
};
}  // namespace

std::unique_ptr<ConcurrencyModel> make_sync_model() { return std::make_unique<SyncModel>(); }

}  // namespace sockhost::host
