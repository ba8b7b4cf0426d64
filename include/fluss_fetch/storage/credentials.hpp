// fluss_fetch — AWS credential providers: the SDKs' default chain, each
// source on its own, a refreshing cache, and the seam for your own.
#pragma once

#include <fluss_fetch/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fluss_fetch::storage {

/// AWS credentials: long-term keys, or temporary ones with a session token
/// and an expiration. Never logged; only `access_key_id` and `source` are
/// ever shown.
struct aws_credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;  ///< empty unless temporary credentials
    /// When temporary credentials stop working; empty for long-term keys.
    std::optional<std::chrono::system_clock::time_point> expiration = std::nullopt;
    /// Where they came from, in words: "environment", "profile dev
    /// (~/.aws/credentials)", "web identity (arn:aws:iam::1:role/r)", "IMDS"...
    std::string source = {};
};

/// Environment lookup, injectable for tests. Returns nullopt for unset variables.
using env_lookup = std::function<std::optional<std::string>(const char*)>;
/// The process environment (`getenv`).
env_lookup process_env();

/// Where credentials come from. Implement `do_get_credentials` (and
/// `describe`) to plug your own source into an `s3_store`
/// (`s3_options::credentials_provider`).
///
/// A provider that is not configured at all (its variables unset, its file
/// missing) completes with `errc::no_credentials` and says in `diag.message`
/// what it looked at; the chain then asks the next one. Any other error means
/// "configured, but it failed" (STS refused, the process exited 1, ...) and
/// ends the chain with that error: a misconfigured IRSA role never falls
/// back silently to the node's instance role.
///
/// Messages name files, variables, endpoints, HTTP statuses and service error
/// codes; never a secret, a session token or a web identity token.
///
/// \par Thread safety
/// `async_get_credentials` may be called concurrently from any thread.
class credentials_provider {
public:
    using executor_type = boost::asio::any_io_executor;

    virtual ~credentials_provider() = default;

    /// A short description for logs, e.g. "environment", "default chain".
    virtual std::string describe() const = 0;

    /// Credentials to sign with now. Signature: `void(error_code, aws_credentials)`.
    /// `diag` is filled on failure and must outlive the operation. Completes
    /// on the handler's associated executor (the provider's when it has none).
    template <class Token>
    auto async_get_credentials(diagnostics& diag, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, aws_credentials)>(
            [this](auto handler, diagnostics* diag) { do_get_credentials(*diag, std::move(handler)); }, token,
            &diag);
    }

    /// A service refused `rejected` (ExpiredToken, InvalidToken): a caching
    /// provider drops them, once, so the next get fetches fresh ones. Callers
    /// that got the same credentials and fail the same way cause no further
    /// refresh. The default does nothing.
    virtual void invalidate(const aws_credentials& rejected) { (void)rejected; }

protected:
    using credentials_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, aws_credentials)>;
    virtual void do_get_credentials(diagnostics& diag, credentials_handler h) = 0;
};

using credentials_provider_ptr = std::shared_ptr<credentials_provider>;

