#include "support/fake_aws.hpp"

#include "storage/s3/sigv4.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <ctime>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace fluss_fetch::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view imds_token_path = "/latest/api/token";
constexpr std::string_view imds_role_path = "/latest/meta-data/iam/security-credentials/";

std::string read_whole(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "\x01<unreadable token file>";
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct answer {
    unsigned status = 200;
    std::string content_type = "text/plain";
    std::string body;
};

answer sts_error(unsigned status, const std::string& code, const std::string& message) {
    return {status, "text/xml",
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n"
            "    <Code>" + code + "</Code>\n    <Message>" + message + "</Message>\n  </Error>\n"
            "  <RequestId>fake-sts-request</RequestId>\n</ErrorResponse>\n"};
}

// "k1=v1, k2=v2" parts of the Authorization header after the algorithm.
std::map<std::string, std::string> auth_parts(std::string_view v) {
    std::map<std::string, std::string> out;
    auto sp = v.find(' ');
    if (sp == std::string_view::npos) return out;
    v.remove_prefix(sp + 1);
    while (!v.empty()) {
        auto comma = v.find(',');
        auto part = v.substr(0, comma);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        auto eq = part.find('=');
        if (eq != std::string_view::npos) out[std::string(part.substr(0, eq))] = std::string(part.substr(eq + 1));
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
    }
    return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::size_t b = 0;
    for (;;) {
        auto e = s.find(sep, b);
        out.push_back(s.substr(b, e == std::string::npos ? std::string::npos : e - b));
        if (e == std::string::npos) break;
        b = e + 1;
    }
    return out;
}

}  // namespace

struct fake_aws::impl {
    mutable std::mutex mutex;
    std::string access_key = "ASIAFAKE", secret = "fake-secret", session_token = "fake-session-token";
    std::chrono::system_clock::time_point expiration = std::chrono::system_clock::now() + std::chrono::hours(1);
    std::string source_key, source_secret, source_token;
    std::string token_file;
    std::string container_path = "/v2/credentials/fake", container_auth;
    std::string imds_role = "fake-role";
    std::vector<std::string> imds_tokens;
    std::deque<aws_fault> faults;
    std::vector<aws_request> log;
    std::size_t refused = 0;
    std::size_t stalls_ended = 0;
    mutable std::condition_variable changed;

    std::optional<asio::ssl::context> tls;
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::thread thread;

    std::optional<aws_fault> take_fault(const std::string& target) {
        for (auto it = faults.begin(); it != faults.end(); ++it) {
            if (it->path_prefix.empty() || target.starts_with(it->path_prefix)) {
                aws_fault f = *it;
                faults.erase(it);
                return f;
            }
        }
        return std::nullopt;
    }

    std::string credentials_xml() const {
        return "<Credentials>\n        <AccessKeyId>" + access_key + "</AccessKeyId>\n        <SecretAccessKey>" +
               secret + "</SecretAccessKey>\n        <SessionToken>" + session_token +
               "</SessionToken>\n        <Expiration>" + iso8601(expiration) + "</Expiration>\n      </Credentials>";
    }

    std::string credentials_json(bool imds) const {
        std::string j = "{\n";
        if (imds) j += "  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2026-12-02T00:00:00Z\",\n  \"Type\" : \"AWS-HMAC\",\n";
        j += "  \"AccessKeyId\" : \"" + access_key + "\",\n  \"SecretAccessKey\" : \"" + secret +
             "\",\n  \"Token\" : \"" + session_token + "\",\n  \"Expiration\" : \"" + iso8601(expiration) + "\"\n}\n";
        return j;
    }

