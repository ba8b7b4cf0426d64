// fluss_fetch — the object store interface (S3 or a local remote.data.dir).
#pragma once

#include <fluss_fetch/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fluss_fetch::storage {

/// What a HEAD (or a GET) tells about an object.
struct object_meta {
    std::uint64_t size = 0;      ///< the whole object's size in bytes
    std::string etag;            ///< as sent, quotes included; empty for local files
    std::string last_modified;   ///< HTTP date as sent, or ISO 8601 for local files
};

/// One entry of a listing.
struct object_entry {
    std::string key;             ///< full key (the listed prefix included)
    std::uint64_t size = 0;
    std::string etag;
    std::string last_modified;
};

/// An inclusive-exclusive byte range [offset, offset + length).
struct byte_range {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;    ///< must be > 0
};

/// Options of one GET.
struct get_options {
    std::optional<byte_range> range;  ///< whole object when empty
    std::string if_match;             ///< ETag the object must still have (412 otherwise)
    /// Stall timeout of this request; 0 keeps the store's own (`s3_options::stall_timeout`).
    /// Local stores ignore it.
    std::chrono::milliseconds stall_timeout{0};
    /// The GET fails with `errc::deadline_exceeded` (not retryable) when it is
    /// not complete by then, whatever phase it is in; max(): no deadline.
    /// Local stores ignore it.
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

/// What a successful GET delivered.
struct get_result {
    std::uint64_t bytes = 0;     ///< body bytes written to the sink (== range length when ranged)
    object_meta meta;            ///< size is the whole object's, also for ranges
};

/// Where a GET writes its body. Called with large chunks (the S3 store hands
/// over up to its read buffer, 1 MiB by default) in order. An error returned
/// ends the GET with that error. A retry always uses a fresh sink (or one the
/// caller has rewound): a failed attempt may have written part of the body.
class byte_sink {
public:
    virtual ~byte_sink() = default;
    virtual boost::system::error_code write(const std::byte* data, std::size_t size) = 0;
};

/// A sink that appends to a std::string (small objects, tests).
class string_sink final : public byte_sink {
public:
    explicit string_sink(std::string& out, std::size_t limit = SIZE_MAX) : out_(out), limit_(limit) {}
    boost::system::error_code write(const std::byte* data, std::size_t size) override {
        if (out_.size() + size > limit_) return make_error_code(errc::object_too_large);
        out_.append(reinterpret_cast<const char*>(data), size);
        return {};
    }

private:
    std::string& out_;
    std::size_t limit_;
};

/// A place that holds objects by key: one S3 bucket (`s3_store`) or one local
/// directory (`local_store`). Keys are relative to that root, `/`-separated.
///
/// Every operation takes a universal completion token (`asio::use_awaitable`,
/// `asio::use_future`, a callback, `asio::deferred`, ...) and supports
/// terminal cancellation through the token's cancellation slot: a cancelled
/// operation completes with `asio::error::operation_aborted` and has stopped
/// writing to its sink when it completes. `diag` is filled on failure and
/// must outlive the operation, as must the sink.
///
/// \par Thread safety
/// Operations may be started concurrently from any thread; each completes on
/// the completion handler's associated executor (the store's own executor
/// when the handler has none).
class object_store {
public:
    using executor_type = boost::asio::any_io_executor;

    virtual ~object_store() = default;

    /// The executor the store's operations run on.
    virtual executor_type get_executor() const noexcept = 0;

    /// A short description for logs and errors, e.g. `s3://bucket` or `file:///data`.
    virtual std::string describe() const = 0;

    /// GET `key` (or a range of it) and stream the body into `sink`.
    /// Signature: `void(error_code, get_result)`.
    template <class Token>
    auto async_get(std::string key, get_options opts, byte_sink& sink, diagnostics& diag, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, get_result)>(
            [this](auto handler, std::string key, get_options opts, byte_sink* sink, diagnostics* diag) {
                do_get(std::move(key), std::move(opts), *sink, *diag, std::move(handler));
            },
            token, std::move(key), std::move(opts), &sink, &diag);
    }

    /// HEAD `key`. Signature: `void(error_code, object_meta)`.
    template <class Token>
    auto async_head(std::string key, diagnostics& diag, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, object_meta)>(
            [this](auto handler, std::string key, diagnostics* diag) {
                do_head(std::move(key), *diag, std::move(handler));
            },
            token, std::move(key), &diag);
    }

    /// List every object whose key starts with `prefix` (all pages), sorted
    /// by key. Signature: `void(error_code, std::vector<object_entry>)`.
    template <class Token>
    auto async_list(std::string prefix, diagnostics& diag, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::vector<object_entry>)>(
            [this](auto handler, std::string prefix, diagnostics* diag) {
                do_list(std::move(prefix), *diag, std::move(handler));
            },
            token, std::move(prefix), &diag);
    }

    /// PUT a small object held in memory. Signature: `void(error_code)`.
    template <class Token>
    auto async_put(std::string key, std::string body, diagnostics& diag, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
            [this](auto handler, std::string key, std::string body, diagnostics* diag) {
                do_put(std::move(key), std::move(body), *diag, std::move(handler));
            },
            token, std::move(key), std::move(body), &diag);
    }

protected:
    using get_handler = boost::asio::any_completion_handler<void(boost::system::error_code, get_result)>;
    using head_handler = boost::asio::any_completion_handler<void(boost::system::error_code, object_meta)>;
    using list_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, std::vector<object_entry>)>;
    using put_handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

    virtual void do_get(std::string key, get_options opts, byte_sink& sink, diagnostics& diag, get_handler h) = 0;
    virtual void do_head(std::string key, diagnostics& diag, head_handler h) = 0;
    virtual void do_list(std::string prefix, diagnostics& diag, list_handler h) = 0;
    virtual void do_put(std::string key, std::string body, diagnostics& diag, put_handler h) = 0;
};

}  // namespace fluss_fetch::storage
