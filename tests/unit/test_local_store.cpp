// The file:// store: the same interface over a directory.
#include <fluss_fetch/fetch/download.hpp>
#include <fluss_fetch/storage/local_store.hpp>

#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

using namespace fluss_fetch;
using namespace fluss_fetch::storage;
namespace asio = boost::asio;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {
struct got {
    error_code ec;
    std::string body;
    get_result r;
    diagnostics d;
};
got get(asio::io_context& ioc, local_store& s, std::string key, get_options o) {
    return test::run_on(ioc, [&]() -> asio::awaitable<got> {
        got g;
        string_sink sink(g.body);
        auto [ec, r] = co_await s.async_get(key, o, sink, g.d, use_tuple);
        g.ec = ec;
        g.r = r;
        co_return g;
    });
}
}  // namespace

TEST(local_store, get_range_head_list_put) {
    test::temp_dir dir("local");
    const std::string body = test::random_bytes(2'500'000, 3);
    test::write_file(dir.path() / "log/t/0/a.log", body);
    test::write_file(dir.path() / "log/t/0/b.log", "bb");
    test::write_file(dir.path() / "log/t2/c.log", "c");
    asio::io_context ioc;
    local_store s(ioc.get_executor(), dir.path());

    get_options whole;
    auto g = get(ioc, s, "log/t/0/a.log", whole);
    ASSERT_FALSE(g.ec) << g.d.to_string(g.ec);
    EXPECT_EQ(g.body, body);
    EXPECT_EQ(g.r.meta.size, body.size());

    get_options ranged{byte_range{1'000'000, 1'200'000}, ""};
    auto r = get(ioc, s, "log/t/0/a.log", ranged);
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.body, body.substr(1'000'000, 1'200'000));

    auto entries = test::run_on(ioc, [&]() -> asio::awaitable<std::vector<object_entry>> {
        diagnostics d;
        auto [ec, e] = co_await s.async_list("log/t/", d, use_tuple);
        EXPECT_FALSE(ec);
        co_return e;
    });
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].key, "log/t/0/a.log");
    EXPECT_EQ(entries[1].key, "log/t/0/b.log");
    EXPECT_EQ(entries[1].size, 2u);

    auto put_ec = test::run_on(ioc, [&]() -> asio::awaitable<error_code> {
        diagnostics d;
        auto [ec] = co_await s.async_put("new/dir/x.json", "{}", d, use_tuple);
        co_return ec;
    });
    EXPECT_FALSE(put_ec);
    EXPECT_EQ(test::read_file(dir.path() / "new/dir/x.json"), "{}");
    EXPECT_EQ(dir.file_count(), 4u) << "no temp file left by PUT";
}

TEST(local_store, errors_are_clear) {
    test::temp_dir dir("local-err");
    test::write_file(dir.path() / "a.log", "0123456789");
    asio::io_context ioc;
    local_store s(ioc.get_executor(), dir.path());
    get_options whole;
    auto missing = get(ioc, s, "nope.log", whole);
    EXPECT_EQ(missing.ec, make_error_code(errc::no_such_key));
    EXPECT_NE(missing.d.to_string(missing.ec).find("nope.log"), std::string::npos);
    auto escape = get(ioc, s, "../etc/passwd", whole);
    EXPECT_EQ(escape.ec, make_error_code(errc::invalid_argument));
    get_options past{byte_range{8, 5}, ""};
    EXPECT_EQ(get(ioc, s, "a.log", past).ec, make_error_code(errc::invalid_range));
    get_options stale{std::nullopt, "\"not-the-etag\""};
    EXPECT_EQ(get(ioc, s, "a.log", stale).ec, make_error_code(errc::precondition_failed));
}

