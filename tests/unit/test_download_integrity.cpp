// async_download against the fault server when the object or its size lies:
// a new version put between two ranged parts (If-Match ignored or honoured),
// a manifest size or a Content-Range total of 2^62. The file at its final name
// is one version byte for byte, or there is no file and an error naming the
// key, what was expected and what the server said; memory stays bounded.
#include <fluss_fetch/fetch/download.hpp>
#include <fluss_fetch/fetch/remote_log_fetcher.hpp>
#include <fluss_fetch/log/remote_paths.hpp>
#include <fluss_fetch/storage/s3_store.hpp>

#include "support/fault_server.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <filesystem>

using namespace fluss_fetch;
using namespace fluss_fetch::storage;
namespace asio = boost::asio;
using boost::system::error_code;
using test::fault;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Peak resident set of this process so far, in bytes.
std::uint64_t max_rss() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
}

constexpr std::uint64_t huge = 1ull << 62;  // 4611686018427387904

class download_integrity : public ::testing::Test {
protected:
    void SetUp() override { server.put_object("b", key, version_a, etag_a); }

    s3_options options() {
        s3_options o;
        o.endpoint = server.endpoint();
        o.bucket = "b";
        o.credentials = s3_credentials{"AK", "SK", ""};
        o.stall_timeout = std::chrono::milliseconds(2000);
        return o;
    }

    fetch::download_options ranged(std::uint64_t part_size = 1 << 20) {
        fetch::download_options o;
        o.part_size = part_size;
        o.retry.initial_backoff = std::chrono::milliseconds(1);
        o.retry.max_backoff = std::chrono::milliseconds(5);
        return o;
    }

    struct outcome {
        error_code ec;
        diagnostics diag;
        fetch::download_result res;
        std::string line() const { return diag.to_string(ec); }
    };

    outcome download(fetch::download_options o, std::size_t workers = 3, unsigned threads = 1) {
        s3_store store(ioc.get_executor(), options());
        fetch::download_pool pool(ioc.get_executor(), workers);
        return test::run_on(ioc, [&]() -> asio::awaitable<outcome> {
            outcome out;
            auto [ec, res] =
                co_await fetch::async_download(store, pool, key, target(), o, counters, out.diag, use_tuple);
            out.ec = ec;
            out.res = res;
            co_await pool.async_close(asio::use_awaitable);
            co_return out;
        }, threads);
    }

    std::filesystem::path target() const { return dir.path() / "out" / "seg.log"; }

    void expect_file(const std::string& bytes) {
        ASSERT_TRUE(std::filesystem::exists(target()));
        const std::string got = test::read_file(target());
        EXPECT_EQ(got.size(), bytes.size());
        EXPECT_TRUE(got == bytes) << "the file is not that version byte for byte"
                                  << (got == version_a ? " (it is version A)" : "")
                                  << (got == version_b ? " (it is version B)" : "");
        EXPECT_EQ(dir.file_count(), 1u) << "a temp file was left behind";
    }

    void expect_nothing_left() {
        EXPECT_FALSE(std::filesystem::exists(target()));
        EXPECT_EQ(dir.file_count(), 0u) << "a temp file was left behind";
    }

    // Every GET after the next one flips the object between B and A.
    void keep_changing(int n) {
        for (int i = 0; i < n; ++i) {
            fault f{.what = fault::kind::replace_after, .key = key};
            f.replacement = i % 2 == 0 ? version_b : version_a;
            f.replacement_etag = i % 2 == 0 ? etag_b : etag_a;
            server.add_fault(std::move(f));
        }
    }

    void change_once() { keep_changing(1); }

    const std::string key = "log/db/t-1/0/6e94fbd1-c056-446e-859c-77345dddcd96/00000000000000000010.log";
    // Two versions of one size: only the ETag tells them apart.
    const std::string version_a = test::random_bytes(3'000'001, 1);
    const std::string version_b = test::random_bytes(3'000'001, 2);
    const std::string etag_a = "\"version-a\"";
    const std::string etag_b = "\"version-b\"";
    test::fault_server server;
    test::temp_dir dir{"integrity"};
    asio::io_context ioc;
    fetch::transfer_counters counters;
};

}  // namespace

// ---- item 2: versions -------------------------------------------------------

