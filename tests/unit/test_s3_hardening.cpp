// Hardening of the S3 transport (issue 11, items 7-9): the TLS floor, answers
// that can never succeed (failed at once, not retried), the header deadline,
// and messages that say what the server actually did.
#include <fluss_fetch/fetch/download.hpp>
#include <fluss_fetch/storage/local_store.hpp>
#include <fluss_fetch/storage/s3_store.hpp>
#include <fluss_fetch/storage/uri.hpp>

#include "core/async_op.hpp"
#include "support/fault_server.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"
#include "support/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <openssl/conf.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <mutex>
#include <new>
#include <stdexcept>
#include <system_error>
#include <thread>

using namespace fluss_fetch;
using namespace fluss_fetch::storage;
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using test::fault;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// A TCP server on 127.0.0.1 that runs one scripted coroutine per connection
// (a misbehaving peer no HTTP library would play: TLS 1.1 only, plain HTTP
// answering a ClientHello, a header that never ends). Counts what it saw.
class script_server {
public:
    struct seen {
        std::size_t connections = 0;
        std::size_t handled = 0;       ///< connections whose script has ended
        std::size_t requests = 0;      ///< HTTP requests read (after any TLS handshake)
        std::size_t bytes_sent = 0;
        std::string protocol;          ///< TLS version a handshake agreed on, if any
    };
    using script = std::function<asio::awaitable<void>(tcp::socket, script_server&)>;

    explicit script_server(script s) : script_(std::move(s)) {
        tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
        acceptor_.open(ep.protocol());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen();
        asio::co_spawn(ioc_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~script_server() {
        ioc_.stop();
        thread_.join();
    }

    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    std::string endpoint(const char* scheme) const { return std::string(scheme) + "://127.0.0.1:" + std::to_string(port()); }

    template <class F>
    void update(F f) {
        {
            std::lock_guard l(mutex_);
            f(seen_);
        }
        changed_.notify_all();
    }
    seen snapshot() const {
        std::lock_guard l(mutex_);
        return seen_;
    }
    /// Wait (condition variable, no sleeping) until `pred` holds; false on timeout.
    bool wait_for(const std::function<bool(const seen&)>& pred, std::chrono::seconds timeout = std::chrono::seconds(10)) {
        std::unique_lock l(mutex_);
        return changed_.wait_for(l, timeout, [&] { return pred(seen_); });
    }

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor_.async_accept(use_tuple);
            if (ec) co_return;
            update([](seen& s) { ++s.connections; });
            asio::co_spawn(asio::make_strand(ioc_), run_one(std::move(sock)), asio::detached);
        }
    }
    asio::awaitable<void> run_one(tcp::socket sock) {
        co_await script_(std::move(sock), *this);
        update([](seen& s) { ++s.handled; });
    }

    script script_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    seen seen_;
    asio::io_context ioc_;
    tcp::acceptor acceptor_{ioc_};
    std::thread thread_;
};

// Read from `stream` until a blank line ends an HTTP request header; false
// when the peer left (or sent something else) first.
template <class Stream>
asio::awaitable<bool> read_request_header(Stream& stream) {
    std::string got;
    char buf[4096];
    while (got.find("\r\n\r\n") == std::string::npos) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(buf), use_tuple);
        if (ec) co_return false;
        got.append(buf, n);
        if (got.size() > 65536) co_return false;
    }
    co_return true;
}

asio::awaitable<void> write_all(tcp::socket& sock, std::string bytes, script_server& srv) {
    auto [ec, n] = co_await asio::async_write(sock, asio::buffer(bytes), use_tuple);
    srv.update([n = n](script_server::seen& s) { s.bytes_sent += n; });
}

s3_options options_for(const std::string& endpoint) {
    s3_options o;
    o.endpoint = endpoint;
    o.bucket = "b";
    o.credentials = s3_credentials{"AK", "SK", ""};
    o.connect_timeout = std::chrono::seconds(5);
    o.first_byte_timeout = std::chrono::seconds(5);
    o.stall_timeout = std::chrono::seconds(5);
    return o;
}

struct got {
    error_code ec;
    diagnostics diag;
    std::string body;
};

