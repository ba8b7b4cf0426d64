#include <fluss_fetch/storage/s3_store.hpp>

#include "core/logging.hpp"
#include "storage/s3/credentials.hpp"
#include "storage/s3/exchange.hpp"
#include "storage/s3/sigv4.hpp"
#include "storage/s3/store_state.hpp"
#include "storage/s3/xml.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <openssl/ssl.h>

#include <algorithm>
#include <cassert>
#include <chrono>

namespace fluss_fetch::storage {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

struct s3_store::impl : s3::store_state {
    using store_state::store_state;
};

namespace s3 {

store_state::store_state(asio::any_io_executor ex, s3_options o, store_config c, credentials_provider_ptr creds)
    : executor(std::move(ex)),
      opts(std::move(o)),
      cfg(std::move(c)),
      credentials(std::move(creds)),
      pool(executor, opts.max_idle_connections) {
    if (cfg.pub.scheme != "https") return;
    ssl.emplace(asio::ssl::context::tls_client);
    ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3);
    // TLS 1.2 is the floor whatever the system's OpenSSL configuration allows:
    // a permissive openssl.cnf (MinProtocol = TLSv1, @SECLEVEL=0) would
    // otherwise let a TLS 1.0 handshake through and a signed request go out on it.
    if (SSL_CTX_set_min_proto_version(ssl->native_handle(), TLS1_2_VERSION) != 1)
        throw std::system_error(std::error_code(make_error_code(errc::tls_error)),
                                "cannot set TLS 1.2 as the lowest TLS version");
    error_code ec;
    if (!cfg.ca_file.empty()) {
        ssl->load_verify_file(cfg.ca_file, ec);
        if (ec)
            throw std::system_error(std::error_code(make_error_code(errc::invalid_argument)),
                                    "cannot load CA file '" + cfg.ca_file + "': " + ec.message());
    } else {
        ssl->set_default_verify_paths(ec);
    }
    ssl->set_verify_mode(opts.verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none);
}

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// HTTP status + S3 code → the library's error code (spec: retryable or not).
error_code classify(unsigned status, std::string_view code) {
    switch (status) {
    case 404: return code == "NoSuchBucket" ? errc::no_such_bucket : errc::no_such_key;
    case 403:
        if (code == "SignatureDoesNotMatch") return errc::signature_mismatch;
        if (code == "RequestTimeTooSkewed") return errc::request_time_skewed;
        if (rejects_token(status, code)) return errc::expired_token;
        return errc::access_denied;
    case 400:
        if (code == "RequestTimeout") return errc::request_timeout;
        if (rejects_token(status, code)) return errc::expired_token;
        return errc::bad_request;
    case 408: return errc::request_timeout;
    case 412: return errc::precondition_failed;
    case 416: return errc::invalid_range;
    case 429: return errc::too_many_requests;
    case 500: return errc::internal_error;
    case 503: return code == "SlowDown" ? errc::slow_down : errc::service_unavailable;
    case 502:
    case 504: return errc::service_unavailable;
    default: return errc::http_error;
    }
}

// A short printable excerpt of a body that is not an S3 error document
// (an HTML error page of a proxy, a plain-text refusal).
std::string excerpt(std::string_view body, std::size_t limit = 160) {
    std::string out;
    for (unsigned char ch : body) {
        if (out.size() >= limit) {
            out += "...";
            break;
        }
        const bool space = ch == '\r' || ch == '\n' || ch == '\t' || ch == ' ';
        if (space) {
            if (!out.empty() && out.back() != ' ') out += ' ';
        } else {
            out += (ch >= 0x20 && ch < 0x7f) ? static_cast<char>(ch) : '?';
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

// A redirect names where the bucket lives; fluss_fetch does not follow it
// (the request would need signing for another region and host).
std::string redirect_message(const exchange_result& r, const std::string& endpoint) {
    std::string m = "the server redirects (not followed):";
    if (!r.bucket_region.empty()) m += " the bucket's region is " + r.bucket_region + " (x-amz-bucket-region)";
    if (!endpoint.empty()) m += (m.back() == ':' ? " endpoint " : ", endpoint ") + endpoint;
    if (!r.location.empty()) {
        // Without any query: a presigned Location would carry a signature.
        m += (m.back() == ':' ? " Location '" : ", Location '") + r.location.substr(0, r.location.find('?')) + "'";
    }
    if (m.back() == ':') m += " no Location and no x-amz-bucket-region given";
    return m + "; set the store's region / endpoint to the bucket's";
}

// Fill `diag` from a finished exchange and return the operation's error.
error_code conclude(const exchange_result& r, diagnostics& diag) {
    diag.http_status = r.status;
    if (!r.request_id.empty()) diag.request_id = r.request_id;
    if (r.ec) {
        if (!r.message.empty()) diag.message = r.message;
        return r.ec;
    }
    if (r.status >= 200 && r.status < 300) return {};
    std::string endpoint;
    if (auto e = parse_error_body(r.body)) {
        diag.s3_code = e->code;
        diag.message = e->message;
        endpoint = e->endpoint;
        if (diag.request_id.empty()) diag.request_id = e->request_id;
    } else if (!r.body.empty()) {
        diag.message = "the server answered '" + excerpt(r.body) + "'";
    }
    if (r.status >= 300 && r.status < 400) {
        auto m = redirect_message(r, endpoint);
        diag.message = diag.message.empty() ? m : diag.message + " - " + m;
    }
    return classify(r.status, diag.s3_code);
}


}  // namespace

// The S3 error code of an error answer ("" when none).
std::string error_code_of(const exchange_result& r) {
    if (r.ec || r.status < 400) return {};
    auto e = parse_error_body(r.body);
    return e ? e->code : std::string();
}

// Exchange `spec` on `c` signed with `creds`, connecting first when needed.
// A reused keep-alive connection that the server closed before answering is
// reconnected once (not a retry: nothing was received).
asio::awaitable<exchange_result> send_request(store_state& s, const std::shared_ptr<connection>& c,
                                              detail::op_state& st, const request_spec& spec, diagnostics& diag,
                                              const aws_credentials* creds) {
    exchange_result r;
    for (int attempt = 0;; ++attempt) {
        const bool reused = c->connected;
        if (!c->connected) {
            // The request's deadline bounds the connect too.
            auto connect_timeout = s.opts.connect_timeout;
            bool by_deadline = false;
            if (spec.deadline != std::chrono::steady_clock::time_point::max()) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    spec.deadline - std::chrono::steady_clock::now());
                if (left < connect_timeout) {
                    connect_timeout = std::max(left, std::chrono::milliseconds(0));
                    by_deadline = true;
                }
            }
            auto ec = co_await connect(*c, s.cfg, s.ssl ? &*s.ssl : nullptr, connect_timeout, diag);
            if (ec == errc::connect_timeout && by_deadline) {
                ec = make_error_code(errc::deadline_exceeded);
                diag.message = "the request's deadline passed while connecting to " + s.cfg.connect_host + ":" +
                               s.cfg.pub.port + " (download_options.part_deadline / get_options.deadline)";
            }
            if (ec) {
                r = exchange_result{};
                r.ec = st.cancelled ? asio::error::operation_aborted : ec;
                c->close();
                break;
            }
        }
        r = co_await exchange(*c, s, st, spec, creds);
        if (r.ec && r.stale && reused && attempt == 0 && !st.cancelled) {
            c->close();
            continue;
        }
        break;
    }
    co_return r;
}

// One request of an operation: credentials from the store's provider, then
// the exchange signed with exactly those. When S3 rejects the token
// (ExpiredToken / InvalidToken) the provider is told, and the request goes
// once more with fresh credentials. The connection goes back to the pool
// only after a clean exchange (the caller releases it when the operation ends).
asio::awaitable<exchange_result> run_request(store_state& s, const std::shared_ptr<connection>& c, detail::op_state& st,
                                             const request_spec& spec, diagnostics& diag) {
    st.on_cancel = [c] { c->close(); };
    exchange_result r;
    const auto started = std::chrono::steady_clock::now();
    for (int round = 0; round < 2; ++round) {
        std::optional<aws_credentials> creds;
        if (s.credentials) {
            diagnostics cd;
            auto [cec, got] = co_await s.credentials->async_get_credentials(cd, use_tuple);
            if (st.cancelled) {
                r = exchange_result{};
                r.ec = asio::error::operation_aborted;
                break;
            }
            if (cec) {
                r = exchange_result{};
                r.ec = cec;
                r.message = "credentials (" + s.cfg.pub.credentials_source + "): " +
                            (cd.message.empty() ? cec.message() : cd.message);
                break;
            }
            creds = std::move(got);
        }
        r = co_await send_request(s, c, st, spec, diag, creds ? &*creds : nullptr);
        if (round == 0 && creds && rejects_token(r.status, error_code_of(r))) {
            // An error body is read into a string, never into the sink: the
            // redo cannot repeat bytes the sink already has.
            assert(r.sink_bytes == 0);
            detail::logger().info("{} {}/{}: S3 refused the credentials of {} ({}); fetching fresh ones, once",
                                  http::to_string(spec.method), s.cfg.pub.bucket, diag.key, creds->access_key_id,
                                  error_code_of(r));
            s.credentials->invalidate(*creds);
            if (!c->reusable) c->close();
            continue;
        }
        break;
    }
    st.on_cancel = nullptr;
    if (!r.ec && r.status == 407 && s.cfg.proxy) {
        // The proxy's answer, not S3's (plain HTTP through a proxy).
        r.ec = make_error_code(errc::access_denied);
        r.message = "proxy " + s.cfg.proxy->url + " refused the request to " + s.cfg.host_header +
                    ": HTTP 407 (Proxy Authentication Required" +
                    (s.cfg.proxy->authorization.empty() ? "; the proxy URL has no user info" : "") + ")";
    }
    if (r.ec || !c->reusable) c->close();
    auto& log = detail::logger();
    if (log.should_log(spdlog::level::debug)) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        log.debug("{} {}/{} -> HTTP {} {} bytes in {} ms{}{}", http::to_string(spec.method), s.cfg.pub.bucket,
                  diag.key, r.status, r.sink_bytes + r.body.size(), ms.count(), r.ec ? ": " : "",
                  r.ec ? r.ec.message() : "");
    }
    co_return r;
}

}  // namespace s3

