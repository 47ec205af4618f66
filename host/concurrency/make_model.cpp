// SPDX-License-Identifier: MIT
// The model a [[server]] entry's `concurrency` names.
#include "host/concurrency/concurrency.hpp"

namespace sockhost::host {

ConcurrencyModel::~ConcurrencyModel() = default;

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
