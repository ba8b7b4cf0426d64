#include "storage/s3/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace fluss_fetch::storage::s3 {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
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

    std::vector<tcp::endpoint> endpoints;
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(cfg.connect_host, ec);
    if (!ec) {
        endpoints.emplace_back(addr, static_cast<unsigned short>(std::stoul(cfg.pub.port)));
    } else {
        c.resolver.emplace(c.strand);
        auto [rec, results] = co_await c.resolver->async_resolve(cfg.connect_host, cfg.pub.port, use_tuple);
        c.resolver.reset();
        if (rec) {
            diag.message = "cannot resolve " + where + ": " + rec.message();
            co_return rec;
        }
        for (const auto& r : results) endpoints.push_back(r.endpoint());
    }

    beast::tcp_stream stream(c.strand);
    stream.expires_after(timeout);
    auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple);
    if (cec) {
        if (cec == beast::error::timeout) {
            diag.message = "no connection to " + where + " within " + std::to_string(timeout.count()) + " ms";
            co_return make_error_code(errc::connect_timeout);
        }
        diag.message = "cannot connect to " + where + ": " + cec.message();
        co_return cec;
    }
    stream.socket().set_option(tcp::no_delay(true), ec);

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
