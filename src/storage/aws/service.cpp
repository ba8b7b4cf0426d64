// HTTP/1.1 calls to the credential services over Beast and OpenSSL: one
// connection per call (Connection: close), one watchdog timer per attempt
// over resolve + connect + handshake + write + read, a few attempts with
// exponential backoff and jitter. No header value reaches a message or a log
// line: they carry tokens.
#include "storage/aws/service.hpp"

#include "core/async_op.hpp"
#include "core/logging.hpp"
#include "storage/aws/service_common.hpp"
#include "storage/s3/sigv4.hpp"

#include <boost/asio/as_tuple.hpp>
#include <cstdlib>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

namespace fluss_fetch::storage::aws {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

const std::string* service_response::header(std::string_view name) const {
    for (const auto& [n, v] : headers)
        if (beast::iequals(n, name)) return &v;
    return nullptr;
}

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t body_limit = 1u << 20;

struct target_url {
    std::string scheme;       // "http" / "https"
    std::string host;         // to resolve and verify (no brackets)
    std::string port;
    std::string host_header;  // host[:port] as in the URL
    std::string target;       // path?query
    std::string shown;        // for messages: scheme://host[:port]/path
};

std::optional<target_url> parse_target(const std::string& url, std::string& why) {
    auto r = boost::urls::parse_uri(url);
    if (!r) {
        why = "not a URL (" + r.error().message() + ")";
        return std::nullopt;
    }
    target_url t;
    t.scheme = std::string(r->scheme());
    std::transform(t.scheme.begin(), t.scheme.end(), t.scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (t.scheme != "http" && t.scheme != "https") {
        why = "the scheme must be http or https";
        return std::nullopt;
    }
    if (!r->has_authority() || r->encoded_host().empty()) {
        why = "the URL has no host";
        return std::nullopt;
    }
    t.host = std::string(r->encoded_host_address());
    if (t.host.size() > 2 && t.host.front() == '[' && t.host.back() == ']') t.host = t.host.substr(1, t.host.size() - 2);
    t.port = r->has_port() && !r->port().empty() ? std::string(r->port()) : (t.scheme == "https" ? "443" : "80");
    if (t.port.size() > 5 || std::stoul(t.port) > 65535 || std::stoul(t.port) == 0) {
        why = "bad port " + t.port;
        return std::nullopt;
    }
    t.host_header = std::string(r->encoded_host_and_port());
    std::string path = r->encoded_path().empty() ? "/" : std::string(r->encoded_path());
    t.target = path;
    if (r->has_query()) t.target += "?" + std::string(r->encoded_query());
    t.shown = t.scheme + "://" + t.host_header + path;
    return t;
}

// Everything one attempt owns; the watchdog closes it on timeout.
struct attempt_state {
    explicit attempt_state(asio::any_io_executor ex) : resolver(ex), timer(ex), sock(std::in_place, ex) {}
    tcp::resolver resolver;
    asio::steady_timer timer;
    std::optional<tcp::socket> sock;  // until a TLS stream takes it over
    std::optional<asio::ssl::stream<tcp::socket>> tls;
    bool timed_out = false;

    void close() {
        error_code ig;
        resolver.cancel();
        if (sock) sock->close(ig);
        if (tls) tls->next_layer().close(ig);
    }
};

bool transient_status(unsigned s) { return s >= 500 || s == 429 || s == 408; }

// A transport error another attempt may fix.
bool transient_error(const error_code& ec) {
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return true;
    if (ec == errc::connect_timeout || ec == errc::first_byte_timeout || ec == errc::bad_response) return true;
    return is_retryable(ec);
}

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

template <class Stream>
asio::awaitable<error_code> exchange(Stream& stream, const target_url& url, const service_request& req,
                                     service_response& out, std::string& why) {
    http::request<http::string_body> msg{req.method, url.target, 11};
    msg.set(http::field::host, url.host_header);
    msg.set(http::field::user_agent, "fluss_fetch/0.1");
    msg.set(http::field::accept, "*/*");
    for (const auto& [name, value] : req.headers) msg.set(name, value);
    if (!req.body.empty() && !req.content_type.empty()) msg.set(http::field::content_type, req.content_type);
    msg.body() = req.body;
    msg.keep_alive(false);
    msg.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, msg, use_tuple);
    (void)wn;
    if (wec) {
        why = "cannot send the request: " + wec.message();
        co_return wec;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    if (req.method == http::verb::head) parser.skip(true);
    auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_tuple);
    (void)rn;
    if (rec && !(rec == asio::ssl::error::stream_truncated && parser.is_done())) {
        if (rec == http::error::body_limit) {
            why = "the answer is larger than " + std::to_string(body_limit) + " bytes";
            co_return make_error_code(errc::bad_response);
        }
        if (rec.category() == make_error_code(http::error::end_of_stream).category() && rec != http::error::end_of_stream &&
            rec != http::error::partial_message) {
            why = "the answer is not HTTP (" + rec.message() + ")";
            co_return make_error_code(errc::bad_response);
        }
        why = "no complete answer: " + rec.message();
        co_return rec;
    }
    auto& res = parser.get();
    out.status = res.result_int();
    for (const auto& f : res) {
        std::string name(f.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        out.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    out.body = std::move(res.body());
    co_return error_code{};
}

asio::awaitable<error_code> one_attempt(const target_url& url, const service_request& req,
                                        const service_call_options& opts, asio::ssl::context* ssl,
                                        service_response& out, std::string& why) {
    auto ex = co_await asio::this_coro::executor;
    auto st = std::make_shared<attempt_state>(ex);
    std::weak_ptr<attempt_state> weak = st;
    st->timer.expires_after(opts.timeout);
    st->timer.async_wait([weak](error_code ec) {
        if (ec) return;
        if (auto s = weak.lock()) {
            s->timed_out = true;
            s->close();
        }
    });
    struct stop_watchdog {
        attempt_state& s;
        ~stop_watchdog() {
            s.timer.cancel();
            s.close();
        }
    } stop{*st};
    auto timeout_error = [&](errc code) {
        why = "no answer within " + ms(opts.timeout);
        return make_error_code(code);
    };
    // A cancellation that came between two operations reaches none of them: look.
    auto cs = co_await asio::this_coro::cancellation_state;
    auto cancelled = [&cs] { return cs.cancelled() != asio::cancellation_type::none; };

    std::vector<tcp::endpoint> endpoints;
    error_code aec;
    auto addr = asio::ip::make_address(url.host, aec);
    const auto port = static_cast<unsigned short>(std::stoul(url.port));
    if (!aec) {
        endpoints.emplace_back(addr, port);
    } else {
        auto [rec, results] = co_await st->resolver.async_resolve(url.host, url.port, use_tuple);
        if (cancelled()) co_return error_code(asio::error::operation_aborted);
        if (st->timed_out) co_return timeout_error(errc::connect_timeout);
        if (rec) {
            why = "cannot resolve " + url.host + ": " + rec.message();
            co_return rec;
        }
        for (const auto& e : results) endpoints.push_back(e.endpoint());
    }

    auto [cec, ep] = co_await asio::async_connect(*st->sock, endpoints, use_tuple);
    (void)ep;
    if (cancelled()) co_return error_code(asio::error::operation_aborted);
    if (st->timed_out) co_return timeout_error(errc::connect_timeout);
    if (cec) {
        why = "cannot connect to " + url.host + ":" + url.port + ": " + cec.message();
        co_return cec;
    }
    error_code ig;
    st->sock->set_option(tcp::no_delay(true), ig);

    error_code ec;
    if (url.scheme == "https") {
        st->tls.emplace(std::move(*st->sock), *ssl);
        st->sock.reset();
        SSL* native = st->tls->native_handle();
        error_code ip_ec;
        asio::ip::make_address(url.host, ip_ec);
        if (ip_ec && !SSL_set_tlsext_host_name(native, url.host.c_str())) {
            why = "cannot set the TLS server name";
            co_return make_error_code(errc::tls_error);
        }
        const int ok = ip_ec ? SSL_set1_host(native, url.host.c_str())
                             : X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), url.host.c_str());
        if (ok != 1) {
            why = "cannot set the TLS name to verify";
            co_return make_error_code(errc::tls_error);
        }
        auto [hec] = co_await st->tls->async_handshake(asio::ssl::stream_base::client, use_tuple);
        if (cancelled()) co_return error_code(asio::error::operation_aborted);
        if (st->timed_out) co_return timeout_error(errc::connect_timeout);
        if (hec) {
            if (hec == asio::error::operation_aborted) co_return hec;
            why = "TLS handshake failed: " + hec.message();
            const long verify = SSL_get_verify_result(native);
            if (verify != X509_V_OK) why += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
            co_return make_error_code(errc::tls_error);
        }
        ec = co_await exchange(*st->tls, url, req, out, why);
    } else {
        ec = co_await exchange(*st->sock, url, req, out, why);
    }
    if (cancelled()) co_return error_code(asio::error::operation_aborted);
    if (st->timed_out) co_return timeout_error(errc::first_byte_timeout);
    co_return ec;
}

std::chrono::milliseconds backoff(int retry) {
    thread_local std::mt19937 rng{std::random_device{}()};
    const double base = std::min(2'000.0, 100.0 * double(1u << std::min(retry, 10)));
    std::uniform_real_distribution<double> jitter(0.75, 1.25);
    return std::chrono::milliseconds(static_cast<long long>(base * jitter(rng)));
}

}  // namespace

asio::awaitable<std::pair<error_code, service_response>> call_service(asio::any_io_executor ex, service_request req,
                                                                      service_call_options opts, diagnostics& diag) {
    (void)ex;  // the calls run on the awaiting coroutine's executor (its strand)
    const std::string what = opts.what.empty() ? std::string("service call") : opts.what;
    std::string why;
    auto url = parse_target(req.url, why);
    if (!url) {
        diag.message = what + ": bad URL " + svc::url_for_message(req.url) + ": " + why;
        co_return std::pair{make_error_code(errc::invalid_argument), service_response{}};
    }
    const std::string where = what + " at " + url->shown;

    std::optional<asio::ssl::context> ssl;
    if (url->scheme == "https") {
        ssl.emplace(asio::ssl::context::tls_client);
        error_code sec;
        ssl->set_verify_mode(asio::ssl::verify_peer, sec);
        SSL_CTX_set_min_proto_version(ssl->native_handle(), TLS1_2_VERSION);
        if (!opts.ca_file.empty()) ssl->load_verify_file(opts.ca_file, sec);
        else ssl->set_default_verify_paths(sec);
        if (sec) {
            diag.message = where + ": cannot load the CA certificates" +
                           (opts.ca_file.empty() ? std::string() : " from " + opts.ca_file) + ": " + sec.message();
            co_return std::pair{make_error_code(errc::tls_error), service_response{}};
        }
    }

    const int attempts = std::max(1, opts.attempts);
    auto& log = detail::logger();
    for (int attempt = 1;; ++attempt) {
        service_response res;
        why.clear();
        const auto started = std::chrono::steady_clock::now();
        auto ec = co_await one_attempt(*url, req, opts, ssl ? &*ssl : nullptr, res, why);
        auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none || ec == asio::error::operation_aborted) {
            diag.message = where + ": cancelled";
            co_return std::pair{error_code(asio::error::operation_aborted), service_response{}};
        }
        if (log.should_log(spdlog::level::debug)) {
            const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                                    started);
            if (ec)
                log.debug("{} {}: attempt {}/{} failed after {}: {}", what, url->shown, attempt, attempts, ms(took), why);
            else
                log.debug("{} {} {}: HTTP {} in {}", what, http::to_string(req.method), url->shown, res.status,
                          ms(took));
        }
        const bool again = ec ? transient_error(ec) : transient_status(res.status);
        if (!again || attempt >= attempts) {
            if (ec) {
                diag.message = where + ": " + why;
                if (attempt > 1) diag.message += " (attempt " + std::to_string(attempt) + " of " +
                                                 std::to_string(attempts) + ")";
            }
            co_return std::pair{ec, std::move(res)};
        }
        asio::steady_timer wait(co_await asio::this_coro::executor);
        wait.expires_after(backoff(attempt - 1));
        auto [wec] = co_await wait.async_wait(use_tuple);
        if (wec) {
            diag.message = where + ": cancelled";
            co_return std::pair{error_code(asio::error::operation_aborted), service_response{}};
        }
    }
}