TEST(local_store, multipart_download_through_the_pool_is_identical) {
    test::temp_dir src("local-src"), dst("local-dst");
    const std::string body = test::random_bytes(3'333'333, 5);
    test::write_file(src.path() / "seg.log", body);
    asio::io_context ioc;
    local_store s(ioc.get_executor(), src.path());
    fetch::transfer_counters counters;
    auto ec = test::run_on(
        ioc,
        [&]() -> asio::awaitable<error_code> {
            fetch::download_pool pool(ioc.get_executor(), 3);
            fetch::download_options o;
            o.part_size = 1 << 20;
            diagnostics d;
            auto [ec, r] =
                co_await fetch::async_download(s, pool, "seg.log", dst.path() / "seg.log", o, counters, d, use_tuple);
            co_await pool.async_close(asio::use_awaitable);
            co_return ec;
        },
        2);
    ASSERT_FALSE(ec);
    EXPECT_EQ(test::read_file(dst.path() / "seg.log"), body);
    EXPECT_EQ(counters.requests.load(), 4u);
    EXPECT_EQ(dst.file_count(), 1u);
}

TEST(local_store, a_bad_retry_policy_is_an_invalid_argument_naming_the_field) {
    test::temp_dir src("local-bad");
    test::write_file(src.path() / "x.log", "x");
    asio::io_context ioc;
    local_store s(ioc.get_executor(), src.path());
    fetch::transfer_counters counters;
    diagnostics d;
    auto ec = test::run_on(ioc, [&]() -> asio::awaitable<error_code> {
        fetch::download_pool pool(ioc.get_executor(), 1);
        fetch::download_options o;
        o.retry.jitter = 2.0;
        auto [ec, r] = co_await fetch::async_download(s, pool, "x.log", src.path() / "out/x.log", o, counters, d,
                                                      use_tuple);
        co_return ec;
    });
    EXPECT_EQ(ec, make_error_code(errc::invalid_argument));
    EXPECT_NE(d.message.find("retry_policy.jitter"), std::string::npos) << d.message;
    EXPECT_EQ(counters.requests.load(), 0u);
}

// A download opens its temp file when its first request runs, not when it is
// started: downloads waiting in the pool's queue hold no file descriptor
// (issue 11, item 5: 2,000 queued objects held 2,000 fds).
TEST(local_store, a_download_waiting_in_the_pool_queue_has_no_temp_file_yet) {
    test::temp_dir src("local-queued-src");
    test::temp_dir dst("local-queued-dst");
    constexpr int objects = 20;
    for (int i = 0; i < objects; ++i) test::write_file(src.path() / ("o-" + std::to_string(i)), "object " + std::to_string(i));
    asio::io_context ioc;
    local_store s(ioc.get_executor(), src.path());
    fetch::download_pool pool(ioc.get_executor(), 1);
    fetch::transfer_counters counters;

    // Keep the pool's only worker busy until `release` is cancelled.
    asio::steady_timer release(ioc, std::chrono::steady_clock::time_point::max());
    auto blocker = [&release]() -> asio::awaitable<error_code> {
        co_await release.async_wait(use_tuple);
        co_return error_code{};
    };
    pool.async_submit(blocker, [](error_code) {});
    std::vector<diagnostics> diags(objects);
    std::vector<error_code> results(objects, make_error_code(errc::file_error));
    int completed = 0;
    for (int i = 0; i < objects; ++i) {
        const std::string name = "o-" + std::to_string(i);
        fetch::async_download(s, pool, name, dst.path() / name, fetch::download_options{}, counters, diags[i],
                              [&results, &completed, i](error_code ec, fetch::download_result) {
                                  results[i] = ec;
                                  ++completed;
                              });
    }
    // Run everything that can run without the worker: every download is then
    // started and waiting in the pool's queue.
    while (ioc.poll() > 0) {
    }
    ASSERT_EQ(completed, 0);
    std::size_t temp_files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dst.path()))
        if (e.path().filename().string().find(".tmp-") != std::string::npos) ++temp_files;
    EXPECT_EQ(temp_files, 0u) << "downloads waiting for a pool worker already hold temp files";

    release.cancel();
    ioc.run();
    ASSERT_EQ(completed, objects);
    for (int i = 0; i < objects; ++i) {
        EXPECT_FALSE(results[i]) << "o-" << i << ": " << diags[i].to_string(results[i]);
        EXPECT_EQ(test::read_file(dst.path() / ("o-" + std::to_string(i))), "object " + std::to_string(i));
    }
    EXPECT_EQ(dst.file_count(), static_cast<std::size_t>(objects));
}
