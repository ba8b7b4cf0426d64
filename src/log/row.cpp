// Schemas, CompactedRow and IndexedRow, and the KV key encoding.
#include <fluss_fetch/log/row.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "compacted.hpp"

namespace fluss_fetch::log {

const char* type_name(data_type t) noexcept {
    switch (t) {
    case data_type::boolean: return "BOOLEAN";
    case data_type::tinyint: return "TINYINT";
    case data_type::smallint: return "SMALLINT";
    case data_type::int_: return "INT";
    case data_type::bigint: return "BIGINT";
    case data_type::float_: return "FLOAT";
    case data_type::double_: return "DOUBLE";
    case data_type::string: return "STRING";
    case data_type::bytes: return "BYTES";
    case data_type::date: return "DATE";
    case data_type::time: return "TIME";
    case data_type::timestamp: return "TIMESTAMP";
    case data_type::char_: return "CHAR";
    case data_type::binary: return "BINARY";
    case data_type::decimal: return "DECIMAL";
    case data_type::timestamp_ltz: return "TIMESTAMP_LTZ";
    }
    return "?";
}

// ---------------------------------------------------------------- schema parsing

namespace {

using int128 = detail::int128_t;
using uint128 = detail::uint128_t;

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// Split on the commas outside parentheses and angle brackets:
// "d DECIMAL(10, 2), m MAP<STRING, INT>" is two items.
std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    int depth = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || (s[i] == ',' && depth <= 0)) {
            out.push_back(trim(s.substr(start, i - start)));
            start = i + 1;
        } else if (s[i] == '(' || s[i] == '<') {
            ++depth;
        } else if (s[i] == ')' || s[i] == '>') {
            --depth;
        }
    }
    return out;
}

// IndexedRow keeps a 4-byte length slot for these (IndexedRow.isFixedLength
// is false): STRING, BYTES and the non-compact DECIMAL (precision > 18).
bool is_variable(const column& c) {
    return c.type == data_type::string || c.type == data_type::bytes ||
           (c.type == data_type::decimal && c.precision > 18);
}

int128 pow10_128(int p) {
    int128 v = 1;
    for (int i = 0; i < p; ++i) v *= 10;
    return v;
}

// |unscaled| < 10^p: the value has at most p digits (Decimal.fromBigDecimal
// gives null beyond, so Fluss has no such value).
bool decimal_fits(int128 unscaled, int precision) {
    const int128 limit = pow10_128(precision);
    return unscaled < limit && unscaled > -limit;
}

std::string decimal_text(int128 v) {
    if (v == 0) return "0";
    const bool neg = v < 0;
    std::string out;
    while (v != 0) {
        const int digit = static_cast<int>(v % 10);
        out += static_cast<char>('0' + (digit < 0 ? -digit : digit));
        v /= 10;
    }
    if (neg) out += '-';
    return std::string(out.rbegin(), out.rend());
}

// Characters of a UTF-8 string: the bytes that do not continue a sequence.
std::size_t utf8_chars(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char ch : s) n += (ch & 0xc0) != 0x80;
    return n;
}

// The "(a, b)" parameters of a type, as integers.
std::vector<long long> type_params(const std::string& where, const std::string& base, std::string_view inside) {
    std::vector<long long> out;
    for (const auto& item : split_list(inside)) {
        if (item.empty() || item.size() > 10 ||
            !std::all_of(item.begin(), item.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); }))
            throw std::invalid_argument(where + ": " + base + " parameter '" + item + "' is not a non-negative integer");
        out.push_back(std::stoll(item));
    }
    return out;
}

}  // namespace

