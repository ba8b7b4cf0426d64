// Offset continuity: the selected segments' logical ranges tile [start, stop),
// every applied batch starts where the replay got to, every segment's batches
// reach its read end, and overlapping segments apply each offset once.
#include <fluss_fetch/error.hpp>
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/continuity.hpp>

#include <boost/system/system_error.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <span>
#include <string>
#include <utility>
#include <vector>

using namespace fluss_fetch;
using namespace fluss_fetch::log;
using boost::system::error_code;
using testing::HasSubstr;

namespace {

const std::string id_a = "6e94fbd1-c056-446e-859c-77345dddcd96";
const std::string id_b = "a4421366-4a1d-4c3b-a0f8-0be2e77b1368";
const std::string id_c = "0b7c4ad2-3f0e-4d52-9b6e-2a8f5c1d9e70";
using offsets = std::pair<std::int64_t, std::int64_t>;  // [from, to)

remote_log_segment seg(const std::string& id, std::int64_t start, std::int64_t end) {
    return remote_log_segment::physical(id, start, end);
}

remote_log_segment clipped(const std::string& id, std::int64_t start, std::int64_t end, std::int64_t lstart,
                           std::int64_t lend) {
    auto s = remote_log_segment::physical(id, start, end);
    s.logical_start_offset = lstart;
    s.logical_end_offset = lend;
    return s;
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

// A segment file: batches [base, base + count) back to back (count 0: an
// empty batch, which still takes one offset).
std::string file_of(const std::vector<std::pair<std::int64_t, int>>& batches) {
    std::string out;
    for (auto [base, count] : batches) {
        batch_builder b;
        b.base_offset = base;
        for (int i = 0; i < count; ++i) b.add_record(change_type::insert, "row");
        out += b.build();
    }
    return out;
}

// What a replay does with one segment (fluss-replay's decode): the batches
// the continuity tracker lets through, checked as they come. Returns how many
// batches it applied.
int replay(replay_continuity& c, const std::string& file, const remote_log_segment& s, std::int64_t read_start,
           std::int64_t read_end) {
    const std::string key = "log/t/0/" + s.segment_id + "/x.log";
    segment_batches batches(std::as_bytes(std::span(file.data(), file.size())), s.segment_id,
                            c.begin_segment(s, key, read_start, read_end));
    int applied = 0;
    while (auto b = batches.next()) {
        c.on_batch(*b);
        ++applied;
    }
    c.end_segment();
    return applied;
}

}  // namespace

// ---------------------------------------------------------------- selection

TEST(offset_coverage, contiguous_segments_cover_the_range) {
    const std::vector segs{seg(id_a, 0, 10), seg(id_b, 10, 20), seg(id_c, 20, 30)};
    EXPECT_FALSE(find_offset_gap(segs, 0, 30));
    EXPECT_FALSE(find_offset_gap(segs, 7, 23));
    EXPECT_NO_THROW(check_offset_coverage(segs, 0, 30));
}

TEST(offset_coverage, a_missing_middle_segment_is_a_hole_named_with_its_neighbours) {
    const std::vector segs{seg(id_a, 0, 10), seg(id_c, 20, 30)};
    auto g = find_offset_gap(segs, 0, 30);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->from, 10);
    EXPECT_EQ(g->to, 20);
    ASSERT_TRUE(g->before && g->after);
    EXPECT_EQ(g->before->segment_id, id_a);
    EXPECT_EQ(g->after->segment_id, id_c);

    auto [ec, what] = thrown([&] { check_offset_coverage(segs, 0, 30); });
    EXPECT_EQ(ec, make_error_code(errc::offset_gap));
    EXPECT_THAT(what, HasSubstr("offsets [10, 20) of the replay range [0, 30) are in no remote log segment"));
    EXPECT_THAT(what, HasSubstr("between segment " + id_a + " (logical [0, 10)) and segment " + id_c +
                                " (logical [20, 30))"));
}

TEST(offset_coverage, a_hole_at_the_start_of_the_range) {
    const std::vector segs{seg(id_b, 5, 10), seg(id_c, 10, 20)};
    auto g = find_offset_gap(segs, 0, 20);
    ASSERT_TRUE(g);
    EXPECT_EQ(std::pair(g->from, g->to), offsets(0, 5));
    EXPECT_FALSE(g->before);
    ASSERT_TRUE(g->after);
    EXPECT_EQ(g->after->segment_id, id_b);
    EXPECT_THAT(g->describe(), HasSubstr("offsets [0, 5) of the replay range [0, 20) are in no remote log segment: "
                                         "no segment before segment " + id_b + " (logical [5, 10))"));
}