// Size unknown: the first part goes alone, then a new version is put; the
// server ignores If-Match, so the later parts come back 206 from version B.
TEST_F(download_integrity, version_change_after_the_first_part_restarts_once_and_keeps_one_version) {
    change_once();
    auto r = download(ranged());
    ASSERT_FALSE(r.ec) << r.line();
    expect_file(version_b);
    EXPECT_EQ(r.res.meta.etag, etag_b);
    // The first pass took part 0 (A) and at least one part of B; the second all 3 parts of B.
    EXPECT_GE(server.requests_for(key), 5u);
    EXPECT_LE(server.requests_for(key), 6u);
    EXPECT_EQ(counters.retries.load(), 0u) << "a version change is not a per-part retry";
}

// Size known (the manifest's): all parts go at once with no ETag known; the
// first answer's ETag is the version every other answer must show.
TEST_F(download_integrity, version_change_in_the_known_size_path_restarts_once_and_keeps_one_version) {
    change_once();
    auto o = ranged();
    o.expected_size = version_a.size();
    auto r = download(o, 3, 4);  // the io_context on 4 threads: parts complete concurrently
    ASSERT_FALSE(r.ec) << r.line();
    expect_file(version_b);
    EXPECT_EQ(r.res.meta.etag, etag_b);
    // 3 parts, twice (the first pass's third part may be cancelled before it reached the server).
    EXPECT_GE(server.requests_for(key), 5u);
    EXPECT_LE(server.requests_for(key), 6u);
}

TEST_F(download_integrity, version_that_keeps_changing_fails_naming_the_key_and_leaves_nothing) {
    keep_changing(20);
    auto r = download(ranged());
    EXPECT_EQ(r.ec, make_error_code(errc::object_changed)) << r.line();
    EXPECT_FALSE(is_retryable(r.ec));
    const auto line = r.line();
    RecordProperty("error", line);
    EXPECT_NE(line.find(key), std::string::npos) << line;
    EXPECT_NE(line.find("ETag"), std::string::npos) << line;
    EXPECT_NE(line.find("restarted once"), std::string::npos) << line;
    EXPECT_EQ(counters.retries.load(), 0u) << "object_changed must not be retried part by part";
    EXPECT_LE(server.requests_for(key), 6u);
    expect_nothing_left();
}

TEST_F(download_integrity, version_that_keeps_changing_in_the_known_size_path_fails_and_leaves_nothing) {
    keep_changing(20);
    auto o = ranged();
    o.expected_size = version_a.size();
    auto r = download(o);
    EXPECT_EQ(r.ec, make_error_code(errc::object_changed)) << r.line();
    EXPECT_NE(r.line().find(key), std::string::npos) << r.line();
    EXPECT_EQ(counters.retries.load(), 0u);
    expect_nothing_left();
}

// A server that honours If-Match answers the later parts 412: the same restart.
TEST_F(download_integrity, precondition_failed_on_if_match_restarts_once_and_keeps_one_version) {
    server.set_honour_if_match(true);
    change_once();
    auto r = download(ranged());
    ASSERT_FALSE(r.ec) << r.line();
    expect_file(version_b);
    std::size_t refused = 0;
    for (const auto& rr : server.recorded())
        if (rr.headers.count("if-match") && rr.headers.at("if-match") == etag_a) ++refused;
    EXPECT_GE(refused, 1u);
}

TEST_F(download_integrity, precondition_failed_again_after_the_restart_is_object_changed) {
    server.set_honour_if_match(true);
    keep_changing(20);
    auto r = download(ranged());
    EXPECT_EQ(r.ec, make_error_code(errc::object_changed)) << r.line();
    EXPECT_NE(r.line().find("412"), std::string::npos) << r.line();
    EXPECT_NE(r.line().find(key), std::string::npos) << r.line();
    expect_nothing_left();
}

// ---- item 4: sizes ----------------------------------------------------------

// A manifest size of 2^62 against a 3 MB object: one request, an error naming
// both sizes and the server's Content-Range, no plan of 2^42 parts.
TEST_F(download_integrity, expected_size_of_2_to_the_62_fails_at_once_with_bounded_memory) {
    auto o = ranged();
    o.expected_size = huge;
    const auto rss_before = max_rss();
    auto r = download(o);
    const auto rss_growth = max_rss() - rss_before;
    EXPECT_EQ(r.ec, make_error_code(errc::size_mismatch)) << r.line();
    const auto line = r.line();
    RecordProperty("error", line);
    EXPECT_NE(line.find(key), std::string::npos) << line;
    EXPECT_NE(line.find("4611686018427387904"), std::string::npos) << line;
    EXPECT_NE(line.find("3000001"), std::string::npos) << line;
    EXPECT_NE(line.find("Content-Range bytes 0-1048575/3000001"), std::string::npos) << line;
    EXPECT_EQ(server.requests_for(key), 1u);
    RecordProperty("peak_rss_growth_kib", std::to_string(rss_growth >> 10));
    RecordProperty("requests", std::to_string(server.requests_for(key)));
    EXPECT_LT(rss_growth, 48ull << 20) << "peak RSS grew by " << (rss_growth >> 20) << " MiB";
    expect_nothing_left();
}