schema schema::parse(std::string_view columns, std::string_view primary_key) {
    schema s;
    const auto defs = split_list(columns);
    for (std::size_t i = 0; i < defs.size(); ++i) {
        const std::string where = "column " + std::to_string(i + 1) + " ('" + defs[i] + "')";
        const std::string_view def = defs[i];
        std::size_t at = 0;
        auto skip_space = [&] {
            while (at < def.size() && std::isspace(static_cast<unsigned char>(def[at]))) ++at;
        };
        auto word = [&] {
            const std::size_t from = at;
            while (at < def.size() && !std::isspace(static_cast<unsigned char>(def[at])) && def[at] != '(' &&
                   def[at] != '<')
                ++at;
            return std::string(def.substr(from, at - from));
        };
        column c;
        c.name = word();
        skip_space();
        const std::string type_word = word();
        if (c.name.empty() || type_word.empty()) throw std::invalid_argument(where + ": want 'name TYPE [NOT NULL]'");
        const std::string base = upper(type_word);
        if (base == "ARRAY" || base == "MAP" || base == "ROW" || base == "MULTISET")
            throw std::invalid_argument(where + ": " + base + " columns are not supported");
        // Optional "(...)" (spaces allowed before it and inside it).
        skip_space();
        std::optional<std::vector<long long>> params;
        if (at < def.size() && (def[at] == '(' || def[at] == '<')) {
            if (def[at] == '<') throw std::invalid_argument(where + ": " + base + " takes no '<...>'");
            const auto close = def.find(')', at);
            if (close == std::string_view::npos) throw std::invalid_argument(where + ": unclosed '(' after " + base);
            params = type_params(where, base, def.substr(at + 1, close - at - 1));
            at = close + 1;
        }
        // The rest: nothing, or NOT NULL.
        std::vector<std::string> rest;
        for (skip_space(); at < def.size(); skip_space()) {
            const std::size_t from = at;
            while (at < def.size() && !std::isspace(static_cast<unsigned char>(def[at]))) ++at;
            rest.emplace_back(def.substr(from, at - from));
        }
        if (rest.size() == 2 && upper(rest[0]) == "NOT" && upper(rest[1]) == "NULL") c.nullable = false;
        else if (!rest.empty()) throw std::invalid_argument(where + ": unexpected '" + rest[0] + "'");

        // Fluss's defaults (DecimalType, CharType, BinaryType, TimeType,
        // TimestampType, LocalZonedTimestampType DEFAULT_*): DECIMAL(10, 0),
        // CHAR(1), BINARY(1), TIME(0), TIMESTAMP(6), TIMESTAMP_LTZ(6).
        auto want_params = [&](std::size_t most) {
            if (params && (params->empty() || params->size() > most))
                throw std::invalid_argument(where + ": " + base + " takes " +
                                            (most == 0 ? std::string("no parameters")
                                                       : "at most " + std::to_string(most) + " parameter" +
                                                             (most > 1 ? "s" : "")));
        };
        auto time_precision = [&](int dflt) {
            want_params(1);
            c.precision = params ? static_cast<int>(std::min((*params)[0], 99LL)) : dflt;
            if (params && (*params)[0] > 9)
                throw std::invalid_argument(where + ": " + base + " precision " + std::to_string((*params)[0]) +
                                            " is outside 0..9");
        };
        if (base == "BOOLEAN") c.type = data_type::boolean;
        else if (base == "TINYINT") c.type = data_type::tinyint;
        else if (base == "SMALLINT") c.type = data_type::smallint;
        else if (base == "INT" || base == "INTEGER") c.type = data_type::int_;
        else if (base == "BIGINT") c.type = data_type::bigint;
        else if (base == "FLOAT") c.type = data_type::float_;
        else if (base == "DOUBLE") c.type = data_type::double_;
        else if (base == "STRING") c.type = data_type::string;
        else if (base == "BYTES") c.type = data_type::bytes;
        else if (base == "DATE") c.type = data_type::date;
        else if (base == "TIME") {
            c.type = data_type::time;
            time_precision(0);
        } else if (base == "TIMESTAMP") {
            c.type = data_type::timestamp;
            time_precision(6);
        } else if (base == "TIMESTAMP_LTZ") {
            c.type = data_type::timestamp_ltz;
            time_precision(6);
        } else if (base == "CHAR" || base == "BINARY") {
            c.type = base == "CHAR" ? data_type::char_ : data_type::binary;
            want_params(1);
            const long long n = params ? (*params)[0] : 1;
            if (n < 1 || n > 2147483647LL)
                throw std::invalid_argument(where + ": " + base + " length " + std::to_string(n) +
                                            " is outside 1..2147483647");
            c.length = static_cast<int>(n);
        } else if (base == "DECIMAL" || base == "NUMERIC" || base == "DEC") {  // DataTypeParser's synonyms
            c.type = data_type::decimal;
            want_params(2);
            const long long p = params ? (*params)[0] : 10;
            const long long sc = params && params->size() == 2 ? (*params)[1] : 0;
            if (p < 1 || p > 38)
                throw std::invalid_argument(where + ": " + base + " precision " + std::to_string(p) + " is outside 1..38");
            if (sc > p)
                throw std::invalid_argument(where + ": " + base + " scale " + std::to_string(sc) + " is outside 0.." +
                                            std::to_string(p));
            c.precision = static_cast<int>(p);
            c.scale = static_cast<int>(sc);
        } else {
            throw std::invalid_argument(where + ": unknown type '" + type_word + "'");
        }
        if (c.type != data_type::time && c.type != data_type::timestamp && c.type != data_type::timestamp_ltz &&
            c.type != data_type::char_ && c.type != data_type::binary && c.type != data_type::decimal)
            want_params(0);
        for (const auto& other : s.columns)
            if (other.name == c.name) throw std::invalid_argument(where + ": duplicate column name '" + c.name + "'");
        s.columns.push_back(std::move(c));
    }
    for (const auto& name : split_list(primary_key)) {
        auto it = std::find_if(s.columns.begin(), s.columns.end(), [&](const column& c) { return c.name == name; });
        if (name.empty()) throw std::invalid_argument("primary key '" + std::string(primary_key) + "': empty column name");
        if (it == s.columns.end())
            throw std::invalid_argument("primary key column '" + name + "' is not in the schema");
        const auto idx = static_cast<std::size_t>(it - s.columns.begin());
        if (std::find(s.primary_key.begin(), s.primary_key.end(), idx) != s.primary_key.end())
            throw std::invalid_argument("primary key column '" + name + "' is listed twice");
        it->nullable = false;
        s.primary_key.push_back(idx);
    }
    return s;
}

