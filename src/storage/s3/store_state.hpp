// The shared state behind an s3_store: configuration, TLS context, pool.
#pragma once

#include "storage/s3/connection.hpp"

#include <boost/asio/ssl/context.hpp>

#include <optional>

namespace fluss_fetch::storage::s3 {

struct store_state {
    store_state(asio::any_io_executor ex, s3_options o, store_config c, credentials_provider_ptr creds);

    asio::any_io_executor executor;
    s3_options opts;
    store_config cfg;
    /// The one provider every request asks before it is signed; null: anonymous.
    credentials_provider_ptr credentials;
    std::optional<asio::ssl::context> ssl;  ///< https endpoints only
    connection_pool pool;
};

}  // namespace fluss_fetch::storage::s3
