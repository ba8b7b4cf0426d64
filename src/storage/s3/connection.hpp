// One keep-alive connection to the S3 endpoint (plain TCP or TLS), and the
// pool that hands them out. Internal: includes Beast.
#pragma once

#include "core/async_op.hpp"
#include "storage/s3/config.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace fluss_fetch::storage::s3 {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

/// A connection lives on its own strand: the request coroutine that uses it,
/// its stream's timeout handler and cancellation all run there, so no two
/// threads ever touch the socket at once. A connection that saw any error is
/// closed (`close()`), never handed out again in that state.
struct connection {
    explicit connection(detail::strand_type s) : strand(std::move(s)) {}

    detail::strand_type strand;
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
    std::optional<tcp::resolver> resolver;
    beast::flat_buffer buffer;                 ///< bytes read past the last response header
    std::unique_ptr<std::byte[]> io;           ///< body chunk buffer (allocated on first GET)
    std::size_t io_size = 0;
    bool connected = false;
    bool reusable = false;                     ///< the last exchange ended cleanly with keep-alive

    beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }
    /// Close the socket and cancel a running resolve: every pending operation
    /// completes with an error. Safe to call repeatedly.
    void close() noexcept;
};

/// Idle keep-alive connections of one store. Thread-safe.
class connection_pool {
public:
    connection_pool(asio::any_io_executor ex, std::size_t max_idle) : ex_(std::move(ex)), max_idle_(max_idle) {}

    /// An idle connection (most recently used first), or a new unconnected one on a fresh strand.
    std::shared_ptr<connection> acquire();
    /// Keep `c` for reuse when it is connected and reusable and there is room; drop it otherwise.
    void release(std::shared_ptr<connection> c);
    std::size_t idle_count();

private:
    asio::any_io_executor ex_;
    std::size_t max_idle_;
    std::mutex mutex_;
    std::vector<std::shared_ptr<connection>> idle_;
};

/// Resolve, connect and (https) handshake with SNI and host-name
/// verification, bounded by `timeout`. Runs on `c.strand`. On failure fills
/// `diag.message` and returns connect_timeout, tls_error or the system error.
asio::awaitable<boost::system::error_code> connect(connection& c, const store_config& cfg, asio::ssl::context* ssl,
                                                   std::chrono::milliseconds timeout, diagnostics& diag);

}  // namespace fluss_fetch::storage::s3