// ---------------------------------------------------------------- encoding

namespace {

using detail::put_bytes;
using detail::put_int32;
using detail::put_int64;
using detail::put_raw;

[[noreturn]] void bad_field(const column& c, const std::string& want) {
    throw std::invalid_argument("column '" + c.name + "' (" + type_name(c.type) + ") needs " + want);
}

template <class T>
const T& get(const column& c, const field& f, const char* want) {
    if (const T* v = std::get_if<T>(&f)) return *v;
    bad_field(c, want);
}

const timestamp_value& get_timestamp(const column& c, const field& f) {
    const auto& t = get<timestamp_value>(c, f, "a timestamp");
    if (t.nanos_of_milli < 0 || t.nanos_of_milli > 999999)
        bad_field(c, "nanos of the millisecond in 0..999999, not " + std::to_string(t.nanos_of_milli));
    return t;
}

const decimal_value& get_decimal(const column& c, const field& f) {
    const auto& d = get<decimal_value>(c, f, "a decimal");
    if (!decimal_fits(d.unscaled, c.precision))
        bad_field(c, "an unscaled value of at most " + std::to_string(c.precision) + " digits, not " +
                         decimal_text(d.unscaled));
    return d;
}

const std::string& get_char(const column& c, const field& f) {
    const auto& s = get<std::string>(c, f, "a string");
    if (utf8_chars(s) > static_cast<std::size_t>(c.length))
        bad_field(c, "at most " + std::to_string(c.length) + " characters, not " + std::to_string(utf8_chars(s)));
    return s;
}

const std::string& get_binary(const column& c, const field& f) {
    const auto& s = get<std::string>(c, f, "a string");
    if (s.size() > static_cast<std::size_t>(c.length))
        bad_field(c, "at most " + std::to_string(c.length) + " bytes, not " + std::to_string(s.size()));
    return s;
}

// One non-null field as CompactedRow writes it.
void put_compacted(std::string& out, const column& c, const field& f) {
    switch (c.type) {
    case data_type::boolean: out += static_cast<char>(get<bool>(c, f, "a bool") ? 1 : 0); break;
    case data_type::tinyint: out += static_cast<char>(get<std::int8_t>(c, f, "an int8")); break;
    case data_type::smallint: put_raw(out, get<std::int16_t>(c, f, "an int16")); break;
    case data_type::int_:
    case data_type::date:
    case data_type::time: put_int32(out, get<std::int32_t>(c, f, "an int32")); break;
    case data_type::bigint: put_int64(out, get<std::int64_t>(c, f, "an int64")); break;
    case data_type::float_: put_raw(out, get<float>(c, f, "a float")); break;
    case data_type::double_: put_raw(out, get<double>(c, f, "a double")); break;
    case data_type::string:
    case data_type::bytes: {
        const auto& s = get<std::string>(c, f, "a string");
        put_bytes(out, s.data(), s.size());
        break;
    }
    case data_type::char_: {  // CompactedRowWriter.writeChar: as STRING, not padded
        const auto& s = get_char(c, f);
        put_bytes(out, s.data(), s.size());
        break;
    }
    case data_type::binary: {  // CompactedRowWriter.writeBinary: as BYTES
        const auto& s = get_binary(c, f);
        put_bytes(out, s.data(), s.size());
        break;
    }
    case data_type::decimal: detail::put_decimal(out, get_decimal(c, f).unscaled, c.precision); break;
    case data_type::timestamp:
    case data_type::timestamp_ltz: {
        const auto& t = get_timestamp(c, f);
        detail::put_timestamp(out, t.millis, t.nanos_of_milli, c.precision);
        break;
    }
    }
}

// One non-null field as IndexedRowWriter writes it (fixed width,
// little-endian; variable ones without their length, which goes in a slot).
void put_indexed(std::string& out, const column& c, const field& f) {
    switch (c.type) {
    case data_type::boolean: out += static_cast<char>(get<bool>(c, f, "a bool") ? 1 : 0); break;
    case data_type::tinyint: out += static_cast<char>(get<std::int8_t>(c, f, "an int8")); break;
    case data_type::smallint: put_raw(out, get<std::int16_t>(c, f, "an int16")); break;
    case data_type::int_:
    case data_type::date:
    case data_type::time: put_raw(out, get<std::int32_t>(c, f, "an int32")); break;
    case data_type::bigint: put_raw(out, get<std::int64_t>(c, f, "an int64")); break;
    case data_type::float_: put_raw(out, get<float>(c, f, "a float")); break;
    case data_type::double_: put_raw(out, get<double>(c, f, "a double")); break;
    case data_type::string:
    case data_type::bytes: out += get<std::string>(c, f, "a string"); break;
    case data_type::char_: {
        // IndexedRowWriter.writeChar: the UTF-8 bytes in exactly n bytes, zero-padded.
        const auto& s = get_char(c, f);
        if (s.size() > static_cast<std::size_t>(c.length))
            bad_field(c, "at most " + std::to_string(c.length) + " UTF-8 bytes in an IndexedRow, not " +
                             std::to_string(s.size()));
        out += s;
        out.append(static_cast<std::size_t>(c.length) - s.size(), '\0');
        break;
    }
    case data_type::binary: {  // IndexedRowWriter.writeBinary: exactly n bytes, zero-padded
        const auto& s = get_binary(c, f);
        out += s;
        out.append(static_cast<std::size_t>(c.length) - s.size(), '\0');
        break;
    }
    case data_type::decimal: {
        const auto& d = get_decimal(c, f);
        if (c.precision <= 18) {
            put_raw(out, static_cast<std::int64_t>(d.unscaled));
        } else {  // BigInteger.toByteArray(), its length in the slot
            std::string t;
            detail::put_decimal(t, d.unscaled, 38);
            out.append(t, 1, std::string::npos);  // drop the one-byte varint length (<= 16)
        }
        break;
    }
    case data_type::timestamp:
    case data_type::timestamp_ltz: {
        const auto& t = get_timestamp(c, f);
        put_raw(out, t.millis);
        if (c.precision > 3) put_raw(out, t.nanos_of_milli);
        break;
    }
    }
}

}  // namespace

