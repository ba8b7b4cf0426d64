// Schemas, CompactedRow and IndexedRow, and the KV key encoding.
#include <fluss_fetch/log/row.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <stdexcept>

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
    }
    return "?";
}

// ---------------------------------------------------------------- schema parsing

namespace {

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        auto comma = s.find(',', start);
        out.push_back(trim(s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

bool is_variable(data_type t) { return t == data_type::string || t == data_type::bytes; }

}  // namespace

schema schema::parse(std::string_view columns, std::string_view primary_key) {
    schema s;
    const auto defs = split_list(columns);
    for (std::size_t i = 0; i < defs.size(); ++i) {
        const std::string where = "column " + std::to_string(i + 1) + " ('" + defs[i] + "')";
        std::vector<std::string> words;
        std::string w;
        for (char c : defs[i]) {
            if (std::isspace(static_cast<unsigned char>(c))) {
                if (!w.empty()) words.push_back(std::move(w)), w.clear();
            } else {
                w += c;
            }
        }
        if (!w.empty()) words.push_back(std::move(w));
        if (words.size() < 2) throw std::invalid_argument(where + ": want 'name TYPE [NOT NULL]'");
        column c;
        c.name = words[0];
        std::string type = upper(words[1]);
        if (auto paren = type.find('('); paren != std::string::npos) {
            if (type.back() != ')' || (type.substr(0, paren) != "TIMESTAMP" && type.substr(0, paren) != "TIMESTAMP_LTZ"))
                throw std::invalid_argument(where + ": only TIMESTAMP takes a precision");
            const std::string p = type.substr(paren + 1, type.size() - paren - 2);
            if (p.size() != 1 || !std::isdigit(static_cast<unsigned char>(p[0])))
                throw std::invalid_argument(where + ": TIMESTAMP precision must be 0..9");
            c.precision = p[0] - '0';
            type = type.substr(0, paren);
        }
        if (type == "BOOLEAN") c.type = data_type::boolean;
        else if (type == "TINYINT") c.type = data_type::tinyint;
        else if (type == "SMALLINT") c.type = data_type::smallint;
        else if (type == "INT" || type == "INTEGER") c.type = data_type::int_;
        else if (type == "BIGINT") c.type = data_type::bigint;
        else if (type == "FLOAT") c.type = data_type::float_;
        else if (type == "DOUBLE") c.type = data_type::double_;
        else if (type == "STRING") c.type = data_type::string;
        else if (type == "BYTES") c.type = data_type::bytes;
        else if (type == "DATE") c.type = data_type::date;
        else if (type == "TIME") c.type = data_type::time;
        else if (type == "TIMESTAMP" || type == "TIMESTAMP_LTZ") c.type = data_type::timestamp;
        else throw std::invalid_argument(where + ": unknown type '" + words[1] + "'");
        if (words.size() == 4 && upper(words[2]) == "NOT" && upper(words[3]) == "NULL") c.nullable = false;
        else if (words.size() != 2) throw std::invalid_argument(where + ": unexpected '" + words[2] + "'");
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

template <class T>
void put_le(std::string& out, T v) {
    char b[sizeof v];
    std::memcpy(b, &v, sizeof v);  // little-endian host
    out.append(b, sizeof v);
}

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out += static_cast<char>((v & 0x7f) | 0x80);
        v >>= 7;
    }
    out += static_cast<char>(v);
}

[[noreturn]] void bad_field(const column& c, const char* want) {
    throw std::invalid_argument("column '" + c.name + "' (" + type_name(c.type) + ") needs " + want);
}

template <class T>
const T& get(const column& c, const field& f, const char* want) {
    if (const T* v = std::get_if<T>(&f)) return *v;
    bad_field(c, want);
}

// One non-null field as CompactedRow writes it.
void put_compacted(std::string& out, const column& c, const field& f) {
    switch (c.type) {
    case data_type::boolean: out += static_cast<char>(get<bool>(c, f, "a bool") ? 1 : 0); break;
    case data_type::tinyint: out += static_cast<char>(get<std::int8_t>(c, f, "an int8")); break;
    case data_type::smallint: put_le(out, get<std::int16_t>(c, f, "an int16")); break;
    case data_type::int_:
    case data_type::date:
    case data_type::time: put_varint(out, static_cast<std::uint32_t>(get<std::int32_t>(c, f, "an int32"))); break;
    case data_type::bigint: put_varint(out, static_cast<std::uint64_t>(get<std::int64_t>(c, f, "an int64"))); break;
    case data_type::float_: put_le(out, get<float>(c, f, "a float")); break;
    case data_type::double_: put_le(out, get<double>(c, f, "a double")); break;
    case data_type::string:
    case data_type::bytes: {
        const auto& s = get<std::string>(c, f, "a string");
        put_varint(out, static_cast<std::uint32_t>(s.size()));
        out += s;
        break;
    }
    case data_type::timestamp: {
        const auto& t = get<timestamp_value>(c, f, "a timestamp");
        put_varint(out, static_cast<std::uint64_t>(t.millis));
        if (c.precision > 3) put_varint(out, static_cast<std::uint32_t>(t.nanos_of_milli));
        break;
    }
    }
}

void put_indexed(std::string& out, const column& c, const field& f) {
    switch (c.type) {
    case data_type::boolean: out += static_cast<char>(get<bool>(c, f, "a bool") ? 1 : 0); break;
    case data_type::tinyint: out += static_cast<char>(get<std::int8_t>(c, f, "an int8")); break;
    case data_type::smallint: put_le(out, get<std::int16_t>(c, f, "an int16")); break;
    case data_type::int_:
    case data_type::date:
    case data_type::time: put_le(out, get<std::int32_t>(c, f, "an int32")); break;
    case data_type::bigint: put_le(out, get<std::int64_t>(c, f, "an int64")); break;
    case data_type::float_: put_le(out, get<float>(c, f, "a float")); break;
    case data_type::double_: put_le(out, get<double>(c, f, "a double")); break;
    case data_type::string:
    case data_type::bytes: out += get<std::string>(c, f, "a string"); break;
    case data_type::timestamp: {
        const auto& t = get<timestamp_value>(c, f, "a timestamp");
        put_le(out, t.millis);
        if (c.precision > 3) put_le(out, t.nanos_of_milli);
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
    for (const auto& c : s.columns) vars += is_variable(c.type);
    out.append(vars * 4, '\0');
    std::size_t slot = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (std::holds_alternative<std::monostate>(r[i])) continue;
        if (is_variable(s.columns[i].type)) {
            const auto len = static_cast<std::int32_t>(get<std::string>(s.columns[i], r[i], "a string").size());
            std::memcpy(out.data() + slots_at + 4 * slot++, &len, 4);
        }
        put_indexed(out, s.columns[i], r[i]);
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

    [[noreturn]] void fail(const column& c, const std::string& what) const {
        throw std::invalid_argument("column '" + c.name + "' (" + type_name(c.type) + ") at row byte " +
                                    std::to_string(pos_) + ": " + what);
    }

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
        std::uint64_t v = 0;
        for (int i = 0; i < max_bytes; ++i) {
            need(c, 1);
            const auto byte = static_cast<std::uint8_t>(b_[pos_++]);
            v |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
            if ((byte & 0x80) == 0) return v;
        }
        fail(c, "varint longer than " + std::to_string(max_bytes) + " bytes");
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

field get_compacted(cursor& in, const column& c) {
    if (auto f = get_fixed(in, c)) return std::move(*f);
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
    case data_type::timestamp: {
        timestamp_value t;
        t.millis = static_cast<std::int64_t>(in.varint(c, 10));
        if (c.precision > 3) t.nanos_of_milli = static_cast<std::int32_t>(static_cast<std::uint32_t>(in.varint(c, 5)));
        return t;
    }
    default: return std::monostate{};
    }
}

field get_indexed(cursor& in, const column& c, std::int32_t var_length) {
    if (auto f = get_fixed(in, c)) return std::move(*f);
    switch (c.type) {
    case data_type::int_:
    case data_type::date:
    case data_type::time: return in.le<std::int32_t>(c);
    case data_type::bigint: return in.le<std::int64_t>(c);
    case data_type::string:
    case data_type::bytes:
        if (var_length < 0) in.fail(c, "negative length " + std::to_string(var_length));
        return in.bytes(c, static_cast<std::size_t>(var_length));
    case data_type::timestamp: {
        timestamp_value t;
        t.millis = in.le<std::int64_t>(c);
        if (c.precision > 3) t.nanos_of_milli = in.le<std::int32_t>(c);
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
            if (is_variable(c.type)) lengths.push_back(0);
        for (auto& l : lengths) l = in.le<std::int32_t>(column{"(length slots)", data_type::int_, true, 3});
    }
    row r(n);
    std::size_t slot = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const auto& c = s.columns[i];
        if (is_null(i)) {
            if (!c.nullable) in.fail(c, "null in a NOT NULL column");
            continue;
        }
        r[i] = format == row_format::compacted ? get_compacted(in, c)
                                               : get_indexed(in, c, is_variable(c.type) ? lengths[slot++] : 0);
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
// reject (short, overlong varint, trailing bytes, null key) is rejected here
// too, with decode_row's message.
std::string key_of(const schema& s, std::span<const std::byte> row_bytes, row_format format) {
    const auto n = s.columns.size();
    const std::size_t null_bytes = (n + 7) / 8;
    const auto* b = reinterpret_cast<const std::uint8_t*>(row_bytes.data());
    const std::size_t size = row_bytes.size();
    auto slow = [&]() { return encode_key(s, decode_row(s, row_bytes, format)); };  // exact error messages
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
    auto skip_varint = [&](int max_bytes) -> bool {
        for (int i = 0; i < max_bytes; ++i) {
            if (pos >= size) return false;
            const std::uint8_t byte = b[pos++];
            if ((byte & 0x80) == 0) {
                if (i > 0 && byte == 0) return false;                          // a trailing zero group
                if (i == max_bytes - 1 && (byte >> (max_bytes == 5 ? 4 : 1)) != 0) return false;  // beyond 32 / 64 bits
                return true;
            }
        }
        return false;
    };
    if (format == row_format::compacted) {
        for (std::size_t i = 0; i < n; ++i) {
            const auto& c = s.columns[i];
            if (is_null(i)) {
                if (!c.nullable) return slow();
                continue;
            }
            const std::size_t start = pos;
            bool ok = true;
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
            case data_type::bytes: {
                const std::size_t at = pos;
                ok = skip_varint(5);
                if (ok) {
                    std::uint64_t len = 0;
                    for (std::size_t j = at, shift = 0; j < pos; ++j, shift += 7) len |= std::uint64_t(b[j] & 0x7f) << shift;
                    len &= 0xffffffffu;
                    ok = len <= size - pos;
                    pos += ok ? len : 0;
                }
                break;
            }
            case data_type::timestamp:
                ok = skip_varint(10) && (c.precision <= 3 || skip_varint(5));
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
    // IndexedRow: re-encode the key fields (fixed-width here, varint in the key).
    return slow();
}

}  // namespace fluss_fetch::log
