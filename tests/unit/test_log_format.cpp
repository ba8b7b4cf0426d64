// The segment format (spec §4) against the spec's test vectors (§6): CRC-32C,
// batches of every magic, record framing, rows, keys and the replayed state;
// and every kind of corrupt input, each named by segment, file and log offset.
#include <fluss_fetch/log/arrow.hpp>
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/crc32c.hpp>
#include <fluss_fetch/log/kv.hpp>
#include <fluss_fetch/log/row.hpp>

#include "support/hex.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

using namespace fluss_fetch::log;
using fluss_fetch::test::unhex;

namespace {

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }
std::string str(std::span<const std::byte> b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

// Spec §6.
const std::string batch1 = unhex(R"(
00 00 00 00 00 00 00 00 3c 00 00 00 00 00 00 00 00 00 00 00 00 ed 1c 9c 7a 01 00 00
00 00 00 00 ff ff ff ff ff ff ff ff ff ff ff ff 01 00 00 00 14 00 00 00 01 00 02 00
00 00 01 00 00 00 64 00 00 00 00 00 00 00 61 62)");
const std::string batch2 = unhex(R"(
01 00 00 00 00 00 00 00 6b 00 00 00 00 00 00 00 00 00 00 00 00 46 6f 89 de 01 00 00
02 00 00 00 ff ff ff ff ff ff ff ff ff ff ff ff 03 00 00 00
14 00 00 00 02 00 02 00 00 00 01 00 00 00 64 00 00 00 00 00 00 00 61 62
15 00 00 00 03 00 03 00 00 00 01 00 00 00 c8 00 00 00 00 00 00 00 61 62 63
12 00 00 00 04 04 00 00 00 00 02 00 00 00 05 00 00 00 00 00 00 00)");

const schema spec_schema = schema::parse("id INT, v BIGINT, name STRING", "id");
const std::string seg_id = "6e94fbd1-c056-446e-859c-77345dddcd96";

// The IndexedRow bytes of the spec's rows.
const std::string row_1_100_ab = unhex("00 02 00 00 00 01 00 00 00 64 00 00 00 00 00 00 00 61 62");
const std::string row_1_200_abc = unhex("00 03 00 00 00 01 00 00 00 c8 00 00 00 00 00 00 00 61 62 63");
const std::string row_2_5_null = unhex("04 00 00 00 00 02 00 00 00 05 00 00 00 00 00 00 00");

template <class F>
log_error caught(F f) {
    try {
        f();
    } catch (const log_error& e) {
        return e;
    }
    ADD_FAILURE() << "no log_error thrown";
    return log_error(log_error::kind::bad_batch, "", -1, -1, "none");
}

// Views into `file`: it must outlive the result (hence no temporaries).
std::vector<batch_view> all_batches(std::string&& file, batch_reader_options o = {}) = delete;
std::vector<batch_view> all_batches(const std::string& file, batch_reader_options o = {}) {
    std::vector<batch_view> out;
    batch_reader r(bytes_of(file), seg_id, o);
    while (auto b = r.next()) out.push_back(*b);
    return out;
}
}  // namespace

TEST(fmt_crc32c, check_value_chaining_and_both_implementations_agree) {
    const std::string check = "123456789";
    EXPECT_EQ(crc32c(check.data(), check.size()), 0xE3069283u);
    EXPECT_EQ(detail::crc32c_portable(check.data(), check.size(), 0), 0xE3069283u);
    if (detail::crc32c_hardware_available())
        EXPECT_EQ(detail::crc32c_hardware(check.data(), check.size(), 0), 0xE3069283u);
    EXPECT_EQ(crc32c(check.data() + 4, 5, crc32c(check.data(), 4)), 0xE3069283u);
    EXPECT_EQ(crc32c(nullptr, 0), 0u);
    std::mt19937 rng(5);
    std::string buf(5000, '\0');
    for (auto& c : buf) c = static_cast<char>(rng());
    for (std::size_t off = 0; off < 9; ++off)
        for (std::size_t len : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 100u, 4096u}) {
            const auto p = detail::crc32c_portable(buf.data() + off, len, 0x1234);
            EXPECT_EQ(crc32c(buf.data() + off, len, 0x1234), p) << off << "+" << len;
            if (detail::crc32c_hardware_available())
                EXPECT_EQ(detail::crc32c_hardware(buf.data() + off, len, 0x1234), p) << off << "+" << len;
        }
    EXPECT_STRNE(crc32c_implementation(), "");
}