std::string encode_row(const schema& s, const row& r, row_format format) {
    const auto n = s.columns.size();
    if (r.size() != n)
        throw std::invalid_argument("row has " + std::to_string(r.size()) + " fields, the schema " + std::to_string(n));
    std::string out((n + 7) / 8, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        if (std::holds_alternative<std::monostate>(r[i])) {
            if (!s.columns[i].nullable) throw std::invalid_argument("column '" + s.columns[i].name + "' is NOT NULL");
            out[i / 8] = static_cast<char>(out[i / 8] | (1 << (i % 8)));
        }
    }
    if (format == row_format::compacted) {
        for (std::size_t i = 0; i < n; ++i)
            if (!std::holds_alternative<std::monostate>(r[i])) put_compacted(out, s.columns[i], r[i]);
        return out;
    }
    const std::size_t slots_at = out.size();
    std::size_t vars = 0;
    for (const auto& c : s.columns) vars += is_variable(c);
    out.append(vars * 4, '\0');
    std::size_t slot = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (std::holds_alternative<std::monostate>(r[i])) continue;
        const std::size_t before = out.size();
        put_indexed(out, s.columns[i], r[i]);
        if (is_variable(s.columns[i])) {
            const auto len = static_cast<std::int32_t>(out.size() - before);
            std::memcpy(out.data() + slots_at + 4 * slot++, &len, 4);
        }
    }
    return out;
}

