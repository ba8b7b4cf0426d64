// Turn s3_options + the environment (+ the shared config file) into the
// settings a store uses.
#pragma once

#include <fluss_fetch/storage/s3_store.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace fluss_fetch::storage::s3 {

/// An HTTP proxy the store goes through.
struct proxy_config {
    std::string host;           ///< to resolve / connect to (IPv6 without brackets)
    std::string port;
    std::string url;            ///< "http://host:port": for messages and config(); no user info
    std::string authorization;  ///< "Basic ..." from the URL's user info, or empty. Secret: never logged
};

struct store_config {
    s3_resolved_config pub;   ///< what config() shows (no secrets)
    std::string ca_file;      ///< empty: system default paths
    std::string host_header;  ///< host[:port] as sent (bucket included when virtual-hosted)
    std::string connect_host; ///< the host name to resolve and verify
    std::optional<proxy_config> proxy;  ///< https: CONNECT tunnel; http: absolute-form requests
};

/// \throws std::system_error (errc::invalid_argument / invalid_uri /
/// bad_credentials_file) with a message naming the setting.
/// Credentials are not looked at here (see credentials.hpp).
store_config resolve_config(const s3_options& opts, const env_lookup& env);

/// Does `host` match the NO_PROXY list `no_proxy` (comma-separated host
/// names, `.suffix` or `suffix` domains, IP addresses, `*`; ports ignored)?
bool no_proxy_matches(std::string_view no_proxy, std::string_view host);

/// Parse a proxy URL `[http://][user[:password]@]host[:port]` (port 80 when
/// absent). `from` names the setting for messages. Throws invalid_argument
/// (never showing the password).
proxy_config parse_proxy_url(std::string_view url, std::string_view from);

}  // namespace fluss_fetch::storage::s3