TEST(fmt_batch, spec_vectors_parse_byte_exact) {
    ASSERT_EQ(batch1.size(), 72u);
    ASSERT_EQ(batch2.size(), 119u);
    const std::string file = batch1 + batch2;
    const auto bs = all_batches(file);
    ASSERT_EQ(bs.size(), 2u);
    const auto& h1 = bs[0].header;
    EXPECT_EQ(h1.base_offset, 0);
    EXPECT_EQ(h1.length, 0x3c);
    EXPECT_EQ(h1.magic, 0);
    EXPECT_EQ(h1.crc, 0x7A9C1CEDu);
    EXPECT_EQ(h1.schema_id, 1);
    EXPECT_EQ(h1.writer_id, -1);
    EXPECT_EQ(h1.batch_sequence, -1);
    EXPECT_EQ(h1.record_count, 1);
    EXPECT_EQ(h1.next_offset(), 1);
    EXPECT_EQ(bs[0].records.size(), 24u);
    const auto& h2 = bs[1].header;
    EXPECT_EQ(bs[1].file_offset, 72u);
    EXPECT_EQ(h2.base_offset, 1);
    EXPECT_EQ(h2.length, 0x6b);
    EXPECT_EQ(h2.crc, 0xDE896F46u);
    EXPECT_EQ(h2.last_offset_delta, 2);
    EXPECT_EQ(h2.record_count, 3);
    EXPECT_EQ(h2.next_offset(), 4);

    record_reader rr(bs[1], seg_id);
    std::vector<change_type> types;
    std::vector<std::string> rows;
    std::vector<std::int64_t> offsets;
    while (auto r = rr.next()) {
        types.push_back(r->type);
        rows.push_back(str(r->row));
        offsets.push_back(r->offset);
    }
    EXPECT_EQ(types, (std::vector{change_type::update_before, change_type::update_after, change_type::del}));
    EXPECT_EQ(rows, (std::vector{row_1_100_ab, row_1_200_abc, row_2_5_null}));
    EXPECT_EQ(offsets, (std::vector<std::int64_t>{1, 2, 3}));
}

TEST(fmt_batch, builder_reproduces_the_spec_vectors) {
    batch_builder b1;
    b1.base_offset = 0;
    b1.add_record(change_type::insert, row_1_100_ab);
    EXPECT_EQ(b1.build(), batch1);
    batch_builder b2;
    b2.base_offset = 1;
    b2.add_record(change_type::update_before, row_1_100_ab);
    b2.add_record(change_type::update_after, row_1_200_abc);
    b2.add_record(change_type::del, row_2_5_null);
    EXPECT_EQ(b2.build(), batch2);
}

TEST(fmt_batch, magic_1_and_2_layouts_round_trip) {
    struct layout_case {
        std::int8_t magic;
        magic1_layout m1;
    };
    for (auto [magic, m1] : {layout_case{1, magic1_layout::statistics}, layout_case{1, magic1_layout::leader_epoch},
                             layout_case{2, magic1_layout::statistics}}) {
        batch_builder b;
        b.magic = magic;
        b.magic1 = m1;
        b.base_offset = 40;
        b.leader_epoch = 7;
        b.commit_timestamp = 1722225103853;
        b.schema_id = 3;
        b.statistics = "stats!";
        b.add_record(change_type::insert, row_1_100_ab);
        b.add_record(change_type::insert, row_2_5_null);
        const auto bytes = b.build();
        batch_reader_options o;
        o.magic1 = m1;
        const auto bs = all_batches(bytes, o);
        ASSERT_EQ(bs.size(), 1u);
        const auto& h = bs[0].header;
        EXPECT_EQ(h.magic, magic);
        EXPECT_EQ(h.base_offset, 40);
        EXPECT_EQ(h.next_offset(), 42);
        EXPECT_EQ(h.schema_id, 3);
        EXPECT_EQ(h.commit_timestamp, 1722225103853);
        const bool epoch = magic == 2 || m1 == magic1_layout::leader_epoch;
        const bool stats = magic == 2 || m1 == magic1_layout::statistics;
        EXPECT_EQ(h.leader_epoch, epoch ? 7 : -1);
        EXPECT_EQ(h.statistics_length, stats ? 6 : 0);
        const std::size_t header = magic == 2 ? 56 : (m1 == magic1_layout::statistics ? 52 : 52);
        EXPECT_EQ(bs[0].records.size(), bytes.size() - header - (stats ? 6 : 0));
        record_reader rr(bs[0], seg_id);
        EXPECT_EQ(str(rr.next()->row), row_1_100_ab);
        EXPECT_EQ(str(rr.next()->row), row_2_5_null);
        EXPECT_FALSE(rr.next());
    }
    // Read with the wrong meaning of magic 1, a statistics batch fails its CRC, not silently.
    batch_builder b;
    b.magic = 1;
    b.add_record(change_type::insert, row_1_100_ab);
    batch_reader_options wrong;
    wrong.magic1 = magic1_layout::leader_epoch;
    const auto built = b.build();
    EXPECT_THROW(all_batches(built, wrong), log_error);
}

