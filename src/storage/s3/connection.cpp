#include "storage/s3/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace fluss_fetch::storage::s3 {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
namespace http = beast::http;

// What a proxy's refusal of a CONNECT means for retries: a 5xx may pass, an
// authentication or policy refusal will not.
errc connect_refusal(unsigned status) {
    if (status == 407 || status == 403) return errc::access_denied;
    if (status == 502 || status == 503 || status == 504) return errc::service_unavailable;
    if (status == 429) return errc::too_many_requests;
    return errc::http_error;
}

// Ask the proxy on `stream` for a tunnel to the origin. Bounded by the
// stream's timer (armed by the caller).
asio::awaitable<boost::system::error_code> open_tunnel(beast::tcp_stream& stream, const store_config& cfg,
                                                       std::chrono::milliseconds timeout, diagnostics& diag) {
    const auto& proxy = *cfg.proxy;
    // Brackets back around an IPv6 origin in the authority.
    const std::string host = cfg.connect_host.find(':') != std::string::npos ? "[" + cfg.connect_host + "]"
                                                                             : cfg.connect_host;
    const std::string authority = host + ":" + cfg.pub.port;
    http::request<http::empty_body> req{http::verb::connect, authority, 11};
    req.set(http::field::host, authority);
    req.set(http::field::user_agent, "fluss_fetch/0.1");
    if (!proxy.authorization.empty()) req.set(http::field::proxy_authorization, proxy.authorization);
    const std::string what = "proxy " + proxy.url;
    auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
    if (wec) {
        if (wec == beast::error::timeout) {
            diag.message = what + " took the CONNECT to " + authority + " no further within " +
                           std::to_string(timeout.count()) + " ms";
            co_return make_error_code(errc::connect_timeout);
        }
        diag.message = "cannot send CONNECT " + authority + " to " + what + ": " + wec.message();
        co_return wec;
    }
    beast::flat_buffer buf;
    http::response_parser<http::empty_body> p;
    p.skip(true);  // a CONNECT answer's header is all there is before the tunnel
    auto [rec, rn] = co_await http::async_read_header(stream, buf, p, use_tuple);
    if (rec) {
        if (rec == beast::error::timeout) {
            diag.message = what + " did not answer CONNECT " + authority + " within " +
                           std::to_string(timeout.count()) + " ms";
            co_return make_error_code(errc::connect_timeout);
        }
        diag.message = what + " gave no answer to CONNECT " + authority + ": " + rec.message();
        co_return rec == http::error::end_of_stream ? boost::system::error_code(asio::error::eof) : rec;
    }
    const unsigned status = p.get().result_int();
    if (status / 100 != 2) {
        diag.message = what + " refused CONNECT to " + authority + ": HTTP " + std::to_string(status);
        if (status == 407)
            diag.message += proxy.authorization.empty() ? " (Proxy Authentication Required; the proxy URL has no user info)"
                                                        : " (Proxy Authentication Required; the proxy refused the user info given)";
        diag.http_status = status;
        co_return make_error_code(connect_refusal(status));
    }
    if (buf.size() != 0) {
        diag.message = what + " sent " + std::to_string(buf.size()) + " bytes after its CONNECT answer, before TLS began";
        co_return make_error_code(errc::bad_response);
    }
    co_return boost::system::error_code{};
}
}

void connection::close() noexcept {
    boost::system::error_code ignored;
    if (resolver) resolver->cancel();
    if (plain) plain->close();
    if (tls) beast::get_lowest_layer(*tls).close();
    connected = false;
    reusable = false;
    buffer.clear();
}

std::shared_ptr<connection> connection_pool::acquire() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            return c;
        }
    }
    return std::make_shared<connection>(asio::make_strand(ex_));
}

void connection_pool::release(std::shared_ptr<connection> c) {
    if (!c || !c->connected || !c->reusable) return;
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(c));
}

std::size_t connection_pool::idle_count() {
    std::lock_guard lock(mutex_);
    return idle_.size();
}