// A server (or proxy) whose first ranged answer claims a total of 2^62.
TEST_F(download_integrity, content_range_total_of_2_to_the_62_fails_at_once_with_bounded_memory) {
    server.add_fault({.what = fault::kind::claim_total, .key = key, .claimed_total = huge});
    const auto rss_before = max_rss();
    auto r = download(ranged());
    const auto rss_growth = max_rss() - rss_before;
    EXPECT_EQ(r.ec, make_error_code(errc::object_too_large)) << r.line();
    const auto line = r.line();
    RecordProperty("error", line);
    EXPECT_NE(line.find(key), std::string::npos) << line;
    EXPECT_NE(line.find("Content-Range bytes 0-1048575/4611686018427387904"), std::string::npos) << line;
    EXPECT_NE(line.find("max_object_size"), std::string::npos) << line;
    EXPECT_EQ(server.requests_for(key), 1u);
    RecordProperty("peak_rss_growth_kib", std::to_string(rss_growth >> 10));
    RecordProperty("requests", std::to_string(server.requests_for(key)));
    EXPECT_LT(rss_growth, 48ull << 20) << "peak RSS grew by " << (rss_growth >> 20) << " MiB";
    expect_nothing_left();
}

// The same lie when the caller knows the real size: the first answer's size is checked against it.
TEST_F(download_integrity, content_range_total_that_contradicts_the_expected_size_is_size_mismatch) {
    server.add_fault({.what = fault::kind::claim_total, .key = key, .claimed_total = huge});
    auto o = ranged();
    o.expected_size = version_a.size();
    auto r = download(o, 1);
    EXPECT_EQ(r.ec, make_error_code(errc::size_mismatch)) << r.line();
    EXPECT_NE(r.line().find("4611686018427387904"), std::string::npos) << r.line();
    EXPECT_NE(r.line().find("expected 3000001"), std::string::npos) << r.line();
    expect_nothing_left();
}

// Parts are planned from a cursor: never more than part_window submitted at once.
TEST_F(download_integrity, parts_in_flight_stay_within_the_part_window) {
    auto o = ranged(64 << 10);  // 46 parts
    o.expected_size = version_a.size();
    o.part_window = 2;
    auto r = download(o, 8);
    ASSERT_FALSE(r.ec) << r.line();
    expect_file(version_a);
    EXPECT_EQ(server.requests_for(key), 46u);
    EXPECT_LE(server.max_in_flight(), 2u);
}

TEST_F(download_integrity, a_claimed_size_within_the_limit_still_plans_parts_lazily) {
    // 60 GiB claimed by the manifest of a 3 MB object: part 0 names both sizes,
    // the parts past the end get 416; at most part_window requests are made.
    auto o = ranged();
    o.expected_size = 60ull << 30;
    o.part_window = 4;
    const auto rss_before = max_rss();
    auto r = download(o, 1);
    const auto rss_growth = max_rss() - rss_before;
    EXPECT_TRUE(r.ec == errc::size_mismatch || r.ec == errc::invalid_range) << r.line();
    EXPECT_NE(r.line().find("64424509440"), std::string::npos) << r.line();
    EXPECT_LE(server.requests_for(key), 4u);
    EXPECT_LT(rss_growth, 48ull << 20);
    expect_nothing_left();
}

TEST_F(download_integrity, absurd_limits_are_invalid_arguments) {
    auto o = ranged();
    o.part_window = 0;
    EXPECT_EQ(download(o).ec, make_error_code(errc::invalid_argument));
    o = ranged();
    o.max_object_size = 0;
    EXPECT_EQ(download(o).ec, make_error_code(errc::invalid_argument));
    EXPECT_EQ(server.requests(), 0u);
    expect_nothing_left();
}

// ---- unchanged paths --------------------------------------------------------

