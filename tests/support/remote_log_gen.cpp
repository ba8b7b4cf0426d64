#include "support/remote_log_gen.hpp"

#include <fluss_fetch/log/batch.hpp>

#include <cstdio>
#include <random>

namespace fluss_fetch::test {

const log::schema& remote_log_schema() {
    static const log::schema s = log::schema::parse("id INT NOT NULL, name STRING, amount BIGINT", "id");
    return s;
}

namespace {

std::string uuid(unsigned seed, unsigned kind, unsigned index) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-4000-8000-%012x", seed, kind, index);
    return buf;
}

}  // namespace

generated_remote_log generate_remote_log(const log::tablet_ref& t, const remote_log_spec& spec) {
    const auto& schema = remote_log_schema();
    generated_remote_log g;
    g.tablet_dir = log::remote_log_tablet_dir(t);
    g.manifest.tablet = t;
    std::mt19937_64 rng(spec.seed * 0x9e3779b97f4a7c15ull + 1);
    // Keys of this seed only; a delete of a key that never existed uses the
    // second half of the range.
    const std::int32_t key_base = static_cast<std::int32_t>(spec.seed % 2000) * 1'000'000;
    constexpr std::int32_t live_keys = 120;
    std::map<std::int32_t, log::row> live;  // key → current row
    const std::string id_prefix{static_cast<char>(spec.schema_id & 0xff), static_cast<char>((spec.schema_id >> 8) & 0xff)};
    auto value_of = [&](const log::row& r) { return id_prefix + log::encode_row(schema, r, log::row_format::compacted); };

    std::int64_t offset = 0;
    std::int64_t timestamp = 1722225103853;
    for (int s = 0; s < spec.segments; ++s) {
        const std::int64_t start = offset;
        // Sizes vary, [0.5, 1.5) × segment_bytes.
        const std::size_t target = spec.segment_bytes / 2 + rng() % (spec.segment_bytes + 1);
        std::string bytes;
        while (bytes.size() < target) {
            log::batch_builder b;
            b.base_offset = offset;
            b.commit_timestamp = ++timestamp;
            b.schema_id = spec.schema_id;
            const int records = 8 + static_cast<int>(rng() % 17);
            for (int i = 0; i < records; ++i) {
                const auto dice = rng() % 100;
                const std::int32_t k = key_base + static_cast<std::int32_t>(rng() % live_keys);
                if (dice < 15 && !live.empty()) {  // delete a key that exists
                    auto it = live.lower_bound(k);
                    if (it == live.end()) it = live.begin();
                    b.add_record(log::change_type::del, log::encode_row(schema, it->second, log::row_format::compacted));
                    live.erase(it);
                    continue;
                }
                if (dice < 20) {  // delete a key that never existed: nothing happens
                    const log::row ghost{key_base + 500'000 + k % 1000, std::string("ghost"), std::int64_t{0}};
                    b.add_record(log::change_type::del, log::encode_row(schema, ghost, log::row_format::compacted));
                    continue;
                }
                std::string name(4 + rng() % 28, 'x');
                for (auto& ch : name) ch = static_cast<char>('a' + rng() % 26);
                log::row r{k, dice % 7 == 0 ? log::field{} : log::field{std::move(name)},
                           static_cast<std::int64_t>(rng() % 1'000'000) - 500'000};
                const auto old = live.find(k);
                if (old != live.end()) {  // an update: the old row, then the new one
                    b.add_record(log::change_type::update_before,
                                 log::encode_row(schema, old->second, log::row_format::compacted));
                    b.add_record(log::change_type::update_after, log::encode_row(schema, r, log::row_format::compacted));
                    ++i;
                } else {
                    b.add_record(log::change_type::insert, log::encode_row(schema, r, log::row_format::compacted));
                }
                live[k] = std::move(r);
            }
            const std::string batch = b.build();
            log::batch_reader check(std::as_bytes(std::span(batch.data(), batch.size())), "generated");
            offset = check.next()->header.next_offset();
            bytes += batch;
        }
        const std::string id = uuid(spec.seed, 1, static_cast<unsigned>(s));
        const std::string key = log::remote_log_segment_key(g.tablet_dir, id, start);
        g.manifest.segments.push_back(log::remote_log_segment::physical(id, start, offset, bytes.size(), timestamp));
        g.segment_keys.push_back(key);
        g.total_bytes += bytes.size();
        g.max_segment_bytes = std::max<std::uint64_t>(g.max_segment_bytes, bytes.size());
        g.objects.emplace_back(key, std::move(bytes));
    }
    g.end_offset = offset;
    g.manifest.highest_copied_end_offset = offset;
    g.manifest_key = log::remote_log_manifest_dir(g.tablet_dir) + "/" + uuid(spec.seed, 2, 0) + ".manifest";
    g.objects.emplace_back(g.manifest_key, log::write_manifest(g.manifest));
    for (const auto& [k, r] : live) g.expected.emplace(log::encode_key(schema, r), value_of(r));
    return g;
}

}  // namespace fluss_fetch::test