asio::awaitable<boost::system::error_code> connect(connection& c, const store_config& cfg, asio::ssl::context* ssl,
                                                   std::chrono::milliseconds timeout, diagnostics& diag) {
    c.close();
    c.plain.reset();
    c.tls.reset();
    const std::string where = cfg.connect_host + ":" + cfg.pub.port;
    // Through a proxy the TCP connection goes to the proxy; messages name it.
    const std::string& tcp_host = cfg.proxy ? cfg.proxy->host : cfg.connect_host;
    const std::string& tcp_port = cfg.proxy ? cfg.proxy->port : cfg.pub.port;
    const std::string tcp_where = cfg.proxy ? "proxy " + cfg.proxy->url : where;

    std::vector<tcp::endpoint> endpoints;
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(tcp_host, ec);
    if (!ec) {
        endpoints.emplace_back(addr, static_cast<unsigned short>(std::stoul(tcp_port)));
    } else {
        c.resolver.emplace(c.strand);
        auto [rec, results] = co_await c.resolver->async_resolve(tcp_host, tcp_port, use_tuple);
        c.resolver.reset();
        if (rec) {
            diag.message = "cannot resolve " + tcp_where + ": " + rec.message();
            co_return rec;
        }
        for (const auto& r : results) endpoints.push_back(r.endpoint());
    }

    beast::tcp_stream stream(c.strand);
    stream.expires_after(timeout);
    auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple);
    if (cec) {
        if (cec == beast::error::timeout) {
            diag.message = "no connection to " + tcp_where + " within " + std::to_string(timeout.count()) + " ms";
            co_return make_error_code(errc::connect_timeout);
        }
        diag.message = "cannot connect to " + tcp_where + ": " + cec.message();
        co_return cec;
    }
    stream.socket().set_option(tcp::no_delay(true), ec);

    if (cfg.proxy && cfg.pub.scheme == "https") {
        stream.expires_after(timeout);
        if (auto tec = co_await open_tunnel(stream, cfg, timeout, diag)) {
            stream.close();
            co_return tec;
        }
    }

    if (cfg.pub.scheme == "https") {
        c.tls.emplace(std::move(stream), *ssl);
        SSL* native = c.tls->native_handle();
        boost::system::error_code ip_ec;
        asio::ip::make_address(cfg.connect_host, ip_ec);
        // SNI carries host names only, never IP literals (RFC 6066).
        if (ip_ec && !SSL_set_tlsext_host_name(native, cfg.connect_host.c_str())) {
            diag.message = "cannot set TLS server name '" + cfg.connect_host + "'";
            co_return make_error_code(errc::tls_error);
        }
        // The name (or IP address) the certificate must carry: OpenSSL checks it
        // while verifying the chain, so a mismatch is reported as such
        // ("hostname mismatch", "IP address mismatch"), not as an unspecified failure.
        if (ssl->native_handle() && SSL_CTX_get_verify_mode(ssl->native_handle()) != SSL_VERIFY_NONE) {
            X509_VERIFY_PARAM* param = SSL_get0_param(native);
            const int ok = ip_ec ? SSL_set1_host(native, cfg.connect_host.c_str())
                                 : X509_VERIFY_PARAM_set1_ip_asc(param, cfg.connect_host.c_str());
            if (ok != 1) {
                diag.message = "cannot set the TLS name to verify to '" + cfg.connect_host + "'";
                co_return make_error_code(errc::tls_error);
            }
        }
        beast::get_lowest_layer(*c.tls).expires_after(timeout);
        auto [hec] = co_await c.tls->async_handshake(asio::ssl::stream_base::client, use_tuple);
        if (hec) {
            if (hec == beast::error::timeout) {
                diag.message = "TLS handshake with " + where + " did not finish within " +
                               std::to_string(timeout.count()) + " ms";
                c.close();
                co_return make_error_code(errc::connect_timeout);
            }
            if (hec == asio::error::operation_aborted) co_return hec;
            long verify = SSL_get_verify_result(native);
            diag.message = "TLS handshake with " + where + " failed: " + hec.message();
            if (verify != X509_V_OK)
                diag.message += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
            // Say what the failure means when OpenSSL's words do not.
            const int reason = hec.category() == asio::error::get_ssl_category()
                                   ? ERR_GET_REASON(static_cast<unsigned long>(hec.value()))
                                   : 0;
            if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
                reason == SSL_R_RECORD_LENGTH_MISMATCH)
                diag.message += ": the server answered in plain HTTP (or another protocol), not TLS; TLS was expected "
                                "because the endpoint is https:// (use http:// if the server speaks plain HTTP)";
            else if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_VERSION_TOO_LOW ||
                     reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION || reason == SSL_R_NO_PROTOCOLS_AVAILABLE)
                diag.message += ": the server offers only TLS 1.1 or older (it refused TLS 1.2 and 1.3); "
                                "fluss_fetch requires TLS 1.2 or newer";
            else if (hec == asio::ssl::error::stream_truncated)
                diag.message += ": the server closed the connection during the handshake (a plain-HTTP server "
                                "does that too: TLS was expected because the endpoint is https://)";
            c.close();
            co_return make_error_code(errc::tls_error);
        }
        beast::get_lowest_layer(*c.tls).expires_never();
    } else {
        stream.expires_never();
        c.plain.emplace(std::move(stream));
    }
    c.connected = true;
    c.reusable = false;
    co_return boost::system::error_code{};
}

}  // namespace fluss_fetch::storage::s3
