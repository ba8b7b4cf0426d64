// The ARROW record source (fluss-arrow.md §1-§6): the spec's §8 vector (an
// independent JS writer's ZSTD RecordBatch) decodes to exactly the keys and
// values encode_key / encode_row give for the same rows; append-only and
// empty batches; and every class of corrupt input is a log_error naming the
// kind, the column, the file offset of the bad byte and the log offset —
// never a crash (run these under ASan too).
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/kv.hpp>
#include <fluss_fetch/log/records.hpp>
#include <fluss_fetch/log/row.hpp>

#include "support/hex.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <optional>

using namespace fluss_fetch::log;
using fluss_fetch::test::unhex;

namespace {

const std::string seg = "3c1f6a2e-8d4b-4e71-9a05-b2c7d8e9f012";

// fluss-arrow.md §8: rows (1,"alice",100) (2,null,200) (3,"carol",-300), ZSTD.
const std::string spec_ipc = unhex(R"(
ffffffff1001000014000000000000000c00180016000f00100004000c000000
88000000000000000000000314000000000004000c001e0010000c0008000400
0c00000020000000240000009800000003000000000000000000000000000600
0800070006000000000000010700000000000000000000000000000000000000
0000000000000000140000000000000018000000000000001900000000000000
3800000000000000180000000000000050000000000000001200000000000000
6200000000000000000000000000000068000000000000002000000000000000
0000000003000000030000000000000000000000000000000300000000000000
010000000000000003000000000000000000000000000000ffffffffffffffff
01000000020000000300000000000000400000000000000028b52ffd20404500
00100500010093001600000000000000ffffffffffffffff0000000005000000
050000000a000000ffffffffffffffff616c6963656361726f6c000000000000
ffffffffffffffff6400000000000000c800000000000000d4feffffffffffff
)");

// Positions in spec_ipc (decoded by hand from the flatbuffer; the flatbuffer
// starts at 8, the body at 8 + 0x110 = 280).
constexpr std::size_t fb = 8;
constexpr std::size_t at_version = fb + 42;       // Message.version (short)
constexpr std::size_t at_header_type = fb + 35;   // Message.header_type (ubyte)
constexpr std::size_t at_header = fb + 36;        // Message.header (uoffset)
constexpr std::size_t at_body_length = fb + 24;   // Message.bodyLength (long)
constexpr std::size_t at_message = fb + 20;       // the Message table (its soffset)
constexpr std::size_t at_rb_length = fb + 72;     // RecordBatch.length (long)
constexpr std::size_t at_node_count = fb + 220;   // RecordBatch.nodes length (uint)
constexpr std::size_t at_node = fb + 224;         // FieldNode[0] {length, null_count}
constexpr std::size_t at_buffer = fb + 104;       // Buffer[0] {offset, length}
constexpr std::size_t at_codec = fb + 99;         // BodyCompression.codec (byte)
constexpr std::size_t body = 280;
// Buffer regions (relative to the body): 0 id validity (len 0), 1 id data
// (0, 20: raw), 2 name validity (24, 25: ZSTD, prefix 64), 3 name offsets
// (56, 24: raw), 4 name data (80, 18: raw), 5 amount validity (98, 0),
// 6 amount data (104, 32: raw).
constexpr std::size_t name_validity = body + 24;
constexpr std::size_t name_offsets = body + 56;
constexpr std::size_t name_data = body + 80;

constexpr std::int64_t base = 1000;
constexpr std::int64_t records_at = 48;  // V0 header: the record area's file offset (batch at 0)

const schema spec_schema = schema::parse("id INT, name STRING, amount BIGINT", "id");

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

std::string batch_of(const std::string& area, std::int32_t count, bool append_only = false,
                     std::int16_t schema_id = 1) {
    batch_builder b;
    b.base_offset = base;
    b.schema_id = schema_id;
    b.attributes = append_only ? 1 : 0;
    b.set_raw_records(area, count);
    return b.build();
}

struct rec {
    change_type type;
    std::int64_t offset;
    std::string key, value;
};

// Every record of the (one) batch in `file`.
std::vector<rec> read_all(const schema& s, const std::string& file) {
    batch_reader r(bytes_of(file), seg);
    auto b = r.next();
    EXPECT_TRUE(b);
    if (!b) return {};
    auto src = make_record_source(log_format::arrow, s);
    src->open(*b, seg);
    std::vector<rec> out;
    kv_record k;
    while (src->next(k)) out.push_back({k.type, k.offset, std::string(k.key), std::string(k.value)});
    return out;
}

// The log_error reading `file` raises (nullopt: none).
std::optional<log_error> error_of(const schema& s, const std::string& file) {
    try {
        read_all(s, file);
    } catch (const log_error& e) {
        return e;
    }
    return std::nullopt;
}

std::string spec_area(const std::string& change_types = std::string("\x01\x01\x01", 3)) {
    return change_types + spec_ipc;
}

// The spec batch with `ipc` mutated by `f`.
std::string mutated(const std::function<void(std::string&)>& f) {
    std::string ipc = spec_ipc;
    f(ipc);
    return batch_of(std::string("\x01\x01\x01", 3) + ipc, 3);
}

template <class T>
void put(std::string& s, std::size_t at, T v) {
    std::memcpy(s.data() + at, &v, sizeof v);
}

// The file offset of byte `at` of the IPC message in a batch built by batch_of with 3 change bytes.
constexpr std::int64_t file_at(std::size_t at) { return records_at + 3 + static_cast<std::int64_t>(at); }

const std::vector<row> spec_rows = {
    {std::int32_t{1}, std::string("alice"), std::int64_t{100}},
    {std::int32_t{2}, std::monostate{}, std::int64_t{200}},
    {std::int32_t{3}, std::string("carol"), std::int64_t{-300}},
};

std::string value_of(const schema& s, const row& r, std::int16_t schema_id = 1) {
    std::string v(2, '\0');
    v[0] = static_cast<char>(schema_id & 0xff);
    v[1] = static_cast<char>(schema_id >> 8);
    return v + encode_row(s, r, row_format::compacted);
}

#define EXPECT_ARROW_ERROR(err, kind_, file_offset_, log_offset_, text)                              \
    do {                                                                                            \
        ASSERT_TRUE(err) << "no error";                                                             \
        EXPECT_EQ((err)->what_kind(), log_error::kind::kind_) << (err)->what();                     \
        EXPECT_EQ((err)->segment_id(), seg);                                                        \
        EXPECT_EQ((err)->file_offset(), (file_offset_)) << (err)->what();                           \
        EXPECT_EQ((err)->log_offset(), (log_offset_)) << (err)->what();                             \
        EXPECT_NE(std::string((err)->what()).find(text), std::string::npos) << (err)->what();       \
    } while (0)

}  // namespace