TEST(fmt_batch, empty_batch_takes_one_offset) {
    batch_builder b;
    b.base_offset = 9;
    const auto built = b.build();
    const auto bs = all_batches(built);
    ASSERT_EQ(bs.size(), 1u);
    EXPECT_EQ(bs[0].header.record_count, 0);
    EXPECT_EQ(bs[0].header.next_offset(), 10);
    record_reader rr(bs[0], seg_id);
    EXPECT_FALSE(rr.next());
}

TEST(fmt_batch, corrupt_input_is_named_by_segment_file_offset_and_log_offset) {
    const std::string file = batch1 + batch2;
    // A truncated tail of 5 bytes after a good batch.
    const std::string short_tail = batch1 + batch2.substr(0, 5);
    auto e = caught([&] { all_batches(short_tail); });
    EXPECT_EQ(e.what_kind(), log_error::kind::truncated);
    EXPECT_EQ(e.file_offset(), 72);
    EXPECT_NE(std::string(e.what()).find("segment " + seg_id + ": file offset 72"), std::string::npos) << e.what();
    // A batch running past the end.
    const std::string cut = file.substr(0, file.size() - 1);
    e = caught([&] { all_batches(cut); });
    EXPECT_EQ(e.what_kind(), log_error::kind::truncated);
    EXPECT_EQ(e.log_offset(), 1);
    // One flipped bit in the records.
    auto flipped = file;
    flipped[100] = static_cast<char>(flipped[100] ^ 0x10);
    e = caught([&] { all_batches(flipped); });
    EXPECT_EQ(e.what_kind(), log_error::kind::crc_mismatch);
    EXPECT_EQ(e.file_offset(), 72);
    EXPECT_EQ(e.log_offset(), 1);
    EXPECT_NE(std::string(e.what()).find("0xDE896F46"), std::string::npos) << e.what();
    // Unknown magic.
    auto bad_magic = file;
    bad_magic[12] = 7;
    e = caught([&] { all_batches(bad_magic); });
    EXPECT_EQ(e.what_kind(), log_error::kind::bad_magic);
    EXPECT_EQ(e.file_offset(), 0);
    // A length too short for the header.
    auto short_len = file;
    short_len[8] = 10;
    EXPECT_EQ(caught([&] { all_batches(short_len); }).what_kind(), log_error::kind::bad_batch);
}

TEST(fmt_batch, record_framing_errors) {
    // Change type 9.
    batch_builder b;
    b.base_offset = 5;
    b.add_record(static_cast<change_type>(9), row_1_100_ab);
    const auto built = b.build();
    auto bs = all_batches(built);
    auto e = caught([&] {
        record_reader rr(bs[0], seg_id);
        while (rr.next()) {
        }
    });
    EXPECT_EQ(e.what_kind(), log_error::kind::bad_record);
    EXPECT_EQ(e.log_offset(), 5);
    EXPECT_NE(std::string(e.what()).find("change type 9"), std::string::npos) << e.what();
    // Fewer records than the count claims, and a record length past the batch.
    batch_builder raw;
    raw.base_offset = 0;
    std::string rec = unhex("64 00 00 00 01") + row_1_100_ab;  // length 100 > what follows
    raw.set_raw_records(rec, 1);
    const auto raw_built = raw.build();
    bs = all_batches(raw_built);
    e = caught([&] {
        record_reader rr(bs[0], seg_id);
        while (rr.next()) {
        }
    });
    EXPECT_EQ(e.what_kind(), log_error::kind::bad_record);
    EXPECT_NE(std::string(e.what()).find("record length 100"), std::string::npos) << e.what();
    batch_builder two;
    two.add_record(change_type::insert, row_1_100_ab);
    auto one_record = two.build();
    batch_builder claims;
    claims.set_raw_records(str(all_batches(one_record)[0].records), 2);
    const auto claims_built = claims.build();
    bs = all_batches(claims_built);
    e = caught([&] {
        record_reader rr(bs[0], seg_id);
        while (rr.next()) {
        }
    });
    EXPECT_EQ(e.what_kind(), log_error::kind::bad_record);
    EXPECT_EQ(e.log_offset(), 1);
}

