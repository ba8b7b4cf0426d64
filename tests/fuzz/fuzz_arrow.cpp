// Fuzz target: the ARROW record source over arbitrary bytes. Contract: a bad
// record area is a log_error, never a crash, an out-of-bounds read (ASan), a
// huge allocation, more records than the batch counts, or a view outside the
// source's own strings.
//
// Input: byte 0 = flags, then
//  - flags bit 0 clear: bytes 1-2 = record count (LE u16), the rest = the
//    record area of one V0 batch (bit 1: append-only), built with a valid CRC;
//  - flags bit 0 set: the rest = a whole segment file (CRC not checked), every
//    batch applied to a KV state.
// flags bit 2 picks the schema: clear = the spec's (id INT, name STRING,
// amount BIGINT), set = one column of every type.
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/kv.hpp>
#include <fluss_fetch/log/records.hpp>
#include <fluss_fetch/log/row.hpp>

#include "support/columns.hpp"

#include <cstdlib>
#include <cstring>
#include <string>

using namespace fluss_fetch::log;

namespace {

using test_support::col;

schema make_all_types() { return test_support::every_type_schema(false); }

const schema spec_schema = schema::parse("id INT, name STRING, amount BIGINT", "id");
const schema all_types = make_all_types();

void check(bool ok) {
    if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t flags = data[0];
    ++data;
    --size;
    const schema& s = (flags & 4) ? all_types : spec_schema;
    const std::string id = "5a0c3e1b-7f2d-4c6a-8e9b-0d1f2a3b4c5d";
    std::string file;
    if ((flags & 1) == 0) {
        if (size < 2) return 0;
        const std::int32_t count = data[0] | (data[1] << 8);
        batch_builder b;
        b.base_offset = 100;
        b.attributes = (flags & 2) ? 1 : 0;
        b.set_raw_records(std::string(reinterpret_cast<const char*>(data + 2), size - 2), count);
        file = b.build();
    } else {
        file.assign(reinterpret_cast<const char*>(data), size);
    }
    // A copy of exactly the file's bytes, so ASan sees any read past the end.
    auto* copy = static_cast<std::byte*>(std::malloc(file.size() ? file.size() : 1));
    if (!file.empty()) std::memcpy(copy, file.data(), file.size());
    const std::span<const std::byte> bytes(copy, file.size());

    batch_reader_options opts;
    opts.verify_crc = false;
    auto source = make_record_source(log_format::arrow, s);
    memory_kv_state state;
    apply_stats stats;
    try {
        batch_reader reader(bytes, id, opts);
        while (auto b = reader.next()) {
            source->open(*b, id);
            kv_record r;
            std::int64_t n = 0;
            while (source->next(r)) {
                check(n < b->header.record_count);
                check(r.offset == b->header.base_offset + n);
                check(static_cast<int>(r.type) >= 0 && static_cast<int>(r.type) <= 4);
                if (r.type == change_type::update_before) check(r.key.empty() && r.value.empty());
                if (r.type != change_type::update_before && r.type != change_type::del)
                    check(r.value.size() >= 2 + (s.columns.size() + 7) / 8);
                ++n;
            }
            check(n == b->header.record_count);
            apply_batch(s, log_format::arrow, *b, id, state, stats);
        }
    } catch (const log_error&) {
        // The only way bad bytes may end a read.
    }
    std::free(copy);
    return 0;
}