    // Verify an AssumeRole request's SigV4 signature against the source key. "" when good.
    std::string check_signature(const aws_request& r) const {
        auto auth = r.header("authorization");
        if (!auth) return "no Authorization header";
        if (!auth->starts_with("AWS4-HMAC-SHA256 ")) return "not AWS4-HMAC-SHA256";
        auto parts = auth_parts(*auth);
        auto cred = split(parts["Credential"], '/');
        if (cred.size() != 5 || cred[3] != "sts" || cred[4] != "aws4_request") return "bad Credential scope";
        if (cred[0] != source_key) return "unknown access key " + cred[0];
        auto date = r.header("x-amz-date");
        if (!date || date->substr(0, 8) != cred[1]) return "x-amz-date missing or not the scope's date";
        const auto signed_names = split(parts["SignedHeaders"], ';');
        std::vector<std::pair<std::string, std::string>> headers;
        for (const auto& n : signed_names) {
            auto v = r.header(n);
            if (!v) return "signed header " + n + " was not sent";
            headers.emplace_back(n, *v);
        }
        if (std::find(signed_names.begin(), signed_names.end(), "host") == signed_names.end()) return "host not signed";
        auto tok = r.header("x-amz-security-token");
        if (!source_token.empty()) {
            if (!tok || *tok != source_token) return "X-Amz-Security-Token missing or wrong";
            if (std::find(signed_names.begin(), signed_names.end(), "x-amz-security-token") == signed_names.end())
                return "x-amz-security-token not signed";
        } else if (tok) {
            return "an X-Amz-Security-Token the source does not have";
        }
        const std::string path = r.target.substr(0, r.target.find('?'));
        const auto hash = storage::s3::sha256_hex(r.body);
        storage::s3::request_to_sign rs{r.method, path, {}, headers, hash};
        auto sig = storage::s3::sign(rs, source_key, source_secret, cred[2], "sts", *date);
        if (sig.signature_hex != parts["Signature"]) return "SignatureDoesNotMatch";
        return {};
    }