// One GET through the store: one attempt, no retries.
got get_once(asio::io_context& ioc, object_store& store, const std::string& key,
             std::optional<byte_range> range = std::nullopt) {
    return test::run_on(ioc, [&]() -> asio::awaitable<got> {
        got g;
        string_sink sink(g.body);
        get_options o;  // named: no braced temporary inside co_await (GCC 12)
        o.range = range;
        auto [ec, r] = co_await store.async_get(key, o, sink, g.diag, use_tuple);
        g.ec = ec;
        co_return g;
    });
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------------------
// Fault-server fixture: downloads with fast retries, so that a retried answer
// shows as more than one request.

class s3_hardening_faults : public ::testing::Test {
protected:
    void SetUp() override { server.put_object("b", key, body); }

    s3_options options() {
        s3_options o = options_for(server.endpoint());
        o.stall_timeout = std::chrono::milliseconds(300);
        return o;
    }

    fetch::download_options fast_retries(std::uint64_t part_size = 0) {
        fetch::download_options o;
        o.part_size = part_size;
        o.retry.initial_backoff = std::chrono::milliseconds(1);
        o.retry.max_backoff = std::chrono::milliseconds(5);
        return o;
    }

    struct outcome {
        error_code ec;
        diagnostics diag;
        std::string line;
    };

    outcome download(fetch::download_options o) {
        s3_store store(ioc.get_executor(), options());
        fetch::download_pool pool(ioc.get_executor(), 2);
        auto r = test::run_on(ioc, [&]() -> asio::awaitable<outcome> {
            outcome out;
            auto [ec, res] =
                co_await fetch::async_download(store, pool, key, dir.path() / "seg.log", o, counters, out.diag, use_tuple);
            out.ec = ec;
            co_await pool.async_close(asio::use_awaitable);
            co_return out;
        });
        r.line = r.diag.to_string(r.ec);
        return r;
    }

    void add_raw(std::string response) {
        fault f;
        f.what = fault::kind::raw;
        f.key = key;
        f.raw = std::move(response);
        server.add_fault(std::move(f));
    }

    const std::string key = "log/db/t-1/0/seg/00000000000000000010.log";
    const std::string body = test::random_bytes(3'000'001, 7);
    test::fault_server server;
    test::temp_dir dir{"hardening"};
    asio::io_context ioc;
    fetch::transfer_counters counters;
};

}  // namespace

// ---------------------------------------------------------------------------
// Item 8: answers that can never succeed fail at once, naming what was sent.

TEST_F(s3_hardening_faults, chunked_body_without_content_length_fails_at_once) {
    // Queued twice: the old code retried it (and a retry would find the same).
    for (int i = 0; i < 2; ++i)
        add_raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nx-amz-request-id: R1\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    auto r = download(fast_retries());
    EXPECT_EQ(r.ec, make_error_code(errc::missing_content_length)) << r.line;
    EXPECT_FALSE(is_retryable(r.ec)) << r.line;
    EXPECT_EQ(server.requests_for(key), 1u) << r.line;
    EXPECT_TRUE(contains(r.line, "HTTP 200 with Transfer-Encoding: chunked and no Content-Length")) << r.line;
    EXPECT_TRUE(contains(r.line, "Content-Length")) << r.line;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "seg.log"));
}

TEST_F(s3_hardening_faults, whole_object_to_a_ranged_get_fails_at_once) {
    // The server ignores Range: 200 and the whole object, bigger than the part asked for.
    for (int i = 0; i < 2; ++i)
        add_raw("HTTP/1.1 200 OK\r\nContent-Length: 3000001\r\nETag: \"e\"\r\n\r\n" + body);
    auto r = download(fast_retries(1 << 20));
    EXPECT_EQ(r.ec, make_error_code(errc::unsupported_response)) << r.line;
    EXPECT_FALSE(is_retryable(r.ec)) << r.line;
    EXPECT_EQ(server.requests_for(key), 1u) << r.line;
    EXPECT_TRUE(contains(r.line, "HTTP 200 with the whole object (Content-Length 3000001) to a ranged GET of bytes "
                                 "0-1048575: the server ignores Range"))
        << r.line;
}

