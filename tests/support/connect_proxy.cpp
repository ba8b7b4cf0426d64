#include "support/connect_proxy.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <functional>
#include <mutex>
#include <thread>

namespace fluss_fetch::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string base64(std::string_view in) {
    static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned v = 0;
    int bits = 0;
    for (unsigned char ch : in) {
        v = (v << 8) | ch;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += tbl[(v >> bits) & 63];
        }
    }
    if (bits > 0) out += tbl[(v << (6 - bits)) & 63];
    while (out.size() % 4) out += '=';
    return out;
}

tcp::acceptor listen_on_loopback(asio::io_context& ioc) {
    tcp::acceptor a(ioc);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    a.open(ep.protocol());
    a.set_option(tcp::acceptor::reuse_address(true));
    a.bind(ep);
    a.listen();
    return a;
}

// Copy bytes from `from` to `to` until either side ends; then close both.
template <class From, class To>
asio::awaitable<void> relay(std::shared_ptr<From> from, std::shared_ptr<To> to, std::function<void()> close_both) {
    std::vector<char> buf(64 * 1024);
    for (;;) {
        auto [rec, n] = co_await from->async_read_some(asio::buffer(buf), use_tuple);
        if (n > 0) {
            auto [wec, wn] = co_await asio::async_write(*to, asio::buffer(buf.data(), n), use_tuple);
            if (wec) break;
        }
        if (rec) break;
    }
    close_both();
}

// Only loopback origins: a test proxy never reaches anything else.
bool loopback(std::string_view host) { return host == "127.0.0.1" || host == "localhost"; }

std::string plain_answer(unsigned status, const char* reason, const char* extra = "") {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n" + extra + "Content-Length: 0\r\n\r\n";
}

}  // namespace

struct connect_proxy::impl {
    mutable std::mutex mutex;
    std::string required_auth;  // the whole header value, "" when none
    std::size_t tunnel_count = 0, forward_count = 0, refuse_count = 0;
    std::vector<std::string> seen_targets, seen_hosts;

    asio::io_context ioc;
    tcp::acceptor acceptor = listen_on_loopback(ioc);
    std::thread thread;

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
            if (ec) co_return;
            asio::co_spawn(asio::make_strand(ioc), serve(std::move(sock)), asio::detached);
        }
    }

    asio::awaitable<void> serve(tcp::socket sock_in) {
        auto client = std::make_shared<tcp::socket>(std::move(sock_in));
        boost::beast::flat_buffer buf;
        std::shared_ptr<tcp::socket> upstream;
        std::string upstream_at;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(64u << 20);
            auto [rec, rn] = co_await http::async_read(*client, buf, parser, use_tuple);
            if (rec) co_return;
            auto req = parser.release();
            const std::string target(req.target());
            std::string auth(req[http::field::proxy_authorization]);
            bool allowed;
            {
                std::lock_guard l(mutex);
                seen_targets.push_back(target);
                seen_hosts.emplace_back(req[http::field::host]);
                allowed = required_auth.empty() || auth == required_auth;
                if (!allowed) ++refuse_count;
            }
            if (!allowed) {
                auto out = plain_answer(407, "Proxy Authentication Required", "Proxy-Authenticate: Basic realm=\"test\"\r\n");
                auto [wec, wn] = co_await asio::async_write(*client, asio::buffer(out), use_tuple);
                if (wec) co_return;
                continue;
            }
            if (req.method() == http::verb::connect) {
                const auto colon = target.rfind(':');
                const std::string host = target.substr(0, colon), port = colon == std::string::npos ? "" : target.substr(colon + 1);
                auto origin = std::make_shared<tcp::socket>(client->get_executor());
                boost::system::error_code ec;
                if (!loopback(host) || port.empty()) ec = asio::error::access_denied;
                if (!ec) {
                    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoul(port)));
                    std::tie(ec) = co_await origin->async_connect(ep, use_tuple);
                }
                if (ec) {
                    auto out = plain_answer(502, "Bad Gateway");
                    co_await asio::async_write(*client, asio::buffer(out), use_tuple);
                    co_return;
                }
                {
                    std::lock_guard l(mutex);
                    ++tunnel_count;
                }
                auto out = plain_answer(200, "Connection Established");
                out.erase(out.find("Content-Length: 0\r\n"), 19);
                auto [wec, wn] = co_await asio::async_write(*client, asio::buffer(out), use_tuple);
                if (wec) co_return;
                // Bytes the client sent after its CONNECT (none, normally) go first.
                if (buf.size() > 0) {
                    auto [bec, bn] = co_await asio::async_write(*origin, buf.data(), use_tuple);
                    if (bec) co_return;
                    buf.clear();
                }
                std::function<void()> close_both = [client, origin] {
                    boost::system::error_code ig;
                    client->close(ig);
                    origin->close(ig);
                };
                auto ex = co_await asio::this_coro::executor;
                asio::co_spawn(ex, relay(origin, client, close_both), asio::detached);
                co_await relay(client, origin, close_both);
                co_return;
            }
            // Absolute form: forward in origin form to the named origin.
            auto u = boost::urls::parse_absolute_uri(target);
            if (!u || u->scheme() != "http" || !loopback(u->host())) {
                auto out = plain_answer(400, "Bad Request");
                co_await asio::async_write(*client, asio::buffer(out), use_tuple);
                co_return;
            }
            const std::string port = u->has_port() ? std::string(u->port()) : "80";
            if (!upstream || upstream_at != port) {
                upstream = std::make_shared<tcp::socket>(client->get_executor());
                tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoul(port)));
                auto [cec] = co_await upstream->async_connect(ep, use_tuple);
                if (cec) {
                    upstream.reset();
                    auto out = plain_answer(502, "Bad Gateway");
                    co_await asio::async_write(*client, asio::buffer(out), use_tuple);
                    co_return;
                }
                upstream_at = port;
            }
            std::string origin_form(u->encoded_path());
            if (origin_form.empty()) origin_form = "/";
            if (u->has_query()) origin_form += "?" + std::string(u->encoded_query());
            req.target(origin_form);
            req.erase(http::field::proxy_authorization);
            {
                std::lock_guard l(mutex);
                ++forward_count;
            }
            auto [uwec, uwn] = co_await http::async_write(*upstream, req, use_tuple);
            if (uwec) co_return;
            boost::beast::flat_buffer ubuf;
            http::response_parser<http::string_body> rp;
            rp.body_limit(boost::none);
            if (req.method() == http::verb::head) rp.skip(true);
            auto [urec, urn] = co_await http::async_read(*upstream, ubuf, rp, use_tuple);
            if (urec) co_return;
            auto res = rp.release();
            const bool keep = res.keep_alive();
            auto [cwec, cwn] = co_await http::async_write(*client, res, use_tuple);
            if (cwec || !keep) co_return;
        }
    }
};

