// SPDX-License-Identifier: MIT
// TlsInfo: what a handler may know of the TLS session it is served over.
#pragma once

#include <string_view>

namespace sockhost::sdk {

/// The TLS facts of a connection the host terminates TLS for. Views into the
/// host's session: valid until the handler's finish() returns.
struct TlsInfo {
    std::string_view protocol;         // "TLSv1.3"
    std::string_view cipher;           // "TLS_AES_128_GCM_SHA256"
    std::string_view server_name;      // SNI, "" when the client sent none
    std::string_view alpn;             // the negotiated protocol, "" when none
    std::string_view client_subject;   // the verified client certificate's subject, "" when none
};

}  // namespace sockhost::sdk
