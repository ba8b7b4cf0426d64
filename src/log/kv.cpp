// KV recovery's apply rules (KvRecoverHelper.applyLogRecordBatch).
#include <fluss_fetch/log/kv.hpp>

#include <algorithm>
#include <ostream>

namespace fluss_fetch::log {

void memory_kv_state::put(std::string_view key, std::string_view value) {
    // No temporary key for a key already there; the old value's buffer is reused.
    if (auto it = map_.find(key); it != map_.end())
        it->second.assign(value);
    else
        map_.emplace(std::string(key), std::string(value));
}

void memory_kv_state::remove(std::string_view key) {
    if (auto it = map_.find(key); it != map_.end()) map_.erase(it);
}

const std::string* memory_kv_state::find(std::string_view key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
}

std::vector<std::pair<std::string_view, std::string_view>> memory_kv_state::entries() const {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    out.reserve(map_.size());
    for (const auto& [k, v] : map_) out.emplace_back(k, v);
    // string_view compares as unsigned bytes (char_traits<char>::compare is memcmp-like).
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
}

void memory_kv_state::dump(std::ostream& out) const {
    static constexpr char hex[] = "0123456789abcdef";
    std::string line;
    for (const auto& [k, v] : entries()) {
        line.clear();
        for (unsigned char c : k) line += {hex[c >> 4], hex[c & 15]};
        line += '\t';
        for (unsigned char c : v) line += {hex[c >> 4], hex[c & 15]};
        line += '\n';
        out << line;
    }
}

kv_applier::kv_applier(const schema& s, log_format format, std::optional<std::int16_t> schema_id)
    : source_(make_record_source(format, s)), schema_id_(schema_id) {}

void kv_applier::apply(const batch_view& batch, const std::string& segment_id, kv_state& state, apply_stats& stats) {
    const auto& h = batch.header;
    if (schema_id_ && h.schema_id != *schema_id_)
        throw log_error(log_error::kind::unsupported, segment_id, static_cast<std::int64_t>(batch.file_offset),
                        h.base_offset,
                        "batch schema id " + std::to_string(h.schema_id) + " is not the schema id " +
                            std::to_string(*schema_id_) + " the given schema describes (schema evolution is not supported)");
    source_->open(batch, segment_id);
    kv_record r;
    while (source_->next(r)) {
        ++stats.records;
        switch (r.type) {
        case change_type::update_before: ++stats.update_befores; continue;
        case change_type::del:
            ++stats.deletes;
            state.remove(r.key);
            continue;
        case change_type::insert: ++stats.inserts; break;
        case change_type::update_after: ++stats.update_afters; break;
        case change_type::append_only: ++stats.appends; break;
        }
        state.put(r.key, r.value);
    }
    ++stats.batches;
}

void apply_batch(const schema& s, log_format format, const batch_view& batch, const std::string& segment_id,
                 kv_state& state, apply_stats& stats) {
    kv_applier(s, format, std::nullopt).apply(batch, segment_id, state, stats);
}

}  // namespace fluss_fetch::log
