// The store through an HTTP proxy (issue 14): http origins get absolute-form
// requests (Host header and signature unchanged), https origins a CONNECT
// tunnel with TLS to the origin inside; NO_PROXY bypasses; refusals and a
// proxy that is down are named without the proxy's password. Against the
// in-process proxy of tests/support/connect_proxy and the fault server.
#include <fluss_fetch/storage/s3_store.hpp>

#include "storage/s3/config.hpp"
#include "support/connect_proxy.hpp"
#include "support/fault_server.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <map>

using namespace fluss_fetch;
using namespace fluss_fetch::storage;
namespace asio = boost::asio;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

env_lookup env_of(std::map<std::string, std::string> vars) {
    return [vars](const char* n) -> std::optional<std::string> {
        auto it = vars.find(n);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

struct outcome {
    error_code ec;
    diagnostics diag;
    std::string body;
    std::string line() const { return diag.to_string(ec); }
};

asio::awaitable<std::vector<outcome>> get_all(s3_store& store, std::vector<std::string> keys) {
    std::vector<outcome> all;
    for (const auto& k : keys) {
        outcome o;
        string_sink sink(o.body);
        get_options whole;
        auto [ec, r] = co_await store.async_get(k, whole, sink, o.diag, use_tuple);
        o.ec = ec;
        all.push_back(std::move(o));
    }
    co_return all;
}

class s3_proxy : public ::testing::Test {
protected:
    void SetUp() override {
        for (int i = 0; i < 3; ++i) server.put_object("b", "k" + std::to_string(i), "body-" + std::to_string(i));
    }
    s3_options options(std::string endpoint, std::map<std::string, std::string> env = {}) {
        s3_options o;
        o.endpoint = std::move(endpoint);
        o.bucket = "b";
        o.region = "us-east-1";
        o.credentials = s3_credentials{"AKP", "proxy-test-secret", ""};
        o.env = env_of(std::move(env));
        o.connect_timeout = std::chrono::milliseconds(2000);
        o.first_byte_timeout = std::chrono::milliseconds(2000);
        o.stall_timeout = std::chrono::milliseconds(2000);
        return o;
    }
    std::vector<outcome> get_keys(s3_store& store, std::vector<std::string> keys = {"k0", "k1", "k2"}) {
        return test::run_on(ioc, [&] { return get_all(store, keys); });
    }
    void expect_bodies(const std::vector<outcome>& rs) {
        for (std::size_t i = 0; i < rs.size(); ++i) {
            EXPECT_FALSE(rs[i].ec) << rs[i].line();
            EXPECT_EQ(rs[i].body, "body-" + std::to_string(i));
        }
    }
    void expect_signatures() {
        for (const auto& r : server.recorded()) {
            std::string why;
            EXPECT_TRUE(test::sigv4_matches(r, "proxy-test-secret", "us-east-1", &why)) << r.target << "\n" << why;
        }
    }

    test::fault_server server;
    test::connect_proxy proxy;
    asio::io_context ioc;
};

}  // namespace

TEST_F(s3_proxy, http_requests_go_to_the_proxy_in_absolute_form) {
    auto o = options(server.endpoint());
    o.proxy = proxy.url();
    s3_store store(ioc.get_executor(), o);
    EXPECT_EQ(store.config().proxy, proxy.url());
    auto rs = get_keys(store);
    expect_bodies(rs);
    EXPECT_EQ(proxy.forwarded(), 3u);
    EXPECT_EQ(proxy.tunnels(), 0u);
    EXPECT_EQ(server.requests(), 3u);
    const std::string origin = "127.0.0.1:" + std::to_string(server.port());
    ASSERT_EQ(proxy.targets().size(), 3u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(proxy.targets()[i], "http://" + origin + "/b/k" + std::to_string(i));
        EXPECT_EQ(proxy.hosts()[i], origin) << "the Host header is the origin's";
        EXPECT_EQ(server.recorded()[i].target, "/b/k" + std::to_string(i));
    }
    expect_signatures();  // signed over the path, not the absolute URL
}

TEST_F(s3_proxy, http_proxy_from_the_environment_with_basic_credentials) {
    proxy.require_basic("fluss", "p@ss word");
    s3_store store(ioc.get_executor(),
                   options(server.endpoint(), {{"HTTP_PROXY", proxy.url("fluss:p%40ss%20word")},
                                               {"HTTPS_PROXY", "http://127.0.0.1:9"}}));
    EXPECT_EQ(store.config().proxy, proxy.url()) << "no user info shown";
    auto rs = get_keys(store);
    expect_bodies(rs);
    EXPECT_EQ(proxy.forwarded(), 3u);
    EXPECT_EQ(proxy.refused(), 0u);
    for (const auto& r : server.recorded())
        EXPECT_FALSE(r.headers.count("proxy-authorization")) << "the proxy's credentials stay with the proxy";
    expect_signatures();
}

TEST_F(s3_proxy, https_goes_through_a_connect_tunnel_with_tls_to_the_origin) {
    test::temp_dir dir("proxy-tls");
    auto pki = test::make_test_pki(dir.path());
    test::tls_front front(pki.server_cert, pki.server_key, server.port());
    proxy.require_basic("u", "tunnel-pw");
    const std::string origin = "127.0.0.1:" + std::to_string(front.port());
    auto o = options("https://" + origin, {{"HTTPS_PROXY", proxy.url("u:tunnel-pw")}, {"HTTP_PROXY", "http://127.0.0.1:9"}});
    o.ca_file = pki.ca_cert.string();
    s3_store store(ioc.get_executor(), o);
    EXPECT_EQ(store.config().proxy, proxy.url());
    auto rs = get_keys(store);
    expect_bodies(rs);
    EXPECT_EQ(server.requests(), 3u);
    EXPECT_EQ(proxy.forwarded(), 0u);
    EXPECT_GE(proxy.tunnels(), 1u);
    EXPECT_EQ(proxy.tunnels(), front.handshakes()) << "every tunnel carried one TLS session to the origin";
    EXPECT_EQ(proxy.tunnels(), server.connections());
    for (const auto& t : proxy.targets()) EXPECT_EQ(t, origin);
    for (const auto& r : server.recorded()) EXPECT_EQ(r.headers.at("host"), origin);
    expect_signatures();
}

TEST_F(s3_proxy, no_proxy_bypasses_the_proxy) {
    s3_store store(ioc.get_executor(), options(server.endpoint(), {{"http_proxy", proxy.url()},
                                                                    {"NO_PROXY", "example.com, 127.0.0.1:1234"}}));
    EXPECT_EQ(store.config().proxy, "");
    auto rs = get_keys(store);
    expect_bodies(rs);
    EXPECT_EQ(proxy.targets().size(), 0u);
    EXPECT_EQ(server.requests(), 3u);
    // "none" turns even an explicit environment proxy off.
    auto o = options(server.endpoint(), {{"HTTP_PROXY", proxy.url()}});
    o.proxy = "none";
    s3_store direct(ioc.get_executor(), o);
    EXPECT_EQ(direct.config().proxy, "");
}

TEST_F(s3_proxy, a_407_names_the_proxy_but_not_its_password) {
    test::temp_dir dir("proxy-407");
    auto pki = test::make_test_pki(dir.path());
    test::tls_front front(pki.server_cert, pki.server_key, server.port());
    proxy.require_basic("u", "right-pw");
    auto o = options("https://127.0.0.1:" + std::to_string(front.port()));
    o.proxy = proxy.url("u:wrong-pw-1234");
    o.ca_file = pki.ca_cert.string();
    s3_store tls_store(ioc.get_executor(), o);
    auto rs = get_keys(tls_store, {"k0"});
    const auto line = rs[0].line();
    EXPECT_EQ(rs[0].ec, make_error_code(errc::access_denied)) << line;
    EXPECT_FALSE(is_retryable(rs[0].ec));
    EXPECT_TRUE(contains(line, "proxy " + proxy.url() + " refused CONNECT to 127.0.0.1:" +
                                   std::to_string(front.port()) + ": HTTP 407"))
        << line;
    EXPECT_FALSE(contains(line, "wrong-pw-1234")) << line;
    EXPECT_EQ(server.requests(), 0u);
    EXPECT_EQ(front.handshakes(), 0u);

    // Plain http: the proxy's 407 answers the request itself.
    auto p = options(server.endpoint());
    p.proxy = proxy.url("u:wrong-pw-1234");
    s3_store plain_store(ioc.get_executor(), p);
    rs = get_keys(plain_store, {"k0"});
    const auto pline = rs[0].line();
    EXPECT_EQ(rs[0].ec, make_error_code(errc::access_denied)) << pline;
    EXPECT_TRUE(contains(pline, "proxy " + proxy.url() + " refused the request")) << pline;
    EXPECT_TRUE(contains(pline, "HTTP 407")) << pline;
    EXPECT_FALSE(contains(pline, "wrong-pw-1234")) << pline;
    EXPECT_EQ(server.requests(), 0u);
    EXPECT_EQ(proxy.refused(), 2u);
}

TEST_F(s3_proxy, a_proxy_that_is_down_is_named) {
    unsigned short dead_port;
    {
        asio::ip::tcp::acceptor a(ioc, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        dead_port = a.local_endpoint().port();
    }  // closed: connections are refused
    auto o = options(server.endpoint());
    o.proxy = "http://u:down-pw-5678@127.0.0.1:" + std::to_string(dead_port);
    s3_store store(ioc.get_executor(), o);
    auto rs = get_keys(store, {"k0"});
    const auto line = rs[0].line();
    EXPECT_EQ(rs[0].ec, make_error_code(asio::error::connection_refused)) << line;
    EXPECT_TRUE(contains(line, "cannot connect to proxy http://127.0.0.1:" + std::to_string(dead_port))) << line;
    EXPECT_FALSE(contains(line, "down-pw-5678")) << line;
    EXPECT_EQ(server.requests(), 0u);
}

TEST(s3_proxy_config, no_proxy_matching) {
    using s3::no_proxy_matches;
    EXPECT_TRUE(no_proxy_matches("*", "anything.example"));
    EXPECT_TRUE(no_proxy_matches("example.com", "example.com"));
    EXPECT_TRUE(no_proxy_matches("example.com", "b.s3.example.com")) << "a domain covers its subdomains";
    EXPECT_TRUE(no_proxy_matches(".example.com", "s3.example.com"));
    EXPECT_TRUE(no_proxy_matches(".example.com", "example.com"));
    EXPECT_FALSE(no_proxy_matches("example.com", "badexample.com"));
    EXPECT_TRUE(no_proxy_matches(" a.b , 10.0.0.1 ", "10.0.0.1"));
    EXPECT_FALSE(no_proxy_matches("10.0.0.1", "10.0.0.12"));
    EXPECT_TRUE(no_proxy_matches("minio:9000", "minio")) << "ports are not compared";
    EXPECT_TRUE(no_proxy_matches("[::1]:9000", "::1"));
    EXPECT_TRUE(no_proxy_matches("EXAMPLE.com", "s3.Example.COM"));
    EXPECT_FALSE(no_proxy_matches("", "example.com"));
    EXPECT_FALSE(no_proxy_matches(",,", "example.com"));
}

TEST(s3_proxy_config, the_proxy_variable_follows_the_endpoint_scheme) {
    s3_options o;
    o.bucket = "b1b";
    auto env = env_of({{"HTTPS_PROXY", "http://sec:3128"}, {"HTTP_PROXY", "plain:8080"}});
    o.endpoint = "https://s3.example";
    auto c = s3::resolve_config(o, env);
    ASSERT_TRUE(c.proxy);
    EXPECT_EQ(c.pub.proxy, "http://sec:3128");
    o.endpoint = "http://s3.example";
    c = s3::resolve_config(o, env);
    EXPECT_EQ(c.pub.proxy, "http://plain:8080") << "no scheme: http";
    c = s3::resolve_config(o, env_of({{"http_proxy", "lower:1"}}));
    EXPECT_EQ(c.pub.proxy, "http://lower:1");
    c = s3::resolve_config(o, env_of({{"HTTPS_PROXY", "http://sec:3128"}}));
    EXPECT_FALSE(c.proxy) << "an https proxy variable does not apply to http endpoints";
    // The option wins over the environment and over NO_PROXY.
    o.proxy = "http://opt:1";
    c = s3::resolve_config(o, env_of({{"HTTP_PROXY", "plain:8080"}, {"NO_PROXY", "*"}}));
    EXPECT_EQ(c.pub.proxy, "http://opt:1");
}

TEST(s3_proxy_config, bad_proxy_urls_are_named_without_the_password) {
    s3_options o;
    o.bucket = "b1b";
    o.endpoint = "https://s3.example";
    o.proxy = "https://user:hunter2-pw@proxy:443";
    try {
        s3::resolve_config(o, env_of({}));
        ADD_FAILURE() << "no error";
    } catch (const std::system_error& e) {
        const std::string what = e.what();
        EXPECT_TRUE(contains(what, "s3_options.proxy")) << what;
        EXPECT_TRUE(contains(what, "scheme must be http")) << what;
        EXPECT_FALSE(contains(what, "hunter2-pw")) << what;
    }
    auto p = s3::parse_proxy_url("http://al%20ice:se%3Acret@[::1]:3128", "test");
    EXPECT_EQ(p.host, "::1");
    EXPECT_EQ(p.port, "3128");
    EXPECT_EQ(p.url, "http://[::1]:3128");
    EXPECT_EQ(p.authorization, "Basic YWwgaWNlOnNlOmNyZXQ=");  // base64("al ice:se:cret")
}