s3_store::s3_store(executor_type ex, s3_options opts) {
    // OpenSSL initialises itself on first use. Do it here, on the thread that
    // builds the store, rather than lazily on an I/O thread in the middle of a
    // request: that first init loads the config file, and OpenSSL 3.0 keeps
    // the error state it made there for the thread's lifetime (LeakSanitizer
    // reports it once that I/O thread has exited; found by fuzz_http_response).
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr);
    const auto env = s3::store_env(opts);
    auto cfg = s3::resolve_config(opts, env);
    auto creds = s3::make_store_credentials(ex, opts, env);
    cfg.pub.credentials_source = creds.source;
    cfg.pub.access_key_id = creds.access_key_id;
    cfg.pub.anonymous = creds.provider == nullptr;
    impl_ = std::make_shared<impl>(std::move(ex), std::move(opts), std::move(cfg), std::move(creds.provider));
    detail::logger().debug("s3 store {}://{}:{} bucket {} region {} ({} style, credentials: {})",
                           impl_->cfg.pub.scheme, impl_->cfg.pub.host, impl_->cfg.pub.port, impl_->cfg.pub.bucket,
                           impl_->cfg.pub.region, impl_->cfg.pub.path_style ? "path" : "virtual-hosted",
                           impl_->cfg.pub.credentials_source);
}