TEST_F(s3_hardening_faults, unsupported_content_encoding_fails_at_once) {
    for (int i = 0; i < 2; ++i)
        add_raw("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Encoding: gzip\r\n\r\n0123456789");
    auto r = download(fast_retries());
    EXPECT_EQ(r.ec, make_error_code(errc::unsupported_response)) << r.line;
    EXPECT_FALSE(is_retryable(r.ec)) << r.line;
    EXPECT_EQ(server.requests_for(key), 1u) << r.line;
    EXPECT_TRUE(contains(r.line, "HTTP 200 with Content-Encoding: gzip")) << r.line;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "seg.log")) << "encoded bytes were passed on as the object";
}

// A range that starts at 0 and covers the whole object may be answered with a
// plain 200: those are exactly the bytes asked for (S3 clips such ranges too).
TEST_F(s3_hardening_faults, whole_object_that_fits_the_ranged_get_is_the_object) {
    add_raw("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\nETag: \"e\"\r\n\r\n" + body);
    auto r = download(fast_retries(8 << 20));
    ASSERT_FALSE(r.ec) << r.line;
    EXPECT_EQ(test::read_file(dir.path() / "seg.log"), body);
    EXPECT_EQ(server.requests_for(key), 1u);
}

// A server that sends its header a byte at a time and never ends it: Beast's
// tcp_stream deadline is set once before async_read_header and is not renewed
// by each byte, so every attempt ends at first_byte_timeout.
TEST(s3_hardening, header_trickle_is_cut_off_by_the_first_byte_timeout_per_attempt) {
    script_server srv([](tcp::socket sock, script_server& s) -> asio::awaitable<void> {
        if (!co_await read_request_header(sock)) co_return;
        s.update([](script_server::seen& st) { ++st.requests; });
        co_await write_all(sock, "HTTP/1.1 200 OK\r\nx-trickle: ", s);
        asio::steady_timer pace(sock.get_executor());
        for (;;) {  // one byte every 5 ms, never "\r\n\r\n", until the client leaves
            pace.expires_after(std::chrono::milliseconds(5));
            co_await pace.async_wait(use_tuple);
            char c = 'a';
            auto [ec, n] = co_await asio::async_write(sock, asio::buffer(&c, 1), use_tuple);
            if (ec) co_return;
            s.update([](script_server::seen& st) { ++st.bytes_sent; });
        }
    });
    asio::io_context ioc;
    auto o = options_for(srv.endpoint("http"));
    o.first_byte_timeout = std::chrono::milliseconds(400);
    o.stall_timeout = std::chrono::milliseconds(100);  // each byte comes well within it
    s3_store store(ioc.get_executor(), o);

    const auto t0 = std::chrono::steady_clock::now();
    auto g = get_once(ioc, store, "k");
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(g.ec, make_error_code(errc::first_byte_timeout)) << g.diag.to_string(g.ec);
    EXPECT_GE(took, std::chrono::milliseconds(400));
    EXPECT_LT(took, std::chrono::milliseconds(400) + std::chrono::seconds(5)) << "the deadline was renewed";
    ASSERT_TRUE(srv.wait_for([](const auto& s) { return s.handled == 1; }));
    EXPECT_GT(srv.snapshot().bytes_sent, 10u) << "the header did not trickle";

    // Through the retry loop: one deadline per attempt, 1 + max_retries attempts, then the error.
    fetch::download_pool pool(ioc.get_executor(), 1);
    fetch::download_options d;
    d.part_size = 0;
    d.retry.max_retries = 2;
    d.retry.initial_backoff = std::chrono::milliseconds(1);
    d.retry.max_backoff = std::chrono::milliseconds(2);
    fetch::transfer_counters counters;
    test::temp_dir dir("trickle");
    diagnostics diag;
    auto ec = test::run_on(ioc, [&]() -> asio::awaitable<error_code> {
        auto [ec, res] = co_await fetch::async_download(store, pool, "k", dir.path() / "k", d, counters, diag, use_tuple);
        co_await pool.async_close(asio::use_awaitable);
        co_return ec;
    });
    EXPECT_EQ(ec, make_error_code(errc::first_byte_timeout)) << diag.to_string(ec);
    EXPECT_EQ(counters.requests.load(), 3u);
    EXPECT_TRUE(srv.wait_for([](const auto& s) { return s.requests == 4; }));
}

// ---------------------------------------------------------------------------
// Item 9: clear messages.

