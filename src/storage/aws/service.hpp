// Calls to the credential services (STS, the container endpoint, IMDS) over
// the project's own Beast/OpenSSL stack: short timeouts, a few attempts with
// backoff, no secret in any message. Internal.
#pragma once

#include "core/async_op.hpp"

#include <fluss_fetch/storage/credentials.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace fluss_fetch::storage::aws {

struct service_request {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string url;                                            ///< http://host[:port]/path?query or https://...
    std::vector<std::pair<std::string, std::string>> headers;   ///< sent as given (values may be secret: never logged)
    std::string body;
    std::string content_type;                                   ///< set when body is not empty
};

struct service_response {
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers;   ///< names lower-cased
    std::string body;
    const std::string* header(std::string_view name) const;
};

struct service_call_options {
    std::chrono::milliseconds timeout{5'000};   ///< per attempt: connect + request + whole answer
    int attempts = 3;                           ///< transient failures (5xx, 429, resets, timeouts) are retried
    std::string ca_file;                        ///< https only; empty: the system's CAs
    std::string what;                           ///< "STS AssumeRoleWithWebIdentity", for messages
};

/// One call with its retries. Completes with the last answer (any status:
/// the caller reads 4xx error bodies) or a transport error; `diag` names
/// the service, URL (no query), status and what went wrong.
boost::asio::awaitable<std::pair<boost::system::error_code, service_response>> call_service(
    boost::asio::any_io_executor ex, service_request req, service_call_options opts, diagnostics& diag);

/// STS AssumeRole, signed (SigV4, service "sts") with `source`'s credentials.
credentials_provider_ptr make_assume_role_provider(boost::asio::any_io_executor ex, credentials_provider_ptr source,
                                                   std::string role_arn, std::string session_name,
                                                   std::string external_id, credentials_options opts,
                                                   std::string description);

/// STS AssumeRoleWithWebIdentity with the token read from `token_file` on every call.
credentials_provider_ptr make_web_identity_provider(boost::asio::any_io_executor ex, std::string token_file,
                                                    std::string role_arn, std::string session_name,
                                                    credentials_options opts, std::string description);

/// The STS endpoint: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's
/// endpoint_url is NOT used (it is S3's here), else https://sts.{region}.amazonaws.com.
std::string sts_endpoint(const credentials_options& opts, const std::string& region);

}  // namespace fluss_fetch::storage::aws