std::string encode_key(const schema& s, const row& r) {
    std::string out;
    for (auto idx : s.primary_key) {
        if (idx >= r.size() || std::holds_alternative<std::monostate>(r[idx]))
            throw std::invalid_argument("primary key column '" + s.columns[idx].name + "' is null");
        put_compacted(out, s.columns[idx], r[idx]);
    }
    return out;
}

// ---------------------------------------------------------------- decoding

namespace {

class cursor {
public:
    cursor(std::span<const std::byte> b) : b_(b) {}

    [[noreturn]] void fail_at(const column& c, std::size_t at, const std::string& what) const {
        throw std::invalid_argument("column '" + c.name + "' (" + type_name(c.type) + ") at row byte " +
                                    std::to_string(at) + ": " + what);
    }
    [[noreturn]] void fail(const column& c, const std::string& what) const { fail_at(c, pos_, what); }

    void need(const column& c, std::size_t n) const {
        if (b_.size() - pos_ < n)
            fail(c, "needs " + std::to_string(n) + " bytes, " + std::to_string(b_.size() - pos_) + " are left");
    }

    template <class T>
    T le(const column& c) {
        need(c, sizeof(T));
        T v;
        std::memcpy(&v, b_.data() + pos_, sizeof v);
        pos_ += sizeof v;
        return v;
    }

    std::uint64_t varint(const column& c, int max_bytes) {
        const std::size_t start = pos_;
        std::uint64_t v = 0;
        for (int i = 0; i < max_bytes; ++i) {
            need(c, 1);
            const auto byte = static_cast<std::uint8_t>(b_[pos_++]);
            v |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
            if ((byte & 0x80) == 0) return v;
        }
        fail_at(c, start, "varint longer than " + std::to_string(max_bytes) + " bytes");
    }

    std::string bytes(const column& c, std::size_t n) {
        need(c, n);
        std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
        pos_ += n;
        return s;
    }

