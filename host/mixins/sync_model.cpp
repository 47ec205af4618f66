// SPDX-License-Identifier: MIT
// The sync model: socketserver's plain TCPServer/UDPServer behaviour.
#include "host/mixins/concurrency.hpp"
#include "host/servers/base_server.hpp"

namespace sockhost::host {

ConcurrencyModel::~ConcurrencyModel() = default;

namespace {
class SyncModel final : public ConcurrencyModel {
public:
    std::string_view name() const override { return "sync"; }
    void process_request(BaseServer& server, PendingRequest& request) override {
        PendingRequest mine = std::move(request);
        server.process_request_inline(mine);
    }
};
}  // namespace

std::unique_ptr<ConcurrencyModel> make_sync_model() { return std::make_unique<SyncModel>(); }

std::unique_ptr<ConcurrencyModel> make_model(const ServerConfig& config) {
    switch (config.concurrency) {
        case Concurrency::sync: return make_sync_model();
        case Concurrency::threading: return make_threading_model(config);
        case Concurrency::forking: return make_forking_model(config);
        case Concurrency::event: return make_event_model(config);
    }
    return make_sync_model();
}

}  // namespace sockhost::host
