// What the service-backed credential providers (STS, container, IMDS) share:
// a provider that runs one coroutine per get, the environment, ISO 8601
// times, URLs fit for messages. Internal.
#pragma once

#include "storage/aws/providers_detail.hpp"
#include "storage/aws/service.hpp"

#include <fluss_fetch/storage/credentials.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace fluss_fetch::storage::aws::svc {

using fetch_result = std::pair<boost::system::error_code, aws_credentials>;
/// One fetch of credentials; fills `diag.message` on failure (never a secret).
using fetch_fn = std::function<boost::asio::awaitable<fetch_result>(diagnostics& diag)>;

/// A provider that runs `fetch` as a coroutine on a strand of its own per
/// call (detail::launch: the caller's cancellation reaches the coroutine as a
/// terminal cancellation, the handler runs on its associated executor).
credentials_provider_ptr make_coroutine_provider(boost::asio::any_io_executor ex, std::string description,
                                                 fetch_fn fetch);

/// A provider that always completes with `code` and `message` (a source
/// that is not configured, or configured wrongly).
credentials_provider_ptr make_failing_provider(boost::asio::any_io_executor ex, std::string description, errc code,
                                               std::string message);

/// AccessKeyId, SecretAccessKey, Token, Expiration of a JSON answer (the
/// container endpoint's, IMDS's). nullopt with `why` (never a value) when
/// it is not one.
std::optional<aws_credentials> parse_json_credentials(std::string_view body, std::string& why);
/// "Code: Message" of a JSON error document, or "".
std::string json_error_summary(std::string_view body);

/// `opts.env`, or the process environment when it is unset.
inline env_lookup effective_env(const credentials_options& opts) { return env_of(opts); }

/// Call options for a service: `opts.service_timeout` (or `imds_timeout`),
/// `service_attempts`, `ca_file` (else AWS_CA_BUNDLE).
service_call_options call_options(const credentials_options& opts, std::string what, bool imds);

/// ISO 8601 expirations: the one parser the local providers use too.
using aws::parse_iso8601;

/// The URL without user info, query and fragment: for messages.
std::string url_for_message(std::string_view url);

/// The Host header value (host[:port] as written) and the path ("/" when
/// empty) of an http(s) URL; false when it is not one.
bool url_host_and_path(const std::string& url, std::string& host_header, std::string& path);

/// `text` with every occurrence of each non-empty secret replaced by "<redacted>".
std::string redact(std::string text, std::initializer_list<std::string_view> secrets);

/// Leading and trailing white space removed.
std::string trim(std::string_view s);

/// Read a whole (small) file. On failure returns nullopt and sets `why`
/// ("cannot open: No such file or directory").
std::optional<std::string> read_small_file(const std::string& path, std::string& why);

/// A value for a form body (application/x-www-form-urlencoded, as STS's
/// query protocol wants it): SigV4's encoding, which is a valid form encoding.
std::string form_encode(std::string_view value);

}  // namespace fluss_fetch::storage::aws::svc