TEST_F(s3_hardening_faults, redirect_names_location_and_bucket_region) {
    const std::string xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PermanentRedirect</Code><Message>The bucket you "
        "are attempting to access must be addressed using the specified endpoint.</Message>"
        "<Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>b</Bucket><RequestId>R3</RequestId></Error>";
    add_raw("HTTP/1.1 301 Moved Permanently\r\nx-amz-bucket-region: eu-west-1\r\n"
            "Location: https://b.s3.eu-west-1.amazonaws.com/log/x\r\nContent-Type: application/xml\r\n"
            "Content-Length: " + std::to_string(xml.size()) + "\r\n\r\n" + xml);
    auto r = download(fast_retries());
    EXPECT_FALSE(is_retryable(r.ec)) << r.line;
    EXPECT_EQ(server.requests_for(key), 1u);
    EXPECT_TRUE(contains(r.line, "HTTP 301")) << r.line;
    EXPECT_TRUE(contains(r.line, "PermanentRedirect")) << r.line;
    EXPECT_TRUE(contains(r.line, "eu-west-1")) << r.line;
    EXPECT_TRUE(contains(r.line, "x-amz-bucket-region")) << r.line;
    EXPECT_TRUE(contains(r.line, "b.s3.eu-west-1.amazonaws.com")) << r.line;

    add_raw("HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:1/b/elsewhere\r\n"
            "Content-Length: 0\r\n\r\n");
    r = download(fast_retries());
    EXPECT_FALSE(is_retryable(r.ec)) << r.line;
    EXPECT_TRUE(contains(r.line, "HTTP 307")) << r.line;
    EXPECT_TRUE(contains(r.line, "Location 'http://127.0.0.1:1/b/elsewhere'")) << r.line;
}