TEST_F(download_integrity, whole_object_path_and_its_retries_are_unchanged) {
    server.add_fault({fault::kind::status, key, 503, "SlowDown"});
    auto r = download(ranged(0));
    ASSERT_FALSE(r.ec) << r.line();
    expect_file(version_a);
    EXPECT_EQ(server.requests_for(key), 2u);
    EXPECT_EQ(counters.retries.load(), 1u);
    for (const auto& rr : server.recorded()) EXPECT_EQ(rr.headers.count("range"), 0u);
}

TEST_F(download_integrity, whole_object_path_with_an_absurd_expected_size_names_both_sizes) {
    auto o = ranged(0);
    o.expected_size = huge;
    auto r = download(o);
    EXPECT_EQ(r.ec, make_error_code(errc::size_mismatch)) << r.line();
    EXPECT_NE(r.line().find("4611686018427387904"), std::string::npos) << r.line();
    EXPECT_NE(r.line().find("3000001"), std::string::npos) << r.line();
    EXPECT_EQ(server.requests_for(key), 1u);
    expect_nothing_left();
}

TEST_F(download_integrity, retries_per_part_are_unchanged) {
    // One 503 on a later part and a reset on another: each retried on its own.
    auto o = ranged();
    o.expected_size = version_a.size();
    server.add_fault({fault::kind::status, key, 503, "SlowDown"});
    server.add_fault({.what = fault::kind::reset_after, .key = key, .bytes = 1000});
    auto r = download(o);
    ASSERT_FALSE(r.ec) << r.line();
    expect_file(version_a);
    EXPECT_EQ(server.requests_for(key), 5u);
    EXPECT_EQ(counters.retries.load(), 2u);
}

TEST_F(download_integrity, empty_object_of_unknown_size_is_fetched_whole) {
    server.put_object("b", key, "");
    auto r = download(ranged());
    ASSERT_FALSE(r.ec) << r.line();
    expect_file("");
    EXPECT_EQ(server.requests_for(key), 2u);  // 416 for byte 0, then the whole object
}

// ---- through the fetcher: the error names the segment -----------------------

// A manifest whose segment claims size_in_bytes = 2^62: the stream fails on
// that segment with the segment id, the claimed size and the server's answer,
// after one request per round (the prefetch and the consumer's fallback), and
// leaves no file in the fetcher's temp dir.
TEST_F(download_integrity, manifest_size_of_2_to_the_62_fails_the_stream_naming_the_segment) {
    const std::string id = "6e94fbd1-c056-446e-859c-77345dddcd97";
    const std::string tablet = log::remote_log_tablet_dir({"db", "orders", 1001, {}, {}, 3});
    const std::string seg_key = log::remote_log_segment_key(tablet, id, 0);
    server.put_object("b", seg_key, test::random_bytes(10'000, 3));
    std::vector<log::remote_log_segment> segs{log::remote_log_segment::physical(id, 0, 10, huge)};
    s3_store store(ioc.get_executor(), options());
    fetch::fetcher_options fo;
    fo.temp_parent = dir.path();
    fo.retry.initial_backoff = std::chrono::milliseconds(1);
    fo.retry.max_backoff = std::chrono::milliseconds(5);
    fetch::remote_log_fetcher fetcher(ioc.get_executor(), store, fo);
    const auto fetch_dir = fetcher.temp_dir();
    const auto rss_before = max_rss();
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        auto s = fetcher.fetch(tablet, segs, 0);
        auto [ec, seg] = co_await s.async_next(use_tuple);
        EXPECT_EQ(ec, make_error_code(errc::size_mismatch));
        EXPECT_FALSE(seg.has_value());
        const auto line = s.last_error().to_string(ec);
        RecordProperty("error", line);
        EXPECT_NE(line.find("segment " + id), std::string::npos) << line;
        EXPECT_NE(line.find("4611686018427387904"), std::string::npos) << line;
        EXPECT_NE(line.find("/10000)"), std::string::npos) << line;  // the server's Content-Range total
        std::size_t files = 0;
        for (auto& e : std::filesystem::recursive_directory_iterator(fetch_dir))
            if (e.is_regular_file() && e.path().filename() != ".lock") ++files;
        EXPECT_EQ(files, 0u) << "a temp file was left behind";
        co_await fetcher.async_close(asio::use_awaitable);
    });
    EXPECT_LT(max_rss() - rss_before, 48ull << 20);
    EXPECT_LE(server.requests_for(seg_key), 2u);
}