    std::size_t pos() const { return pos_; }
    std::size_t left() const { return b_.size() - pos_; }
    std::span<const std::byte> data() const { return b_; }

private:
    std::span<const std::byte> b_;
    std::size_t pos_ = 0;
};

// The types both formats store the same way (fixed width, little-endian).
std::optional<field> get_fixed(cursor& in, const column& c) {
    switch (c.type) {
    case data_type::boolean: {
        const auto v = in.le<std::uint8_t>(c);
        if (v > 1) in.fail(c, "BOOLEAN byte " + std::to_string(v) + " is neither 0 nor 1");
        return field{v == 1};
    }
    case data_type::tinyint: return field{in.le<std::int8_t>(c)};
    case data_type::smallint: return field{in.le<std::int16_t>(c)};
    case data_type::float_: return field{in.le<float>(c)};
    case data_type::double_: return field{in.le<double>(c)};
    default: return std::nullopt;
    }
}

std::int32_t nanos_of_milli(cursor& in, const column& c, std::size_t at, std::int64_t v) {
    if (v < 0 || v > 999999) in.fail_at(c, at, "nanos of the millisecond " + std::to_string(v) + " outside 0..999999");
    return static_cast<std::int32_t>(v);
}

decimal_value checked_decimal(cursor& in, const column& c, std::size_t at, int128 v) {
    if (!decimal_fits(v, c.precision))
        in.fail_at(c, at, "unscaled value " + decimal_text(v) + " has more than " + std::to_string(c.precision) +
                              " digits");
    return decimal_value{v};
}

// BigInteger(byte[]): big-endian two's complement, 1..16 bytes here (10^38 - 1 needs 16).
decimal_value big_decimal(cursor& in, const column& c, std::size_t at, std::int64_t len) {
    if (len < 1 || len > 16)
        in.fail_at(c, at, "DECIMAL of " + std::to_string(len) + " bytes (BigInteger.toByteArray() of at most 38 digits is 1..16)");
    const std::string b = in.bytes(c, static_cast<std::size_t>(len));
    auto u = static_cast<uint128>((static_cast<unsigned char>(b[0]) & 0x80) ? -1 : 0);
    for (unsigned char ch : b) u = (u << 8) | ch;
    return checked_decimal(in, c, at, static_cast<int128>(u));
}

std::string checked_char(cursor& in, const column& c, std::size_t at, std::string s) {
    if (utf8_chars(s) > static_cast<std::size_t>(c.length))
        in.fail_at(c, at, std::to_string(utf8_chars(s)) + " characters, more than " + std::to_string(c.length));
    return s;
}

// IndexedRow.getChar / getBinary: the n bytes without their trailing zero bytes.
std::string strip_zeros(std::string s) {
    while (!s.empty() && s.back() == '\0') s.pop_back();
    return s;
}

field get_compacted(cursor& in, const column& c) {
    if (auto f = get_fixed(in, c)) return std::move(*f);
    const std::size_t at = in.pos();
    switch (c.type) {
    case data_type::int_:
    case data_type::date:
    case data_type::time: return static_cast<std::int32_t>(static_cast<std::uint32_t>(in.varint(c, 5)));
    case data_type::bigint: return static_cast<std::int64_t>(in.varint(c, 10));
    case data_type::string:
    case data_type::bytes: {
        const auto len = static_cast<std::uint32_t>(in.varint(c, 5));
        return in.bytes(c, len);
    }
    case data_type::char_: {
        const auto len = static_cast<std::uint32_t>(in.varint(c, 5));
        return checked_char(in, c, at, in.bytes(c, len));
    }
    case data_type::binary: {
        const auto len = static_cast<std::uint32_t>(in.varint(c, 5));
        if (len > static_cast<std::uint32_t>(c.length))
            in.fail_at(c, at, std::to_string(len) + " bytes, more than " + std::to_string(c.length));
        return in.bytes(c, len);
    }
    case data_type::decimal:
        if (c.precision <= 18) return checked_decimal(in, c, at, static_cast<std::int64_t>(in.varint(c, 10)));
        return big_decimal(in, c, at, static_cast<std::uint32_t>(in.varint(c, 5)));
    case data_type::timestamp:
    case data_type::timestamp_ltz: {
        timestamp_value t;
        t.millis = static_cast<std::int64_t>(in.varint(c, 10));
        const std::size_t nanos_at = in.pos();
        if (c.precision > 3)
            t.nanos_of_milli = nanos_of_milli(in, c, nanos_at, static_cast<std::uint32_t>(in.varint(c, 5)));
        return t;
    }
    default: return std::monostate{};
    }
}

field get_indexed(cursor& in, const column& c, std::int32_t var_length) {
    if (auto f = get_fixed(in, c)) return std::move(*f);
    const std::size_t at = in.pos();
    switch (c.type) {
    case data_type::int_:
    case data_type::date:
    case data_type::time: return in.le<std::int32_t>(c);
    case data_type::bigint: return in.le<std::int64_t>(c);
    case data_type::string:
    case data_type::bytes:
        if (var_length < 0) in.fail(c, "negative length " + std::to_string(var_length));
        return in.bytes(c, static_cast<std::size_t>(var_length));
    case data_type::char_:
        return checked_char(in, c, at, strip_zeros(in.bytes(c, static_cast<std::size_t>(c.length))));
    case data_type::binary: return strip_zeros(in.bytes(c, static_cast<std::size_t>(c.length)));
    case data_type::decimal:
        if (c.precision <= 18) return checked_decimal(in, c, at, in.le<std::int64_t>(c));
        return big_decimal(in, c, at, var_length);
    case data_type::timestamp:
    case data_type::timestamp_ltz: {
        timestamp_value t;
        t.millis = in.le<std::int64_t>(c);
        const std::size_t nanos_at = in.pos();
        if (c.precision > 3) t.nanos_of_milli = nanos_of_milli(in, c, nanos_at, in.le<std::int32_t>(c));
        return t;
    }
    default: return std::monostate{};
    }
}

}  // namespace

