// Turn s3_options + the environment into the settings a store uses.
#pragma once

#include "storage/s3/credentials.hpp"

#include <fluss_fetch/storage/s3_store.hpp>

namespace fluss_fetch::storage::s3 {

struct store_config {
    s3_resolved_config pub;   ///< what config() shows (no secrets)
    s3_credentials creds;     ///< empty when anonymous
    std::string ca_file;      ///< empty: system default paths
    std::string host_header;  ///< host[:port] as sent (bucket included when virtual-hosted)
    std::string connect_host; ///< the host name to resolve and verify
};

/// \throws std::system_error (errc::invalid_argument / invalid_uri / no_credentials /
/// bad_credentials_file) with a message naming the setting.
store_config resolve_config(const s3_options& opts, const env_lookup& env);

}  // namespace fluss_fetch::storage::s3