    // The answer to `r` (under the mutex); sets r.verdict when refusing.
    answer respond(aws_request& r) {
        if (r.method == "POST") {
            auto form = parse_form(r.body);
            if (form["Version"] != "2011-06-15") {
                r.verdict = "Version is not 2011-06-15";
                return sts_error(400, "InvalidParameterValue", r.verdict);
            }
            const auto& action = form["Action"];
            if (action == "AssumeRole") {
                r.verdict = check_signature(r);
                if (!r.verdict.empty()) return sts_error(403, "SignatureDoesNotMatch", "fake STS: " + r.verdict);
            } else if (action == "AssumeRoleWithWebIdentity") {
                if (r.header("authorization")) {
                    r.verdict = "AssumeRoleWithWebIdentity must not be signed";
                    return sts_error(400, "InvalidRequest", r.verdict);
                }
                if (form["WebIdentityToken"] != read_whole(token_file)) {
                    r.verdict = "WebIdentityToken is not the token file's content";
                    return sts_error(400, "InvalidIdentityToken", "fake STS: the token does not match");
                }
            } else {
                r.verdict = "unknown Action " + action;
                return sts_error(400, "InvalidAction", r.verdict);
            }
            if (form["RoleArn"].empty() || form["RoleSessionName"].empty()) {
                r.verdict = "RoleArn or RoleSessionName missing";
                return sts_error(400, "ValidationError", r.verdict);
            }
            return {200, "text/xml",
                    "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <" + action +
                        "Result>\n      " + credentials_xml() + "\n  </" + action +
                        "Result>\n  <ResponseMetadata><RequestId>fake-sts</RequestId></ResponseMetadata>\n</" + action +
                        "Response>\n"};
        }
        if (r.method == "PUT" && r.target == imds_token_path) {
            auto ttl = r.header("x-aws-ec2-metadata-token-ttl-seconds");
            if (!ttl) {
                r.verdict = "no X-aws-ec2-metadata-token-ttl-seconds";
                return {400, "text/plain", "missing ttl"};
            }
            imds_tokens.push_back("imds-token-" + std::to_string(imds_tokens.size() + 1) + "-secret");
            return {200, "text/plain", imds_tokens.back()};
        }
        if (r.method == "GET" && r.target.starts_with(imds_role_path)) {
            auto tok = r.header("x-aws-ec2-metadata-token");
            if (!tok || std::find(imds_tokens.begin(), imds_tokens.end(), *tok) == imds_tokens.end()) {
                r.verdict = "no valid X-aws-ec2-metadata-token";
                return {401, "text/plain", "Unauthorized"};
            }
            const std::string rest = r.target.substr(imds_role_path.size());
            if (rest.empty()) return {200, "text/plain", imds_role};
            if (rest == imds_role) return {200, "application/json", credentials_json(true)};
            r.verdict = "unknown role " + rest;
            return {404, "text/plain", "Not Found"};
        }
        if (r.method == "GET" && r.target == container_path) {
            auto a = r.header("authorization");
            if (!container_auth.empty() && (!a || *a != container_auth)) {
                r.verdict = "Authorization missing or wrong";
                return {403, "application/json", "{\"code\":\"AccessDenied\",\"message\":\"fake: bad token\"}"};
            }
            return {200, "application/json", credentials_json(false)};
        }
        r.verdict = "no such path";
        return {404, "text/plain", "Not Found"};
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
            if (ec) co_return;
            asio::co_spawn(ioc, serve(std::move(sock)), asio::detached);
        }
    }

    asio::awaitable<void> serve(tcp::socket sock) {
        if (!tls) {
            co_await serve_on(sock);
            co_return;
        }
        asio::ssl::stream<tcp::socket> s(std::move(sock), *tls);
        auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::server, use_tuple);
        if (hec) co_return;
        co_await serve_on(s);
    }

    template <class Stream>
    asio::awaitable<void> serve_on(Stream& sock) {
        boost::beast::flat_buffer buf;
        http::request_parser<http::string_body> parser;
        parser.body_limit(1u << 20);
        auto [rec, rn] = co_await http::async_read(sock, buf, parser, use_tuple);
        (void)rn;
        if (rec) co_return;
        auto& req = parser.get();
        aws_request r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        for (const auto& f : req) {
            std::string name(f.name_string());
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            r.headers[name] = std::string(f.value());
        }
        r.body = req.body();
        answer a;
        bool stall = false;
        {
            std::lock_guard l(mutex);
            auto f = take_fault(r.target);
            if (f && f->what == aws_fault::kind::stall) {
                stall = true;
                r.verdict = "stalled (injected)";
            } else if (f && f->what == aws_fault::kind::status) {
                a = {f->status, "text/plain", "injected"};
                r.verdict = "HTTP " + std::to_string(f->status) + " (injected)";
            } else if (f) {
                a = sts_error(f->status, f->code, f->message);
                r.verdict = "STS " + f->code + " (injected)";
            } else {
                a = respond(r);
                if (!r.verdict.empty()) ++refused;
            }
            log.push_back(r);
        }
        changed.notify_all();
        if (stall) {
            // Wait for the client to give up (EOF) or the server to stop.
            char byte;
            auto [e, n] = co_await sock.async_read_some(asio::buffer(&byte, 1), use_tuple);
            (void)e;
            (void)n;
            {
                std::lock_guard l(mutex);
                ++stalls_ended;
            }
            changed.notify_all();
            co_return;
        }
        http::response<http::string_body> res{static_cast<http::status>(a.status), 11};
        res.set(http::field::content_type, a.content_type);
        res.set("x-amzn-requestid", "fake-aws");
        res.body() = std::move(a.body);
        res.keep_alive(false);
        res.prepare_payload();
        auto [wec, wn] = co_await http::async_write(sock, res, use_tuple);
        (void)wec;
        (void)wn;
        boost::system::error_code ig;
        boost::beast::get_lowest_layer(sock).shutdown(tcp::socket::shutdown_send, ig);
    }
};