TEST(fmt_segment_batches, honour_start_stop_and_logical_boundaries) {
    // Five batches of two records: [0,2) [2,4) [4,6) [6,8) [8,10).
    std::string file;
    for (int i = 0; i < 5; ++i) {
        batch_builder b;
        b.base_offset = 2 * i;
        b.add_record(change_type::insert, row_1_100_ab);
        b.add_record(change_type::insert, row_1_100_ab);
        file += b.build();
    }
    auto bases = [&](segment_batches::range r) {
        segment_batches sb(bytes_of(file), seg_id, r);
        std::vector<std::int64_t> out;
        while (auto b = sb.next()) out.push_back(b->header.base_offset);
        return out;
    };
    EXPECT_EQ(bases({0, 10, 0, 10}), (std::vector<std::int64_t>{0, 2, 4, 6, 8}));
    EXPECT_EQ(bases({0, 10, 3, 10}), (std::vector<std::int64_t>{2, 4, 6, 8})) << "a batch holding the start is read";
    EXPECT_EQ(bases({0, 10, 4, 10}), (std::vector<std::int64_t>{4, 6, 8})) << "batches ending at the start are skipped";
    EXPECT_EQ(bases({0, 10, 0, 5}), (std::vector<std::int64_t>{0, 2, 4})) << "stop at the first batch at or after the end";
    EXPECT_EQ(bases({4, 8, 0, 8}), (std::vector<std::int64_t>{4, 6})) << "logical range [4,8) of physical [0,10)";
    auto e = caught([&] { bases({0, 5, 0, 5}); });
    EXPECT_EQ(e.what_kind(), log_error::kind::logical_boundary);
    EXPECT_EQ(e.log_offset(), 4);
    EXPECT_NE(std::string(e.what()).find("logical end 5"), std::string::npos) << e.what();
    e = caught([&] { bases({3, 10, 3, 10}); });
    EXPECT_EQ(e.what_kind(), log_error::kind::logical_boundary);
    EXPECT_EQ(e.log_offset(), 2);
}

TEST(fmt_mapped_file, maps_real_and_empty_files) {
    fluss_fetch::test::temp_dir dir("mapped");
    fluss_fetch::test::write_file(dir.path() / "seg.log", batch1 + batch2);
    fluss_fetch::test::write_file(dir.path() / "empty.log", "");
    mapped_file m(dir.path() / "seg.log");
    EXPECT_EQ(str(m.bytes()), batch1 + batch2);
    mapped_file e(dir.path() / "empty.log");
    EXPECT_TRUE(e.bytes().empty());
    const std::string empty_file;
    EXPECT_FALSE(all_batches(empty_file).size());
    try {
        mapped_file missing(dir.path() / "nope.log");
        ADD_FAILURE();
    } catch (const std::system_error& err) {
        EXPECT_NE(std::string(err.what()).find("nope.log"), std::string::npos);
    }
}

// Dropped pages leave the resident set, not the mapping: the bytes read the
// same afterwards (they refault from the file), and any offset is safe.
TEST(fmt_mapped_file, dropped_pages_read_back_the_same) {
    fluss_fetch::test::temp_dir dir("mapped-drop");
    std::string content;
    for (int i = 0; i < 64; ++i) content += batch1 + batch2;  // 12 KiB: a few pages
    content.resize(3 * 4096 + 100, 'x');
    fluss_fetch::test::write_file(dir.path() / "seg.log", content);
    mapped_file m(dir.path() / "seg.log");
    ASSERT_EQ(str(m.bytes()), content);
    m.drop_before(4096 + 17);         // the first page
    EXPECT_EQ(str(m.bytes()), content);
    m.drop_before(10);                // below what was dropped: nothing to do
    m.drop_before(content.size() + (1 << 20));  // past the end: up to the last whole page
    EXPECT_EQ(str(m.bytes()), content);
    mapped_file e(dir.path() / "seg.log");
    e.drop_before(0);
}