TEST(arrow_read, spec_vector_gives_the_keys_and_values_of_encode_key_and_encode_row) {
    const auto recs = read_all(spec_schema, batch_of(spec_area(), 3));
    ASSERT_EQ(recs.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(recs[i].type, change_type::insert);
        EXPECT_EQ(recs[i].offset, base + static_cast<std::int64_t>(i));
        EXPECT_EQ(recs[i].key, encode_key(spec_schema, spec_rows[i]));
        EXPECT_EQ(recs[i].value, value_of(spec_schema, spec_rows[i]));
    }
    // Spelled out once: schema id 1, no null bits, varint 1, "alice", varint 100.
    EXPECT_EQ(recs[0].value, std::string("\x01\x00\x00\x01\x05" "alice" "\x64", 11));
    EXPECT_EQ(recs[1].value, std::string("\x01\x00\x02\x02\xc8\x01", 6));  // name null: bit 1
}

TEST(arrow_read, change_types_and_schema_id_come_from_the_batch) {
    const auto recs = read_all(spec_schema, batch_of(spec_area(std::string("\x02\x03\x04", 3)), 3, false, 0x0203));
    ASSERT_EQ(recs.size(), 3u);
    EXPECT_EQ(recs[0].type, change_type::update_before);
    EXPECT_TRUE(recs[0].key.empty());
    EXPECT_TRUE(recs[0].value.empty());
    EXPECT_EQ(recs[1].type, change_type::update_after);
    EXPECT_EQ(recs[1].value, value_of(spec_schema, spec_rows[1], 0x0203));
    EXPECT_EQ(recs[2].type, change_type::del);
    EXPECT_EQ(recs[2].key, encode_key(spec_schema, spec_rows[2]));
    EXPECT_TRUE(recs[2].value.empty());
}

TEST(arrow_read, append_only_batches_have_no_change_type_vector) {
    const auto recs = read_all(spec_schema, batch_of(spec_ipc, 3, true));
    ASSERT_EQ(recs.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(recs[i].type, change_type::append_only);
        EXPECT_EQ(recs[i].value, value_of(spec_schema, spec_rows[i]));
    }
}

TEST(arrow_read, an_empty_batch_yields_nothing_and_parses_nothing) {
    EXPECT_TRUE(read_all(spec_schema, batch_of("", 0)).empty());
    // Whatever bytes follow the header, record count 0 means no IPC message.
    EXPECT_TRUE(read_all(spec_schema, batch_of("garbage", 0)).empty());
    EXPECT_TRUE(read_all(spec_schema, batch_of("", 0, true)).empty());
}

TEST(arrow_read, kv_apply_over_arrow_matches_the_rows) {
    memory_kv_state state;
    apply_stats stats;
    const std::string file = batch_of(spec_area(std::string("\x01\x01\x04", 3)), 3);
    batch_reader r(bytes_of(file), seg);
    auto b = r.next();
    ASSERT_TRUE(b);
    apply_batch(spec_schema, log_format::arrow, *b, seg, state, stats);
    EXPECT_EQ(state.size(), 2u);
    ASSERT_NE(state.find(encode_key(spec_schema, spec_rows[1])), nullptr);
    EXPECT_EQ(*state.find(encode_key(spec_schema, spec_rows[1])), value_of(spec_schema, spec_rows[1]));
    EXPECT_EQ(stats.deletes, 1u);
}