s3_store::~s3_store() = default;

s3_store::executor_type s3_store::get_executor() const noexcept { return impl_->executor; }

std::string s3_store::describe() const { return "s3://" + impl_->cfg.pub.bucket; }

const s3_resolved_config& s3_store::config() const noexcept { return impl_->cfg.pub; }

namespace {

void start_diag(diagnostics& diag, const char* op, const s3::store_state& s, const std::string& key) {
    diag.clear();
    diag.operation = op;
    diag.bucket = s.cfg.pub.bucket;
    diag.key = key;
}

std::string path_of(const s3::store_state& s, std::string_view key) {
    return s.cfg.pub.path_prefix + s3::object_path(s.cfg.pub.bucket, key, s.cfg.pub.path_style);
}

}  // namespace

void s3_store::do_get(std::string key, get_options opts, byte_sink& sink, diagnostics& diag, get_handler h) {
    auto self = impl_;
    auto c = self->pool.acquire();
    auto strand = c->strand;
    detail::launch<get_result>(
        strand,
        [self, c, key = std::move(key), opts = std::move(opts), &sink,
         &diag](std::shared_ptr<detail::op_state> st) -> asio::awaitable<std::tuple<error_code, get_result>> {
            start_diag(diag, "GET", *self, key);
            if (opts.range && opts.range->length == 0) {
                diag.message = "a ranged GET needs a length > 0";
                co_return std::tuple{make_error_code(errc::invalid_argument), get_result{}};
            }
            s3::request_spec spec;
            spec.canonical_uri = path_of(*self, key);
            spec.range = opts.range;
            spec.if_match = opts.if_match;
            spec.stall_timeout = opts.stall_timeout;
            spec.deadline = opts.deadline;
            spec.sink = &sink;
            auto r = co_await s3::run_request(*self, c, *st, spec, diag);
            self->pool.release(c);
            auto ec = s3::conclude(r, diag);
            get_result out;
            out.bytes = r.sink_bytes;
            out.meta = object_meta{r.object_size, r.etag, r.last_modified};
            co_return std::tuple{ec, out};
        },
        std::move(h));
}