row decode_row(const schema& s, std::span<const std::byte> bytes, row_format format) {
    const auto n = s.columns.size();
    const std::size_t null_bytes = (n + 7) / 8;
    if (bytes.size() < null_bytes)
        throw std::invalid_argument("row of " + std::to_string(bytes.size()) + " bytes is shorter than its " +
                                    std::to_string(null_bytes) + " null-bit bytes");
    auto is_null = [&](std::size_t i) { return (static_cast<std::uint8_t>(bytes[i / 8]) >> (i % 8)) & 1; };
    cursor in(bytes);
    in.bytes(s.columns.empty() ? column{} : s.columns[0], null_bytes);
    std::vector<std::int32_t> lengths;
    if (format == row_format::indexed) {
        for (const auto& c : s.columns)
            if (is_variable(c)) lengths.push_back(0);
        for (auto& l : lengths) l = in.le<std::int32_t>(column{"(length slots)", data_type::int_, true, 3});
    }
    row r(n);
    std::size_t slot = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const auto& c = s.columns[i];
        if (is_null(i)) {
            if (!c.nullable) in.fail(c, "null in a NOT NULL column");
            // A null field takes no length slot (IndexedRow.calculateColumnLengths skips it).
            continue;
        }
        r[i] = format == row_format::compacted ? get_compacted(in, c)
                                               : get_indexed(in, c, is_variable(c) ? lengths[slot++] : 0);
    }
    if (in.left() != 0)
        throw std::invalid_argument("row has " + std::to_string(in.left()) + " bytes left after its last column (at row byte " +
                                    std::to_string(in.pos()) + ")");
    return r;
}

