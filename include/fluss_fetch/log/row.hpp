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

enum class data_type { boolean, tinyint, smallint, int_, bigint, float_, double_, string, bytes, date, time, timestamp };

/// The spec's name of a type: "BOOLEAN", "INT", "TIMESTAMP", ...
const char* type_name(data_type t) noexcept;

struct column {
    std::string name;
    data_type type = data_type::int_;
    bool nullable = true;
    int precision = 3;  ///< TIMESTAMP(p) only; 0..9
};

struct schema {
    std::vector<column> columns;
    std::vector<std::size_t> primary_key;  ///< indexes into columns, in key order

    /// Parse `"id INT NOT NULL, name STRING, ts TIMESTAMP(6)"` (type names
    /// case-insensitive: BOOLEAN, TINYINT, SMALLINT, INT/INTEGER, BIGINT, FLOAT,
    /// DOUBLE, STRING, BYTES, DATE, TIME, TIMESTAMP[(p)]) and a primary key
    /// `"id[,col...]"`. Primary-key columns become NOT NULL.
    /// \throws std::invalid_argument naming the column (or position) and what is wrong.
    static schema parse(std::string_view columns, std::string_view primary_key);
};

enum class row_format { compacted, indexed };

struct timestamp_value {
    std::int64_t millis = 0;
    std::int32_t nanos_of_milli = 0;  ///< 0..999999; kept only when precision > 3
    friend bool operator==(const timestamp_value&, const timestamp_value&) = default;
};

/// One field: null, or the value of its column's type. BOOLEAN → bool,
/// TINYINT → int8, SMALLINT → int16, INT/DATE/TIME → int32, BIGINT → int64,
/// FLOAT → float, DOUBLE → double, STRING/BYTES → std::string, TIMESTAMP → timestamp_value.
using field = std::variant<std::monostate, bool, std::int8_t, std::int16_t, std::int32_t, std::int64_t, float, double,
                           std::string, timestamp_value>;
using row = std::vector<field>;

/// Encode `r` (one field per column, matching types) in `format`.
/// \throws std::invalid_argument naming the column when a field does not fit its column.
std::string encode_row(const schema& s, const row& r, row_format format);

/// Decode row bytes. \throws std::invalid_argument naming the column and the
/// byte position when the bytes run short, a varint is overlong, or bytes are left over.
row decode_row(const schema& s, std::span<const std::byte> bytes, row_format format);

/// The KV key of a row: its primary-key columns, each encoded as a
/// CompactedRow field, without null bits. \throws std::invalid_argument when a key column is null.
std::string encode_key(const schema& s, const row& r);

/// The KV key straight from row bytes (decodes only what it must).
std::string key_of(const schema& s, std::span<const std::byte> row_bytes, row_format format);

}  // namespace fluss_fetch::log