TEST(arrow_read, the_source_is_reusable_across_batches) {
    const std::string a = batch_of(spec_area(), 3);
    const std::string e = batch_of("", 0);
    auto src = make_record_source(log_format::arrow, spec_schema);
    for (int round = 0; round < 3; ++round) {
        for (const auto* file : {&a, &e, &a}) {
            batch_reader r(bytes_of(*file), seg);
            auto b = r.next();
            ASSERT_TRUE(b);
            src->open(*b, seg);
            kv_record k;
            std::size_t n = 0;
            while (src->next(k)) {
                EXPECT_EQ(k.value, value_of(spec_schema, spec_rows[n]));
                ++n;
            }
            EXPECT_EQ(n, file == &a ? 3u : 0u);
        }
    }
}

// ------------------------------------------------------------------ corrupt input

TEST(arrow_read, every_truncation_is_a_bad_arrow_error) {
    for (std::size_t len = 0; len < spec_ipc.size(); ++len) {
        SCOPED_TRACE(len);
        const auto err = error_of(spec_schema, batch_of(std::string("\x01\x01\x01", 3) + spec_ipc.substr(0, len), 3));
        ASSERT_TRUE(err);
        EXPECT_EQ(err->what_kind(), log_error::kind::bad_arrow) << err->what();
        EXPECT_EQ(err->log_offset(), base);
        EXPECT_GE(err->file_offset(), records_at + 3);
    }
    for (std::size_t len = 0; len < 3; ++len) {
        const auto err = error_of(spec_schema, batch_of(std::string("\x01\x01\x01", len), 3));
        EXPECT_ARROW_ERROR(err, bad_arrow, records_at, base, "change-type vector");
    }
}

TEST(arrow_read, unknown_change_type_names_the_row) {
    const auto err = error_of(spec_schema, batch_of(spec_area(std::string("\x01\x09\x01", 3)), 3));
    EXPECT_ARROW_ERROR(err, bad_arrow, records_at + 1, base + 1, "change type 9");
}

TEST(arrow_read, bad_continuation) {
    const auto err = error_of(spec_schema, mutated([](std::string& s) { s[2] = 0; }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(0), base, "continuation");
    // The legacy format (no continuation, the length first) is not what Fluss writes.
    const auto legacy = error_of(spec_schema, mutated([](std::string& s) { s = s.substr(4); }));
    EXPECT_ARROW_ERROR(legacy, bad_arrow, file_at(0), base, "continuation");
}

TEST(arrow_read, bad_metadata_length) {
    for (std::int32_t len : {0, -8, 0x7fffffff, 416 - 8 + 1}) {
        SCOPED_TRACE(len);
        const auto err = error_of(spec_schema, mutated([len](std::string& s) { put(s, 4, len); }));
        EXPECT_ARROW_ERROR(err, bad_arrow, file_at(4), base, "metadata length " + std::to_string(len));
    }
}

TEST(arrow_read, metadata_version_must_be_v5) {
    auto err = error_of(spec_schema, mutated([](std::string& s) { put<std::int16_t>(s, at_version, 3); }));
    EXPECT_ARROW_ERROR(err, unsupported, file_at(at_version), base, "metadata version V4");
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::int16_t>(s, at_version, 77); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(at_version), base, "unknown metadata version 77");
}

TEST(arrow_read, header_must_be_a_record_batch) {
    const auto err = error_of(spec_schema, mutated([](std::string& s) { s[at_header_type] = 1; }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(at_header_type), base, "header type 1");
}

TEST(arrow_read, bad_flatbuffer_offsets_are_caught_before_use) {
    // The header's uoffset pointing past the metadata.
    auto err = error_of(spec_schema, mutated([](std::string& s) { put<std::uint32_t>(s, at_header, 0x10000); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(at_header), base, "IPC metadata: RecordBatch");
    // The root uoffset past the end.
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::uint32_t>(s, fb, 0xfffffff0u); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(fb), base, "IPC metadata: Message");
    // The Message's vtable offset pointing before the buffer.
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::int32_t>(s, at_message, 1000); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(at_message), base, "vtable offset 1000");
    // The nodes vector claiming more elements than the metadata holds.
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::uint32_t>(s, at_node_count, 1000000); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(at_node_count), base, "RecordBatch.nodes");
    // A vtable whose field offset lies outside its table (Message vtable at 8, slot 0 = version).
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::uint16_t>(s, fb + 8 + 4, 200); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(fb + 8 + 4), base, "field offset 200");
}