// The key straight from the row bytes, without materialising fields: the
// replay's hot path (one call per record). A CompactedRow field is encoded
// exactly as the key wants it, so its bytes are copied; an IndexedRow field is
// re-encoded. Every column is still walked, so a row that decode_row would
// reject (short, overlong varint, trailing bytes, null key, a value out of its
// type's range) is rejected here too, with decode_row's message; and bytes
// decode_row accepts but that are not the canonical encoding of their value
// (a non-shortest varint, a non-minimal DECIMAL byte array) go the slow way
// too, so the key is always encode_key(decode_row(...)).
std::string key_of(const schema& s, std::span<const std::byte> row_bytes, row_format format) {
    const auto n = s.columns.size();
    const std::size_t null_bytes = (n + 7) / 8;
    const auto* b = reinterpret_cast<const std::uint8_t*>(row_bytes.data());
    const std::size_t size = row_bytes.size();
    auto slow = [&]() { return encode_key(s, decode_row(s, row_bytes, format)); };  // exact error messages
    if (format != row_format::compacted) return slow();  // IndexedRow: re-encode the key fields
    if (size < null_bytes) return slow();
    auto is_null = [&](std::size_t i) { return (b[i / 8] >> (i % 8)) & 1; };
    // Where each primary-key column's bytes are.
    constexpr std::size_t max_key_columns = 16;
    if (s.primary_key.size() > max_key_columns) return slow();
    std::size_t key_begin[max_key_columns], key_end[max_key_columns];
    auto key_slot = [&](std::size_t col) -> int {
        for (std::size_t k = 0; k < s.primary_key.size(); ++k)
            if (s.primary_key[k] == col) return static_cast<int>(k);
        return -1;
    };
    std::size_t pos = null_bytes;
    // Only canonical varints are copied as they are: one that decode_row
    // accepts but that is not the shortest form, or whose last byte carries
    // bits beyond the type's width, goes the slow way, so the key is the
    // canonical encoding of the decoded value, as Fluss's key encoder makes it.
    auto read_varint = [&](int max_bytes, std::uint64_t& v) -> bool {
        v = 0;
        for (int i = 0; i < max_bytes; ++i) {
            if (pos >= size) return false;
            const std::uint8_t byte = b[pos++];
            v |= std::uint64_t(byte & 0x7f) << (7 * i);
            if ((byte & 0x80) == 0) {
                if (i > 0 && byte == 0) return false;                          // a trailing zero group
                if (i == max_bytes - 1 && (byte >> (max_bytes == 5 ? 4 : 1)) != 0) return false;  // beyond 32 / 64 bits
                return true;
            }
        }
        return false;
    };
    auto skip_varint = [&](int max_bytes) {
        std::uint64_t v;
        return read_varint(max_bytes, v);
    };
    // varint length + that many bytes; `len` is the length.
    auto skip_bytes = [&](std::uint64_t& len) {
        if (!read_varint(5, len)) return false;
        if (len > size - pos) return false;
        pos += len;
        return true;
    };
    for (std::size_t i = 0; i < n; ++i) {
        const auto& c = s.columns[i];
        if (is_null(i)) {
            if (!c.nullable) return slow();
            continue;
        }
        const std::size_t start = pos;
        bool ok = true;
        std::uint64_t v = 0;
        switch (c.type) {
        case data_type::boolean:
            ok = pos < size && b[pos] <= 1;
            ++pos;
            break;
        case data_type::tinyint: pos += 1; break;
        case data_type::smallint: pos += 2; break;
        case data_type::int_:
        case data_type::date:
        case data_type::time: ok = skip_varint(5); break;
        case data_type::bigint: ok = skip_varint(10); break;
        case data_type::float_: pos += 4; break;
        case data_type::double_: pos += 8; break;
        case data_type::string:
        case data_type::bytes: ok = skip_bytes(v); break;
        case data_type::char_:
            ok = skip_bytes(v) &&
                 utf8_chars(std::string_view(reinterpret_cast<const char*>(b + pos - v), v)) <=
                     static_cast<std::size_t>(c.length);
            break;
        case data_type::binary: ok = skip_bytes(v) && v <= static_cast<std::uint64_t>(c.length); break;
        case data_type::decimal:
            if (c.precision <= 18) {
                ok = read_varint(10, v) && decimal_fits(static_cast<std::int64_t>(v), c.precision);
            } else {
                ok = skip_bytes(v) && v >= 1 && v <= 16;
                if (ok) {
                    const std::uint8_t* d = b + pos - v;
                    // Minimal two's complement only: no leading byte that just repeats the next one's sign.
                    ok = v == 1 || !((d[0] == 0x00 && (d[1] & 0x80) == 0) || (d[0] == 0xff && (d[1] & 0x80) != 0));
                    auto u = static_cast<uint128>((d[0] & 0x80) ? -1 : 0);
                    for (std::uint64_t j = 0; j < v; ++j) u = (u << 8) | d[j];
                    ok = ok && decimal_fits(static_cast<int128>(u), c.precision);
                }
            }
            break;
        case data_type::timestamp:
        case data_type::timestamp_ltz:
            ok = skip_varint(10) && (c.precision <= 3 || (read_varint(5, v) && v <= 999999));
            break;
        }
        if (!ok || pos > size) return slow();
        if (int k = key_slot(i); k >= 0) {
            key_begin[k] = start;
            key_end[k] = pos;
        }
    }
    if (pos != size) return slow();
    std::string key;
    for (std::size_t k = 0; k < s.primary_key.size(); ++k)
        key.append(reinterpret_cast<const char*>(b + key_begin[k]), key_end[k] - key_begin[k]);
    return key;
}

}  // namespace fluss_fetch::log
