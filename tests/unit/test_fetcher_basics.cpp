// The fetcher's pure parts (segment selection, options, remote paths), the
// stale temp-dir sweep, and a whole fetch from a local remote.data.dir.
#include <fluss_fetch/fetch/remote_log_fetcher.hpp>
#include <fluss_fetch/log/remote_paths.hpp>
#include <fluss_fetch/storage/local_store.hpp>

#include "support/run.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>

using namespace fluss_fetch;
using namespace fluss_fetch::fetch;
using log::remote_log_segment;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

const std::string id_a = "6e94fbd1-c056-446e-859c-77345dddcd96";
const std::string id_b = "a4421366-4a1d-4c3b-a0f8-0be2e77b1368";
const std::string id_c = "0b7c4ad2-3f0e-4d52-9b6e-2a8f5c1d9e70";
const std::string id_d = "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b";

std::vector<std::string> ids(const std::vector<remote_log_segment>& s) {
    std::vector<std::string> out;
    for (const auto& x : s) out.push_back(x.segment_id);
    return out;
}

// The code and message of the system_error `f` throws.
template <class F>
std::pair<error_code, std::string> thrown(F f) {
    try {
        f();
    } catch (const boost::system::system_error& e) {
        return {e.code(), e.what()};
    }
    return {};
}

}  // namespace

TEST(remote_paths, match_the_fluss_layout) {
    log::tablet_ref t{"fluss", "orders", 1001, {}, {}, 3};
    EXPECT_EQ(log::remote_log_table_dir(t), "log/fluss/orders-1001");
    EXPECT_EQ(log::remote_log_tablet_dir(t), "log/fluss/orders-1001/3");
    EXPECT_EQ(log::remote_log_segment_key(log::remote_log_tablet_dir(t), id_b, 1234),
              "log/fluss/orders-1001/3/a4421366-4a1d-4c3b-a0f8-0be2e77b1368/00000000000000001234.log");
    EXPECT_EQ(log::remote_log_manifest_dir("log/fluss/orders-1001/3"), "log/fluss/orders-1001/3/metadata");
    log::tablet_ref p{"db", "t", 7, "2024-06-01", 12, 0};
    EXPECT_EQ(log::remote_log_tablet_dir(p), "log/db/t-7/2024-06-01-p12/0");
    p.partition_id.reset();
    EXPECT_THROW(log::remote_log_tablet_dir(p), std::invalid_argument);
    EXPECT_EQ(log::format_offset(0), "00000000000000000000");
    EXPECT_EQ(log::format_offset(9223372036854775807LL), "09223372036854775807");
}

TEST(remote_paths, segment_ids_are_lower_case_uuids) {
    EXPECT_TRUE(log::is_segment_id(id_a));
    EXPECT_FALSE(log::is_segment_id("6E94FBD1-C056-446E-859C-77345DDDCD96"));
    EXPECT_FALSE(log::is_segment_id("6e94fbd1c056446e859c77345dddcd96"));
    EXPECT_FALSE(log::is_segment_id(id_a + "0"));
    EXPECT_FALSE(log::is_segment_id("../../../../../../../etc/passwd-000"));
}

TEST(select_segments, takes_the_one_holding_start_then_every_later_one_below_stop) {
    std::vector<remote_log_segment> segs{remote_log_segment::physical(id_c, 20, 30),
                                         remote_log_segment::physical(id_a, 0, 10),
                                         remote_log_segment::physical(id_b, 10, 20),
                                         remote_log_segment::physical(id_d, 30, 40)};
    EXPECT_EQ(ids(select_segments(segs, 0, 40)), (std::vector{id_a, id_b, id_c, id_d}));
    EXPECT_EQ(ids(select_segments(segs, 15, 25)), (std::vector{id_b, id_c}));
    EXPECT_EQ(ids(select_segments(segs, 15, 20)), (std::vector{id_b}));
    EXPECT_EQ(ids(select_segments(segs, 39, 1000)), (std::vector{id_d}));
}

TEST(select_segments, uses_logical_ranges_of_overlapping_segments) {
    // Physical [0,10) clipped to [0,5), then physical [5,20): Fluss PR #3822.
    remote_log_segment first{id_a, 0, 10, 0, 5, -1, 100};
    remote_log_segment second{id_b, 5, 20, 5, 20, -1, 100};
    EXPECT_EQ(ids(select_segments({first, second}, 0, 100)), (std::vector{id_a, id_b}));
    EXPECT_EQ(ids(select_segments({first, second}, 7, 100)), (std::vector{id_b}))
        << "offset 7 lies in the first file physically but in the second logically";
    EXPECT_EQ(ids(select_segments({first, second}, 2, 5)), (std::vector{id_a}));
}

TEST(select_segments, keeps_two_segments_with_the_same_start_apart) {
    // Legacy manifests (Fluss #4272): same start offset, different ids.
    remote_log_segment a{id_a, 0, 10, 0, 0, -1, 1};  // clipped to nothing
    remote_log_segment b{id_b, 0, 12, 0, 12, -1, 1};
    EXPECT_EQ(ids(select_segments({a, b}, 0, 100)), (std::vector{id_b})) << "an empty logical range is skipped";
}

