// fluss_fetch — error codes and diagnostics.
#pragma once

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <string>
#include <type_traits>

namespace fluss_fetch {

/// Error conditions raised by fluss_fetch itself. System and Asio errors
/// (connection reset, timeouts from the OS, file errors) keep their own
/// categories; everything the library decides on its own uses this one.
enum class errc : int {
    // S3 answered with an error status. The S3 code, message and request id
    // are in the operation's `diagnostics`.
    no_such_key = 1,           ///< 404 NoSuchKey (or 404 without a body)
    no_such_bucket,            ///< 404 NoSuchBucket
    access_denied,             ///< 403 AccessDenied / InvalidAccessKeyId / other 403
    signature_mismatch,        ///< 403 SignatureDoesNotMatch
    request_time_skewed,       ///< 403 RequestTimeTooSkewed
    expired_token,             ///< 400/403 ExpiredToken
    slow_down,                 ///< 503 SlowDown
    service_unavailable,       ///< 503 ServiceUnavailable (or any 503)
    internal_error,            ///< 500 InternalError (or any 500)
    request_timeout,           ///< 400 RequestTimeout or 408
    too_many_requests,         ///< 429
    precondition_failed,       ///< 412 (If-Match failed: the object changed)
    invalid_range,             ///< 416 InvalidRange
    bad_request,               ///< other 400
    http_error,                ///< any other non-2xx status

    // Transport and integrity. A response that breaks one of these is a
    // failed attempt and never passed on as data.
    truncated_body = 100,      ///< connection ended before Content-Length bytes
    content_range_mismatch,    ///< Content-Range is not the range that was asked for
    missing_content_length,    ///< a GET answer without Content-Length (e.g. chunked); not retried
    bad_response,              ///< unparsable HTTP or XML answer
    connect_timeout,           ///< no connection within the connect timeout
    first_byte_timeout,        ///< no response header within the first-byte timeout
    stall_timeout,             ///< no byte received for the stall timeout
    tls_error,                 ///< TLS handshake or verification failed
    size_mismatch,             ///< the object is not the size the caller expected (e.g. the manifest)
    object_changed,            ///< the object was replaced while its ranged parts downloaded, again after a restart

    // Not retried: the same server answers the same way, or time is up.
    /// An answer no retry can make usable: a 200 with the whole object to a
    /// ranged GET (the server ignores Range), a body with a Content-Encoding,
    /// TLS bytes on an http:// endpoint. The message says what was sent.
    unsupported_response = 150,
    /// The request (with its retries) was not done by its deadline
    /// (`get_options::deadline`, `download_options::part_deadline`).
    deadline_exceeded,

    // Configuration and input.
    invalid_argument = 200,    ///< a bad option or argument (message names it)
    invalid_uri,               ///< not an s3:// or file:// URI this library takes
    no_credentials,            ///< no credentials found and anonymous not requested
    bad_credentials_file,      ///< the shared credentials file could not be parsed
    no_remote_segments,        ///< no remote log segment covers the requested offsets
    offset_gap,                ///< the remote log lacks offsets of the range (a hole between or inside segments)
    bad_log,                   ///< a manifest, batch, record or row the reader refused (the message names segment and offset)
    sink_failed,               ///< the application's kv_sink threw (the message names the segment and its words)
    not_running,               ///< a recovery client whose async_run is not running
    /// A configured credentials source failed: STS or the container / IMDS
    /// endpoint refused or answered nonsense, a credential_process exited
    /// non-zero, a token file is unreadable. The message names the source.
    credentials_failed,

    // Local files.
    file_error = 300,          ///< a local file could not be created/written/renamed
    object_too_large,          ///< an in-memory read exceeded its limit

    // This library.
    /// An unexpected exception inside the library (e.g. std::logic_error):
    /// a bug, not a fault of the server or the input, and never retried. Its
    /// what() is logged at error level, and the operation's diagnostics name
    /// it where the operation fills them (async_download, the fetcher).
    internal_bug = 400,
};

/// The category of `errc`; its name is "fluss_fetch".
const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

/// True when an attempt that failed with `ec` may succeed if tried again:
/// 500, 503, 408, 429, RequestTimeout, connection reset / EOF mid-body,
/// truncated bodies, timeouts, a wrong Content-Range. False for 4xx answers
/// (403, 404, 400, 412, 416), answers that can never succeed
/// (`missing_content_length`, `unsupported_response`), TLS failures,
/// configuration errors, local file errors, running out of memory, bugs
/// (`internal_bug`) and cancellation (`operation_aborted`).
bool is_retryable(const boost::system::error_code& ec) noexcept;

/// What went wrong, in words a human can act on. Filled by every operation
/// that takes one; cleared at the start of each operation. Never holds a
/// secret (no credentials, no signature, no Authorization header).
struct diagnostics {
    std::string operation;      ///< "GET", "HEAD", "PUT", "LIST", "OPEN", ...
    std::string bucket;         ///< bucket, or empty for file:// stores
    std::string key;            ///< object key or local path
    unsigned http_status = 0;   ///< 0 when no HTTP answer was seen
    std::string s3_code;        ///< e.g. "NoSuchKey"; empty when none
    std::string message;        ///< S3 message, or a library-made explanation
    std::string request_id;     ///< x-amz-request-id, when the server sent one

    void clear() {
        *this = diagnostics{};
    }

    /// One line: `GET bucket/key: HTTP 404 NoSuchKey: The specified key does not exist. (request id X)`
    /// prefixed by `ec.message()` when the rest is empty.
    std::string to_string(const boost::system::error_code& ec) const;
};

}  // namespace fluss_fetch

namespace boost::system {
template <>
struct is_error_code_enum<fluss_fetch::errc> : std::true_type {};
}  // namespace boost::system
