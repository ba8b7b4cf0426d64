// fluss_fetch — table schemas and the COMPACTED / INDEXED row formats of
// Fluss (spec §4), and the primary-key encoding of KV recovery (spec §5).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fluss_fetch::log {

/// The Fluss column types fluss_fetch replays. ARRAY, MAP and ROW are not
/// among them: the schema parser rejects them naming the column.
enum class data_type {
    boolean, tinyint, smallint, int_, bigint, float_, double_,
    string,         ///< STRING
    bytes,          ///< BYTES
    date,
    time,           ///< TIME(p): int32 milliseconds of the day (Fluss keeps no sub-millisecond part)
    timestamp,      ///< TIMESTAMP(p) (without time zone)
    char_,          ///< CHAR(n): a string, stored without padding
    binary,         ///< BINARY(n): at most n bytes (an IndexedRow stores exactly n, zero-padded)
    decimal,        ///< DECIMAL(p, s)
    timestamp_ltz,  ///< TIMESTAMP_LTZ(p): stored as TIMESTAMP(p) is
};

/// The spec's name of a type: "BOOLEAN", "INT", "TIMESTAMP", "TIMESTAMP_LTZ", ...
const char* type_name(data_type t) noexcept;

struct column {
    std::string name;
    data_type type = data_type::int_;
    bool nullable = true;
    /// TIMESTAMP(p) / TIMESTAMP_LTZ(p) / TIME(p): 0..9; DECIMAL(p, s): 1..38.
    /// `schema::parse` fills in Fluss's default when the type has no "(p)".
    int precision = 6;
    int scale = 0;   ///< DECIMAL(p, s) only: 0..p
    int length = 1;  ///< CHAR(n) / BINARY(n) only: n >= 1
};

struct schema {
    std::vector<column> columns;
    std::vector<std::size_t> primary_key;  ///< indexes into columns, in key order

    /// Parse `"id INT NOT NULL, name STRING, ts TIMESTAMP(6), d DECIMAL(10, 2)"`
    /// and a primary key `"id[,col...]"`. Type names are case-insensitive:
    /// BOOLEAN, TINYINT, SMALLINT, INT/INTEGER, BIGINT, FLOAT, DOUBLE, STRING,
    /// BYTES, DATE, TIME[(p)], TIMESTAMP[(p)], TIMESTAMP_LTZ[(p)], CHAR[(n)],
    /// BINARY[(n)], DECIMAL[(p[, s])] (also NUMERIC, DEC). Without parameters
    /// a type takes Fluss's defaults (DataTypes / *Type.DEFAULT_*): TIME(0),
    /// TIMESTAMP(6), TIMESTAMP_LTZ(6), CHAR(1), BINARY(1), DECIMAL(10, 0).
    /// Ranges: a time precision 0..9, DECIMAL precision 1..38 and scale
    /// 0..precision, a CHAR/BINARY length >= 1. Columns are split on the
    /// commas outside parentheses and angle brackets; ARRAY<...>, MAP<...>,
    /// ROW<...> (and MULTISET) columns are rejected naming the column.
    /// Primary-key columns become NOT NULL.
    /// \throws std::invalid_argument naming the column (or position) and what is wrong.
    static schema parse(std::string_view columns, std::string_view primary_key);
};

enum class row_format { compacted, indexed };

/// A DECIMAL(p, s) value: the unscaled integer (value = unscaled / 10^s).
/// Fits 38 digits; |unscaled| < 10^p.
struct decimal_value {
    __extension__ __int128 unscaled = 0;
    friend bool operator==(const decimal_value&, const decimal_value&) = default;
};

struct timestamp_value {
    std::int64_t millis = 0;
    std::int32_t nanos_of_milli = 0;  ///< 0..999999; kept only when precision > 3
    friend bool operator==(const timestamp_value&, const timestamp_value&) = default;
};

/// One field: null, or the value of its column's type. BOOLEAN → bool,
/// TINYINT → int8, SMALLINT → int16, INT/DATE/TIME → int32, BIGINT → int64,
/// FLOAT → float, DOUBLE → double, STRING/BYTES/CHAR/BINARY → std::string,
/// TIMESTAMP/TIMESTAMP_LTZ → timestamp_value, DECIMAL → decimal_value.
using field = std::variant<std::monostate, bool, std::int8_t, std::int16_t, std::int32_t, std::int64_t, float, double,
                           std::string, timestamp_value, decimal_value>;
using row = std::vector<field>;

/// Encode `r` (one field per column, matching types) in `format`.
/// \throws std::invalid_argument naming the column when a field does not fit its column.
std::string encode_row(const schema& s, const row& r, row_format format);

/// Decode row bytes. \throws std::invalid_argument naming the column and the
/// byte position when the bytes run short, a varint is overlong, bytes are left
/// over, or a field cannot be a value of its type (a DECIMAL of more than p
/// digits or of more than 16 bytes, a CHAR(n) of more than n characters, a
/// BINARY(n) of more than n bytes, nanos of a millisecond outside 0..999999).
/// An IndexedRow stores CHAR(n) and BINARY(n) in exactly n zero-padded bytes;
/// like Fluss's IndexedRow.getChar / getBinary, decoding drops their trailing
/// zero bytes (so an IndexedRow CHAR(n) also holds at most n UTF-8 bytes).
row decode_row(const schema& s, std::span<const std::byte> bytes, row_format format);

/// The KV key of a row: its primary-key columns, each encoded as a
/// CompactedRow field, without null bits. \throws std::invalid_argument when a key column is null.
std::string encode_key(const schema& s, const row& r);

/// The KV key straight from row bytes (decodes only what it must).
std::string key_of(const schema& s, std::span<const std::byte> row_bytes, row_format format);

}  // namespace fluss_fetch::log