connect_proxy::connect_proxy() : impl_(std::make_shared<impl>()) {
    asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
    impl_->thread = std::thread([i = impl_.get()] { i->ioc.run(); });
}
connect_proxy::~connect_proxy() {
    impl_->ioc.stop();
    impl_->thread.join();
}
unsigned short connect_proxy::port() const noexcept { return impl_->acceptor.local_endpoint().port(); }
std::string connect_proxy::url(const std::string& userinfo) const {
    return "http://" + (userinfo.empty() ? std::string() : userinfo + "@") + "127.0.0.1:" + std::to_string(port());
}
void connect_proxy::require_basic(const std::string& user, const std::string& password) {
    std::lock_guard l(impl_->mutex);
    impl_->required_auth = "Basic " + base64(user + ":" + password);
}
std::size_t connect_proxy::tunnels() const {
    std::lock_guard l(impl_->mutex);
    return impl_->tunnel_count;
}
std::size_t connect_proxy::forwarded() const {
    std::lock_guard l(impl_->mutex);
    return impl_->forward_count;
}
std::size_t connect_proxy::refused() const {
    std::lock_guard l(impl_->mutex);
    return impl_->refuse_count;
}
std::vector<std::string> connect_proxy::targets() const {
    std::lock_guard l(impl_->mutex);
    return impl_->seen_targets;
}
std::vector<std::string> connect_proxy::hosts() const {
    std::lock_guard l(impl_->mutex);
    return impl_->seen_hosts;
}

struct tls_front::impl {
    mutable std::mutex mutex;
    std::size_t handshake_count = 0;
    unsigned short upstream_port = 0;
    ssl::context ctx{ssl::context::tls_server};
    asio::io_context ioc;
    tcp::acceptor acceptor = listen_on_loopback(ioc);
    std::thread thread;

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
            if (ec) co_return;
            asio::co_spawn(asio::make_strand(ioc), serve(std::move(sock)), asio::detached);
        }
    }

    asio::awaitable<void> serve(tcp::socket sock) {
        auto tls = std::make_shared<ssl::stream<tcp::socket>>(std::move(sock), ctx);
        auto [hec] = co_await tls->async_handshake(ssl::stream_base::server, use_tuple);
        if (hec) co_return;
        {
            std::lock_guard l(mutex);
            ++handshake_count;
        }
        auto up = std::make_shared<tcp::socket>(tls->get_executor());
        auto [cec] = co_await up->async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), upstream_port), use_tuple);
        if (cec) co_return;
        std::function<void()> close_both = [tls, up] {
            boost::system::error_code ig;
            tls->lowest_layer().close(ig);
            up->close(ig);
        };
        auto ex = co_await asio::this_coro::executor;
        asio::co_spawn(ex, relay(up, tls, close_both), asio::detached);
        co_await relay(tls, up, close_both);
    }
};

tls_front::tls_front(const std::filesystem::path& cert, const std::filesystem::path& key, unsigned short upstream_port)
    : impl_(std::make_shared<impl>()) {
    impl_->upstream_port = upstream_port;
    impl_->ctx.use_certificate_chain_file(cert.string());
    impl_->ctx.use_private_key_file(key.string(), ssl::context::pem);
    asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
    impl_->thread = std::thread([i = impl_.get()] { i->ioc.run(); });
}
tls_front::~tls_front() {
    impl_->ioc.stop();
    impl_->thread.join();
}
unsigned short tls_front::port() const noexcept { return impl_->acceptor.local_endpoint().port(); }
std::size_t tls_front::handshakes() const {
    std::lock_guard l(impl_->mutex);
    return impl_->handshake_count;
}

}  // namespace fluss_fetch::test
