#include <fluss_fetch/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

namespace fluss_fetch {
namespace {

class category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "fluss_fetch"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::no_such_key: return "no such key";
        case errc::no_such_bucket: return "no such bucket";
        case errc::access_denied: return "access denied";
        case errc::signature_mismatch: return "signature does not match (wrong secret key?)";
        case errc::request_time_skewed: return "request time too skewed (check the clock)";
        case errc::expired_token: return "the security token has expired";
        case errc::slow_down: return "slow down (server is throttling)";
        case errc::service_unavailable: return "service unavailable";
        case errc::internal_error: return "internal server error";
        case errc::request_timeout: return "request timeout";
        case errc::too_many_requests: return "too many requests";
        case errc::precondition_failed: return "precondition failed (object changed during download)";
        case errc::invalid_range: return "invalid range";
        case errc::bad_request: return "bad request";
        case errc::http_error: return "HTTP error status";
        case errc::truncated_body: return "body ended before Content-Length bytes";
        case errc::content_range_mismatch: return "Content-Range differs from the requested range";
        case errc::missing_content_length: return "response has no Content-Length";
        case errc::bad_response: return "malformed response";
        case errc::connect_timeout: return "connect timeout";
        case errc::first_byte_timeout: return "timed out waiting for the response header";
        case errc::stall_timeout: return "stall timeout: no bytes received";
        case errc::tls_error: return "TLS error";
        case errc::size_mismatch: return "object size differs from the expected size";
        case errc::object_changed: return "object changed during the download (ETag or size of its parts differ)";
        case errc::invalid_argument: return "invalid argument";
        case errc::invalid_uri: return "invalid URI";
        case errc::no_credentials: return "no credentials found";
        case errc::bad_credentials_file: return "malformed credentials file";
        case errc::credentials_failed: return "the credentials source failed";
        case errc::no_remote_segments: return "no remote log segment covers the requested offsets";
        case errc::offset_gap: return "offsets missing from the remote log";
        case errc::bad_log: return "remote log data the reader refused";
        case errc::sink_failed: return "the kv sink failed";
        case errc::not_running: return "the recovery client is not running";
        case errc::file_error: return "local file error";
        case errc::object_too_large: return "object larger than the allowed limit";
        case errc::unsupported_response: return "the server's answer cannot be used (retrying would not help)";
        case errc::deadline_exceeded: return "the request's deadline passed";
        case errc::internal_bug: return "unexpected exception inside fluss_fetch (a bug)";
        }
        return "unknown fluss_fetch error " + std::to_string(ev);
    }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
    static const category_impl cat;
    return cat;
}

bool is_retryable(const boost::system::error_code& ec) noexcept {
    if (!ec) return false;
    if (ec.category() == error_category()) {
        switch (static_cast<errc>(ec.value())) {
        case errc::slow_down:
        case errc::service_unavailable:
        case errc::internal_error:
        case errc::request_timeout:
        case errc::too_many_requests:
        case errc::truncated_body:
        case errc::content_range_mismatch:
        case errc::bad_response:
        case errc::connect_timeout:
        case errc::first_byte_timeout:
        case errc::stall_timeout:
            return true;
        default:
            return false;
        }
    }
    namespace ae = boost::asio::error;
    if (ec == ae::operation_aborted) return false;
    if (ec == ae::connection_reset || ec == ae::connection_aborted || ec == ae::connection_refused ||
        ec == ae::broken_pipe || ec == ae::eof || ec == ae::timed_out || ec == ae::network_unreachable ||
        ec == ae::host_unreachable || ec == ae::network_down || ec == ae::network_reset ||
        ec == ae::try_again || ec == ae::host_not_found_try_again || ec == ae::shut_down)
        return true;
    if (ec == boost::asio::ssl::error::stream_truncated) return true;
    return false;
}

std::string diagnostics::to_string(const boost::system::error_code& ec) const {
    std::string out;
    if (!operation.empty()) out += operation + " ";
    if (!bucket.empty()) out += bucket + "/";
    out += key;
    if (!out.empty()) out += ": ";
    if (http_status != 0) out += "HTTP " + std::to_string(http_status) + " ";
    if (!s3_code.empty()) out += s3_code + ": ";
    if (!message.empty())
        out += message;
    else
        out += ec ? ec.message() : std::string("success");
    if (ec && !message.empty() && ec.category() != error_category()) out += " (" + ec.message() + ")";
    if (!request_id.empty()) out += " (request id " + request_id + ")";
    return out;
}

}  // namespace fluss_fetch
