// The ARROW writer (encode_arrow_records) against the layout of Fluss's Java
// writer (fluss-arrow.md §1–§4), checked with a flatbuffer/IPC parser of the
// test's own: framing, metadata and body alignment, one FieldNode per column,
// a validity buffer for every column, buffer regions 8-aligned inside the
// body, the per-buffer compression prefix (0 / -1 / uncompressed length), and
// the raw buffers of every column type rebuilt independently here. Then the
// round trip: writer -> batch_builder -> batch_reader -> the ARROW record
// source gives the keys and COMPACTED values of the same rows (§5), as Arrow
// keeps them (whole seconds at precision 0, micros at 4..6).
#include <fluss_fetch/log/arrow.hpp>
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/records.hpp>
#include <fluss_fetch/log/row.hpp>

#include "log/codec.hpp"
#include "log/compacted.hpp"
#include "support/columns.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace fluss_fetch::log;

namespace {

using rows_t = std::vector<std::pair<change_type, row>>;

template <class T>
T load(const std::string& b, std::size_t pos) {
    if (pos + sizeof(T) > b.size()) throw std::out_of_range("read past the end at " + std::to_string(pos));
    T v;
    std::memcpy(&v, b.data() + pos, sizeof v);
    return v;
}

template <class T>
std::string le(T v) {
    std::string s(sizeof v, '\0');
    std::memcpy(s.data(), &v, sizeof v);
    return s;
}

std::span<const std::byte> bytes_of(const std::string& s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }

// A flatbuffer table inside `buf`: fields looked up through its vtable.
struct fb_table {
    const std::string* buf = nullptr;
    std::size_t pos = 0;

    // The position of field `id`, or 0 when absent.
    std::size_t field(int id) const {
        const auto vt = static_cast<std::size_t>(static_cast<std::int64_t>(pos) - load<std::int32_t>(*buf, pos));
        const auto vt_size = load<std::uint16_t>(*buf, vt);
        const auto slot = static_cast<std::size_t>(4 + 2 * id);
        if (slot + 2 > vt_size) return 0;
        const auto off = load<std::uint16_t>(*buf, vt + slot);
        return off == 0 ? 0 : pos + off;
    }
    bool has(int id) const { return field(id) != 0; }
    template <class T>
    T scalar(int id, T def = 0) const {
        const auto at = field(id);
        return at == 0 ? def : load<T>(*buf, at);
    }
    std::size_t ref(int id) const {  // uoffset target
        const auto at = field(id);
        if (at == 0) throw std::runtime_error("offset field " + std::to_string(id) + " absent");
        return at + load<std::uint32_t>(*buf, at);
    }
    fb_table table(int id) const { return {buf, ref(id)}; }
};

struct pair64 {
    std::int64_t a, b;
};

// What the record area says, parsed with no help from the writer's code.
struct parsed {
    std::string change_types;
    std::int32_t metadata_length = 0;
    std::string metadata;
    std::int16_t version = 0;
    std::uint8_t header_type = 0;
    std::int64_t body_length = 0;
    std::int64_t length = 0;
    std::vector<pair64> nodes;    // length, null_count
    std::vector<pair64> buffers;  // offset, length
    bool has_compression = false;
    bool codec_field_present = false;
    std::int8_t codec = 0;
    std::string body;
    arrow_compression compression = arrow_compression::none;