TEST(fmt_rows, spec_indexed_rows_both_ways) {
    EXPECT_EQ(encode_row(spec_schema, {std::int32_t{1}, std::int64_t{100}, std::string("ab")}, row_format::indexed),
              row_1_100_ab);
    EXPECT_EQ(encode_row(spec_schema, {std::int32_t{1}, std::int64_t{200}, std::string("abc")}, row_format::indexed),
              row_1_200_abc);
    EXPECT_EQ(encode_row(spec_schema, {std::int32_t{2}, std::int64_t{5}, std::monostate{}}, row_format::indexed),
              row_2_5_null);
    const auto r = decode_row(spec_schema, bytes_of(row_2_5_null), row_format::indexed);
    EXPECT_EQ(r, (row{std::int32_t{2}, std::int64_t{5}, std::monostate{}}));
    EXPECT_EQ(key_of(spec_schema, bytes_of(row_1_200_abc), row_format::indexed), unhex("01"));
}

TEST(fmt_rows, compacted_varints_and_strings) {
    const auto s = schema::parse("a INT, b BIGINT, c STRING", "a");
    EXPECT_EQ(encode_row(s, {std::int32_t{1}, std::int64_t{300}, std::string("ab")}, row_format::compacted),
              unhex("00 01 ac 02 02 61 62"));
    EXPECT_EQ(encode_row(s, {std::int32_t{-1}, std::int64_t{-1}, std::monostate{}}, row_format::compacted),
              unhex("04 ff ff ff ff 0f ff ff ff ff ff ff ff ff ff 01"))
        << "negative INT takes 5 bytes, negative BIGINT 10, no zigzag";
    EXPECT_EQ(encode_key(s, {std::int32_t{1}, std::monostate{}, std::monostate{}}), unhex("01"));
    const auto strkey = schema::parse("k STRING, v INT", "k");
    EXPECT_EQ(encode_key(strkey, {std::string("ab"), std::int32_t{0}}), unhex("02 61 62"));
}

// Found by fuzz_row (tests/fuzz/corpus/row/crash-noncanonical-varint-key): a
// CompactedRow key written with a varint that decodes but is not canonical
// (a trailing zero group, bits beyond the type's width) gave a key of its raw
// bytes, so the same key value could land under two KV keys. The key must be
// the canonical encoding of the decoded value, as Fluss's key encoder makes it.
TEST(fmt_rows, key_of_non_canonical_varints_is_the_canonical_key) {
    const auto s = schema::parse("a INT, b BIGINT, c STRING", "a,b,c");
    const std::string canonical = unhex("00 01 ac 02 02 61 62");
    for (const std::string& bytes : {unhex("00 81 00 ac 02 02 61 62"),                      // INT 1 as 81 00
                                     unhex("00 01 ac 82 80 00 02 61 62"),                   // BIGINT 300 overlong
                                     unhex("00 01 ac 02 82 00 61 62"),                      // length 2 as 82 00
                                     unhex("00 81 80 80 80 10 ac 02 02 61 62")}) {          // INT with bit 32 set
        const auto decoded = decode_row(s, bytes_of(bytes), row_format::compacted);
        EXPECT_EQ(encode_row(s, decoded, row_format::compacted), canonical);
        EXPECT_EQ(key_of(s, bytes_of(bytes), row_format::compacted), encode_key(s, decoded));
        EXPECT_EQ(key_of(s, bytes_of(bytes), row_format::compacted), key_of(s, bytes_of(canonical), row_format::compacted));
    }
}

