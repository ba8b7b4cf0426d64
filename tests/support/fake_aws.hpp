// In-process fakes of the AWS credential services on 127.0.0.1, all in one
// HTTP/1.1 server (one answer per connection, then close):
//   STS        POST with a form body: Action=AssumeRole (SigV4 verified
//              against a known source key) or AssumeRoleWithWebIdentity
//              (WebIdentityToken checked against a token file's content);
//   container  GET `container_path()` (Authorization checked when expected);
//   IMDS       PUT /latest/api/token (TTL header required), GET
//              /latest/meta-data/iam/security-credentials/[ROLE] (token header
//              required: 401 without the token it handed out).
// Records every request (method, target, headers, body), hands out the
// credentials it was given with a chosen Expiration, and fails on request:
// a status once (503), an STS ErrorResponse (403 AccessDenied), a stall
// (reads, never answers, until the client goes away).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fluss_fetch::test {

struct aws_request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  ///< lower-case names
    std::string body;
    std::string verdict;  ///< "" when the fake accepted the request, else why it refused it

    const std::string* header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? nullptr : &it->second;
    }
};

struct aws_fault {
    enum class kind {
        status,     ///< answer `status` (a plain body "injected")
        sts_error,  ///< answer `status` with an STS ErrorResponse (`code`, `message`)
        stall,      ///< read the request, never answer
    };
    kind what = kind::status;
    std::string path_prefix;  ///< requests whose target starts with this; empty: any
    unsigned status = 503;
    std::string code = "AccessDenied";
    std::string message = "Not authorized to perform sts:AssumeRoleWithWebIdentity";
};

class fake_aws {
public:
    /// Plain HTTP; or HTTPS with this key and certificate (support/tls.hpp's test PKI).
    fake_aws();
    fake_aws(const std::string& tls_key_file, const std::string& tls_cert_file);
    ~fake_aws();
    fake_aws(const fake_aws&) = delete;
    fake_aws& operator=(const fake_aws&) = delete;

    std::string endpoint() const;  ///< "http://127.0.0.1:PORT" ("https://..." with TLS)
    unsigned short port() const noexcept;

    /// The credentials every service hands out.
    void set_credentials(std::string access_key_id, std::string secret, std::string session_token,
                         std::chrono::system_clock::time_point expiration);
    /// AssumeRole: the source credentials whose signature is accepted (and the
    /// X-Amz-Security-Token that must come with them, when not empty).
    void set_sts_source(std::string access_key_id, std::string secret, std::string session_token = {});
    /// AssumeRoleWithWebIdentity: the WebIdentityToken must equal this file's content (read per request).
    void set_web_identity_token_file(std::string path);
    /// The container endpoint: its path, and the Authorization value it requires (empty: none).
    void set_container(std::string path, std::string authorization);
    std::string container_path() const;
    /// IMDS: the role name it names.
    void set_imds_role(std::string role);
    /// Forget the IMDS tokens handed out so far (a GET with one then gets 401).
    void forget_imds_tokens();

    /// Queue a fault; each is used once, first matching first.
    void add_fault(aws_fault f);

    std::vector<aws_request> recorded() const;
    std::size_t requests() const;
    /// Requests the fake refused (bad signature, wrong token, ...).
    std::size_t refused() const;
    /// Wait (condition variable, no sleeping) until at least `n` requests were
    /// recorded; false on timeout.
    bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;
    /// Stalled requests whose client has gone away (closed the connection).
    std::size_t stalls_ended() const;
    bool wait_for_stalls_ended(std::size_t n, std::chrono::milliseconds timeout) const;
    /// The IMDS tokens handed out so far.
    std::vector<std::string> imds_tokens() const;

    /// application/x-www-form-urlencoded → name/value (decoded).
    static std::map<std::string, std::string> parse_form(const std::string& body);
    /// "2026-12-02T14:00:00Z"
    static std::string iso8601(std::chrono::system_clock::time_point t);

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace fluss_fetch::test
