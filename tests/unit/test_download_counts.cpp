// async_download's byte counts: a store that reports success with fewer
// bytes than asked for must never give a finished file. Two checks guard
// this, each reached here on its own (mutation testing, issue 11 item 13):
// - the per-part count (a part of known length answered short: retried);
// - the whole-object count (the size learnt from the first ranged part,
//   whose own length was unknown, so only the total can tell).
// The store is test::fake_store: it answers exactly as each test says.
#include <fluss_fetch/fetch/download.hpp>

#include "support/fake_store.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <filesystem>

using namespace fluss_fetch;
namespace asio = boost::asio;
using boost::system::error_code;
using test::fake_store;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

class download_counts : public ::testing::Test {
protected:
    struct outcome {
        error_code ec;
        fetch::download_result result;
        diagnostics diag;
    };

    outcome download(fake_store& store, fetch::download_options o) {
        fetch::download_pool pool(ioc.get_executor(), 2);
        return test::run_on(ioc, [&]() -> asio::awaitable<outcome> {
            outcome out;
            auto [ec, res] =
                co_await fetch::async_download(store, pool, key, target(), o, counters, out.diag, use_tuple);
            out.ec = ec;
            out.result = res;
            co_await pool.async_close(asio::use_awaitable);
            co_return out;
        });
    }

    static fetch::download_options fast_retries() {
        fetch::download_options o;
        o.retry.initial_backoff = std::chrono::milliseconds(1);
        o.retry.max_backoff = std::chrono::milliseconds(2);
        return o;
    }

    std::filesystem::path target() const { return dir.path() / "out" / "seg.log"; }

    const std::string key = "log/t/0/seg/00000000000000000000.log";
    const std::string body = test::random_bytes(10'000, 7);
    test::temp_dir dir{"download-counts"};
    asio::io_context ioc;
    fetch::transfer_counters counters;
};

}  // namespace

// Known size, one whole-object part of known length: the first answer claims
// success with one byte missing. That attempt must count as a truncated body
// (retried), and the second, honest answer gives the exact bytes.
TEST_F(download_counts, a_part_reported_short_is_retried_not_kept) {
    fake_store* self = nullptr;
    fake_store short_then_honest(ioc.get_executor(), body, [&self](const fake_store::call& c) {
        auto a = self->honest(c);
        if (c.index == 0) a.write = a.report = a.report - 1;
        return a;
    });
    self = &short_then_honest;
    auto o = fast_retries();
    o.part_size = 0;
    o.expected_size = body.size();
    auto r = download(short_then_honest, o);
    ASSERT_FALSE(r.ec) << r.diag.to_string(r.ec);
    EXPECT_EQ(short_then_honest.calls().size(), 2u) << "the short attempt was not retried";
    EXPECT_EQ(counters.retries.load(), 1u);
    EXPECT_EQ(r.result.bytes, body.size());
    ASSERT_TRUE(std::filesystem::exists(target()));
    EXPECT_EQ(test::read_file(target()), body);
}

// The same with ranged parts of a known size: the middle part short every time.
TEST_F(download_counts, a_ranged_part_always_short_fails_as_truncated) {
    fake_store* self = nullptr;
    fake_store store(ioc.get_executor(), body, [&self](const fake_store::call& c) {
        auto a = self->honest(c);
        if (c.opts.range && c.opts.range->offset == 4096) a.write = a.report = a.report - 10;
        return a;
    });
    self = &store;
    auto o = fast_retries();
    o.part_size = 4096;  // parts at 0, 4096, 8192
    o.expected_size = body.size();
    o.retry.max_retries = 2;
    auto r = download(store, o);
    EXPECT_EQ(r.ec, make_error_code(errc::truncated_body)) << r.diag.to_string(r.ec);
    EXPECT_NE(r.diag.message.find("expected 4096"), std::string::npos) << r.diag.message;
    EXPECT_FALSE(std::filesystem::exists(target()));
    EXPECT_EQ(dir.file_count(), 0u) << "a temp file was left behind";
}

// Unknown size, no ranged parts (part_size 0): one plain GET whose answer
// tells the size. The object claims 10 000 bytes but only 9 999 are reported
// written: the part had no length to check against, so only the
// whole-object count can refuse it. Not retried: the download as a whole
// came up short. (With ranged parts the first answer's own byte count is
// checked against its Content-Range first.)
TEST_F(download_counts, an_object_shorter_than_the_size_it_claims_fails_as_truncated) {
    fake_store* self = nullptr;
    fake_store store(ioc.get_executor(), body, [&self](const fake_store::call& c) {
        auto a = self->honest(c);
        a.write = a.report = a.report - 1;
        return a;
    });
    self = &store;
    auto o = fast_retries();
    o.part_size = 0;  // the whole object in one GET, its size unknown beforehand
    auto r = download(store, o);
    EXPECT_EQ(r.ec, make_error_code(errc::truncated_body)) << r.diag.to_string(r.ec);
    EXPECT_NE(r.diag.message.find("received 9999 bytes of 10000"), std::string::npos) << r.diag.message;
    EXPECT_FALSE(std::filesystem::exists(target())) << "a short object appeared under its final name";
    EXPECT_EQ(dir.file_count(), 0u) << "a temp file was left behind";
    ASSERT_EQ(store.calls().size(), 1u);
    ASSERT_FALSE(store.calls()[0].opts.range.has_value()) << "one plain GET";
}

// The honest store gives the exact bytes through both paths (the tests above
// fail for the counts, not for the fake).
TEST_F(download_counts, an_honest_fake_store_gives_the_exact_bytes) {
    fake_store* self = nullptr;
    fake_store store(ioc.get_executor(), body, [&self](const fake_store::call& c) { return self->honest(c); });
    self = &store;
    for (std::uint64_t part : {0ull, 4096ull, 1ull << 20}) {
        std::filesystem::remove(target());
        auto o = fast_retries();
        o.part_size = part;
        auto r = download(store, o);
        ASSERT_FALSE(r.ec) << r.diag.to_string(r.ec);
        EXPECT_EQ(test::read_file(target()), body) << "part size " << part;
    }
}
