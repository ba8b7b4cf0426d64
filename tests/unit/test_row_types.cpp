// CHAR, BINARY, DECIMAL, TIMESTAMP_LTZ and TIME(p): the schema grammar (with
// Fluss's defaults and ranges), the COMPACTED and INDEXED layouts against
// hand-computed bytes, round trips at the extremes, the key fast path against
// encode_key(decode_row(...)), and corrupt bytes named by column and row byte.
#include <fluss_fetch/log/row.hpp>

#include "support/hex.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

using namespace fluss_fetch::log;
using fluss_fetch::test::unhex;

namespace {

__extension__ typedef __int128 i128;

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

i128 pow10(int p) {
    i128 v = 1;
    for (int i = 0; i < p; ++i) v *= 10;
    return v;
}

decimal_value dec(i128 v) { return decimal_value{v}; }

template <class F>
std::string error_of(F f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(no error)";
}

std::string parse_error(std::string_view cols, std::string_view pk = "id") {
    return error_of([&] { schema::parse(cols, pk); });
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// "id INT, x <type>" with key (id, x): the row {1, v} in a format.
struct one_column {
    schema s;
    explicit one_column(const std::string& type) : s(schema::parse("id INT, x " + type, "id, x")) {}
    std::string encode(const field& v, row_format f) const { return encode_row(s, {std::int32_t{1}, v}, f); }
    field decode(const std::string& bytes, row_format f) const { return decode_row(s, bytes_of(bytes), f).at(1); }
    std::string key(const std::string& bytes, row_format f) const { return key_of(s, bytes_of(bytes), f); }
    std::string decode_error(const std::string& bytes, row_format f) const {
        return error_of([&] { decode_row(s, bytes_of(bytes), f); });
    }
};

}  // namespace

// ------------------------------------------------------------------ grammar

TEST(row_types_grammar, every_new_type_with_its_parameters) {
    const auto s = schema::parse(
        "id INT, c CHAR(5), b BINARY(4), d DECIMAL(20, 3), e decimal(9,2), f DECIMAL(7), l TIMESTAMP_LTZ(9), "
        "t TIME(3), ts TIMESTAMP(9)",
        "id");
    ASSERT_EQ(s.columns.size(), 9u);
    EXPECT_EQ(s.columns[1].type, data_type::char_);
    EXPECT_EQ(s.columns[1].length, 5);
    EXPECT_EQ(s.columns[2].type, data_type::binary);
    EXPECT_EQ(s.columns[2].length, 4);
    EXPECT_EQ(s.columns[3].type, data_type::decimal);
    EXPECT_EQ(s.columns[3].precision, 20);
    EXPECT_EQ(s.columns[3].scale, 3);
    EXPECT_EQ(s.columns[4].precision, 9);
    EXPECT_EQ(s.columns[4].scale, 2);
    EXPECT_EQ(s.columns[5].precision, 7);
    EXPECT_EQ(s.columns[5].scale, 0);
    EXPECT_EQ(s.columns[6].type, data_type::timestamp_ltz);
    EXPECT_EQ(s.columns[6].precision, 9);
    EXPECT_EQ(s.columns[7].type, data_type::time);
    EXPECT_EQ(s.columns[7].precision, 3);
    EXPECT_EQ(s.columns[8].type, data_type::timestamp);
    EXPECT_EQ(s.columns[8].precision, 9);
    // DataTypeParser's synonyms of DECIMAL.
    const auto syn = schema::parse("id INT, n NUMERIC(12, 4), m dec", "id");
    EXPECT_EQ(syn.columns[1].type, data_type::decimal);
    EXPECT_EQ(syn.columns[1].precision, 12);
    EXPECT_EQ(syn.columns[1].scale, 4);
    EXPECT_EQ(syn.columns[2].precision, 10);
    EXPECT_STREQ(type_name(data_type::char_), "CHAR");
    EXPECT_STREQ(type_name(data_type::binary), "BINARY");
    EXPECT_STREQ(type_name(data_type::decimal), "DECIMAL");
    EXPECT_STREQ(type_name(data_type::timestamp_ltz), "TIMESTAMP_LTZ");
    EXPECT_STREQ(type_name(data_type::time), "TIME");
}

// DecimalType DEFAULT_PRECISION 10 / DEFAULT_SCALE 0, CharType and BinaryType
// DEFAULT_LENGTH 1, TimeType DEFAULT_PRECISION 0, TimestampType and
// LocalZonedTimestampType DEFAULT_PRECISION 6.
TEST(row_types_grammar, bare_types_take_flusss_defaults) {
    const auto s = schema::parse("id INT, c CHAR, b BINARY, d DECIMAL, l TIMESTAMP_LTZ, t TIME, ts TIMESTAMP", "id");
    EXPECT_EQ(s.columns[1].length, 1);
    EXPECT_EQ(s.columns[2].length, 1);
    EXPECT_EQ(s.columns[3].precision, 10);
    EXPECT_EQ(s.columns[3].scale, 0);
    EXPECT_EQ(s.columns[4].type, data_type::timestamp_ltz);
    EXPECT_EQ(s.columns[4].precision, 6);
    EXPECT_EQ(s.columns[5].precision, 0);
    EXPECT_EQ(s.columns[6].type, data_type::timestamp);
    EXPECT_EQ(s.columns[6].precision, 6);
}

TEST(row_types_grammar, ranges_edges_and_spacing) {
    const auto s = schema::parse(
        "id INT, a DECIMAL(1), b DECIMAL(38, 38), c DECIMAL ( 38 , 0 ) NOT NULL, d TIME(0), e TIME(9), "
        "f TIMESTAMP_LTZ(0), g CHAR(1), h BINARY(2147483647)",
        "id");
    EXPECT_EQ(s.columns[1].precision, 1);
    EXPECT_EQ(s.columns[2].scale, 38);
    EXPECT_EQ(s.columns[3].precision, 38);
    EXPECT_FALSE(s.columns[3].nullable);
    EXPECT_EQ(s.columns[4].precision, 0);
    EXPECT_EQ(s.columns[5].precision, 9);
    EXPECT_EQ(s.columns[6].precision, 0);
    EXPECT_EQ(s.columns[8].length, 2147483647);
}

TEST(row_types_grammar, out_of_range_and_malformed_parameters_name_the_column) {
    struct bad_case {
        const char* cols;
        const char* want;
    };
    for (const auto& [cols, want] : {
             bad_case{"id INT, x TIME(10)", "TIME precision 10 is outside 0..9"},
             bad_case{"id INT, x TIMESTAMP(10)", "TIMESTAMP precision 10 is outside 0..9"},
             bad_case{"id INT, x TIMESTAMP_LTZ(12)", "TIMESTAMP_LTZ precision 12 is outside 0..9"},
             bad_case{"id INT, x DECIMAL(0)", "DECIMAL precision 0 is outside 1..38"},
             bad_case{"id INT, x DECIMAL(39, 2)", "DECIMAL precision 39 is outside 1..38"},
             bad_case{"id INT, x DECIMAL(5, 6)", "DECIMAL scale 6 is outside 0..5"},
             bad_case{"id INT, x DECIMAL(5, 2, 1)", "DECIMAL takes at most 2 parameters"},
             bad_case{"id INT, x DECIMAL()", "DECIMAL parameter '' is not a non-negative integer"},
             bad_case{"id INT, x CHAR(0)", "CHAR length 0 is outside"},
             bad_case{"id INT, x BINARY(0)", "BINARY length 0 is outside"},
             bad_case{"id INT, x CHAR(2147483648)", "CHAR length 2147483648 is outside"},
             bad_case{"id INT, x CHAR(3, 4)", "CHAR takes at most 1 parameter"},
             bad_case{"id INT, x TIME(-1)", "TIME parameter '-1' is not a non-negative integer"},
             bad_case{"id INT, x BINARY(n)", "BINARY parameter 'n' is not a non-negative integer"},
             bad_case{"id INT, x INT(3)", "INT takes no parameters"},
             bad_case{"id INT, x STRING(3)", "STRING takes no parameters"},
             bad_case{"id INT, x DECIMAL(10, 2", "unclosed '('"},
             bad_case{"id INT, x DECIMAL(10, 2) NULLABLE", "unexpected 'NULLABLE'"},
             bad_case{"id INT, x VARCHAR(3)", "unknown type 'VARCHAR'"},
             bad_case{"id INT, x DECIMAL<3>", "DECIMAL takes no '<...>'"},
         }) {
        const auto e = parse_error(cols);
        EXPECT_TRUE(contains(e, "column 2 ('x ")) << cols << ": " << e;
        EXPECT_TRUE(contains(e, want)) << cols << ": " << e;
    }
}

TEST(row_types_grammar, array_map_and_row_columns_are_rejected_by_name) {
    EXPECT_EQ(parse_error("id INT, a ARRAY<INT>"), "column 2 ('a ARRAY<INT>'): ARRAY columns are not supported");
    EXPECT_EQ(parse_error("id INT, m MAP<STRING, INT>, z INT"),
              "column 2 ('m MAP<STRING, INT>'): MAP columns are not supported");
    EXPECT_EQ(parse_error("id INT, d DECIMAL(10, 2), r ROW<a INT, b DECIMAL(5, 1)>"),
              "column 3 ('r ROW<a INT, b DECIMAL(5, 1)>'): ROW columns are not supported");
    EXPECT_EQ(parse_error("id INT, a array<map<string, int>>"),
              "column 2 ('a array<map<string, int>>'): ARRAY columns are not supported");
}

TEST(row_types_grammar, commas_inside_parentheses_do_not_split_columns) {
    const auto s = schema::parse("id INT, d DECIMAL(10, 2), x STRING, e DECIMAL(20,4) NOT NULL", "id, d");
    ASSERT_EQ(s.columns.size(), 4u);
    EXPECT_EQ(s.columns[1].name, "d");
    EXPECT_EQ(s.columns[2].name, "x");
    EXPECT_EQ(s.columns[2].type, data_type::string);
    EXPECT_EQ(s.columns[3].scale, 4);
    EXPECT_EQ(s.primary_key, (std::vector<std::size_t>{0, 1}));
    EXPECT_FALSE(s.columns[1].nullable);  // a key column
}

// ------------------------------------------------------------------ hand-computed bytes

// Each value as CompactedRowWriter and IndexedRowWriter write it, in the row
// {id INT = 1, x}: one null-bit byte, then (INDEXED) the length slots of the
// variable columns, id, x. COMPACTED's id is the varint 01; INDEXED's 01 00 00 00.
TEST(row_types_bytes, compacted_and_indexed_vectors) {
    struct vector_case {
        const char* type;
        field value;
        const char* compacted;  // the x field's bytes
        const char* indexed;    // the whole row after the null bits
    };
    const i128 max38 = pow10(38) - 1;
    for (const auto& [type, value, compacted, indexed] : {
             // CHAR: varint length + UTF-8, not padded / n bytes zero-padded.
             vector_case{"CHAR(5)", std::string("é"), "02 c3 a9", "01 00 00 00 c3 a9 00 00 00"},
             // BINARY: varint length + bytes / n bytes zero-padded.
             vector_case{"BINARY(4)", std::string("\0\xff\0\x02", 4), "04 00 ff 00 02", "01 00 00 00 00 ff 00 02"},
             // DECIMAL p <= 18: varint of the unscaled long / 8 bytes.
             vector_case{"DECIMAL(9, 2)", dec(-12345), "c7 9f ff ff ff ff ff ff ff 01",
                         "01 00 00 00 c7 cf ff ff ff ff ff ff"},
             vector_case{"DECIMAL(18, 0)", dec(pow10(18) - 1), "ff ff 8f bb ba d6 ad f0 0d",
                         "01 00 00 00 ff ff 63 a7 b3 b6 e0 0d"},
             // DECIMAL p > 18: varint length + BigInteger.toByteArray() / a length slot + the bytes.
             vector_case{"DECIMAL(20, 0)", dec(-1), "01 ff", "01 00 00 00 01 00 00 00 ff"},
             vector_case{"DECIMAL(20, 0)", dec(0), "01 00", "01 00 00 00 01 00 00 00 00"},
             vector_case{"DECIMAL(20, 0)", dec(128), "02 00 80", "02 00 00 00 01 00 00 00 00 80"},
             vector_case{"DECIMAL(20, 0)", dec(-128), "01 80", "01 00 00 00 01 00 00 00 80"},
             vector_case{"DECIMAL(38, 0)", dec(max38), "10 4b 3b 4c a8 5a 86 c4 7a 09 8a 22 3f ff ff ff ff",
                         "10 00 00 00 01 00 00 00 4b 3b 4c a8 5a 86 c4 7a 09 8a 22 3f ff ff ff ff"},
             vector_case{"DECIMAL(38, 0)", dec(-max38), "10 b4 c4 b3 57 a5 79 3b 85 f6 75 dd c0 00 00 00 01",
                         "10 00 00 00 01 00 00 00 b4 c4 b3 57 a5 79 3b 85 f6 75 dd c0 00 00 00 01"},
             // TIMESTAMP_LTZ: varint millis (+ varint nanos when p > 3) / 8 (+ 4) bytes.
             vector_case{"TIMESTAMP_LTZ(9)", timestamp_value{-1, 999999}, "ff ff ff ff ff ff ff ff ff 01 bf 84 3d",
                         "01 00 00 00 ff ff ff ff ff ff ff ff 3f 42 0f 00"},
             vector_case{"TIMESTAMP_LTZ(3)", timestamp_value{1722225103853, 0}, "ed a7 f6 e4 8f 32",
                         "01 00 00 00 ed 93 9d fc 90 01 00 00"},
             // TIME: varint int millis / 4 bytes.
             vector_case{"TIME(3)", std::int32_t{86399999}, "ff b7 99 29", "01 00 00 00 ff 5b 26 05"},
             vector_case{"TIME", std::int32_t{0}, "00", "01 00 00 00 00 00 00 00"},
         }) {
        const one_column t(type);
        SCOPED_TRACE(type);
        const auto c = t.encode(value, row_format::compacted);
        EXPECT_EQ(c, unhex(std::string("00 01 ") + compacted));
        const auto i = t.encode(value, row_format::indexed);
        EXPECT_EQ(i, unhex(std::string("00 ") + indexed));
        EXPECT_EQ(t.decode(c, row_format::compacted), value);
        EXPECT_EQ(t.decode(i, row_format::indexed), value);
        // The key: id's varint then x as a CompactedRow field, from either format.
        EXPECT_EQ(t.key(c, row_format::compacted), unhex(std::string("01 ") + compacted));
        EXPECT_EQ(t.key(i, row_format::indexed), unhex(std::string("01 ") + compacted));
    }
}

// IndexedRow.getBinary / getChar (and IndexedRowReader.readBinary / readChar)
// drop the trailing zero bytes of the n stored; COMPACTED keeps them.
TEST(row_types_bytes, indexed_char_and_binary_lose_trailing_zero_bytes) {
    const one_column b("BINARY(4)");
    const std::string v("\x01\0", 2);
    EXPECT_EQ(b.encode(v, row_format::indexed), unhex("00 01 00 00 00 01 00 00 00"));
    EXPECT_EQ(b.decode(b.encode(v, row_format::indexed), row_format::indexed), field{std::string("\x01")});
    EXPECT_EQ(b.decode(b.encode(v, row_format::compacted), row_format::compacted), field{v});
    EXPECT_EQ(b.key(b.encode(v, row_format::indexed), row_format::indexed), unhex("01 01 01"));
    const one_column c("CHAR(3)");
    EXPECT_EQ(c.decode(c.encode(std::string(""), row_format::indexed), row_format::indexed), field{std::string()});
    EXPECT_EQ(c.decode(unhex("00 01 00 00 00 61 00 62"), row_format::indexed), field{std::string("a\0b", 3)});
}

// ------------------------------------------------------------------ round trips

namespace {
const char* new_types =
    "id INT, c CHAR(16), b BINARY(4), d38 DECIMAL(38, 10), d18 DECIMAL(18, 4), d19 DECIMAL(19, 0), "
    "d9 DECIMAL(9, 2), l9 TIMESTAMP_LTZ(9), l3 TIMESTAMP_LTZ(3), l0 TIMESTAMP_LTZ(0), t3 TIME(3), t0 TIME";

std::vector<row> extreme_rows() {
    const i128 max38 = pow10(38) - 1, max18 = pow10(18) - 1;
    return {
        {std::int32_t{1}, std::string("ключ🦀"), std::string("\0\x01\0\x02", 4), dec(max38), dec(max18),
         dec(INT64_MAX), dec(-12345), timestamp_value{-1, 999999}, timestamp_value{-1722225103853, 0},
         timestamp_value{0, 0}, std::int32_t{86399999}, std::int32_t{0}},
        {std::int32_t{-2}, std::string(""), std::string("\xff\xff\xff\xff"), dec(-max38), dec(-max18), dec(INT64_MIN),
         dec(999999999), timestamp_value{INT64_MIN, 0}, timestamp_value{INT64_MAX, 0},
         timestamp_value{-62135596800000, 0}, std::int32_t{0}, std::int32_t{86399000}},
        {std::int32_t{3}, std::string("a\tü 漢"), std::string("\0\0\0\x7f", 4), dec(0), dec(1), dec(-1),
         dec(-999999999), timestamp_value{-86400001, 1}, timestamp_value{0, 0}, timestamp_value{1, 0},
         std::int32_t{1}, std::int32_t{1000}},
    };
}
}  // namespace

TEST(row_types_round_trip, extremes_and_nulls_in_both_formats) {
    const auto s = schema::parse(new_types, "id");
    auto rows = extreme_rows();
    rows.push_back(row(s.columns.size()));
    rows.back()[0] = std::int32_t{4};  // all null but the key
    for (auto format : {row_format::compacted, row_format::indexed})
        for (const auto& r : rows) {
            const auto bytes = encode_row(s, r, format);
            EXPECT_EQ(decode_row(s, bytes_of(bytes), format), r) << (format == row_format::indexed ? "indexed" : "compacted");
            EXPECT_EQ(key_of(s, bytes_of(bytes), format), encode_key(s, r));
        }
    // All null: the null bits, id, and (INDEXED) the zero slots of d38 and d19.
    EXPECT_EQ(encode_row(s, rows.back(), row_format::compacted), unhex("fe 0f 04"));
    EXPECT_EQ(encode_row(s, rows.back(), row_format::indexed), unhex("fe 0f 00 00 00 00 00 00 00 00 04 00 00 00"));
}

TEST(row_types_round_trip, key_of_equals_encode_key_of_decode_row_with_every_new_type_in_the_key) {
    const auto s = schema::parse(new_types, "id, c, b, d38, d18, d19, d9, l9, l3, l0, t3, t0");
    for (auto format : {row_format::compacted, row_format::indexed})
        for (const auto& r : extreme_rows()) {
            const auto bytes = encode_row(s, r, format);
            const auto direct = key_of(s, bytes_of(bytes), format);
            EXPECT_EQ(direct, encode_key(s, decode_row(s, bytes_of(bytes), format)));
            EXPECT_EQ(direct, encode_key(s, r));
        }
}

// Bytes decode_row accepts that are not the shortest encoding of their value:
// the key is still the canonical one (key_of leaves its fast path for them).
TEST(row_types_round_trip, non_canonical_fields_give_the_canonical_key) {
    struct nc_case {
        const char* type;
        const char* field;      // as stored
        const char* canonical;  // as the key wants it
    };
    for (const auto& [type, stored, canonical] : {
             nc_case{"DECIMAL(20, 0)", "02 00 01", "01 01"},              // BigInteger bytes with a redundant 00
             nc_case{"DECIMAL(20, 0)", "03 ff ff 80", "01 80"},           // and with redundant ff
             nc_case{"DECIMAL(38, 2)", "82 00 00 7f", "01 7f"},           // a non-shortest length varint
             nc_case{"DECIMAL(9, 0)", "81 00", "01"},                     // a non-shortest varint
             nc_case{"TIMESTAMP_LTZ(9)", "05 81 80 00", "05 01"},         // non-shortest nanos
             nc_case{"TIME(3)", "85 80 80 80 00", "05"},
             nc_case{"CHAR(4)", "82 00 61 62", "02 61 62"},
             nc_case{"BINARY(2)", "82 00 00 00", "02 00 00"},
         }) {
        SCOPED_TRACE(std::string(type) + " " + stored);
        const one_column t(type);
        const auto bytes = unhex(std::string("00 01 ") + stored);
        const auto decoded = decode_row(t.s, bytes_of(bytes), row_format::compacted);
        EXPECT_EQ(encode_key(t.s, decoded), unhex(std::string("01 ") + canonical));
        EXPECT_EQ(t.key(bytes, row_format::compacted), unhex(std::string("01 ") + canonical));
    }
}

// ------------------------------------------------------------------ bad values and bad bytes

TEST(row_types_errors, encoding_a_value_outside_its_type_names_the_column) {
    auto enc = [](const char* type, const field& v, row_format f = row_format::compacted) {
        return error_of([&] { one_column(type).encode(v, f); });
    };
    EXPECT_TRUE(contains(enc("CHAR(3)", std::string("abcd")), "column 'x' (CHAR) needs at most 3 characters, not 4"));
    EXPECT_EQ(enc("CHAR(2)", std::string("漢字")), "(no error)");  // 2 characters, 6 bytes: fine in COMPACTED
    EXPECT_TRUE(contains(enc("CHAR(2)", std::string("漢字"), row_format::indexed), "at most 2 UTF-8 bytes"));
    EXPECT_TRUE(contains(enc("BINARY(2)", std::string("abc")), "column 'x' (BINARY) needs at most 2 bytes, not 3"));
    EXPECT_TRUE(contains(enc("DECIMAL(5, 2)", dec(100000)), "column 'x' (DECIMAL) needs an unscaled value of at most 5 digits, not 100000"));
    EXPECT_TRUE(contains(enc("DECIMAL(18, 0)", dec(INT64_MAX), row_format::indexed), "at most 18 digits"));
    EXPECT_TRUE(contains(enc("DECIMAL(38, 0)", dec(-pow10(38))), "-100000000000000000000000000000000000000"));
    EXPECT_TRUE(contains(enc("TIMESTAMP_LTZ(9)", timestamp_value{0, 1000000}), "0..999999, not 1000000"));
    EXPECT_TRUE(contains(enc("TIMESTAMP_LTZ(9)", timestamp_value{0, -1}), "0..999999, not -1"));
    EXPECT_TRUE(contains(enc("DECIMAL(10, 0)", std::int64_t{5}), "column 'x' (DECIMAL) needs a decimal"));
    EXPECT_TRUE(contains(enc("TIMESTAMP_LTZ", std::int64_t{5}), "(TIMESTAMP_LTZ) needs a timestamp"));
    EXPECT_TRUE(contains(enc("TIME(3)", std::int64_t{5}), "(TIME) needs an int32"));
}

TEST(row_types_errors, corrupt_bytes_name_the_column_and_the_row_byte) {
    struct corrupt_case {
        const char* type;
        row_format format;
        const char* bytes;
        const char* want;
    };
    const auto C = row_format::compacted, I = row_format::indexed;
    for (const auto& [type, format, bytes, want] : {
             corrupt_case{"DECIMAL(20, 0)", C, "00 01 11 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11",
                          "column 'x' (DECIMAL) at row byte 2: DECIMAL of 17 bytes"},
             corrupt_case{"DECIMAL(20, 0)", C, "00 01 00", "at row byte 2: DECIMAL of 0 bytes"},
             corrupt_case{"DECIMAL(20, 0)", C, "00 01 09 05 6b c7 5e 2d 63 10 00 00",
                          "at row byte 2: unscaled value 100000000000000000000 has more than 20 digits"},
             corrupt_case{"DECIMAL(38, 0)", C, "00 01 10 80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
                          "unscaled value -170141183460469231731687303715884105728 has more than 38 digits"},
             corrupt_case{"DECIMAL(20, 0)", C, "00 01 03 00 01", "at row byte 3: needs 3 bytes, 2 are left"},
             corrupt_case{"DECIMAL(9, 2)", C, "00 01 80 94 eb dc 03", "at row byte 2: unscaled value 1000000000 has more than 9 digits"},
             corrupt_case{"DECIMAL(9, 2)", C, "00 01 80 80 80 80 80 80 80 80 80 80 01", "varint longer than 10 bytes"},
             corrupt_case{"DECIMAL(18, 0)", I, "00 01 00 00 00 00 00 00 00 00 00 00 80",
                          "at row byte 5: unscaled value -9223372036854775808 has more than 18 digits"},
             corrupt_case{"DECIMAL(20, 0)", I, "00 11 00 00 00 01 00 00 00 00", "at row byte 9: DECIMAL of 17 bytes"},
             corrupt_case{"DECIMAL(20, 0)", I, "00 ff ff ff ff 01 00 00 00 00", "DECIMAL of -1 bytes"},
             corrupt_case{"CHAR(2)", C, "00 01 03 61 62 63", "column 'x' (CHAR) at row byte 2: 3 characters, more than 2"},
             corrupt_case{"CHAR(2)", I, "00 01 00 00 00 61", "column 'x' (CHAR) at row byte 5: needs 2 bytes, 1 are left"},
             corrupt_case{"BINARY(2)", C, "00 01 03 61 62 63", "column 'x' (BINARY) at row byte 2: 3 bytes, more than 2"},
             corrupt_case{"BINARY(2)", I, "00 01 00 00 00 61 62 63", "1 bytes left after its last column"},
             corrupt_case{"TIMESTAMP_LTZ(9)", C, "00 01 05 c0 84 3d",
                          "column 'x' (TIMESTAMP_LTZ) at row byte 3: nanos of the millisecond 1000000 outside 0..999999"},
             corrupt_case{"TIMESTAMP_LTZ(9)", I, "00 01 00 00 00 05 00 00 00 00 00 00 00 ff ff ff ff",
                          "at row byte 13: nanos of the millisecond -1 outside 0..999999"},
             corrupt_case{"TIMESTAMP_LTZ(6)", C, "00 01 05", "at row byte 3: needs 1 bytes, 0 are left"},
             corrupt_case{"TIME(3)", C, "00 01 ff ff ff ff ff 01", "column 'x' (TIME) at row byte 2: varint longer than 5 bytes"},
             corrupt_case{"TIME(3)", I, "00 01 00 00 00 ff ff", "column 'x' (TIME) at row byte 5: needs 4 bytes"},
         }) {
        SCOPED_TRACE(std::string(type) + ": " + bytes);
        const one_column t(type);
        const auto b = unhex(bytes);
        const auto e = t.decode_error(b, format);
        EXPECT_TRUE(contains(e, want)) << e;
        // key_of rejects them with decode_row's message. (A plain copy: Clang 14
        // cannot capture a structured binding.)
        const row_format f = format;
        EXPECT_EQ(error_of([&] { t.key(b, f); }), e);
    }
}
