// fluss_fetch — an object store over raw S3 REST (Beast HTTP/1.1, SigV4).
#pragma once

#include <fluss_fetch/storage/credentials.hpp>
#include <fluss_fetch/storage/object_store.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace fluss_fetch::storage {

/// Static credentials. Never logged. (The name predates `aws_credentials`.)
using s3_credentials = aws_credentials;

/// How the bucket goes into the URL.
enum class s3_addressing {
    automatic,       ///< path style for IP-address and localhost endpoints, virtual-hosted otherwise
    path,            ///< http://endpoint/bucket/key
    virtual_hosted,  ///< http://bucket.endpoint/key
};

/// Options of an `s3_store`. Empty strings mean "take it from the environment"
/// (and the shared config file), as the AWS CLI does.
struct s3_options {
    /// `http[s]://host[:port][/path-prefix]`. Empty: `AWS_ENDPOINT_URL_S3`,
    /// else `AWS_ENDPOINT_URL`, else the profile's `endpoint_url`, else
    /// `https://s3.{region}.amazonaws.com`. A path prefix goes before every
    /// key (path style: before the bucket).
    std::string endpoint;
    /// Empty: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's
    /// `region`, else `us-east-1`.
    std::string region;
    /// The bucket every key of the store lives in. Required.
    std::string bucket;
    /// `automatic` defers to the profile's `s3 =` / `addressing_style`
    /// (path, virtual or auto) when it has one.
    s3_addressing addressing = s3_addressing::automatic;

    /// Where credentials come from, first that is set: this provider; these
    /// static `credentials`; `anonymous`; else the default chain
    /// (`make_default_credentials_chain`: environment → profile → web
    /// identity → process → container → IMDS) with `profile`. One provider
    /// (with its cache) serves every request of the store; each attempt is
    /// signed with the credentials current when it starts, and an
    /// ExpiredToken answer drops them and retries the request once.
    credentials_provider_ptr credentials_provider;
    std::optional<s3_credentials> credentials;
    /// The profile (`AWS_PROFILE`, else "default") of the shared files.
    std::string profile;
    /// Send unsigned requests (public buckets). No credential lookup then.
    bool anonymous = false;
    /// The environment the store reads (tests inject their own); unset: the process's.
    env_lookup env;

    /// HTTP proxy, `http://[user:pass@]host:port`. Empty: `HTTPS_PROXY` /
    /// `https_proxy` for https endpoints, `HTTP_PROXY` / `http_proxy` for
    /// http, unless the host matches `NO_PROXY` / `no_proxy` (comma list of
    /// host names, `.domain` suffixes, IPs, `*`). https goes through an
    /// HTTP CONNECT tunnel; http sends absolute-form requests. "none": no proxy.
    std::string proxy;

    /// PEM CA bundle for https. Empty: `AWS_CA_BUNDLE`, else the system CAs.
    std::string ca_file;
    /// Verify the server certificate and its host name (https only). Leave on.
    bool verify_peer = true;