TEST(select_segments, reports_what_is_wrong_and_where) {
    std::vector<remote_log_segment> segs{remote_log_segment::physical(id_a, 10, 20),
                                         remote_log_segment::physical(id_b, 20, 30)};
    auto [ec, what] = thrown([&] { select_segments(segs, 5, 100); });
    EXPECT_EQ(ec, make_error_code(errc::no_remote_segments));
    EXPECT_NE(what.find("offset 5"), std::string::npos) << what;
    EXPECT_NE(what.find("[10, 30)"), std::string::npos) << what;

    std::tie(ec, what) = thrown([&] { select_segments({}, 0, 100); });
    EXPECT_EQ(ec, make_error_code(errc::no_remote_segments));

    std::tie(ec, what) = thrown([&] { select_segments(segs, 30, 10); });
    EXPECT_EQ(ec, make_error_code(errc::invalid_argument));

    auto dup = segs;
    dup.push_back(remote_log_segment::physical(id_a, 30, 40));
    std::tie(ec, what) = thrown([&] { select_segments(dup, 10, 100); });
    EXPECT_EQ(ec, make_error_code(errc::invalid_argument));
    EXPECT_NE(what.find(id_a), std::string::npos) << what;

    auto bad = segs;
    bad[1].segment_id = "not-a-uuid";
    std::tie(ec, what) = thrown([&] { select_segments(bad, 10, 100); });
    EXPECT_EQ(ec, make_error_code(errc::invalid_argument));
    EXPECT_NE(what.find("not-a-uuid"), std::string::npos) << what;

    auto outside = segs;
    outside[0].logical_end_offset = 25;  // beyond the physical end
    std::tie(ec, what) = thrown([&] { select_segments(outside, 10, 100); });
    EXPECT_EQ(ec, make_error_code(errc::invalid_argument));
    EXPECT_NE(what.find("logical range"), std::string::npos) << what;
}

TEST(fetcher_options, defaults_are_flusss) {
    fetcher_options o;
    EXPECT_EQ(o.prefetch_num, 4u);
    EXPECT_EQ(o.download_threads, 3u);
    EXPECT_EQ(o.effective_download_threads(), 3u);
    EXPECT_EQ(o.retry.max_retries, 5);
    EXPECT_EQ(o.retry.initial_backoff, std::chrono::milliseconds(100));
    EXPECT_EQ(o.retry.max_backoff, std::chrono::milliseconds(5000));
    EXPECT_DOUBLE_EQ(o.retry.multiplier, 2.0);
    EXPECT_DOUBLE_EQ(o.retry.jitter, 0.25);
    o.download_threads = 9;
    EXPECT_EQ(o.effective_download_threads(), 4u) << "clamped to prefetch_num";
    o.download_threads = 0;
    EXPECT_EQ(o.effective_download_threads(), 1u);
}