// ---------------------------------------------------------------------------
// Shared by the providers.
namespace svc {
namespace {

class coroutine_provider final : public credentials_provider, public std::enable_shared_from_this<coroutine_provider> {
public:
    coroutine_provider(asio::any_io_executor ex, std::string description, fetch_fn fetch)
        : ex_(std::move(ex)), description_(std::move(description)), fetch_(std::move(fetch)) {}

    std::string describe() const override { return description_; }

protected:
    void do_get_credentials(diagnostics& diag, credentials_handler h) override {
        auto self = shared_from_this();
        detail::launch<aws_credentials>(
            asio::make_strand(ex_),
            [self, &diag](std::shared_ptr<detail::op_state> st) -> asio::awaitable<std::tuple<error_code, aws_credentials>> {
                (void)st;
                auto [ec, creds] = co_await self->fetch_(diag);
                if (!ec && creds.source.empty()) creds.source = self->description_;
                co_return std::tuple{ec, std::move(creds)};
            },
            std::move(h));
    }

private:
    asio::any_io_executor ex_;
    std::string description_;
    fetch_fn fetch_;
};

}  // namespace

credentials_provider_ptr make_coroutine_provider(asio::any_io_executor ex, std::string description, fetch_fn fetch) {
    return std::make_shared<coroutine_provider>(std::move(ex), std::move(description), std::move(fetch));
}

credentials_provider_ptr make_failing_provider(asio::any_io_executor ex, std::string description, errc code,
                                               std::string message) {
    fetch_fn f = [code, message](diagnostics& diag) -> asio::awaitable<fetch_result> {
        diag.message = message;
        co_return fetch_result{make_error_code(code), aws_credentials{}};
    };
    return make_coroutine_provider(std::move(ex), std::move(description), std::move(f));
}


service_call_options call_options(const credentials_options& opts, std::string what, bool imds) {
    service_call_options o;
    o.timeout = imds ? opts.imds_timeout : opts.service_timeout;
    o.attempts = imds ? opts.imds_attempts : opts.service_attempts;
    if (imds) {
        // botocore's knobs for IMDS; a value that is not a positive number is ignored.
        auto env = effective_env(opts);
        auto positive = [&](const char* name) -> long {
            auto v = env(name);
            if (!v || v->empty()) return 0;
            char* end = nullptr;
            const long n = std::strtol(v->c_str(), &end, 10);
            return (end && *end == '\0' && n > 0 && n <= 3600) ? n : 0;
        };
        if (const long n = positive("AWS_METADATA_SERVICE_NUM_ATTEMPTS")) o.attempts = static_cast<int>(n);
        if (const long s = positive("AWS_METADATA_SERVICE_TIMEOUT")) o.timeout = std::chrono::seconds(s);
    }
    o.ca_file = opts.ca_file;
    if (o.ca_file.empty()) {
        auto env = effective_env(opts);
        if (auto v = env("AWS_CA_BUNDLE"); v && !v->empty()) o.ca_file = *v;
    }
    o.what = std::move(what);
    return o;
}


std::string url_for_message(std::string_view url) {
    auto r = boost::urls::parse_uri(url);
    if (!r) {
        // Not a URL: show it up to any query, without anything that looks like user info.
        std::string s(url.substr(0, url.find_first_of("?#")));
        if (auto at = s.find('@'); at != std::string::npos) s = s.substr(at + 1);
        return s;
    }
    std::string out = std::string(r->scheme()) + "://" + std::string(r->encoded_host_and_port());
    out += r->encoded_path().empty() ? std::string("/") : std::string(r->encoded_path());
    return out;
}

std::optional<std::string> read_small_file(const std::string& path, std::string& why) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        why = "cannot open " + path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
        why = "cannot read " + path;
        return std::nullopt;
    }
    std::string s = ss.str();
    if (s.size() > body_limit) {
        why = path + " is larger than " + std::to_string(body_limit) + " bytes";
        return std::nullopt;
    }
    return s;
}

bool url_host_and_path(const std::string& url, std::string& host_header, std::string& path) {
    std::string why;
    auto t = parse_target(url, why);
    if (!t) return false;
    host_header = t->host_header;
    path = t->target.substr(0, t->target.find('?'));
    return true;
}

std::string redact(std::string text, std::initializer_list<std::string_view> secrets) {
    for (auto s : secrets) {
        if (s.empty()) continue;
        for (auto pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 10))
            text.replace(pos, s.size(), "<redacted>");
    }
    return text;
}

std::string trim(std::string_view s) {
    const auto ws = " \t\r\n\v\f";
    const auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(ws);
    return std::string(s.substr(b, e - b + 1));
}

std::string form_encode(std::string_view value) { return s3::uri_encode(value, false); }

}  // namespace svc
}  // namespace fluss_fetch::storage::aws