// An https:// endpoint whose server speaks plain HTTP: it answers the
// ClientHello with an HTTP error, which OpenSSL reads as a record with a
// wrong version number.
TEST(s3_hardening, plain_http_server_on_an_https_endpoint_says_tls_was_expected) {
    script_server srv([](tcp::socket sock, script_server& s) -> asio::awaitable<void> {
        char buf[4096];
        auto [ec, n] = co_await sock.async_read_some(asio::buffer(buf), use_tuple);
        if (ec) co_return;
        co_await write_all(sock, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", s);
        boost::system::error_code ig;
        sock.shutdown(tcp::socket::shutdown_both, ig);
    });
    asio::io_context ioc;
    s3_store store(ioc.get_executor(), options_for(srv.endpoint("https")));
    auto g = get_once(ioc, store, "k");
    const auto line = g.diag.to_string(g.ec);
    EXPECT_EQ(g.ec, make_error_code(errc::tls_error)) << line;
    EXPECT_TRUE(contains(line, "plain HTTP")) << line;
    EXPECT_TRUE(contains(line, "TLS was expected")) << line;
    EXPECT_TRUE(contains(line, "127.0.0.1:" + std::to_string(srv.port()))) << line;
}

// An http:// endpoint whose server speaks TLS: the answer starts with a TLS
// record (0x15 alert / 0x16 handshake, version 3.x), not "HTTP/".
TEST(s3_hardening, tls_server_on_an_http_endpoint_says_use_https) {
    script_server srv([](tcp::socket sock, script_server& s) -> asio::awaitable<void> {
        if (!co_await read_request_header(sock)) co_return;
        // A fatal "protocol_version" alert, as some TLS servers send to non-TLS bytes.
        co_await write_all(sock, std::string("\x15\x03\x01\x00\x02\x02\x46", 7), s);
        boost::system::error_code ig;
        sock.shutdown(tcp::socket::shutdown_both, ig);
    });
    asio::io_context ioc;
    auto o = options_for(srv.endpoint("http"));
    s3_store store(ioc.get_executor(), o);
    auto g = get_once(ioc, store, "k");
    const auto line = g.diag.to_string(g.ec);
    EXPECT_EQ(g.ec, make_error_code(errc::unsupported_response)) << line;
    EXPECT_FALSE(is_retryable(g.ec)) << line;
    EXPECT_TRUE(contains(line, "answered with TLS (bytes 15 03 01 00 02 02 46), not HTTP")) << line;
    EXPECT_TRUE(contains(line, "use an https:// endpoint")) << line;
}

TEST(s3_hardening, file_uri_messages_keep_the_leading_slash) {
    test::temp_dir dir("file-uri");
    asio::io_context ioc;
    const std::string missing = (dir.path() / "no" / "such.log").string();
    ASSERT_EQ(missing.front(), '/');
    auto u = parse_object_uri("file://" + missing);
    auto store = open_store(ioc.get_executor(), u);
    auto g = get_once(ioc, *store, u.key);
    const auto line = g.diag.to_string(g.ec);
    EXPECT_EQ(g.ec, make_error_code(errc::no_such_key)) << line;
    // Every mention of the path is absolute: the line starts "GET /tmp/…", not "GET tmp/…".
    EXPECT_TRUE(line.starts_with("GET " + missing + ": ")) << line;
    EXPECT_EQ(u.to_string(), "file://" + missing);
    EXPECT_EQ(store->describe(), "file:///");
}

TEST(s3_hardening, out_of_memory_is_not_a_malformed_response) {
    auto ec = detail::exception_to_error(std::make_exception_ptr(std::bad_alloc()));
    EXPECT_NE(ec, make_error_code(errc::bad_response)) << ec.message();
    EXPECT_EQ(ec, boost::system::errc::not_enough_memory) << ec.message();
    EXPECT_FALSE(is_retryable(ec));

    // Through the launch path every operation takes: an escaped bad_alloc
    // reaches the handler as "not enough memory".
    asio::io_context ioc;
    auto strand = asio::make_strand(ioc.get_executor());
    error_code got;
    auto make = [](std::shared_ptr<detail::op_state>) -> asio::awaitable<std::tuple<error_code>> {
        throw std::bad_alloc();
        co_return std::tuple<error_code>{};
    };
    auto handler = [&got](error_code e) { got = e; };
    detail::launch<>(detail::strand_type(strand), std::move(make),
                     asio::any_completion_handler<void(error_code)>(std::move(handler)));
    ioc.run();
    EXPECT_EQ(got, boost::system::errc::not_enough_memory) << got.message();
    EXPECT_NE(got.message(), make_error_code(errc::bad_response).message());
}

TEST(s3_hardening, an_unexpected_exception_is_a_bug_not_a_malformed_response) {
    // A logic_error (or anything not a system_error nor bad_alloc) is a bug of
    // the library: internal_bug, not retried; it used to read as bad_response,
    // a server fault that was retried.
    for (auto e : {std::make_exception_ptr(std::logic_error("invariant broken")),
                   std::make_exception_ptr(std::runtime_error("oops")), std::make_exception_ptr(42)}) {
        auto ec = detail::exception_to_error(e);
        EXPECT_EQ(ec, make_error_code(errc::internal_bug)) << ec.message();
        EXPECT_FALSE(is_retryable(ec));
    }
    // system_errors keep their codes: errno values in the generic category,
    // and a fluss_fetch errc thrown as a std::system_error stays that errc
    // (it used to become errno 201, "Unknown error 201").
    EXPECT_EQ(detail::exception_to_error(std::make_exception_ptr(boost::system::system_error(errc::no_such_key))),
              make_error_code(errc::no_such_key));
    EXPECT_EQ(detail::exception_to_error(
                  std::make_exception_ptr(std::system_error(ENOENT, std::generic_category(), "open"))),
              boost::system::errc::no_such_file_or_directory);
    const auto uri = detail::exception_to_error(std::make_exception_ptr(
        std::system_error(std::error_code(make_error_code(errc::invalid_uri)), "bad uri")));
    EXPECT_EQ(uri, make_error_code(errc::invalid_uri)) << uri.category().name() << " " << uri.message();

    // Through the launch path every operation takes.
    asio::io_context ioc;
    auto strand = asio::make_strand(ioc.get_executor());
    error_code got;
    auto make = [](std::shared_ptr<detail::op_state>) -> asio::awaitable<std::tuple<error_code>> {
        throw std::logic_error("invariant broken");
        co_return std::tuple<error_code>{};
    };
    auto handler = [&got](error_code e) { got = e; };
    detail::launch<>(detail::strand_type(strand), std::move(make),
                     asio::any_completion_handler<void(error_code)>(std::move(handler)));
    ioc.run();
    EXPECT_EQ(got, make_error_code(errc::internal_bug)) << got.message();
}

// ---------------------------------------------------------------------------
// Item 7: TLS 1.2 is the floor, whatever the system OpenSSL configuration
// allows.

namespace {

// Load an OpenSSL configuration that permits TLS 1.0 at security level 0 (as
// some distributions' or users' openssl.cnf do) for the contexts made while
// it lives; restore the defaults afterwards.
class permissive_openssl_config {
public:
    explicit permissive_openssl_config(const std::filesystem::path& dir) {
        OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr);  // the system file first, once
        const auto file = dir / "permissive.cnf";
        std::ofstream(file) << "openssl_conf = init\n[init]\nssl_conf = ssl_sect\n[ssl_sect]\n"
                               "system_default = sys\n[sys]\nMinProtocol = TLSv1\n"
                               "CipherString = DEFAULT:@SECLEVEL=0\n";
        loaded_ = CONF_modules_load_file(file.c_str(), nullptr, 0) > 0;
    }
    ~permissive_openssl_config() { CONF_modules_finish(); }
    bool loaded() const { return loaded_; }

private:
    bool loaded_ = false;
};

asio::awaitable<void> old_tls_server(tcp::socket sock, ssl::context& ctx, script_server& s) {
    ssl::stream<tcp::socket> tls(std::move(sock), ctx);
    auto [hec] = co_await tls.async_handshake(ssl::stream_base::server, use_tuple);
    if (hec) co_return;
    const std::string version = SSL_get_version(tls.native_handle());
    s.update([&](script_server::seen& st) { st.protocol = version; });
    if (!co_await read_request_header(tls)) co_return;
    s.update([](script_server::seen& st) { ++st.requests; });
    std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    co_await asio::async_write(tls, asio::buffer(answer), use_tuple);
}

}  // namespace