TEST(fetcher_options, from_fluss_config) {
    auto o = fetcher_options::from_config({{"kv.recover.remote-log.prefetch-num", "8"},
                                           {"kv.recover.remote-log.download-threads", " 5 "},
                                           {"table.log.format", "ARROW"}});
    EXPECT_EQ(o.prefetch_num, 8u);
    EXPECT_EQ(o.download_threads, 5u);
    EXPECT_EQ(fetcher_options::from_config({}).prefetch_num, 4u);
    for (const char* bad : {"0", "-1", "four", "", "3.5", "99999999999999999999999"}) {
        try {
            fetcher_options::from_config({{"kv.recover.remote-log.prefetch-num", bad}});
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("kv.recover.remote-log.prefetch-num"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("'" + std::string(bad) + "'"), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW(fetcher_options::from_config({{"kv.recover.remote-log.download-threads", "x"}}), std::invalid_argument);
    fetcher_options bad;
    bad.prefetch_num = 0;
    EXPECT_THROW(bad.validate(), std::invalid_argument);
}

TEST(temp_dirs, sweep_removes_only_dirs_no_live_process_holds) {
    test::temp_dir tmp("sweep");
    asio::io_context ioc;
    test::temp_dir remote("remote");
    storage::local_store store(ioc.get_executor(), remote.path());
    fetcher_options o;
    o.temp_parent = tmp.path();
    remote_log_fetcher live(ioc.get_executor(), store, o);

    // A dead process's dir: a lock file nobody holds.
    const auto dead = tmp.path() / "remote-log-recovery-dead";
    test::write_file(dead / ".lock", "");
    test::write_file(dead / "s1-00000000000000000000-x.log", "left over");
    // A dir of another live process: its lock is held (flock from another open file).
    const auto held = tmp.path() / "remote-log-recovery-held";
    test::write_file(held / ".lock", "");
    int fd = ::open((held / ".lock").c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    // A fresh dir without a lock (as Fluss makes them): kept until it is old.
    const auto fresh = tmp.path() / "remote-log-recovery-nolock";
    fs::create_directories(fresh);
    // Not ours at all.
    const auto other = tmp.path() / "something-else";
    fs::create_directories(other);

    EXPECT_EQ(sweep_stale_temp_dirs(tmp.path()), 1u);
    EXPECT_FALSE(fs::exists(dead));
    EXPECT_TRUE(fs::exists(held));
    EXPECT_TRUE(fs::exists(fresh));
    EXPECT_TRUE(fs::exists(other));
    EXPECT_TRUE(fs::exists(live.temp_dir())) << "a live fetcher's dir is never swept";

    EXPECT_EQ(sweep_stale_temp_dirs(tmp.path(), std::chrono::seconds(0)), 1u) << "an unlocked dir old enough goes";
    EXPECT_FALSE(fs::exists(fresh));
    ::close(fd);
    // With the option, a new fetcher sweeps at start (the lock is free now).
    o.sweep_stale_temp_dirs = true;
    remote_log_fetcher second(ioc.get_executor(), store, o);
    EXPECT_FALSE(fs::exists(held));
    EXPECT_TRUE(fs::exists(live.temp_dir()));
    EXPECT_TRUE(fs::exists(other));
}

TEST(temp_dirs, destroying_a_fetcher_without_close_removes_its_dir) {
    test::temp_dir tmp("dtor");
    test::temp_dir remote("remote");
    asio::io_context ioc;
    storage::local_store store(ioc.get_executor(), remote.path());
    fetcher_options o;
    o.temp_parent = tmp.path();
    fs::path dir;
    {
        remote_log_fetcher f(ioc.get_executor(), store, o);
        dir = f.temp_dir();
        ASSERT_TRUE(fs::exists(dir));
    }
    ioc.run();
    EXPECT_FALSE(fs::exists(dir));
}

TEST(local_remote_dir, fetches_a_tablet_from_a_file_remote_dir) {
    test::temp_dir remote("remote");
    test::temp_dir tmp("local-fetch");
    const std::string tablet = log::remote_log_tablet_dir({"fluss", "orders", 1001, {}, {}, 3});
    std::vector<remote_log_segment> segs;
    std::vector<std::string> bodies;
    const std::vector<std::string> seg_ids{id_a, id_b, id_c};
    for (int i = 0; i < 3; ++i) {
        bodies.push_back(test::random_bytes(100'000 + i, i + 7));
        segs.push_back(remote_log_segment::physical(seg_ids[i], 100 * i, 100 * i + 100, bodies.back().size()));
        test::write_file(remote.path() / log::remote_log_segment_key(tablet, seg_ids[i], 100 * i), bodies.back());
    }
    asio::io_context ioc;
    storage::local_store store(ioc.get_executor(), remote.path());
    fetcher_options o;
    o.temp_parent = tmp.path();
    o.part_size = 30'000;
    remote_log_fetcher fetcher(ioc.get_executor(), store, o);
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        auto s = fetcher.fetch(tablet, segs, 150, 250);
        EXPECT_EQ(s.segments().size(), 2u);
        std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
        for (int i = 1; i < 3; ++i) {
            auto [ec, seg] = co_await s.async_next(use_tuple);
            EXPECT_FALSE(ec) << s.last_error().to_string(ec);
            if (!seg) co_return;
            EXPECT_EQ(seg->segment().segment_id, seg_ids[i]);
            EXPECT_EQ(test::read_file(seg->path()), bodies[i]);
            ranges.emplace_back(seg->read_start_offset(), seg->read_end_offset());
            if (i == 2) {
                // A released file outlives its downloaded_segment.
                auto kept = seg->release();
                seg.reset();
                EXPECT_TRUE(fs::exists(kept));
                fs::remove(kept);
            }
        }
        EXPECT_EQ(ranges, (std::vector<std::pair<std::int64_t, std::int64_t>>{{150, 200}, {200, 250}}));
        auto [ec, end] = co_await s.async_next(use_tuple);
        EXPECT_FALSE(ec);
        EXPECT_FALSE(end);
        co_await fetcher.async_close(asio::use_awaitable);
        EXPECT_THROW(fetcher.fetch(tablet, segs, 0), boost::system::system_error) << "a closed fetcher fetches nothing";
    });
}

TEST(local_remote_dir, missing_segment_names_its_key) {
    test::temp_dir remote("remote");
    test::temp_dir tmp("local-missing");
    asio::io_context ioc;
    storage::local_store store(ioc.get_executor(), remote.path());
    fetcher_options o;
    o.temp_parent = tmp.path();
    remote_log_fetcher fetcher(ioc.get_executor(), store, o);
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
        auto s = fetcher.fetch("log/db/t-1/0", {remote_log_segment::physical(id_a, 0, 10)}, 0);
        auto [ec, seg] = co_await s.async_next(use_tuple);
        EXPECT_EQ(ec, make_error_code(errc::no_such_key));
        EXPECT_EQ(s.last_error().key, "log/db/t-1/0/" + id_a + "/00000000000000000000.log");
        EXPECT_NE(s.last_error().message.find(id_a), std::string::npos);
        co_await fetcher.async_close(asio::use_awaitable);
    });
}