TEST(offset_coverage, a_hole_at_the_end_of_the_range) {
    const std::vector segs{seg(id_a, 0, 10), seg(id_b, 10, 30)};
    auto g = find_offset_gap(segs, 0, 40);
    ASSERT_TRUE(g);
    EXPECT_EQ(std::pair(g->from, g->to), offsets(30, 40));
    ASSERT_TRUE(g->before);
    EXPECT_EQ(g->before->segment_id, id_b);
    EXPECT_FALSE(g->after);
    EXPECT_THAT(g->describe(), HasSubstr("offsets [30, 40)"));
    EXPECT_THAT(g->describe(), HasSubstr("the segments end with segment " + id_b + " (logical [10, 30))"));
    EXPECT_THAT(find_offset_gap({}, 0, 5)->describe(), HasSubstr("[0, 5)"));
}

TEST(offset_coverage, overlapping_segments_are_fine) {
    // Clipped by Fluss (logical ranges), and legacy overlaps it did not clip:
    // the same start twice, one segment inside another.
    EXPECT_FALSE(find_offset_gap({clipped(id_a, 0, 10, 0, 5), clipped(id_b, 5, 20, 5, 20)}, 0, 20));
    EXPECT_FALSE(find_offset_gap({seg(id_a, 0, 10), seg(id_b, 0, 15), seg(id_c, 10, 20)}, 0, 20));
    EXPECT_FALSE(find_offset_gap({seg(id_a, 0, 20), seg(id_b, 5, 10)}, 0, 20));
    EXPECT_FALSE(find_offset_gap({seg(id_a, 0, 12), seg(id_b, 8, 20)}, 0, 20));
}

TEST(offset_coverage, the_neighbour_before_a_hole_is_the_segment_reaching_furthest) {
    // id_b lies inside id_a; the hole after them starts where id_a ends.
    auto g = find_offset_gap({seg(id_a, 0, 20), seg(id_b, 5, 10), seg(id_c, 25, 30)}, 0, 30);
    ASSERT_TRUE(g);
    EXPECT_EQ(std::pair(g->from, g->to), offsets(20, 25));
    EXPECT_EQ(g->before->segment_id, id_a);
    EXPECT_EQ(g->after->segment_id, id_c);
}

TEST(offset_coverage, a_stop_offset_inside_a_segment_or_a_hole) {
    const std::vector segs{seg(id_a, 0, 10), seg(id_b, 10, 20), seg(id_c, 30, 40)};
    EXPECT_FALSE(find_offset_gap(segs, 3, 15)) << "a stop inside a segment";
    EXPECT_FALSE(find_offset_gap(segs, 3, 20)) << "the hole after the stop does not count";
    auto g = find_offset_gap(segs, 3, 25);
    ASSERT_TRUE(g) << "a stop inside the hole";
    EXPECT_EQ(std::pair(g->from, g->to), offsets(20, 25));
    EXPECT_EQ(g->after->segment_id, id_c);
}

TEST(offset_coverage, takes_segments_in_any_order_and_ignores_empty_logical_ranges) {
    EXPECT_FALSE(find_offset_gap({seg(id_c, 20, 30), seg(id_a, 0, 10), seg(id_b, 10, 20)}, 0, 30));
    // An empty logical range (a segment Fluss clipped away) covers nothing.
    auto g = find_offset_gap({seg(id_a, 0, 10), clipped(id_b, 10, 20, 10, 10), seg(id_c, 20, 30)}, 0, 30);
    ASSERT_TRUE(g);
    EXPECT_EQ(std::pair(g->from, g->to), offsets(10, 20));
}

// ---------------------------------------------------------------- replay

TEST(replay_continuity, contiguous_batches_across_segments_pass) {
    replay_continuity c(0);
    // An empty batch still takes one offset: [4, 5).
    EXPECT_EQ(replay(c, file_of({{0, 4}, {4, 0}, {5, 5}}), seg(id_a, 0, 10), 0, 10), 3);
    EXPECT_EQ(replay(c, file_of({{10, 10}}), seg(id_b, 10, 20), 10, 20), 1);
    EXPECT_EQ(c.next_offset(), 20);
}

TEST(replay_continuity, a_start_inside_a_batch_replays_that_batch) {
    replay_continuity c(2);
    EXPECT_EQ(replay(c, file_of({{0, 4}, {4, 6}}), seg(id_a, 0, 10), 2, 10), 2);
    EXPECT_EQ(c.next_offset(), 10);
}