/// Settings shared by the providers that read the environment, files or
/// services. Empty strings: the AWS variables and defaults, as the AWS CLI.
struct credentials_options {
    /// The profile: empty → `AWS_PROFILE`, else "default".
    std::string profile;
    /// Empty → `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    std::string credentials_file;
    /// Empty → `AWS_CONFIG_FILE`, else `~/.aws/config`.
    std::string config_file;
    /// Region for STS (regional endpoint `https://sts.{region}.amazonaws.com`):
    /// empty → the profile's `region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, us-east-1.
    std::string region;
    /// The process environment unless set (tests inject their own).
    env_lookup env;
    /// Time allowed per call to STS, the container endpoint or IMDS (connect
    /// and answer), per attempt.
    std::chrono::milliseconds service_timeout{5'000};
    /// IMDS only: per attempt (the SDKs' 1 s, so a machine off EC2 gives up fast).
    std::chrono::milliseconds imds_timeout{1'000};
    /// Attempts per service call (transient errors: 5xx, 429, resets, timeouts),
    /// with exponential backoff and jitter from 100 ms.
    int service_attempts = 3;
    /// Attempts per IMDS call: 1, as botocore, so a machine off EC2 moves on
    /// after one `imds_timeout`. `AWS_METADATA_SERVICE_NUM_ATTEMPTS` and
    /// `AWS_METADATA_SERVICE_TIMEOUT` (seconds) override both IMDS settings.
    int imds_attempts = 1;
    /// Time allowed for a `credential_process` to print its answer.
    std::chrono::milliseconds process_timeout{60'000};
    /// PEM CA bundle for https service endpoints. Empty: `AWS_CA_BUNDLE`, else the system's.
    std::string ca_file;
};

/// Fixed credentials (an application's own, or tests').
credentials_provider_ptr make_static_credentials_provider(boost::asio::any_io_executor ex, aws_credentials creds);

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`
/// (`AWS_CREDENTIAL_EXPIRATION` when set, ISO 8601).
credentials_provider_ptr make_environment_credentials_provider(boost::asio::any_io_executor ex,
                                                               credentials_options opts = {});

/// The profile in the shared files: static keys (credentials file first, then
/// the config file), `role_arn` + `source_profile` (STS AssumeRole signed
/// with the source profile's credentials; chains of source profiles are
/// followed, loops refused), `role_arn` + `web_identity_token_file`. A
/// profile that is in neither file, or has none of these keys, is "not
/// configured". Read once, when the provider is made.
credentials_provider_ptr make_profile_credentials_provider(boost::asio::any_io_executor ex,
                                                           credentials_options opts = {});

/// The profile's `credential_process`: runs the command (through /bin/sh, no
/// stdin) on every call and reads its JSON answer
/// (`Version` 1, `AccessKeyId`, `SecretAccessKey`, `SessionToken`, `Expiration`).
/// A non-zero exit, a timeout or a malformed answer is an error naming the
/// profile and the exit status (stderr's first line, never stdout).
credentials_provider_ptr make_process_credentials_provider(boost::asio::any_io_executor ex,
                                                           credentials_options opts = {});

/// `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`)
/// → STS AssumeRoleWithWebIdentity (IRSA). The token file is read again on
/// every call: the kubelet rotates it. STS endpoint: `AWS_ENDPOINT_URL_STS`,
/// else `AWS_ENDPOINT_URL`, else regional.
credentials_provider_ptr make_web_identity_credentials_provider(boost::asio::any_io_executor ex,
                                                                credentials_options opts = {});

/// The ECS / EKS Pod Identity endpoint: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
/// (under http://169.254.170.2) or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN` or `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`
/// (re-read on every call) as the Authorization header.
credentials_provider_ptr make_container_credentials_provider(boost::asio::any_io_executor ex,
                                                             credentials_options opts = {});

/// EC2 instance metadata, IMDSv2: PUT /latest/api/token (TTL header), then
/// the role and its credentials with the token. `AWS_EC2_METADATA_DISABLED=true`
/// turns it off; `AWS_EC2_METADATA_SERVICE_ENDPOINT` moves it (tests).
/// No answer within `imds_timeout` counts as "not configured" (not on EC2).
credentials_provider_ptr make_imds_credentials_provider(boost::asio::any_io_executor ex,
                                                        credentials_options opts = {});

/// Ask each provider in turn; the first that is configured answers (see
/// `credentials_provider`). When none is, `errc::no_credentials` whose
/// message lists what every provider looked at.
credentials_provider_ptr make_chain_credentials_provider(boost::asio::any_io_executor ex,
                                                         std::vector<credentials_provider_ptr> providers,
                                                         std::string description = "credentials chain");

/// The AWS SDKs' default chain (aws-c-auth's order): environment → profile →
/// web identity → process (the profile's `credential_process`) → container →
/// IMDS, behind a refreshing cache.
credentials_provider_ptr make_default_credentials_chain(boost::asio::any_io_executor ex,
                                                        credentials_options opts = {});

struct caching_options {
    /// Fetch new temporary credentials this long before they expire.
    std::chrono::seconds refresh_before{300};
    /// After a refresh that failed while the current credentials still work
    /// (or that brought ones already inside `refresh_before`), the current
    /// ones serve this long before the next try, so a failing service is not
    /// asked again by every request.
    std::chrono::milliseconds retry_after{10'000};
    /// Long-term credentials (no expiration) are kept until invalidated.
};

/// Keeps `inner`'s credentials and shares them between every caller: one
/// fetch at a time, however many requests ask at once; a new fetch
/// `refresh_before` their expiration, and after `invalidate` (once per
/// rejected credentials). When a refresh ahead of expiry fails, the old
/// credentials serve until they expire. A request keeps the credentials it
/// was signed with.
credentials_provider_ptr make_caching_credentials_provider(boost::asio::any_io_executor ex,
                                                           credentials_provider_ptr inner,
                                                           caching_options opts = {});

}  // namespace fluss_fetch::storage
