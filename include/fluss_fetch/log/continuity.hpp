// fluss_fetch — proof that a replay saw every offset of [start, stop).
//
// A KV recovery that skips offsets rebuilds a wrong state without noticing:
// Fluss's own RemoteLogFetcher / KvRecoverHelper only skip batches ending at
// or before the current offset and never check that the next batch starts
// where the last one ended. Two checks close that:
//
//  1. Selection: the relevant segments' logical ranges tile [start, stop).
//     Overlaps are fine (Fluss clips overlapping segments with logical
//     ranges; legacy manifests may still overlap, see Fluss #4272), a hole is
//     not (`find_offset_gap`, `check_offset_coverage`).
//  2. Replay: each applied batch starts at or before the offset the replay
//     has reached, and each segment's batches reach its read end (its logical
//     end clipped to stop) (`replay_continuity`).
//
// Can a real Fluss layout have a hole inside a recovery's range? No:
//  - a remote segment is a rolled local segment, [baseOffset, next segment's
//    baseOffset) (LogTieringTask), and a local log rolls at its end offset,
//    so segments tile and a segment's last batch ends at its end offset;
//  - offsets are assigned one after the other; an empty batch still takes
//    one offset (lastOffsetDelta 0), so batches tile too; Fluss has no
//    record-level log compaction (retention drops whole segments), so there
//    are no Kafka-style compaction gaps;
//  - retention and deletes move the remote log start forward: offsets
//    before it are gone, and a start offset there is already an error
//    (`errc::no_remote_segments`); TTL expiry goes by segment max timestamp,
//    so with leader clocks out of step it can take a middle segment, but then
//    the offsets are lost and no replay across them is correct.
// So there is no opt-out: a hole is always lost data, never a layout to
// replay across. (To look at what is there anyway, replay from the first
// offset after the hole.)
#pragma once

#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/remote_log_segment.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fluss_fetch::log {

/// Offsets of a fetch range that no segment covers, with the segments on
/// either side (`before` reaches furthest below the hole; none at the start
/// of the range, none after at its end).
struct offset_gap {
    std::int64_t from = 0;  ///< first missing offset
    std::int64_t to = 0;    ///< first offset after the hole (exclusive)
    std::optional<remote_log_segment> before;
    std::optional<remote_log_segment> after;
    std::int64_t start = 0, stop = 0;  ///< the range that was checked

    /// One line: `offsets [a, b) of [start, stop) are in no remote log segment:
    /// between segment X (logical [.., a)) and segment Y (logical [b, ..))`.
    std::string describe() const;
};

/// The first hole in `[start, stop)` left by the logical ranges of
/// `segments` (in any order; empty logical ranges count for nothing), or
/// nullopt when they cover it all. Overlapping ranges are fine.
std::optional<offset_gap> find_offset_gap(const std::vector<remote_log_segment>& segments, std::int64_t start,
                                          std::int64_t stop);

/// \throws boost::system::system_error with `errc::offset_gap` and
/// `offset_gap::describe()` when `find_offset_gap` finds a hole.
void check_offset_coverage(const std::vector<remote_log_segment>& segments, std::int64_t start, std::int64_t stop);

/// Follows a replay from `start` across its segments, in the order they
/// are read, and proves it applied every offset exactly once:
///
///     replay_continuity c(start);
///     for each segment s (file, key):
///         segment_batches batches(file, s.segment_id, c.begin_segment(s, key, read_start, read_end));
///         while (auto b = batches.next()) { c.on_batch(*b); apply(*b); }
///         c.end_segment();
///
/// Errors are boost::system::system_error with `errc::offset_gap`, naming the
/// segment, its key, the offset reached and the offset expected.
class replay_continuity {
public:
    explicit replay_continuity(std::int64_t start) noexcept : next_(start) {}

    /// The offset the next batch must cover: `start`, then the next offset
    /// of the last applied batch.
    std::int64_t next_offset() const noexcept { return next_; }

    /// Start reading a segment whose reader range is [read_start, read_end)
    /// (downloaded_segment::read_start_offset / read_end_offset). The range
    /// returned begins at max(read_start, next_offset()): batches an earlier,
    /// overlapping segment already applied are skipped, so each offset is
    /// applied once.
    segment_batches::range begin_segment(const remote_log_segment& seg, std::string key, std::int64_t read_start,
                                         std::int64_t read_end);

    /// A batch of the current segment about to be applied. \throws (offset_gap)
    /// when it starts after next_offset(): the offsets in between are in no batch.
    void on_batch(const batch_view& b);

    /// The current segment's batches are done. \throws (offset_gap) when they
    /// stopped before its read end (the object ends early at a batch boundary).
    void end_segment();

private:
    std::string where() const;
    std::int64_t next_;
    remote_log_segment seg_;
    std::string key_;
    std::int64_t read_end_ = 0;
    bool open_ = false;
};

}  // namespace fluss_fetch::log