TEST(replay_continuity, a_segment_that_ends_early_names_segment_key_reached_and_expected) {
    // The object ends at a batch boundary: [0, 8) of a segment whose logical range is [0, 10).
    replay_continuity c(0);
    auto [ec, what] = thrown([&] { replay(c, file_of({{0, 4}, {4, 4}}), seg(id_a, 0, 10), 0, 10); });
    EXPECT_EQ(ec, make_error_code(errc::offset_gap));
    EXPECT_THAT(what, HasSubstr("segment " + id_a + " (key log/t/0/" + id_a + "/x.log, logical [0, 10))"));
    EXPECT_THAT(what, HasSubstr("its batches end at offset 8, before its read end 10"));
    EXPECT_THAT(what, HasSubstr("offsets [8, 10) are missing"));
}

TEST(replay_continuity, an_empty_object_for_a_non_empty_segment_is_a_hole) {
    replay_continuity c(0);
    auto [ec, what] = thrown([&] { replay(c, std::string(), seg(id_a, 0, 10), 0, 10); });
    EXPECT_EQ(ec, make_error_code(errc::offset_gap));
    EXPECT_THAT(what, HasSubstr("offsets [0, 10) are missing"));
}

TEST(replay_continuity, a_stop_offset_inside_a_segment) {
    // Reading stops at the first batch at or after the stop; the batch holding it is replayed whole.
    replay_continuity c(0);
    EXPECT_EQ(replay(c, file_of({{0, 4}, {4, 4}, {8, 2}}), seg(id_a, 0, 10), 0, 6), 2);
    EXPECT_EQ(c.next_offset(), 8);
    // The object ends before the stop: named as the stop offset.
    replay_continuity d(0);
    auto [ec, what] = thrown([&] { replay(d, file_of({{0, 4}}), seg(id_a, 0, 10), 0, 6); });
    EXPECT_EQ(ec, make_error_code(errc::offset_gap));
    EXPECT_THAT(what, HasSubstr("before its read end 6 (the stop offset): offsets [4, 6) are missing"));
}

TEST(replay_continuity, a_batch_starting_after_the_offset_reached_is_a_hole) {
    // Inside a segment: the batch [4, 6) is missing.
    replay_continuity c(0);
    auto [ec, what] = thrown([&] { replay(c, file_of({{0, 4}, {6, 4}}), seg(id_a, 0, 10), 0, 10); });
    EXPECT_EQ(ec, make_error_code(errc::offset_gap));
    EXPECT_THAT(what, HasSubstr("segment " + id_a));
    EXPECT_THAT(what, HasSubstr("the batch [6, 10) starts after offset 4"));
    EXPECT_THAT(what, HasSubstr("offsets [4, 6) are in no batch"));
    // At the start of a segment whose object lacks its first batch.
    replay_continuity d(0);
    replay(d, file_of({{0, 10}}), seg(id_a, 0, 10), 0, 10);
    std::tie(ec, what) = thrown([&] { replay(d, file_of({{12, 8}}), seg(id_b, 10, 20), 10, 20); });
    EXPECT_EQ(ec, make_error_code(errc::offset_gap));
    EXPECT_THAT(what, HasSubstr("segment " + id_b));
    EXPECT_THAT(what, HasSubstr("offsets [10, 12) are in no batch"));
}

TEST(replay_continuity, overlapping_segments_apply_each_offset_once) {
    // The next-offset guard. A legacy manifest with two segments starting at 0
    // (Fluss #4272): the second holds [0, 15), of which [0, 10) the first
    // already applied. Applying it again would count every batch twice (and
    // for any changelog that is not idempotent, change the state).
    const auto first = file_of({{0, 4}, {4, 4}, {8, 2}});
    const auto second = file_of({{0, 4}, {4, 4}, {8, 2}, {10, 5}});
    replay_continuity c(0);
    EXPECT_EQ(replay(c, first, seg(id_a, 0, 10), 0, 10), 3);
    EXPECT_EQ(c.begin_segment(seg(id_b, 0, 15), "k", 0, 15).read_start, 10)
        << "a segment overlapping what was applied must be read from the offset reached";
    EXPECT_EQ(replay(c, second, seg(id_b, 0, 15), 0, 15), 1);
    // A segment wholly inside what was applied: nothing to apply, and no hole.
    EXPECT_EQ(replay(c, file_of({{5, 5}}), seg(id_c, 5, 10), 5, 10), 0);
    EXPECT_EQ(c.next_offset(), 15);
}