fake_aws::fake_aws(const std::string& tls_key_file, const std::string& tls_cert_file) : fake_aws() {
    impl_->tls.emplace(asio::ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(tls_cert_file);
    impl_->tls->use_private_key_file(tls_key_file, asio::ssl::context::pem);
}

fake_aws::fake_aws() : impl_(std::make_shared<impl>()) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
    impl_->thread = std::thread([i = impl_.get()] { i->ioc.run(); });
}

fake_aws::~fake_aws() {
    impl_->ioc.stop();
    impl_->thread.join();
}

std::string fake_aws::endpoint() const {
    return (impl_->tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port());
}
unsigned short fake_aws::port() const noexcept { return impl_->acceptor.local_endpoint().port(); }

void fake_aws::set_credentials(std::string access_key_id, std::string secret, std::string session_token,
                               std::chrono::system_clock::time_point expiration) {
    std::lock_guard l(impl_->mutex);
    impl_->access_key = std::move(access_key_id);
    impl_->secret = std::move(secret);
    impl_->session_token = std::move(session_token);
    impl_->expiration = expiration;
}
void fake_aws::set_sts_source(std::string access_key_id, std::string secret, std::string session_token) {
    std::lock_guard l(impl_->mutex);
    impl_->source_key = std::move(access_key_id);
    impl_->source_secret = std::move(secret);
    impl_->source_token = std::move(session_token);
}
void fake_aws::set_web_identity_token_file(std::string path) {
    std::lock_guard l(impl_->mutex);
    impl_->token_file = std::move(path);
}
void fake_aws::set_container(std::string path, std::string authorization) {
    std::lock_guard l(impl_->mutex);
    impl_->container_path = std::move(path);
    impl_->container_auth = std::move(authorization);
}
std::string fake_aws::container_path() const {
    std::lock_guard l(impl_->mutex);
    return impl_->container_path;
}
void fake_aws::set_imds_role(std::string role) {
    std::lock_guard l(impl_->mutex);
    impl_->imds_role = std::move(role);
}
void fake_aws::forget_imds_tokens() {
    std::lock_guard l(impl_->mutex);
    impl_->imds_tokens.clear();
}
void fake_aws::add_fault(aws_fault f) {
    std::lock_guard l(impl_->mutex);
    impl_->faults.push_back(std::move(f));
}
std::vector<aws_request> fake_aws::recorded() const {
    std::lock_guard l(impl_->mutex);
    return impl_->log;
}
std::size_t fake_aws::requests() const {
    std::lock_guard l(impl_->mutex);
    return impl_->log.size();
}
std::size_t fake_aws::refused() const {
    std::lock_guard l(impl_->mutex);
    return impl_->refused;
}
bool fake_aws::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock l(impl_->mutex);
    return impl_->changed.wait_for(l, timeout, [&] { return impl_->log.size() >= n; });
}
std::size_t fake_aws::stalls_ended() const {
    std::lock_guard l(impl_->mutex);
    return impl_->stalls_ended;
}
bool fake_aws::wait_for_stalls_ended(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock l(impl_->mutex);
    return impl_->changed.wait_for(l, timeout, [&] { return impl_->stalls_ended >= n; });
}
std::vector<std::string> fake_aws::imds_tokens() const {
    std::lock_guard l(impl_->mutex);
    return impl_->imds_tokens;
}

std::map<std::string, std::string> fake_aws::parse_form(const std::string& body) {
    auto decode = [](std::string_view s) {
        std::string out;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '+') {
                out += ' ';
            } else if (s[i] == '%' && i + 2 < s.size()) {
                out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
                i += 2;
            } else {
                out += s[i];
            }
        }
        return out;
    };
    std::map<std::string, std::string> out;
    for (const auto& part : split(body, '&')) {
        if (part.empty()) continue;
        auto eq = part.find('=');
        out[decode(part.substr(0, eq))] = eq == std::string::npos ? "" : decode(std::string_view(part).substr(eq + 1));
    }
    return out;
}

std::string fake_aws::iso8601(std::chrono::system_clock::time_point t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace fluss_fetch::test
