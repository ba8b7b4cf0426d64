// One HTTP request/response on a connection: build, sign, send, read the
// header, then stream the body to a sink (GET 2xx) or read it into a string
// (error bodies, listings). Internal.
#pragma once

#include "storage/s3/connection.hpp"

#include <boost/beast/http/verb.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fluss_fetch::storage::s3 {

struct store_state;

struct request_spec {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string canonical_uri;                                  ///< encoded path, e.g. "/bucket/a%20b"
    std::vector<std::pair<std::string, std::string>> query;     ///< raw name/value pairs
    std::optional<byte_range> range;
    std::string if_match;
    std::chrono::milliseconds stall_timeout{0};                 ///< 0: the store's own
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    std::string body;                                           ///< PUT body
    byte_sink* sink = nullptr;                                  ///< GET 2xx body goes here when set
    std::size_t string_limit = 1 << 20;                         ///< bodies read into `body` up to this
};

struct exchange_result {
    boost::system::error_code ec;       ///< transport/integrity error; HTTP status errors are NOT set here
    bool stale = false;                 ///< failed before any response byte (reused keep-alive closed)
    unsigned status = 0;
    std::optional<std::uint64_t> content_length;
    std::uint64_t object_size = 0;      ///< from Content-Range total, or Content-Length
    std::string etag;
    std::string last_modified;
    std::string request_id;
    std::string location;               ///< Location header (redirects)
    std::string bucket_region;          ///< x-amz-bucket-region header (wrong-region redirects)
    std::string message;                ///< with `ec`: what the server sent that was wrong, in words
    std::string body;                   ///< the body when not streamed to the sink
    std::uint64_t sink_bytes = 0;       ///< bytes handed to the sink
};

/// Exchange one request on `c`, which must be connected. Runs on `c.strand`.
/// Leaves `c.reusable` true only when the whole response was read and the
/// server keeps the connection alive.
/// Signed with `creds` (unsigned when null).
asio::awaitable<exchange_result> exchange(connection& c, const store_state& s, detail::op_state& st,
                                          const request_spec& spec, const aws_credentials* creds);

}  // namespace fluss_fetch::storage::s3