TEST(fmt_rows, every_type_round_trips_in_both_formats) {
    const auto s = schema::parse(
        "b BOOLEAN, t TINYINT, sm SMALLINT, i INT NOT NULL, bi BIGINT, f FLOAT, d DOUBLE, st STRING, by BYTES, "
        "dt DATE, tm TIME, ts3 TIMESTAMP(3), ts6 TIMESTAMP",
        "i");
    EXPECT_EQ(s.columns[11].precision, 3);  // a bare TIMESTAMP is TIMESTAMP(6), as in Fluss
    EXPECT_EQ(s.columns[12].precision, 6);
    std::string long_text;
    for (int i = 0; i < 60; ++i) long_text += "ключ🦀";
    const std::vector<row> rows{
        {true, std::int8_t{-128}, std::int16_t{-32768}, std::int32_t{INT32_MIN}, std::int64_t{INT64_MIN}, -1.5f,
         -2.25, long_text, std::string("\0\xff\x01", 3), std::int32_t{-719162}, std::int32_t{86399999},
         timestamp_value{-1, 0}, timestamp_value{1722225103853, 999999}},
        {false, std::int8_t{127}, std::int16_t{32767}, std::int32_t{INT32_MAX}, std::int64_t{INT64_MAX}, 3.0e38f, 1e300,
         std::string(""), std::string(""), std::int32_t{0}, std::int32_t{0}, timestamp_value{0, 0},
         timestamp_value{0, 1}},
        {std::monostate{}, std::monostate{}, std::monostate{}, std::int32_t{0}, std::monostate{}, std::monostate{},
         std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{},
         std::monostate{}},
    };
    for (auto format : {row_format::compacted, row_format::indexed})
        for (const auto& r : rows) {
            const auto bytes = encode_row(s, r, format);
            EXPECT_EQ(decode_row(s, bytes_of(bytes), format), r);
        }
    // All-null row: only the null bits (and, indexed, the zero length slots).
    EXPECT_EQ(encode_row(s, rows[2], row_format::compacted).size(), 2u + 1u);
    EXPECT_EQ(encode_row(s, rows[2], row_format::indexed).size(), 2u + 8u + 4u);
}

