// fluss_fetch — the application's KV store, as a recovery writes it.
#pragma once

#include <fluss_fetch/log/kv.hpp>

#include <cstdint>
#include <optional>

namespace fluss_fetch::log {

/// Where a recovery (recovery/client.hpp) puts a bucket's state. The
/// recovery calls, from one thread at a time (the decode executor's):
/// `put` / `remove` for every record of a segment, in log order, then
/// `commit(next_offset)` once the segment is applied. A sink may buffer the
/// puts and removes of a segment and write them at `commit` as one unit
/// with `next_offset` (a RocksDB WriteBatch with the offset under a key of
/// its own): after a crash the store then holds whole segments and the
/// offset to resume from, never half of one.
///
/// Errors: a sink reports its own failure by throwing (any std::exception);
/// the recovery then fails with `errc::sink_failed`, naming the tablet, the
/// segment and the exception's message, and does not call the sink again.
class kv_sink : public kv_state {
public:
    /// Everything put or removed since the previous commit is part of the
    /// state, and `next_offset` is the first log offset not yet applied.
    virtual void commit(std::int64_t next_offset) = 0;
};

/// The in-memory sink: a memory_kv_state and the last committed offset.
class memory_kv_sink final : public kv_sink {
public:
    void put(std::string_view key, std::string_view value) override { state_.put(key, value); }
    void remove(std::string_view key) override { state_.remove(key); }
    void commit(std::int64_t next_offset) override {
        committed_ = next_offset;
        ++commits_;
    }

    const memory_kv_state& state() const noexcept { return state_; }
    memory_kv_state& state() noexcept { return state_; }
    /// The offset of the last commit; nullopt before the first.
    std::optional<std::int64_t> committed_offset() const noexcept { return committed_; }
    std::uint64_t commits() const noexcept { return commits_; }

private:
    memory_kv_state state_;
    std::optional<std::int64_t> committed_;
    std::uint64_t commits_ = 0;
};

}  // namespace fluss_fetch::log