TEST(s3_hardening, tls_1_1_server_is_refused_and_never_sees_a_request) {
    test::temp_dir dir("tls-floor");
    auto pki = test::make_test_pki(dir.path());
    permissive_openssl_config permissive(dir.path());
    ASSERT_TRUE(permissive.loaded());

    ssl::context sctx(ssl::context::tls_server);
    SSL_CTX* native = sctx.native_handle();
    SSL_CTX_set_security_level(native, 0);
    ASSERT_EQ(SSL_CTX_set_min_proto_version(native, TLS1_VERSION), 1);
    ASSERT_EQ(SSL_CTX_set_max_proto_version(native, TLS1_1_VERSION), 1);
    ASSERT_EQ(SSL_CTX_set_cipher_list(native, "DEFAULT:@SECLEVEL=0"), 1);
    sctx.use_certificate_chain_file(pki.server_cert.string());
    sctx.use_private_key_file(pki.server_key.string(), ssl::context::pem);
    script_server srv([&sctx](tcp::socket sock, script_server& s) { return old_tls_server(std::move(sock), sctx, s); });

    asio::io_context ioc;
    auto o = options_for(srv.endpoint("https"));
    o.ca_file = pki.ca_cert.string();
    s3_store store(ioc.get_executor(), o);
    auto g = get_once(ioc, store, "k");
    const auto line = g.diag.to_string(g.ec);

    ASSERT_TRUE(srv.wait_for([](const auto& s) { return s.handled == 1; }));
    const auto seen = srv.snapshot();
    EXPECT_EQ(seen.requests, 0u) << "a signed request went out over " << seen.protocol;
    EXPECT_EQ(seen.protocol, "") << "a handshake completed";
    EXPECT_EQ(g.ec, make_error_code(errc::tls_error)) << line;
    EXPECT_TRUE(contains(line, "fluss_fetch requires TLS 1.2 or newer")) << line;
    EXPECT_TRUE(contains(line, "TLS 1.1 or older")) << line;
}

// ---------------------------------------------------------------------------
// Item 8: the time budget of a part is bounded (download_options::part_deadline).