void s3_store::do_head(std::string key, diagnostics& diag, head_handler h) {
    auto self = impl_;
    auto c = self->pool.acquire();
    auto strand = c->strand;
    detail::launch<object_meta>(
        strand,
        [self, c, key = std::move(key),
         &diag](std::shared_ptr<detail::op_state> st) -> asio::awaitable<std::tuple<error_code, object_meta>> {
            start_diag(diag, "HEAD", *self, key);
            s3::request_spec spec;
            spec.method = http::verb::head;
            spec.canonical_uri = path_of(*self, key);
            auto r = co_await s3::run_request(*self, c, *st, spec, diag);
            self->pool.release(c);
            auto ec = s3::conclude(r, diag);
            co_return std::tuple{ec, object_meta{r.content_length.value_or(0), r.etag, r.last_modified}};
        },
        std::move(h));
}

void s3_store::do_list(std::string prefix, diagnostics& diag, list_handler h) {
    auto self = impl_;
    auto c = self->pool.acquire();
    auto strand = c->strand;
    using result = std::tuple<error_code, std::vector<object_entry>>;
    detail::launch<std::vector<object_entry>>(
        strand,
        [self, c, prefix = std::move(prefix), &diag](std::shared_ptr<detail::op_state> st) -> asio::awaitable<result> {
            start_diag(diag, "LIST", *self, prefix);
            std::vector<object_entry> all;
            std::string token;
            for (int page = 0;; ++page) {
                s3::request_spec spec;
                spec.canonical_uri = self->cfg.pub.path_prefix + (self->cfg.pub.path_style
                                                                      ? "/" + s3::uri_encode(self->cfg.pub.bucket, false)
                                                                      : "/");
                spec.query = {{"list-type", "2"}, {"prefix", prefix}};
                if (!token.empty()) spec.query.emplace_back("continuation-token", token);
                if (self->opts.list_page_size > 0)
                    spec.query.emplace_back("max-keys", std::to_string(self->opts.list_page_size));
                spec.string_limit = 16u << 20;
                auto r = co_await s3::run_request(*self, c, *st, spec, diag);
                if (auto ec = s3::conclude(r, diag)) co_return result{ec, {}};
                diag.http_status = 0;
                auto parsed = s3::parse_list_page(r.body);
                if (!parsed) {
                    diag.message = "page " + std::to_string(page + 1) + " of the listing is not a ListBucketResult";
                    co_return result{make_error_code(errc::bad_response), {}};
                }
                for (auto& e : parsed->entries) all.push_back(std::move(e));
                if (!parsed->is_truncated) break;
                if (parsed->next_continuation_token.empty()) {
                    diag.message = "truncated listing page without NextContinuationToken";
                    co_return result{make_error_code(errc::bad_response), {}};
                }
                token = std::move(parsed->next_continuation_token);
                if (st->cancelled) co_return result{asio::error::operation_aborted, {}};
            }
            self->pool.release(c);
            std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
            co_return result{error_code{}, std::move(all)};
        },
        std::move(h));
}

void s3_store::do_put(std::string key, std::string body, diagnostics& diag, put_handler h) {
    auto self = impl_;
    auto c = self->pool.acquire();
    auto strand = c->strand;
    detail::launch<>(
        strand,
        [self, c, key = std::move(key), body = std::move(body),
         &diag](std::shared_ptr<detail::op_state> st) mutable -> asio::awaitable<std::tuple<error_code>> {
            start_diag(diag, "PUT", *self, key);
            s3::request_spec spec;
            spec.method = http::verb::put;
            spec.canonical_uri = path_of(*self, key);
            spec.body = std::move(body);
            auto r = co_await s3::run_request(*self, c, *st, spec, diag);
            self->pool.release(c);
            co_return std::tuple{s3::conclude(r, diag)};
        },
        std::move(h));
}

}  // namespace fluss_fetch::storage
