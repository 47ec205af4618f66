// SPDX-License-Identifier: MIT
// The http_static plugin: its options and its handler factory.
#include "http_static.hpp"

#include <memory>

#include <sockhost/sdk/http/limits.hpp>

#include "files/config.hpp"
#include "files/handler.hpp"
#include "files/static_files.hpp"

namespace sockhost::plugins::http_static {

void validate_options(const sdk::Options& options) {
    sdk::http::validate_http_options(options, files::kOptionKeys);
    (void)files::Config::from_options(options);
}

sdk::HandlerFactory make_factory(const sdk::Options& options) {
    auto config = std::make_shared<const files::Config>(files::Config::from_options(options));
    (void)files::MimeTypes::system();   // load /etc/mime.types before the first request
    return [config](sdk::Transport t) -> std::unique_ptr<sdk::BaseRequestHandler> {
        if (t != sdk::Transport::stream) return nullptr;
        return std::make_unique<files::SimpleHTTPRequestHandler>(config);
    };
}

}  // namespace sockhost::plugins::http_static