TEST(fmt_rows, decode_errors_name_the_column_and_position) {
    auto err = [&](const schema& s, const std::string& bytes, row_format f) -> std::string {
        try {
            decode_row(s, bytes_of(bytes), f);
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "";
    };
    const auto s = schema::parse("a INT, b BIGINT, c STRING", "a");
    EXPECT_NE(err(s, unhex("00 01 02"), row_format::compacted).find("column 'c'"), std::string::npos);
    EXPECT_NE(err(s, unhex("00 ff ff ff ff ff 01"), row_format::compacted).find("varint"), std::string::npos);
    EXPECT_NE(err(s, unhex("00 01 01 00 99"), row_format::compacted).find("left after"), std::string::npos);
    EXPECT_NE(err(s, unhex("01 05 00"), row_format::compacted).find("NOT NULL"), std::string::npos);
    EXPECT_NE(err(spec_schema, row_1_100_ab.substr(0, 10), row_format::indexed).find("column 'v'"), std::string::npos);
    const auto b = schema::parse("k INT, flag BOOLEAN", "k");
    EXPECT_NE(err(b, unhex("00 01 07"), row_format::compacted).find("BOOLEAN"), std::string::npos);
    EXPECT_THROW(encode_row(s, {std::monostate{}, std::int64_t{1}, std::string()}, row_format::compacted),
                 std::invalid_argument);
    EXPECT_THROW(encode_row(s, {std::int64_t{1}, std::int64_t{1}, std::string()}, row_format::compacted),
                 std::invalid_argument);
}

TEST(fmt_schema, parse_errors_name_the_column) {
    auto err = [](std::string_view cols, std::string_view pk) -> std::string {
        try {
            schema::parse(cols, pk);
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "";
    };
    EXPECT_NE(err("id INT, x DECIMAL(39)", "id").find("column 2"), std::string::npos);
    EXPECT_NE(err("id INT, x DECIMAL(39)", "id").find("DECIMAL"), std::string::npos);
    EXPECT_NE(err("id INT, id STRING", "id").find("duplicate"), std::string::npos);
    EXPECT_NE(err("id INT", "nope").find("'nope'"), std::string::npos);
    EXPECT_NE(err("id INT", "id,id").find("twice"), std::string::npos);
    EXPECT_NE(err("id", "id").find("column 1"), std::string::npos);
    EXPECT_NE(err("ts TIMESTAMP(12)", "ts").find("precision"), std::string::npos);
    EXPECT_NE(err("id INT NULLABLE", "id").find("NULLABLE"), std::string::npos);
    const auto s = schema::parse(" id int not null ,name String", "id");
    EXPECT_EQ(s.columns.size(), 2u);
    EXPECT_FALSE(s.columns[0].nullable);
    EXPECT_TRUE(s.columns[1].nullable);
}

TEST(fmt_kv, spec_segment_replays_to_one_key) {
    const std::string file = batch1 + batch2;
    memory_kv_state state;
    apply_stats stats;
    batch_reader r(bytes_of(file), seg_id);
    while (auto b = r.next()) apply_batch(spec_schema, log_format::indexed, *b, seg_id, state, stats);
    ASSERT_EQ(state.size(), 1u);
    EXPECT_EQ(state.entries().front().first, unhex("01"));
    EXPECT_EQ(state.entries().front().second, unhex("01 00") + row_1_200_abc);
    ASSERT_NE(state.find(unhex("01")), nullptr);
    EXPECT_EQ(state.find(unhex("02")), nullptr);
    EXPECT_EQ(stats.batches, 2u);
    EXPECT_EQ(stats.records, 4u);
    EXPECT_EQ(stats.inserts, 1u);
    EXPECT_EQ(stats.update_befores, 1u);
    EXPECT_EQ(stats.update_afters, 1u);
    EXPECT_EQ(stats.deletes, 1u);
    EXPECT_EQ(stats.appends, 0u);
    std::ostringstream dump;
    state.dump(dump);
    EXPECT_EQ(dump.str(), "01\t0100000300000001000000c800000000000000616263\n");
}

TEST(fmt_kv, append_only_puts_and_last_write_wins_in_key_byte_order) {
    const auto s = schema::parse("k STRING, v INT", "k");
    batch_builder b;
    b.schema_id = 0x0102;
    b.add_record(change_type::append_only, encode_row(s, {std::string("\xff"), std::int32_t{1}}, row_format::compacted));
    b.add_record(change_type::insert, encode_row(s, {std::string("a"), std::int32_t{2}}, row_format::compacted));
    b.add_record(change_type::insert, encode_row(s, {std::string("a"), std::int32_t{3}}, row_format::compacted));
    const auto bytes = b.build();
    memory_kv_state state;
    apply_stats stats;
    batch_reader r(bytes_of(bytes), seg_id);
    apply_batch(s, log_format::compacted, *r.next(), seg_id, state, stats);
    EXPECT_EQ(stats.appends, 1u);
    EXPECT_EQ(stats.inserts, 2u);
    ASSERT_EQ(state.entries().size(), 2u);
    EXPECT_EQ(state.entries().front().first, unhex("01 61")) << "0x01 0x61 sorts before 0x01 0xff";
    EXPECT_EQ(state.entries().front().second, unhex("02 01 00 01 61 03")) << "schema id LE, then the row as stored";
}

TEST(fmt_kv, arrow_and_corrupt_rows_are_clear_errors) {
    batch_builder arrow;
    arrow.base_offset = 30;
    arrow.set_raw_records("arrow ipc bytes", 3);
    const auto bytes = arrow.build();
    memory_kv_state state;
    apply_stats stats;
    batch_reader r(bytes_of(bytes), seg_id);
    auto b = r.next();
    auto e = caught([&] { apply_batch(spec_schema, log_format::arrow, *b, seg_id, state, stats); });
    // Three change-type bytes ("arr"), then bytes that are no IPC message.
    EXPECT_EQ(e.what_kind(), log_error::kind::bad_arrow) << e.what();
    EXPECT_NE(std::string(e.what()).find(seg_id), std::string::npos) << e.what();
    EXPECT_EQ(e.log_offset(), 30);
    batch_builder empty;
    const auto empty_bytes = empty.build();
    batch_reader er(bytes_of(empty_bytes), seg_id);
    apply_batch(spec_schema, log_format::arrow, *er.next(), seg_id, state, stats);
    EXPECT_EQ(stats.batches, 1u) << "an empty ARROW batch is counted";

    batch_builder bad;
    bad.base_offset = 50;
    bad.add_record(change_type::insert, row_1_100_ab.substr(0, 7));
    const auto bad_bytes = bad.build();
    batch_reader br(bytes_of(bad_bytes), seg_id);
    auto bb = br.next();
    e = caught([&] { apply_batch(spec_schema, log_format::indexed, *bb, seg_id, state, stats); });
    EXPECT_EQ(e.what_kind(), log_error::kind::bad_row);
    EXPECT_EQ(e.log_offset(), 50);
    EXPECT_NE(std::string(e.what()).find(seg_id), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("column"), std::string::npos) << e.what();
}

// Overlapping physical segments clipped by the manifest (Fluss PR #3822):
// physical [0,10) logical [0,5), then physical [5,20). Replaying both with
// their logical ranges applies every offset exactly once.
TEST(fmt_kv, overlapping_segments_replay_through_their_logical_ranges) {
    const auto s = schema::parse("k INT, v INT", "k");
    auto batch = [&](std::int64_t base, int n, int value) {
        batch_builder b;
        b.base_offset = base;
        for (int i = 0; i < n; ++i)
            b.add_record(change_type::insert,
                         encode_row(s, {std::int32_t{int(base) + i}, std::int32_t{value}}, row_format::compacted));
        return b.build();
    };
    // First file: [0,5) written by the old leader, then [5,10) it also wrote but lost.
    const std::string first = batch(0, 5, 1) + batch(5, 5, 666);
    // Second file: [5,20) from the new leader.
    const std::string second = batch(5, 5, 2) + batch(10, 10, 2);
    memory_kv_state state;
    apply_stats stats;
    std::int64_t next = 0;
    for (auto [file, range] : {std::pair{&first, segment_batches::range{0, 5, 0, 5}},
                               std::pair{&second, segment_batches::range{5, 20, 5, 20}}}) {
        range.read_start = std::max(range.read_start, next);
        segment_batches sb(bytes_of(*file), seg_id, range);
        while (auto b = sb.next()) {
            apply_batch(s, log_format::compacted, *b, seg_id, state, stats);
            next = b->header.next_offset();
        }
    }
    EXPECT_EQ(next, 20);
    EXPECT_EQ(stats.records, 20u) << "offsets 5-9 of the first file are never applied";
    ASSERT_EQ(state.entries().size(), 20u);
    for (const auto& [k, v] : state.entries()) {
        const auto r = decode_row(s, std::as_bytes(std::span(v.data() + 2, v.size() - 2)), row_format::compacted);
        const auto key = std::get<std::int32_t>(r[0]);
        EXPECT_EQ(std::get<std::int32_t>(r[1]), key < 5 ? 1 : 2) << "key " << key;
    }
}

TEST(fmt_kv, kv_applier_refuses_a_schema_id_other_than_the_one_given_naming_both) {
    const auto s = schema::parse("k INT, v INT", "k");
    for (const auto format : {log_format::compacted, log_format::arrow}) {
        SCOPED_TRACE(format_name(format));
        batch_builder b;
        b.base_offset = 40;
        b.schema_id = 2;
        const row r{std::int32_t{1}, std::int32_t{2}};
        if (format == log_format::compacted) {
            b.add_record(change_type::insert, encode_row(s, r, row_format::compacted));
        } else {
            const std::vector<std::pair<change_type, row>> rows{{change_type::insert, r}};
            b.set_raw_records(encode_arrow_records(s, rows, false), 1);
        }
        const auto bytes = b.build();
        batch_reader rd(bytes_of(bytes), seg_id);
        const auto batch = rd.next();
        memory_kv_state state;
        apply_stats stats;
        kv_applier strict(s, format, 1);
        const auto e = caught([&] { strict.apply(*batch, seg_id, state, stats); });
        EXPECT_EQ(e.what_kind(), log_error::kind::unsupported);
        EXPECT_EQ(e.log_offset(), 40);
        const std::string what = e.what();
        EXPECT_NE(what.find("batch schema id 2 is not the schema id 1"), std::string::npos) << what;
        EXPECT_NE(what.find(seg_id), std::string::npos) << what;
        EXPECT_EQ(state.size(), 0u) << "nothing of the batch applied";
        EXPECT_EQ(stats.records, 0u);
        // The same batch under its own id applies, the value carrying that id.
        kv_applier own(s, format, 2);
        own.apply(*batch, seg_id, state, stats);
        ASSERT_EQ(state.size(), 1u);
        EXPECT_EQ(*state.find(encode_key(s, r)), std::string("\x02\x00", 2) + encode_row(s, r, row_format::compacted));
    }
}
