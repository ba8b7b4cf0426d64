// Which credentials provider an s3_store signs with (s3_options →
// provider), and which S3 answers mean "these credentials were refused,
// fetch fresh ones". Internal.
#pragma once

#include <fluss_fetch/storage/s3_store.hpp>

#include <string>
#include <string_view>

namespace fluss_fetch::storage::s3 {

/// The environment a store reads: `opts.env` when set, else the process's.
env_lookup store_env(const s3_options& opts);

struct store_credentials {
    credentials_provider_ptr provider;  ///< null: anonymous (unsigned requests)
    std::string source;                 ///< the provider's describe(), or "anonymous"
    std::string access_key_id;          ///< the public half, when static credentials are known up front
};

/// First that is set: `opts.credentials_provider`; `opts.credentials`
/// (static); `opts.anonymous` (no provider); else the default chain with
/// `opts.profile`, `env` and `opts.ca_file`. Throws std::system_error
/// (errc::invalid_argument) for static credentials with an empty key id or secret.
store_credentials make_store_credentials(const boost::asio::any_io_executor& ex, const s3_options& opts,
                                         const env_lookup& env);

/// An S3 answer that rejects the credentials themselves (400/403
/// ExpiredToken or InvalidToken): worth one more try with fresh ones.
bool rejects_token(unsigned status, std::string_view s3_code);

}  // namespace fluss_fetch::storage::s3
