// fluss_fetch — applying a changelog to KV state, as Fluss's KV recovery does (spec §5).
#pragma once

#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/row.hpp>

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>

namespace fluss_fetch::log {

/// Where recovered state goes. An application plugs in its own store.
class kv_state {
public:
    virtual ~kv_state() = default;
    virtual void put(std::string_view key, std::string_view value) = 0;
    virtual void remove(std::string_view key) = 0;
};

/// An in-memory state, ordered by key bytes (unsigned, lexicographic).
class memory_kv_state final : public kv_state {
public:
    void put(std::string_view key, std::string_view value) override;
    void remove(std::string_view key) override;
    const std::map<std::string, std::string>& entries() const noexcept { return map_; }
    /// One line per key, in key order: lower-case hex key, a tab, lower-case hex value, "\n".
    void dump(std::ostream& out) const;

private:
    std::map<std::string, std::string> map_;
};

enum class log_format { arrow, compacted, indexed };

struct apply_stats {
    std::uint64_t batches = 0;
    std::uint64_t records = 0;  ///< every record of the applied batches, all change types
    std::uint64_t inserts = 0;
    std::uint64_t update_befores = 0;
    std::uint64_t update_afters = 0;
    std::uint64_t deletes = 0;
    std::uint64_t appends = 0;
};

/// Apply one batch: per record in order, UPDATE_BEFORE skipped, DELETE →
/// remove(key), INSERT / UPDATE_AFTER / APPEND_ONLY → put(key, value) where
/// value = schema id (2 bytes LE) + the row bytes as stored.
/// ARROW: a batch with records throws log_error (unsupported, "ARROW log
/// format is not supported yet"); an empty one is counted.
/// \throws log_error naming segment, file offset and log offset for bad records or rows.
void apply_batch(const schema& s, log_format format, const batch_view& batch, const std::string& segment_id,
                 kv_state& state, apply_stats& stats);

}  // namespace fluss_fetch::log
