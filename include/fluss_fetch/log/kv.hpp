// fluss_fetch — applying a changelog to KV state, as Fluss's KV recovery does (spec §5).
#pragma once

#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/records.hpp>
#include <fluss_fetch/log/row.hpp>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>
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

/// An in-memory state: a hash map (a replay writes far more than it reads
/// back in order), sorted by key bytes (unsigned, lexicographic) only when
/// listed or dumped.
class memory_kv_state final : public kv_state {
public:
    void put(std::string_view key, std::string_view value) override;
    void remove(std::string_view key) override;
    std::size_t size() const noexcept { return map_.size(); }
    /// The value of `key`, or nullptr.
    const std::string* find(std::string_view key) const;
    /// Every entry, sorted by key bytes. Views into the state: valid until it changes.
    std::vector<std::pair<std::string_view, std::string_view>> entries() const;
    /// One line per key, in key order: lower-case hex key, a tab, lower-case hex value, "\n".
    void dump(std::ostream& out) const;

private:
    struct hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::string, hash, std::equal_to<>> map_;
};

struct apply_stats {
    std::uint64_t batches = 0;
    std::uint64_t records = 0;  ///< every record of the applied batches, all change types
    std::uint64_t inserts = 0;
    std::uint64_t update_befores = 0;
    std::uint64_t update_afters = 0;
    std::uint64_t deletes = 0;
    std::uint64_t appends = 0;
};

/// Applies a changelog to KV state, one batch at a time, through the record
/// source of its format (log/records.hpp): per record in order,
/// UPDATE_BEFORE skipped, DELETE → remove(key), INSERT / UPDATE_AFTER /
/// APPEND_ONLY → put(key, value). Keeps the source (and its buffers) across
/// batches: make one per replay.
class kv_applier {
public:
    /// `schema_id`: the id of the schema `s` describes; a batch with another
    /// one is a log_error (unsupported) naming both. nullopt: take every
    /// batch's id as it comes (the value still carries it).
    kv_applier(const schema& s, log_format format, std::optional<std::int16_t> schema_id = 1);
    /// \throws log_error naming segment, file offset and log offset for bad records or rows.
    void apply(const batch_view& batch, const std::string& segment_id, kv_state& state, apply_stats& stats);

private:
    std::unique_ptr<record_source> source_;
    std::optional<std::int16_t> schema_id_;
};

/// One batch through a fresh kv_applier that takes any schema id (tests and
/// one-off tools; a replay keeps one kv_applier).
void apply_batch(const schema& s, log_format format, const batch_view& batch, const std::string& segment_id,
                 kv_state& state, apply_stats& stats);

}  // namespace fluss_fetch::log