    std::string region(std::size_t i) const {
        return body.substr(static_cast<std::size_t>(buffers.at(i).a), static_cast<std::size_t>(buffers.at(i).b));
    }
    // The uncompressed buffer i, through codec.hpp when compressed.
    std::string raw(std::size_t i) const {
        const std::string r = region(i);
        if (!has_compression) return r;
        const auto prefix = load<std::int64_t>(r, 0);
        if (prefix == 0) {
            EXPECT_EQ(r.size(), 8u) << "buffer " << i << ": prefix 0 with data after it";
            return {};
        }
        if (prefix == -1) return r.substr(8);
        std::string out(static_cast<std::size_t>(prefix), '\0');
        auto in = bytes_of(r).subspan(8);
        auto dst = std::span(reinterpret_cast<std::byte*>(out.data()), out.size());
        if (codec == 1) fluss_fetch::log::detail::zstd_decompress(in, dst);
        else fluss_fetch::log::detail::lz4_frame_decompress(in, dst);
        return out;
    }
    std::int64_t prefix(std::size_t i) const { return load<std::int64_t>(region(i), 0); }
};

parsed parse(const std::string& area, std::size_t nrows, bool append_only) {
    parsed p;
    std::size_t at = 0;
    if (!append_only) {
        p.change_types = area.substr(0, nrows);
        at = nrows;
    }
    const std::string ipc = area.substr(at);
    EXPECT_EQ(load<std::uint32_t>(ipc, 0), 0xFFFFFFFFu) << "continuation marker";
    p.metadata_length = load<std::int32_t>(ipc, 4);
    EXPECT_EQ((8 + p.metadata_length) % 8, 0) << "metadata length " << p.metadata_length;
    p.metadata = ipc.substr(8, static_cast<std::size_t>(p.metadata_length));
    const fb_table msg{&p.metadata, load<std::uint32_t>(p.metadata, 0)};
    p.version = msg.scalar<std::int16_t>(0);
    p.header_type = msg.scalar<std::uint8_t>(1);
    p.body_length = msg.scalar<std::int64_t>(3);
    const fb_table rb = msg.table(2);
    p.length = rb.scalar<std::int64_t>(0);
    for (int v = 1; v <= 2; ++v) {
        const std::size_t vec = rb.ref(v);
        const auto n = load<std::uint32_t>(p.metadata, vec);
        EXPECT_EQ((vec + 4) % 8, 0u) << "struct vector " << v << " elements 8-aligned";
        for (std::uint32_t i = 0; i < n; ++i)
            (v == 1 ? p.nodes : p.buffers)
                .push_back({load<std::int64_t>(p.metadata, vec + 4 + 16 * i), load<std::int64_t>(p.metadata, vec + 12 + 16 * i)});
    }
    p.has_compression = rb.has(3);
    if (p.has_compression) {
        const fb_table bc = rb.table(3);
        p.codec_field_present = bc.has(0);
        p.codec = bc.scalar<std::int8_t>(0);
        EXPECT_FALSE(bc.has(1)) << "method BUFFER is the default";
        p.compression = p.codec == 1 ? arrow_compression::zstd : arrow_compression::lz4_frame;
    }
    p.body = ipc.substr(8 + static_cast<std::size_t>(p.metadata_length));
    return p;
}

// Structural checks every record area must pass.
void check_layout(const parsed& p, std::size_t nrows, std::size_t ncols, std::size_t nbuffers) {
    EXPECT_EQ(p.version, 4) << "MetadataVersion V5";
    EXPECT_EQ(p.header_type, 3) << "RecordBatch";
    EXPECT_EQ(p.length, static_cast<std::int64_t>(nrows));
    EXPECT_EQ(p.body_length, static_cast<std::int64_t>(p.body.size())) << "bodyLength = bytes after the metadata";
    EXPECT_EQ(p.body.size() % 8, 0u);
    ASSERT_EQ(p.nodes.size(), ncols);
    for (const auto& n : p.nodes) EXPECT_EQ(n.a, static_cast<std::int64_t>(nrows));
    ASSERT_EQ(p.buffers.size(), nbuffers);
    std::int64_t end = 0;
    for (std::size_t i = 0; i < p.buffers.size(); ++i) {
        const auto& b = p.buffers[i];
        EXPECT_EQ(b.a % 8, 0) << "buffer " << i << " offset " << b.a;
        EXPECT_GE(b.a, end) << "buffer " << i << " overlaps the one before";
        EXPECT_LE(b.a + b.b, static_cast<std::int64_t>(p.body.size())) << "buffer " << i << " past the body";
        EXPECT_LT(b.a - end, 8) << "buffer " << i << ": more than the alignment gap";
        for (auto k = end; k < b.a; ++k) EXPECT_EQ(p.body[static_cast<std::size_t>(k)], '\0') << "gap byte " << k;
        end = b.a + b.b;
    }
    EXPECT_LT(static_cast<std::int64_t>(p.body.size()) - end, 8) << "body padded to 8, no more";
    for (auto k = end; k < static_cast<std::int64_t>(p.body.size()); ++k) EXPECT_EQ(p.body[static_cast<std::size_t>(k)], '\0');
}

using test_support::col;

std::string bits(const std::vector<bool>& v) {
    std::string s((v.size() + 7) / 8, '\0');
    for (std::size_t i = 0; i < v.size(); ++i)
        if (v[i]) s[i / 8] = static_cast<char>(s[i / 8] | (1 << (i % 8)));
    return s;
}

const arrow_compression all_compressions[] = {arrow_compression::none, arrow_compression::lz4_frame, arrow_compression::zstd};

// (k INT NOT NULL, s STRING): 3 rows, one null string.
schema small_schema() {
    schema s;
    s.columns = {col("k", data_type::int_, false), col("s", data_type::string)};
    s.primary_key = {0};
    return s;
}
rows_t small_rows() {
    return {{change_type::insert, {std::int32_t{1}, std::string("alice")}},
            {change_type::update_after, {std::int32_t{-2}, std::monostate{}}},
            {change_type::del, {std::int32_t{3}, std::string("carol")}}};
}

TEST(arrow_write, compression_names_are_fluss_option_values) {
    EXPECT_STREQ(compression_name(arrow_compression::none), "NONE");
    EXPECT_STREQ(compression_name(arrow_compression::lz4_frame), "LZ4_FRAME");
    EXPECT_STREQ(compression_name(arrow_compression::zstd), "ZSTD");
}

TEST(arrow_write, no_rows_is_an_empty_area) {
    const auto s = small_schema();
    for (auto c : all_compressions) {
        EXPECT_EQ(encode_arrow_records(s, {}, false, {c}), "");
        EXPECT_EQ(encode_arrow_records(s, {}, true, {c}), "");
    }
}

TEST(arrow_write, layout_and_raw_buffers_in_every_compression) {
    const auto s = small_schema();
    const auto rows = small_rows();
    for (auto c : all_compressions) {
        SCOPED_TRACE(compression_name(c));
        const auto area = encode_arrow_records(s, rows, false, {c});
        const auto p = parse(area, rows.size(), false);
        check_layout(p, 3, 2, 5);  // k: validity, data; s: validity, offsets, data
        EXPECT_EQ(p.change_types, std::string("\x01\x03\x04", 3));
        EXPECT_EQ(p.nodes[0].b, 0);
        EXPECT_EQ(p.nodes[1].b, 1);
        EXPECT_EQ(p.raw(0), bits({true, true, true})) << "NOT NULL columns still get a validity buffer";
        EXPECT_EQ(p.raw(1), le<std::int32_t>(1) + le<std::int32_t>(-2) + le<std::int32_t>(3));
        EXPECT_EQ(p.raw(2), bits({true, false, true}));
        EXPECT_EQ(p.raw(3), le<std::int32_t>(0) + le<std::int32_t>(5) + le<std::int32_t>(5) + le<std::int32_t>(10));
        EXPECT_EQ(p.raw(4), "alicecarol");
        if (c == arrow_compression::none) {
            EXPECT_FALSE(p.has_compression) << "NONE writes no BodyCompression";
            EXPECT_EQ(p.buffers[0].b, 1) << "Buffer.length is the unpadded size";
            EXPECT_EQ(p.buffers[4].b, 10);
        } else {
            ASSERT_TRUE(p.has_compression);
            EXPECT_EQ(p.codec_field_present, c == arrow_compression::zstd) << "LZ4_FRAME (0) is the default: omitted";
            EXPECT_EQ(p.codec, c == arrow_compression::zstd ? 1 : 0);
            // Tiny buffers do not shrink: kept raw behind -1.
            for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(p.prefix(i), -1) << "buffer " << i;
            EXPECT_EQ(p.buffers[0].b, 9) << "prefix + 1 byte, unpadded";
        }
    }
}

TEST(arrow_write, append_only_has_no_change_type_bytes) {
    const auto s = small_schema();
    rows_t rows = small_rows();
    for (auto& r : rows) r.first = change_type::append_only;
    const auto with = encode_arrow_records(s, rows, false, {arrow_compression::none});
    const auto without = encode_arrow_records(s, rows, true, {arrow_compression::none});
    EXPECT_EQ(with.size(), without.size() + 3);
    EXPECT_EQ(with.substr(3), without);
    EXPECT_EQ(without.substr(0, 4), "\xff\xff\xff\xff");
    const auto p = parse(without, 3, true);
    check_layout(p, 3, 2, 5);
    EXPECT_EQ(p.raw(4), "alicecarol");
}

TEST(arrow_write, compressible_buffers_carry_the_uncompressed_length) {
    schema s;
    s.columns = {col("k", data_type::bigint, false), col("s", data_type::string)};
    rows_t rows;
    for (int i = 0; i < 1000; ++i) rows.push_back({change_type::insert, {std::int64_t{i % 3}, std::string("fluss fluss fluss")}});
    for (auto c : {arrow_compression::lz4_frame, arrow_compression::zstd}) {
        SCOPED_TRACE(compression_name(c));
        const auto area = encode_arrow_records(s, rows, false, {c, 5});
        const auto p = parse(area, rows.size(), false);
        check_layout(p, 1000, 2, 5);
        // Every buffer here compresses: 125 bytes of 0xff validity, 8000 bytes of data, ...
        // (The offsets, 1001 distinct int32s, may or may not shrink: either prefix is right.)
        for (std::size_t i = 0; i < 5; ++i) {
            const auto raw_size = static_cast<std::int64_t>(p.raw(i).size());
            if (i == 3 && p.prefix(i) == -1) continue;
            EXPECT_EQ(p.prefix(i), raw_size) << "buffer " << i;
            EXPECT_LE(p.buffers[i].b, raw_size + 8) << "buffer " << i << ": the frame is no larger than the raw bytes";
        }
        EXPECT_EQ(p.raw(0), std::string(125, '\xff'));
        std::string data;
        for (int i = 0; i < 1000; ++i) data += le<std::int64_t>(i % 3);
        EXPECT_EQ(p.raw(1), data);
        std::string text;
        for (int i = 0; i < 1000; ++i) text += "fluss fluss fluss";
        EXPECT_EQ(p.raw(4), text);
        const auto frame = p.region(1).substr(8, 4);
        if (c == arrow_compression::zstd) EXPECT_EQ(frame, "\x28\xb5\x2f\xfd") << "a ZSTD frame";
        else EXPECT_EQ(frame, "\x04\x22\x4d\x18") << "an LZ4 frame";
    }
}

// Kept raw only when the frame is strictly larger (Arrow Java
// AbstractCompressionCodec: compressedLength > uncompressedLength): runs of
// zero bytes of every length from 1 to 64 cross over, and at some length
// the frame is exactly as long as the raw bytes (17 for ZSTD-3, 26 for LZ4):
// then the frame is kept.
TEST(arrow_write, a_frame_as_long_as_the_raw_bytes_is_kept_compressed) {
    schema s;
    s.columns = {col("z", data_type::tinyint, false)};
    for (auto c : {arrow_compression::lz4_frame, arrow_compression::zstd}) {
        SCOPED_TRACE(compression_name(c));
        int equal = 0;
        for (std::size_t n = 1; n <= 64; ++n) {
            const rows_t rows(n, {change_type::insert, {std::int8_t{0}}});
            const auto p = parse(encode_arrow_records(s, rows, true, {c, 3}), n, true);
            const std::string raw(n, '\0');
            const auto frame = c == arrow_compression::zstd ? fluss_fetch::log::detail::zstd_compress(bytes_of(raw), 3)
                                                            : fluss_fetch::log::detail::lz4_frame_compress(bytes_of(raw));
            equal += frame.size() == n;
            EXPECT_EQ(p.prefix(1), frame.size() > n ? -1 : static_cast<std::int64_t>(n)) << n << " rows";
            EXPECT_EQ(p.raw(1), raw);
        }
        EXPECT_GE(equal, 1) << "no length where the frame equals the raw bytes: the boundary is not tested";
    }
}

TEST(arrow_write, empty_buffers_are_prefix_zero_when_compressed_and_zero_length_when_not) {
    schema s;
    s.columns = {col("s", data_type::string), col("b", data_type::bytes)};
    const rows_t rows{{change_type::insert, {std::string(), std::monostate{}}},
                      {change_type::insert, {std::string(), std::string()}}};
    for (auto c : all_compressions) {
        SCOPED_TRACE(compression_name(c));
        const auto p = parse(encode_arrow_records(s, rows, false, {c}), 2, false);
        check_layout(p, 2, 2, 6);
        EXPECT_EQ(p.nodes[1].b, 1);
        for (std::size_t data : {2u, 5u}) {
            EXPECT_EQ(p.raw(data), "");
            if (c == arrow_compression::none) EXPECT_EQ(p.buffers[data].b, 0);
            else {
                EXPECT_EQ(p.buffers[data].b, 8);
                EXPECT_EQ(p.prefix(data), 0);
            }
        }
        EXPECT_EQ(p.raw(3), bits({false, true}));
        EXPECT_EQ(p.raw(4), std::string(12, '\0'));
    }
}

// Every column type of row.hpp with the Arrow value encoding Fluss's writers use.
TEST(arrow_write, every_type_in_its_arrow_encoding) {
    schema s;
    s.columns = {
        col("bo", data_type::boolean),
        col("i8", data_type::tinyint),
        col("i16", data_type::smallint),
        col("i32", data_type::int_),
        col("i64", data_type::bigint),
        col("f", data_type::float_),
        col("d", data_type::double_),
        col("str", data_type::string),
        col("by", data_type::bytes),
        col("ch", data_type::char_, true, 6, 0, 4),
        col("bin", data_type::binary, true, 6, 0, 3),
        col("dec", data_type::decimal, true, 10, 2),
        col("dec38", data_type::decimal, true, 38, 5),
        col("day", data_type::date),
        col("t0", data_type::time, true, 0),
        col("t3", data_type::time, true, 3),
        col("t6", data_type::time, true, 6),
        col("t9", data_type::time, true, 9),
        col("ts0", data_type::timestamp, true, 0),
        col("ts3", data_type::timestamp, true, 3),
        col("ts6", data_type::timestamp, true, 6),
        col("ts9", data_type::timestamp, true, 9),
        col("ltz3", data_type::timestamp_ltz, true, 3),
        col("ltz6", data_type::timestamp_ltz, true, 6),
    };
    __extension__ const __int128 big = static_cast<__int128>(9'999'999'999'999'999'999ULL) * 10'000'000'000'000'000'000ULL;
    const row r0{true,
                 std::int8_t{-5},
                 std::int16_t{-300},
                 std::int32_t{70000},
                 std::int64_t{-1},
                 1.5f,
                 -2.25,
                 std::string("漢字"),
                 std::string("\x00\xff", 2),
                 std::string("ab"),
                 std::string("\x01\x02\x03"),
                 decimal_value{-12345},
                 decimal_value{-big},
                 std::int32_t{-1},
                 std::int32_t{3'723'456},
                 std::int32_t{3'723'456},
                 std::int32_t{3'723'456},
                 std::int32_t{3'723'456},
                 timestamp_value{-1500, 0},
                 timestamp_value{-1500, 0},
                 timestamp_value{1'700'000'000'123, 456'789},
                 timestamp_value{-1, 999'999},
                 timestamp_value{42, 0},
                 timestamp_value{-2, 5'000}};
    row r1(s.columns.size(), std::monostate{});
    const row r2{false,
                 std::int8_t{127},
                 std::int16_t{32767},
                 std::int32_t{-2147483647 - 1},
                 std::int64_t{9'000'000'000},
                 -0.0f,
                 1e300,
                 std::string(),
                 std::string("xyz"),
                 std::string("abcd"),
                 std::string("\xff\xfe\xfd"),
                 decimal_value{99'999'999},
                 decimal_value{big},
                 std::int32_t{19'000},
                 std::int32_t{999},
                 std::int32_t{999},
                 std::int32_t{0},
                 std::int32_t{86'399'999},
                 timestamp_value{1999, 0},
                 timestamp_value{1999, 7},
                 timestamp_value{-1, 1'000},
                 timestamp_value{0, 1},
                 timestamp_value{-42, 0},
                 timestamp_value{3, 999'999}};
    const rows_t rows{{change_type::insert, r0}, {change_type::update_before, r1}, {change_type::update_after, r2}};
    const std::string valid = bits({true, false, true});

    for (auto c : all_compressions) {
        SCOPED_TRACE(compression_name(c));
        const auto p = parse(encode_arrow_records(s, rows, false, {c, 1}), 3, false);
        check_layout(p, 3, s.columns.size(), 2 * s.columns.size() + 3);  // 3 variable-width columns
        std::size_t b = 0;
        auto next = [&] { return p.raw(b++); };
        auto fixed = [&](auto v0, auto v2) {
            using T = decltype(v0);
            EXPECT_EQ(next(), valid);
            EXPECT_EQ(next(), le<T>(v0) + le<T>(0) + le<T>(v2));
        };
        for (const auto& n : p.nodes) EXPECT_EQ(n.b, 1);
        EXPECT_EQ(p.change_types, std::string("\x01\x02\x03", 3));

        EXPECT_EQ(next(), valid) << "bo";
        EXPECT_EQ(next(), bits({true, false, false})) << "bo";
        fixed(std::int8_t{-5}, std::int8_t{127});
        fixed(std::int16_t{-300}, std::int16_t{32767});
        fixed(std::int32_t{70000}, std::int32_t{-2147483647 - 1});
        fixed(std::int64_t{-1}, std::int64_t{9'000'000'000});
        fixed(1.5f, -0.0f);
        fixed(-2.25, 1e300);
        // STRING, BYTES, CHAR(4) (no padding): validity, int32 offsets, data.
        const std::pair<std::string, std::string> var[] = {
            {"漢字", ""}, {std::string("\x00\xff", 2), "xyz"}, {"ab", "abcd"}};
        for (const auto& [v0, v2] : var) {
            EXPECT_EQ(next(), valid);
            const auto o1 = static_cast<std::int32_t>(v0.size());
            EXPECT_EQ(next(), le<std::int32_t>(0) + le(o1) + le(o1) + le(static_cast<std::int32_t>(o1 + v2.size())));
            EXPECT_EQ(next(), v0 + v2);
        }
        // BINARY(3): FixedSizeBinary, nulls zero-filled.
        EXPECT_EQ(next(), valid);
        EXPECT_EQ(next(), std::string("\x01\x02\x03\x00\x00\x00\xff\xfe\xfd", 9));
        // DECIMAL: 16-byte little-endian two's complement of the unscaled value.
        __extension__ using i128 = __int128;
        fixed(i128{-12345}, i128{99'999'999});
        fixed(-big, big);
        fixed(std::int32_t{-1}, std::int32_t{19'000});  // DATE
        // TIME(p) from int32 millis: s / ms as int32, us / ns as int64.
        fixed(std::int32_t{3723}, std::int32_t{0});
        fixed(std::int32_t{3'723'456}, std::int32_t{999});
        fixed(std::int64_t{3'723'456'000}, std::int64_t{0});
        fixed(std::int64_t{3'723'456'000'000}, std::int64_t{86'399'999'000'000});
        // TIMESTAMP(0): -1500 ms truncates toward zero to -1 s (Java's division), 1999 ms to 1 s.
        fixed(std::int64_t{-1}, std::int64_t{1});
        fixed(std::int64_t{-1500}, std::int64_t{1999});  // p3 drops nanos of milli
        fixed(std::int64_t{1'700'000'000'123'456}, std::int64_t{-1000 + 1});  // p6: ms*1000 + ns/1000
        fixed(std::int64_t{-1'000'000 + 999'999}, std::int64_t{1});           // p9: ms*10^6 + ns
        fixed(std::int64_t{42}, std::int64_t{-42});                           // LTZ like TIMESTAMP
        fixed(std::int64_t{-2000 + 5}, std::int64_t{3000 + 999});
        EXPECT_EQ(b, p.buffers.size());
    }
}

TEST(arrow_write, fields_that_do_not_fit_their_column_are_named) {
    auto expect_error = [](const schema& s, const row& r, const std::string& words) {
        const rows_t rows{{change_type::insert, r}};
        try {
            encode_arrow_records(s, rows, false);
            ADD_FAILURE() << "no error; wanted one with '" << words << "'";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
        }
    };
    schema s;
    s.columns = {col("bin", data_type::binary, true, 6, 0, 4)};
    // (The type's name comes from type_name(), owned by row.cpp: not asserted for the newer types.)
    expect_error(s, {std::string("abc")}, "column 'bin' (");
    expect_error(s, {std::string("abc")}, "row 0: has 3 bytes, BINARY(4) needs exactly 4");
    s.columns = {col("id", data_type::int_, false)};
    expect_error(s, {std::monostate{}}, "column 'id' (INT), row 0: is NOT NULL");
    expect_error(s, {std::int64_t{1}}, "column 'id' (INT), row 0: needs an int32");
    s.columns = {col("d", data_type::decimal, true, 3, 0)};
    expect_error(s, {decimal_value{1000}}, "column 'd' (");
    expect_error(s, {decimal_value{1000}}, "row 0: unscaled value has more than 3 digits");
    expect_error(s, {decimal_value{-1000}}, "more than 3 digits");
    s.columns = {col("ts", data_type::timestamp, true, 9)};
    expect_error(s, {timestamp_value{INT64_MAX / 1000, 0}}, "column 'ts' (TIMESTAMP), row 0: timestamp of");
    expect_error(s, {timestamp_value{0, 1'000'000}}, "nanos of milli 1000000");
    expect_error(s, {std::monostate{}, std::monostate{}}, "row 0 has 2 fields, the schema 1");
    EXPECT_THROW(encode_arrow_records(s, rows_t{{change_type::insert, {std::monostate{}}}}, false, {arrow_compression::zstd, 0}),
                 std::invalid_argument);
    EXPECT_NO_THROW(encode_arrow_records(s, rows_t{{change_type::insert, {std::monostate{}}}}, false, {arrow_compression::zstd, 22}));
}

// The writer's area goes into a batch whose CRC the reader accepts, records starting after the header.
TEST(arrow_write, the_area_fits_a_batch_of_every_magic) {
    const auto s = small_schema();
    const auto rows = small_rows();
    const auto area = encode_arrow_records(s, rows, false);
    for (std::int8_t magic : {0, 1, 2}) {
        batch_builder b;
        b.magic = magic;
        b.set_raw_records(area, 3);
        const auto built = b.build();
        batch_reader r(bytes_of(built), "seg");
        const auto v = r.next();
        ASSERT_TRUE(v);
        EXPECT_EQ(v->header.record_count, 3);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(v->records.data()), v->records.size()), area);
    }
}


// ---------------------------------------------------------------- round trip

// A row as it comes back out of Arrow (fluss-arrow.md §4, §5): TIME(0) and
// TIMESTAMP(0) keep whole seconds (truncated toward zero), TIMESTAMP(1..3)
// no nanos, TIMESTAMP(4..6) whole micros.
row arrow_kept(const schema& s, row r) {
    for (std::size_t i = 0; i < r.size(); ++i) {
        const auto& c = s.columns[i];
        if (auto* ms = std::get_if<std::int32_t>(&r[i]); ms && c.type == data_type::time && c.precision == 0)
            *ms = *ms / 1000 * 1000;
        if (auto* t = std::get_if<timestamp_value>(&r[i])) {
            if (c.precision == 0) t->millis = t->millis / 1000 * 1000;
            if (c.precision <= 3) t->nanos_of_milli = 0;
            else if (c.precision <= 6) t->nanos_of_milli = t->nanos_of_milli / 1000 * 1000;
        }
    }
    return r;
}

struct read_record {
    change_type type;
    std::int64_t offset;
    std::string key, value;
};

// The records of `area` in a batch at base offset 100, schema id 5, read back through the ARROW source.
std::vector<read_record> read_back(const schema& s, const std::string& area, std::int32_t count, bool append_only) {
    batch_builder b;
    b.base_offset = 100;
    b.schema_id = 5;
    b.attributes = append_only ? 1 : 0;
    b.set_raw_records(area, count);
    const std::string file = b.build();
    batch_reader reader(bytes_of(file), "seg-rt");
    auto batch = reader.next();
    EXPECT_TRUE(batch);
    std::vector<read_record> out;
    if (!batch) return out;
    auto src = make_record_source(log_format::arrow, s);
    src->open(*batch, "seg-rt");
    kv_record rec;
    while (src->next(rec)) out.push_back({rec.type, rec.offset, std::string(rec.key), std::string(rec.value)});
    return out;
}

// Rows -> area -> batch -> records: each record's key and value are what
// `key_of` and `value_of` give for the row as Arrow keeps it.
template <class Key, class Value>
void expect_round_trip(const schema& s, const rows_t& rows, bool append_only, Key key_of, Value value_of) {
    for (auto c : all_compressions) {
        SCOPED_TRACE(compression_name(c));
        const auto recs = read_back(s, encode_arrow_records(s, rows, append_only, {c, 3}),
                                    static_cast<std::int32_t>(rows.size()), append_only);
        ASSERT_EQ(recs.size(), rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            SCOPED_TRACE("row " + std::to_string(i));
            const auto type = append_only ? change_type::append_only : rows[i].first;
            const row kept = arrow_kept(s, rows[i].second);
            EXPECT_EQ(recs[i].type, type);
            EXPECT_EQ(recs[i].offset, 100 + static_cast<std::int64_t>(i));
            if (type == change_type::update_before) {
                EXPECT_EQ(recs[i].key, "");
                EXPECT_EQ(recs[i].value, "");
                continue;
            }
            EXPECT_EQ(recs[i].key, key_of(kept));
            EXPECT_EQ(recs[i].value, type == change_type::del ? std::string() : std::string("\x05\x00", 2) + value_of(kept));
        }
    }
}

// The types encode_row knows: its COMPACTED rows and encode_key are the oracle.
TEST(arrow_write, round_trip_gives_encode_key_and_encode_row_of_the_rows) {
    schema s;
    s.columns = {col("id", data_type::int_, false), col("name", data_type::string), col("amount", data_type::bigint),
                 col("price", data_type::double_), col("active", data_type::boolean), col("level", data_type::tinyint),
                 col("code", data_type::smallint), col("ratio", data_type::float_), col("payload", data_type::bytes),
                 col("day", data_type::date), col("at", data_type::time, true, 3), col("ts", data_type::timestamp, true, 6),
                 col("ts0", data_type::timestamp, true, 0), col("ts9", data_type::timestamp, true, 9)};
    s.primary_key = {0, 1};
    s.columns[1].nullable = false;
    rows_t rows;
    const change_type types[] = {change_type::insert, change_type::update_before, change_type::update_after, change_type::del};
    for (int i = 0; i < 200; ++i) {
        row r{std::int32_t{i * 7919 - 500000},
              std::string(static_cast<std::size_t>(i % 13), static_cast<char>('a' + i % 26)) + "é",
              std::int64_t{i} * -1'000'000'007LL,
              i * 0.25,
              i % 3 == 0,
              static_cast<std::int8_t>(i - 100),
              static_cast<std::int16_t>(i * 300 - 30000),
              static_cast<float>(i) / 8.0f,
              std::string(static_cast<std::size_t>(i % 5), static_cast<char>(i)),
              std::int32_t{i * 100 - 10000},
              std::int32_t{i * 431'999},
              timestamp_value{1'700'000'000'000LL + i * 12345, (i * 7777) % 1'000'000},
              timestamp_value{-1'000'000LL + i * 777, 0},  // p0: negative non-whole seconds truncate toward zero
              timestamp_value{1'000LL * i, (i * 999) % 1'000'000}};
        if (i % 5 == 2)  // every nullable column null
            for (std::size_t k = 2; k < r.size(); ++k) r[k] = std::monostate{};
        rows.push_back({types[i % 4], std::move(r)});
    }
    auto key = [&](const row& r) { return encode_key(s, r); };
    auto value = [&](const row& r) { return encode_row(s, r, row_format::compacted); };
    expect_round_trip(s, rows, false, key, value);
    expect_round_trip(s, rows, true, key, value);
    // The truncation is really exercised: TIMESTAMP(0) of -999223 ms comes back as -999000.
    EXPECT_EQ(std::get<timestamp_value>(arrow_kept(s, rows[1].second)[12]).millis, -999'000);
}

// A COMPACTED row (fluss-arrow.md §5) built from the field writers of
// compacted.hpp: the oracle for the types row.cpp on this branch does not
// encode yet (CHAR, BINARY, DECIMAL, TIMESTAMP_LTZ, TIME(p)).
std::string compacted_field(const column& c, const field& f) {
    namespace d = fluss_fetch::log::detail;
    std::string out;
    switch (c.type) {
    case data_type::int_:
    case data_type::time: d::put_int32(out, std::get<std::int32_t>(f)); break;
    case data_type::string:
    case data_type::char_:
    case data_type::binary: {
        const auto& v = std::get<std::string>(f);
        d::put_bytes(out, v.data(), v.size());
        break;
    }
    case data_type::decimal: d::put_decimal(out, std::get<decimal_value>(f).unscaled, c.precision); break;
    case data_type::timestamp:
    case data_type::timestamp_ltz: {
        const auto& t = std::get<timestamp_value>(f);
        d::put_timestamp(out, t.millis, t.nanos_of_milli, c.precision);
        break;
    }
    default: ADD_FAILURE() << "oracle lacks " << c.name;
    }
    return out;
}

TEST(arrow_write, round_trip_of_char_binary_decimal_ltz_and_time_precisions) {
    schema s;
    s.columns = {col("id", data_type::int_, false),        col("ch", data_type::char_, true, 6, 0, 5),
                 col("bin", data_type::binary, false, 6, 0, 4), col("dec", data_type::decimal, true, 18, 4),
                 col("dec38", data_type::decimal, false, 38, 10), col("ltz", data_type::timestamp_ltz, true, 6),
                 col("ltz0", data_type::timestamp_ltz, true, 0), col("t0", data_type::time, true, 0),
                 col("t6", data_type::time, true, 6), col("t9", data_type::time, true, 9)};
    s.primary_key = {2, 4, 0};  // BINARY, DECIMAL(38) and INT in the key
    __extension__ const __int128 big = static_cast<__int128>(9'999'999'999'999'999'999ULL) * 10'000'000'000'000'000'000ULL;
    rows_t rows;
    for (int i = 0; i < 100; ++i) {
        std::string bin(4, '\0');
        for (int k = 0; k < 4; ++k) bin[static_cast<std::size_t>(k)] = static_cast<char>(i * 31 + k * 77);
        __extension__ const __int128 d38 = i % 3 == 0 ? big - i : (i % 3 == 1 ? -big + i : __int128{i} * -1'000'003);
        row r{std::int32_t{i},
              std::string(static_cast<std::size_t>(i % 6), 'c'),  // CHAR(5): up to 5 chars, no padding
              bin,
              decimal_value{(i % 2 ? -1 : 1) * (999'999'999'999'999'999LL - i)},
              decimal_value{d38},
              timestamp_value{1'600'000'000'000LL + i * 999, (i * 12'347) % 1'000'000},
              timestamp_value{-5'000LL - i * 333, 0},
              std::int32_t{i * 863'999},
              std::int32_t{i * 863'999},
              std::int32_t{86'399'999 - i}};
        if (i % 7 == 3) {
            for (std::size_t k : {1u, 3u, 5u, 6u, 7u, 8u, 9u}) r[k] = std::monostate{};
        }
        rows.push_back({i % 4 == 3 ? change_type::del : change_type::insert, std::move(r)});
    }
    auto key = [&](const row& r) {
        std::string k;
        for (auto idx : s.primary_key) k += compacted_field(s.columns[idx], r[idx]);
        return k;
    };
    auto value = [&](const row& r) {
        std::string v((r.size() + 7) / 8, '\0');
        for (std::size_t i = 0; i < r.size(); ++i)
            if (std::holds_alternative<std::monostate>(r[i])) v[i / 8] = static_cast<char>(v[i / 8] | (1 << (i % 8)));
        for (std::size_t i = 0; i < r.size(); ++i)
            if (!std::holds_alternative<std::monostate>(r[i])) v += compacted_field(s.columns[i], r[i]);
        return v;
    };
    expect_round_trip(s, rows, false, key, value);
    expect_round_trip(s, rows, true, key, value);
}

}  // namespace