// A body that trickles in a byte every 5 ms never trips the stall timeout;
// only the part's deadline ends it, and deadline_exceeded is not retried.
TEST(s3_hardening, trickling_body_is_cut_off_by_the_part_deadline) {
    script_server srv([](tcp::socket sock, script_server& s) -> asio::awaitable<void> {
        if (!co_await read_request_header(sock)) co_return;
        s.update([](script_server::seen& st) { ++st.requests; });
        co_await write_all(sock, "HTTP/1.1 200 OK\r\nContent-Length: 400\r\nETag: \"t\"\r\n\r\n", s);
        asio::steady_timer pace(sock.get_executor());
        for (int i = 0; i < 400; ++i) {  // 2 s at best: the old code waited it out and succeeded
            pace.expires_after(std::chrono::milliseconds(5));
            co_await pace.async_wait(use_tuple);
            char c = 'x';
            auto [ec, n] = co_await asio::async_write(sock, asio::buffer(&c, 1), use_tuple);
            if (ec) co_return;
        }
    });
    asio::io_context ioc;
    auto o = options_for(srv.endpoint("http"));
    o.stall_timeout = std::chrono::milliseconds(300);
    s3_store store(ioc.get_executor(), o);
    fetch::download_pool pool(ioc.get_executor(), 1);
    fetch::download_options d;
    d.part_size = 0;
    d.part_deadline = std::chrono::milliseconds(500);
    d.retry.initial_backoff = std::chrono::milliseconds(1);
    d.retry.max_backoff = std::chrono::milliseconds(2);
    fetch::transfer_counters counters;
    test::temp_dir dir("deadline");
    diagnostics diag;
    const auto t0 = std::chrono::steady_clock::now();
    auto ec = test::run_on(ioc, [&]() -> asio::awaitable<error_code> {
        auto [ec, res] = co_await fetch::async_download(store, pool, "k", dir.path() / "k", d, counters, diag, use_tuple);
        co_await pool.async_close(asio::use_awaitable);
        co_return ec;
    });
    const auto took = std::chrono::steady_clock::now() - t0;
    const auto line = diag.to_string(ec);
    EXPECT_EQ(ec, make_error_code(errc::deadline_exceeded)) << line;
    EXPECT_FALSE(is_retryable(ec));
    EXPECT_EQ(counters.requests.load(), 1u) << line;
    EXPECT_TRUE(contains(line, "deadline passed while reading the body")) << line;
    EXPECT_TRUE(contains(line, "part_deadline")) << line;
    EXPECT_GE(took, std::chrono::milliseconds(500));
    EXPECT_LT(took, std::chrono::milliseconds(500) + std::chrono::seconds(5));
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "k"));
}

// A header that never comes: attempts of first_byte_timeout each until the
// part's deadline, which also cuts the last attempt short. Never the full
// 1 + 5 retries.
TEST(s3_hardening, retries_stop_at_the_part_deadline) {
    script_server srv([](tcp::socket sock, script_server& s) -> asio::awaitable<void> {
        if (!co_await read_request_header(sock)) co_return;
        s.update([](script_server::seen& st) { ++st.requests; });
        char c;
        co_await sock.async_read_some(asio::buffer(&c, 1), use_tuple);  // silent until the client leaves
    });
    asio::io_context ioc;
    auto o = options_for(srv.endpoint("http"));
    o.first_byte_timeout = std::chrono::milliseconds(300);
    s3_store store(ioc.get_executor(), o);
    fetch::download_pool pool(ioc.get_executor(), 1);
    fetch::download_options d;
    d.part_size = 0;
    d.part_deadline = std::chrono::milliseconds(800);
    d.retry.initial_backoff = std::chrono::milliseconds(1);
    d.retry.max_backoff = std::chrono::milliseconds(2);
    fetch::transfer_counters counters;
    test::temp_dir dir("deadline-retries");
    diagnostics diag;
    const auto t0 = std::chrono::steady_clock::now();
    auto ec = test::run_on(ioc, [&]() -> asio::awaitable<error_code> {
        auto [ec, res] = co_await fetch::async_download(store, pool, "k", dir.path() / "k", d, counters, diag, use_tuple);
        co_await pool.async_close(asio::use_awaitable);
        co_return ec;
    });
    const auto took = std::chrono::steady_clock::now() - t0;
    const auto line = diag.to_string(ec);
    EXPECT_TRUE(ec == errc::deadline_exceeded || ec == errc::first_byte_timeout) << line;
    EXPECT_TRUE(contains(line, "deadline")) << line;
    EXPECT_GE(counters.requests.load(), 2u) << line;
    EXPECT_LE(counters.requests.load(), 3u) << line;
    EXPECT_LT(took, std::chrono::milliseconds(800) + std::chrono::seconds(5));
}