    /// Time allowed to resolve and connect (and finish the TLS handshake).
    std::chrono::milliseconds connect_timeout{10'000};
    /// Time allowed from the request sent to the whole response header
    /// received (`errc::first_byte_timeout`). One deadline per attempt, set
    /// when the request has been written and not renewed by each byte: a
    /// server that trickles its header and never ends it is cut off here.
    std::chrono::milliseconds first_byte_timeout{30'000};
    /// A body read that receives nothing for this long fails the attempt
    /// (`errc::stall_timeout`). There is no whole-request deadline: a large
    /// object may take as long as it takes while bytes keep arriving.
    ///
    /// \par Time budget of one request with its retries (worst case)
    /// Until the body starts, one attempt takes at most connect_timeout +
    /// stall_timeout (writing the request) + first_byte_timeout; with the
    /// default retry policy (6 attempts, backoff 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s,
    /// +25 % jitter) a server that accepts connections and never answers costs
    /// at most 6 × (10 + 30 + 30) s + 3.9 s ≈ 7 min per part before the error
    /// (6 × 30 s when only the header never comes). Answers that can never
    /// succeed (no Content-Length, Range ignored, a Content-Encoding, TLS
    /// below 1.2, a redirect) fail on the first attempt. Once the body flows,
    /// only a stall of stall_timeout ends an attempt: a body that keeps
    /// trickling is cut off only by `get_options::deadline`, which downloads
    /// set from `download_options::part_deadline` (15 min per part with its
    /// retries), so no part takes longer than that whatever the server does.
    std::chrono::milliseconds stall_timeout{30'000};

    /// Objects per ListObjectsV2 page (`max-keys`); 0: the server's default (1000).
    std::size_t list_page_size = 0;

    /// Keep-alive connections kept idle per store.
    std::size_t max_idle_connections = 16;
    /// Bytes read from the socket per chunk and handed to the sink at once
    /// (at least 256 KiB: small writes make file output several times slower).
    std::size_t io_buffer_size = 1 << 20;
};

/// The settings an `s3_store` actually uses, after the environment was read.
/// Holds no secret.
struct s3_resolved_config {
    std::string scheme;       ///< "http" or "https"
    std::string host;         ///< endpoint host (without the bucket)
    std::string port;         ///< as a string, e.g. "443"
    std::string region;
    std::string bucket;
    bool path_style = true;
    bool anonymous = false;
    std::string path_prefix;         ///< the endpoint's path ("" or "/prefix"), before every key
    std::string endpoint_source;     ///< "s3_options.endpoint", "AWS_ENDPOINT_URL_S3", "profile dev (~/.aws/config)", ...
    std::string addressing_source;   ///< "s3_options.addressing", "profile ... s3.addressing_style", "automatic"
    std::string proxy;               ///< "http://host:port" (no user info), or empty
    std::string credentials_source;  ///< the provider's describe(): "explicit", "default chain", "anonymous", ...
    std::string access_key_id;       ///< the public half, when static credentials are known up front
};

/// An object store over one S3 bucket, speaking S3 REST over Beast HTTP/1.1
/// (and TLS through OpenSSL for https endpoints), signing every attempt with
/// SigV4. Keeps a pool of keep-alive connections; a connection that saw any
/// error is closed, never reused.
///
/// Bodies stream into the sink in large chunks and are never held whole in
/// memory. Content-Length is required on GET answers and enforced, and a
/// ranged GET's Content-Range must be exactly the range asked for.
///
/// The store does not retry: one call is one HTTP attempt. Retries with
/// backoff live above it (see `fetch/retry.hpp`), so that each retry is a
/// fresh request with a fresh signature.
///
/// \par Object lifetimes
/// Operations keep the store's internals alive; the store object itself may
/// be destroyed while operations are in flight (they then still complete).
///
/// \par Thread safety
/// Distinct objects: safe. Shared objects: safe; operations may be started
/// from any thread and the executor may be run by several threads.
class s3_store final : public object_store {
public:
    /// \throws std::system_error with `errc::invalid_argument`, `errc::invalid_uri`
    /// or `errc::bad_credentials_file`, whose `what()` names the setting.
    /// Credentials are fetched on the first request: `errc::no_credentials`
    /// and `errc::credentials_failed` come from operations, in `diagnostics`.
    s3_store(executor_type ex, s3_options opts);
    ~s3_store() override;

    s3_store(const s3_store&) = delete;
    s3_store& operator=(const s3_store&) = delete;

    executor_type get_executor() const noexcept override;
    std::string describe() const override;
    const s3_resolved_config& config() const noexcept;

    struct impl;

protected:
    void do_get(std::string key, get_options opts, byte_sink& sink, diagnostics& diag, get_handler h) override;
    void do_head(std::string key, diagnostics& diag, head_handler h) override;
    void do_list(std::string prefix, diagnostics& diag, list_handler h) override;
    void do_put(std::string key, std::string body, diagnostics& diag, put_handler h) override;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace fluss_fetch::storage