TEST(arrow_read, body_length_beyond_the_batch) {
    const auto err = error_of(spec_schema, mutated([](std::string& s) { put<std::int64_t>(s, at_body_length, 137); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(at_body_length), base, "body length 137");
}

TEST(arrow_read, record_batch_length_must_match_the_header) {
    const auto err = error_of(spec_schema, mutated([](std::string& s) { put<std::int64_t>(s, at_rb_length, 4); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(at_rb_length), base, "RecordBatch.length 4");
}

TEST(arrow_read, node_count_must_match_the_schema) {
    const auto s4 = schema::parse("id INT, name STRING, amount BIGINT, extra INT", "id");
    auto err = error_of(s4, batch_of(spec_area(), 3));
    ASSERT_TRUE(err);
    EXPECT_EQ(err->what_kind(), log_error::kind::bad_arrow);
    EXPECT_NE(std::string(err->what()).find("3 field nodes, the schema has 4 columns"), std::string::npos) << err->what();
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::uint32_t>(s, at_node_count, 2); }));
    ASSERT_TRUE(err);
    EXPECT_NE(std::string(err->what()).find("2 field nodes"), std::string::npos) << err->what();
}

TEST(arrow_read, field_node_length_and_null_count_in_range) {
    auto err = error_of(spec_schema, mutated([](std::string& s) { put<std::int64_t>(s, at_node + 16, 4); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(at_node + 16), base, "column 'name' (STRING): field node length 4");
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::int64_t>(s, at_node + 16 + 8, 4); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(at_node + 24), base, "column 'name' (STRING): field node null count 4");
    // id has no validity region: a null count there has no bits to come from.
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::int64_t>(s, at_node + 8, 1); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(body), base, "column 'id' (INT): validity buffer is empty");
}

TEST(arrow_read, buffer_outside_the_body) {
    // amount data (buffer 6) moved past the body's 136 bytes.
    auto err = error_of(spec_schema, mutated([](std::string& s) { put<std::int64_t>(s, at_buffer + 16 * 6, 120); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(at_buffer + 16 * 6), base, "column 'amount' (BIGINT): data buffer: region");
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::int64_t>(s, at_buffer + 16 * 3 + 8, -1); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(at_buffer + 16 * 3), base, "column 'name' (STRING): offsets buffer: region");
    err = error_of(spec_schema, mutated([](std::string& s) {
        put<std::int64_t>(s, at_buffer + 16 * 4, std::int64_t{1} << 62);
    }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(at_buffer + 16 * 4), base, "column 'name' (STRING): data buffer: region");
}

TEST(arrow_read, bad_length_prefixes) {
    // Neither -1, 0 nor a length.
    auto err = error_of(spec_schema, mutated([](std::string& s) { put<std::int64_t>(s, name_offsets, -5); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(name_offsets), base, "column 'name' (STRING): offsets buffer: length prefix -5");
    // A prefix far beyond what 3 rows can need is refused before any allocation.
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::int64_t>(s, name_validity, std::int64_t{1} << 40); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(name_validity), base, "validity buffer: length prefix 1099511627776 is more than the 64 bytes");
    // A prefix that is not what the frame decompresses to.
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::int64_t>(s, name_validity, 63); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(name_validity + 8), base, "column 'name' (STRING): validity buffer: ZSTD");
    // A compressed region shorter than its prefix (buffer 2 cut to 5 bytes).
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::int64_t>(s, at_buffer + 16 * 2 + 8, 5); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(name_validity), base, "shorter than its 8-byte length prefix");
}

TEST(arrow_read, zstd_garbage) {
    for (std::size_t i = 8; i < 25; ++i) {
        SCOPED_TRACE(i);
        const auto err = error_of(spec_schema, mutated([i](std::string& s) { s[name_validity + i] ^= 0x5a; }));
        if (!err) continue;  // a flip inside a literal may still decode to 64 bytes (then the bits differ; not an error)
        EXPECT_ARROW_ERROR(err, bad_arrow, file_at(name_validity + 8), base, "column 'name' (STRING): validity buffer: ZSTD");
    }
    // The magic itself.
    const auto err = error_of(spec_schema, mutated([](std::string& s) { s[name_validity + 8] = 0; }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(name_validity + 8), base, "ZSTD");
}

TEST(arrow_read, unknown_codec_and_method) {
    auto err = error_of(spec_schema, mutated([](std::string& s) { s[at_codec] = 7; }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(at_codec), base, "BodyCompression.codec 7");
    // LZ4_FRAME over ZSTD bytes: the frame's magic is wrong.
    err = error_of(spec_schema, mutated([](std::string& s) { s[at_codec] = 0; }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(name_validity + 8), base, "validity buffer: LZ4_FRAME");
}

TEST(arrow_read, offsets_must_be_monotonic_and_within_the_data) {
    // offsets are [0, 5, 5, 10] at name_offsets + 8.
    auto err = error_of(spec_schema, mutated([](std::string& s) { put<std::int32_t>(s, name_offsets + 8 + 8, 3); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(name_offsets + 8 + 8), base,
                       "column 'name' (STRING): offsets buffer: offset[2] = 3 is before offset[1] = 5");
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::int32_t>(s, name_offsets + 8 + 12, 11); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(name_offsets + 8 + 12), base,
                       "offset[3] = 11 is past the end of the data buffer (10 bytes)");
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::int32_t>(s, name_offsets + 8, -1); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(name_offsets + 8), base, "offset[0] = -1 is negative");
    // An offsets region holding fewer than n + 1 entries.
    err = error_of(spec_schema, mutated([](std::string& s) { put<std::int64_t>(s, at_buffer + 16 * 3 + 8, 20); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(name_offsets + 8), base, "offsets buffer has 12 bytes, 3 rows need 16");
}

TEST(arrow_read, short_buffers) {
    // id data: -1 + 12 bytes; cut the region to 8 + 11.
    auto err = error_of(spec_schema, mutated([](std::string& s) { put<std::int64_t>(s, at_buffer + 16 + 8, 19); }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(body + 8), base, "column 'id' (INT): data buffer has 11 bytes, 3 rows need 12");
    // name validity stored raw with no bytes while the node counts a null.
    err = error_of(spec_schema, mutated([](std::string& s) {
        put<std::int64_t>(s, name_validity, -1);
        put<std::int64_t>(s, at_buffer + 16 * 2 + 8, 8);
    }));
    EXPECT_ARROW_ERROR(err, bad_arrow, file_at(name_validity + 8), base, "column 'name' (STRING): validity buffer is empty");
}

TEST(arrow_read, null_in_a_not_null_column_names_the_row) {
    const auto s = schema::parse("id INT, name STRING NOT NULL, amount BIGINT", "id");
    auto src = make_record_source(log_format::arrow, s);
    const std::string file = batch_of(spec_area(), 3);
    batch_reader r(bytes_of(file), seg);
    auto b = r.next();
    ASSERT_TRUE(b);
    src->open(*b, seg);
    kv_record k;
    ASSERT_TRUE(src->next(k));  // row 0 is fine
    try {
        src->next(k);
        FAIL() << "no error";
    } catch (const log_error& e) {
        EXPECT_EQ(e.what_kind(), log_error::kind::bad_arrow);
        EXPECT_EQ(e.log_offset(), base + 1);
        EXPECT_NE(std::string(e.what()).find("column 'name' (STRING): row 1: null in a NOT NULL column"),
                  std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("log offset 1001"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(seg), std::string::npos) << e.what();
    }
    // A null primary-key column.
    const auto by_name = schema::parse("id INT, name STRING, amount BIGINT", "name");
    const auto err = error_of(by_name, batch_of(spec_area(), 3));
    ASSERT_TRUE(err);
    EXPECT_EQ(err->log_offset(), base + 1);
    EXPECT_NE(std::string(err->what()).find("column 'name' (STRING): row 1: primary key column is null"),
              std::string::npos)
        << err->what();
    // A DELETE / UPDATE_BEFORE of that row needs no value: only the key is read.
    EXPECT_EQ(read_all(s, batch_of(spec_area(std::string("\x01\x04\x01", 3)), 3)).size(), 3u);
    EXPECT_EQ(read_all(s, batch_of(spec_area(std::string("\x01\x02\x01", 3)), 3)).size(), 3u);
}

// Every single-byte change of the message: a result or a log_error, never a
// crash or an out-of-bounds read (ASan), whatever the byte.
TEST(arrow_read, every_byte_flip_is_survived) {
    const auto file = batch_of(spec_area(), 3);
    std::size_t errors = 0;
    for (std::size_t i = 0; i < spec_ipc.size(); ++i) {
        for (unsigned char x : {0x01, 0x80, 0xff}) {
            std::string ipc = spec_ipc;
            ipc[i] = static_cast<char>(ipc[i] ^ x);
            try {
                read_all(spec_schema, batch_of(std::string("\x01\x01\x01", 3) + ipc, 3));
            } catch (const log_error& e) {
                ++errors;
                EXPECT_NE(std::string(e.what()).find(seg), std::string::npos);
            }
        }
    }
    EXPECT_GT(errors, spec_ipc.size());  // most flips are caught
}

// ------------------------------------------------- every type, through the C++ writer

#include <fluss_fetch/log/arrow.hpp>

#include "log/compacted.hpp"
#include "log/flatbuf.hpp"
#include "support/columns.hpp"

namespace {

using test_support::col;

schema all_types() { return test_support::every_type_schema(); }

// A reference CompactedRow field encoder over `field` (fluss-arrow.md §5),
// for types encode_row may not know on this branch.
void put_ref(std::string& out, const column& c, const field& f) {
    using namespace fluss_fetch::log::detail;
    switch (c.type) {
    case data_type::boolean: out += std::get<bool>(f) ? '\1' : '\0'; break;
    case data_type::tinyint: out += static_cast<char>(std::get<std::int8_t>(f)); break;
    case data_type::smallint: put_raw(out, std::get<std::int16_t>(f)); break;
    case data_type::int_:
    case data_type::date:
    case data_type::time: put_int32(out, std::get<std::int32_t>(f)); break;
    case data_type::bigint: put_int64(out, std::get<std::int64_t>(f)); break;
    case data_type::float_: put_raw(out, std::get<float>(f)); break;
    case data_type::double_: put_raw(out, std::get<double>(f)); break;
    case data_type::string:
    case data_type::char_:
    case data_type::bytes:
    case data_type::binary: {
        const auto& s = std::get<std::string>(f);
        put_bytes(out, s.data(), s.size());
        break;
    }
    case data_type::decimal: put_decimal(out, std::get<decimal_value>(f).unscaled, c.precision); break;
    case data_type::timestamp:
    case data_type::timestamp_ltz: {
        const auto& t = std::get<timestamp_value>(f);
        put_timestamp(out, t.millis, t.nanos_of_milli, c.precision);
        break;
    }
    }
}

std::string ref_value(const schema& s, const row& r, std::int16_t schema_id = 1) {
    std::string v(2 + (s.columns.size() + 7) / 8, '\0');
    v[0] = static_cast<char>(schema_id & 0xff);
    v[1] = static_cast<char>(schema_id >> 8);
    for (std::size_t j = 0; j < r.size(); ++j) {
        if (std::holds_alternative<std::monostate>(r[j]))
            v[2 + j / 8] = static_cast<char>(v[2 + j / 8] | (1 << (j % 8)));
        else
            put_ref(v, s.columns[j], r[j]);
    }
    return v;
}

std::string ref_key(const schema& s, const row& r) {
    std::string k;
    for (auto idx : s.primary_key) put_ref(k, s.columns[idx], r[idx]);
    return k;
}

// Row `i` of a deterministic table over all_types(); every nullable column null in some rows.
row typed_row(std::size_t i) {
    const auto n = static_cast<std::int64_t>(i);
    const bool neg = i % 2 == 1;
    const auto sg = neg ? -1 : 1;
    row r = {
        i % 3 == 0,
        static_cast<std::int8_t>(sg * static_cast<int>(i % 128)),
        static_cast<std::int16_t>(sg * static_cast<int>(i * 251 % 32768)),
        static_cast<std::int32_t>(sg * static_cast<std::int32_t>(i * 7919)),
        std::int64_t{sg * (n << 40) + n},
        static_cast<float>(sg * 1.5 * n),
        sg * 2.25 * static_cast<double>(n),
        "s" + std::to_string(i) + std::string(i % 5, 'x'),
        std::string(i % 4, static_cast<char>(0x80 + i % 100)),
        static_cast<std::int32_t>(sg * n * 3),
        static_cast<std::int32_t>((i % 86400) * 1000),   // TIME(0): whole seconds
        static_cast<std::int32_t>(i * 1234 % 86400000),
        static_cast<std::int32_t>(i * 4321 % 86400000),
        static_cast<std::int32_t>(i * 9876 % 86400000),
        timestamp_value{sg * n * 1000 * 1000, 0},        // TIMESTAMP(0): whole seconds
        timestamp_value{sg * n * 12345, 0},
        // pre-1970 sub-millisecond values are not recoverable: only positive ones carry nanos
        timestamp_value{sg * n * 777, neg ? 0 : static_cast<std::int32_t>(i * 1000 % 1000000)},
        timestamp_value{sg * n * 999, neg ? 0 : static_cast<std::int32_t>(i * 7 % 1000000)},
        std::string("ab") + std::to_string(i % 10),
        std::string{'\0', static_cast<char>(i), '\xff'},
        decimal_value{sg * static_cast<std::int64_t>(i * 123457 % 9999999999)},
        decimal_value{static_cast<fluss_fetch::log::detail::int128_t>(sg * n) * 1000000000000000000LL * 1000000},
        timestamp_value{1700000000000 + n, static_cast<std::int32_t>(i * 1000 % 1000000)},
        timestamp_value{1700000000000 - n, static_cast<std::int32_t>(i * 13 % 1000000)},
    };
    // Nulls: column j null in rows where (i + j) % 4 == 0, never in the key columns.
    for (std::size_t j = 0; j < r.size(); ++j)
        if (j != 3 && j != 7 && (i + j) % 4 == 0) r[j] = std::monostate{};
    return r;
}

struct typed_case {
    arrow_compression compression;
    bool append_only;
    std::size_t rows;
};

class arrow_read_types : public ::testing::TestWithParam<typed_case> {};

}  // namespace

INSTANTIATE_TEST_SUITE_P(
    writer, arrow_read_types,
    ::testing::Values(typed_case{arrow_compression::none, false, 1}, typed_case{arrow_compression::none, true, 9},
                      typed_case{arrow_compression::none, false, 100}, typed_case{arrow_compression::lz4_frame, false, 8},
                      typed_case{arrow_compression::lz4_frame, true, 300}, typed_case{arrow_compression::zstd, false, 17},
                      typed_case{arrow_compression::zstd, true, 1000}),
    [](const auto& info) {
        return std::string(compression_name(info.param.compression)) + (info.param.append_only ? "_append_" : "_") +
               std::to_string(info.param.rows);
    });

TEST_P(arrow_read_types, every_type_reads_back_as_the_reference_compacted_row) {
    const auto s = all_types();
    const auto p = GetParam();
    std::vector<std::pair<change_type, row>> rows;
    const change_type kinds[] = {change_type::insert, change_type::update_after, change_type::update_before,
                                 change_type::del, change_type::insert};
    for (std::size_t i = 0; i < p.rows; ++i)
        rows.emplace_back(p.append_only ? change_type::append_only : kinds[i % 5], typed_row(i));
    arrow_write_options o;
    o.compression = p.compression;
    const auto area = encode_arrow_records(s, rows, p.append_only, o);
    const auto recs = read_all(s, batch_of(area, static_cast<std::int32_t>(p.rows), p.append_only));
    ASSERT_EQ(recs.size(), p.rows);
    for (std::size_t i = 0; i < p.rows; ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(recs[i].type, rows[i].first);
        EXPECT_EQ(recs[i].offset, base + static_cast<std::int64_t>(i));
        if (rows[i].first == change_type::update_before) {
            EXPECT_TRUE(recs[i].key.empty());
            continue;
        }
        EXPECT_EQ(recs[i].key, ref_key(s, rows[i].second));
        if (rows[i].first == change_type::del)
            EXPECT_TRUE(recs[i].value.empty());
        else
            EXPECT_EQ(recs[i].value, ref_value(s, rows[i].second));
    }
}

namespace {

// The flatbuffer position (in the IPC message) of Buffer[index] of an area's message.
std::size_t buffer_entry(const std::string& ipc, std::size_t index) {
    std::int32_t mlen = 0;
    std::memcpy(&mlen, ipc.data() + 4, 4);
    const fluss_fetch::log::detail::flatbuf f(bytes_of(ipc).subspan(8, static_cast<std::size_t>(mlen)));
    const auto msg = f.root("Message");
    const auto rb = f.sub_table(msg, 2, "header", "RecordBatch");
    const auto v = f.vec(*rb, 2, 16, "buffers");
    return 8 + v->pos + 16 * index;
}

}  // namespace

TEST(arrow_read, matches_encode_row_for_the_types_it_knows) {
    const auto s = schema::parse("k INT, b BOOLEAN, l BIGINT, f DOUBLE, v STRING, t TIMESTAMP(9)", "k");
    std::vector<std::pair<change_type, row>> rows;
    for (std::int32_t i = 0; i < 20; ++i)
        rows.push_back({change_type::insert,
                        {i - 10, i % 2 == 0, std::int64_t{-i} << 33, i * 0.5,
                         i % 3 ? field(std::string(static_cast<std::size_t>(i), 'v')) : field(std::monostate{}),
                         timestamp_value{1000LL * i, i * 1001}}});
    for (auto c : {arrow_compression::none, arrow_compression::lz4_frame, arrow_compression::zstd}) {
        arrow_write_options o;
        o.compression = c;
        const auto recs = read_all(s, batch_of(encode_arrow_records(s, rows, false, o), 20));
        ASSERT_EQ(recs.size(), 20u);
        for (std::size_t i = 0; i < 20; ++i) {
            EXPECT_EQ(recs[i].key, encode_key(s, rows[i].second));
            EXPECT_EQ(recs[i].value, value_of(s, rows[i].second));
        }
    }
}

TEST(arrow_read, short_validity_with_nine_rows) {
    const auto s = schema::parse("k INT, v STRING", "k");
    std::vector<std::pair<change_type, row>> rows;
    for (std::int32_t i = 0; i < 9; ++i) rows.push_back({change_type::insert, {i, std::string("x")}});
    arrow_write_options o;
    o.compression = arrow_compression::none;
    const auto area = encode_arrow_records(s, rows, true, o);
    ASSERT_EQ(read_all(s, batch_of(area, 9, true)).size(), 9u);
    std::string bad = area;
    const auto entry = buffer_entry(bad, 2);  // v validity
    std::int64_t off = 0;
    std::memcpy(&off, bad.data() + entry, 8);
    put<std::int64_t>(bad, entry + 8, 1);  // 9 rows need 2 bytes
    const auto err = error_of(s, batch_of(bad, 9, true));
    std::int32_t mlen = 0;
    std::memcpy(&mlen, area.data() + 4, 4);
    EXPECT_ARROW_ERROR(err, bad_arrow, records_at + 8 + mlen + off, base,
                       "column 'v' (STRING): validity buffer has 1 bytes, 9 rows need 2");
    // JS-style 8-padded (longer than needed) regions are fine.
    std::string padded = area;
    put<std::int64_t>(padded, entry + 8, 8);
    EXPECT_EQ(read_all(s, batch_of(padded, 9, true)).size(), 9u);
}

TEST(arrow_read, decimal_wider_than_its_precision_is_null_or_an_error) {
    // Written as DECIMAL(10,2), read as DECIMAL(4,2): 123456 has 6 digits.
    schema w;
    w.columns = {col("k", data_type::int_, false), col("d", data_type::decimal, true, 10, 2)};
    w.primary_key = {0};
    std::vector<std::pair<change_type, row>> rows = {{change_type::insert, {std::int32_t{1}, decimal_value{99}}},
                                                     {change_type::insert, {std::int32_t{2}, decimal_value{-123456}}}};
    const auto area = encode_arrow_records(w, rows, false);
    schema r = w;
    r.columns[1].precision = 4;
    const auto recs = read_all(r, batch_of(area, 2));
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[0].value, ref_value(r, rows[0].second));
    EXPECT_EQ(recs[1].value, ref_value(r, {std::int32_t{2}, std::monostate{}}));
    r.columns[1].nullable = false;
    const auto err = error_of(r, batch_of(area, 2));
    ASSERT_TRUE(err);
    EXPECT_EQ(err->what_kind(), log_error::kind::bad_arrow);
    EXPECT_EQ(err->log_offset(), base + 1);
    EXPECT_NE(std::string(err->what()).find("column 'd'"), std::string::npos) << err->what();
    EXPECT_NE(std::string(err->what()).find("more than 4 digits in a NOT NULL column"), std::string::npos) << err->what();
}

TEST(arrow_read, pre_1970_sub_millisecond_timestamp_is_an_error_naming_the_raw_value) {
    for (int p : {6, 9}) {
        SCOPED_TRACE(p);
        schema s;
        s.columns = {col("k", data_type::int_, false), col("ts", data_type::timestamp, true, p)};
        s.primary_key = {0};
        // -1 ms + 0.5 ms = -0.5 ms: Java's truncating division leaves a negative remainder.
        std::vector<std::pair<change_type, row>> rows = {
            {change_type::insert, {std::int32_t{1}, timestamp_value{-2, 0}}},
            {change_type::insert, {std::int32_t{2}, timestamp_value{-1, 500000}}}};
        const auto recs_or = error_of(s, batch_of(encode_arrow_records(s, rows, false), 2));
        ASSERT_TRUE(recs_or);
        EXPECT_EQ(recs_or->what_kind(), log_error::kind::unsupported);
        EXPECT_EQ(recs_or->log_offset(), base + 1);
        const std::string raw = p == 6 ? "raw value -500 us" : "raw value -500000 ns";
        EXPECT_NE(std::string(recs_or->what()).find("column 'ts'"), std::string::npos) << recs_or->what();
        EXPECT_NE(std::string(recs_or->what()).find(raw), std::string::npos) << recs_or->what();
        // A whole pre-1970 millisecond is fine.
        EXPECT_EQ(read_all(s, batch_of(encode_arrow_records(s, std::span(rows).first(1), false), 1)).size(), 1u);
    }
}

TEST(arrow_read, lz4_garbage_and_a_huge_prefix_under_lz4) {
    const auto s = schema::parse("k INT, v STRING", "k");
    std::vector<std::pair<change_type, row>> rows;
    for (std::int32_t i = 0; i < 200; ++i) rows.push_back({change_type::insert, {i, std::string(50, 'a')}});
    arrow_write_options o;
    o.compression = arrow_compression::lz4_frame;
    const auto area = encode_arrow_records(s, rows, true, o);
    ASSERT_EQ(read_all(s, batch_of(area, 200, true)).size(), 200u);
    const auto entry = buffer_entry(area, 4);  // v data: 10000 bytes of 'a', compressed
    std::int64_t off = 0, len = 0;
    std::memcpy(&off, area.data() + entry, 8);
    std::memcpy(&len, area.data() + entry + 8, 8);
    std::int32_t mlen = 0;
    std::memcpy(&mlen, area.data() + 4, 4);
    const std::size_t region = 8 + static_cast<std::size_t>(mlen) + static_cast<std::size_t>(off);
    std::int64_t prefix = 0;
    std::memcpy(&prefix, area.data() + region, 8);
    ASSERT_EQ(prefix, 10000) << "expected the data buffer compressed";
    std::string bad = area;
    bad[region + 8 + 4] = '\x40';  // FLG without the block-independence bit's version: a bad frame
    auto err = error_of(s, batch_of(bad, 200, true));
    EXPECT_ARROW_ERROR(err, bad_arrow, records_at + static_cast<std::int64_t>(region) + 8, base,
                       "column 'v' (STRING): data buffer: LZ4_FRAME");
    bad = area;
    put<std::int64_t>(bad, region, 10001);  // within the 64-byte rounding: the frame decides
    err = error_of(s, batch_of(bad, 200, true));
    EXPECT_ARROW_ERROR(err, bad_arrow, records_at + static_cast<std::int64_t>(region) + 8, base,
                       "data buffer: LZ4_FRAME");
    put<std::int64_t>(bad, region, 10049);  // the last offset is 10000: at most 10048 with padding
    err = error_of(s, batch_of(bad, 200, true));
    EXPECT_ARROW_ERROR(err, bad_arrow, records_at + static_cast<std::int64_t>(region), base,
                       "data buffer: length prefix 10049 is more than the 10048 bytes the column can need");
}

// Magic 1 (statistics) and 2: the record area starts after the statistics;
// file offsets in errors count from the file's start.
TEST(arrow_read, statistics_before_the_record_area_are_skipped) {
    for (std::int8_t magic : {std::int8_t{1}, std::int8_t{2}}) {
        SCOPED_TRACE(static_cast<int>(magic));
        batch_builder b;
        b.magic = magic;
        b.base_offset = base;
        b.statistics = "some statistics";
        b.set_raw_records(spec_area(), 3);
        const auto file = b.build();
        const auto recs = read_all(spec_schema, file);
        ASSERT_EQ(recs.size(), 3u);
        EXPECT_EQ(recs[2].value, value_of(spec_schema, spec_rows[2]));
        batch_reader r(bytes_of(file), seg);
        const auto records_start = static_cast<std::int64_t>(r.next()->records.data() - bytes_of(file).data());
        b.set_raw_records(std::string("\x01\x07\x01", 3) + spec_ipc, 3);
        const auto err = error_of(spec_schema, b.build());
        EXPECT_ARROW_ERROR(err, bad_arrow, records_start + 1, base + 1, "change type 7");
    }
}
