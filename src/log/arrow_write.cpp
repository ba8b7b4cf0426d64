// The ARROW record area as Fluss's Java writer lays it out (fluss-arrow.md
// §1, §1.1, §2, §3, §4): change-type bytes, then one encapsulated Arrow IPC
// RecordBatch message (continuation, metadata length, flatbuffer Message V5,
// body of 8-aligned buffer regions), a validity buffer for every column.
#include <fluss_fetch/log/arrow.hpp>

#include "codec.hpp"
#include "compacted.hpp"
#include "flatbuf_builder.hpp"

#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace fluss_fetch::log {

const char* compression_name(arrow_compression c) noexcept {
    switch (c) {
    case arrow_compression::none: return "NONE";
    case arrow_compression::lz4_frame: return "LZ4_FRAME";
    case arrow_compression::zstd: return "ZSTD";
    }
    return "?";
}

namespace {

// Arrow format enums (format/Message.fbs, Schema.fbs).
constexpr std::uint64_t metadata_v5 = 4;
constexpr std::uint64_t header_record_batch = 3;
constexpr std::uint64_t codec_zstd = 1;  // LZ4_FRAME = 0 is the default

using detail::put_raw;  // little-endian fixed-width values, as CompactedRow writes them

std::span<const std::byte> as_bytes(const std::string& s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string where(const column& c, std::size_t row_index) {
    return "column '" + c.name + "' (" + type_name(c.type) + "), row " + std::to_string(row_index);
}

[[noreturn]] void bad_field(const column& c, std::size_t row_index, const std::string& what) {
    throw std::invalid_argument(where(c, row_index) + ": " + what);
}

template <class T>
const T& get(const column& c, std::size_t row_index, const field& f, const char* want) {
    if (const T* v = std::get_if<T>(&f)) return *v;
    bad_field(c, row_index, std::string("needs ") + want);
}

void check_precision(const column& c, int lo, int hi) {
    if (c.precision < lo || c.precision > hi)
        throw std::invalid_argument("column '" + c.name + "' (" + type_name(c.type) + "): precision " +
                                    std::to_string(c.precision) + " is not " + std::to_string(lo) + ".." +
                                    std::to_string(hi));
}

/// 10^p as a 128-bit integer (p <= 38).
__extension__ typedef __int128 int128;
int128 pow10(int p) {
    int128 v = 1;
    for (int i = 0; i < p; ++i) v *= 10;
    return v;
}

/// A timestamp in the Arrow unit of its precision (ArrowTimestamp*Writer):
/// p0 seconds (Java's truncating millis / 1000), p1..3 millis, p4..6 micros
/// (millis * 1000 + nanos / 1000), p7..9 nanos (millis * 10^6 + nanos).
std::int64_t timestamp_in_unit(const column& c, std::size_t row_index, const timestamp_value& t) {
    if (c.precision > 3 && (t.nanos_of_milli < 0 || t.nanos_of_milli > 999'999))
        bad_field(c, row_index, "nanos of milli " + std::to_string(t.nanos_of_milli) + " is not 0..999999");
    if (c.precision == 0) return t.millis / 1000;  // C++ and Java both truncate toward zero
    if (c.precision <= 3) return t.millis;
    const std::int64_t scale = c.precision <= 6 ? 1000 : 1'000'000;
    const std::int64_t part = c.precision <= 6 ? t.nanos_of_milli / 1000 : t.nanos_of_milli;
    std::int64_t v = 0;
    if (__builtin_mul_overflow(t.millis, scale, &v) || __builtin_add_overflow(v, part, &v))
        bad_field(c, row_index,
                  "timestamp of " + std::to_string(t.millis) + " ms does not fit an int64 in the unit of its precision");
    return v;
}

/// The buffers of one column, uncompressed.
struct column_buffers {
    std::string validity;
    std::string offsets;  // Utf8 / Binary only
    std::string data;
    std::int64_t null_count = 0;
    bool variable = false;
};

column_buffers build_column(const column& c, std::size_t col, std::span<const std::pair<change_type, row>> rows) {
    const std::size_t n = rows.size();
    column_buffers b;
    b.validity.assign((n + 7) / 8, '\0');
    b.variable = c.type == data_type::string || c.type == data_type::char_ || c.type == data_type::bytes;
    switch (c.type) {
    case data_type::boolean: b.data.assign((n + 7) / 8, '\0'); break;
    case data_type::time: check_precision(c, 0, 9); break;
    case data_type::timestamp:
    case data_type::timestamp_ltz: check_precision(c, 0, 9); break;
    case data_type::decimal:
        check_precision(c, 1, 38);
        if (c.scale < 0 || c.scale > c.precision)
            throw std::invalid_argument("column '" + c.name + "' (DECIMAL): scale " + std::to_string(c.scale) +
                                        " is not 0.." + std::to_string(c.precision));
        break;
    case data_type::binary:
        if (c.length < 1)
            throw std::invalid_argument("column '" + c.name + "' (BINARY): length " + std::to_string(c.length) +
                                        " is below 1");
        break;
    default: break;
    }
    if (b.variable) put_raw<std::int32_t>(b.offsets, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const field& f = rows[i].second[col];
        const bool is_null = std::holds_alternative<std::monostate>(f);
        if (is_null) {
            if (!c.nullable) bad_field(c, i, "is NOT NULL but the field is null");
            ++b.null_count;
        } else {
            b.validity[i / 8] = static_cast<char>(b.validity[i / 8] | (1 << (i % 8)));
        }
        // Null slots keep zeros (fixed width) or repeat the last offset (variable width).
        switch (c.type) {
        case data_type::boolean:
            if (!is_null && get<bool>(c, i, f, "a bool")) b.data[i / 8] = static_cast<char>(b.data[i / 8] | (1 << (i % 8)));
            break;
        case data_type::tinyint: put_raw<std::int8_t>(b.data, is_null ? 0 : get<std::int8_t>(c, i, f, "an int8")); break;
        case data_type::smallint: put_raw<std::int16_t>(b.data, is_null ? 0 : get<std::int16_t>(c, i, f, "an int16")); break;
        case data_type::int_:
        case data_type::date: put_raw<std::int32_t>(b.data, is_null ? 0 : get<std::int32_t>(c, i, f, "an int32")); break;
        case data_type::bigint: put_raw<std::int64_t>(b.data, is_null ? 0 : get<std::int64_t>(c, i, f, "an int64")); break;
        case data_type::float_: put_raw<float>(b.data, is_null ? 0.0f : get<float>(c, i, f, "a float")); break;
        case data_type::double_: put_raw<double>(b.data, is_null ? 0.0 : get<double>(c, i, f, "a double")); break;
        case data_type::time: {
            // Fluss TIME is int32 millis of the day (ArrowTimeWriter): s / ms as int32, us / ns as int64.
            const std::int32_t ms = is_null ? 0 : get<std::int32_t>(c, i, f, "an int32 (millis of the day)");
            if (c.precision == 0) put_raw<std::int32_t>(b.data, ms / 1000);
            else if (c.precision <= 3) put_raw<std::int32_t>(b.data, ms);
            else if (c.precision <= 6) put_raw<std::int64_t>(b.data, std::int64_t{ms} * 1000);
            else put_raw<std::int64_t>(b.data, std::int64_t{ms} * 1'000'000);
            break;
        }
        case data_type::timestamp:
        case data_type::timestamp_ltz:
            put_raw<std::int64_t>(b.data, is_null ? 0 : timestamp_in_unit(c, i, get<timestamp_value>(c, i, f, "a timestamp")));
            break;
        case data_type::decimal: {
            int128 u = 0;
            if (!is_null) {
                u = get<decimal_value>(c, i, f, "a decimal").unscaled;
                const int128 limit = pow10(c.precision);
                if (u >= limit || u <= -limit)
                    bad_field(c, i, "unscaled value has more than " + std::to_string(c.precision) + " digits");
            }
            put_raw<int128>(b.data, u);  // 16-byte little-endian two's complement
            break;
        }
        case data_type::binary: {
            if (is_null) {
                b.data.append(static_cast<std::size_t>(c.length), '\0');
                break;
            }
            const auto& s = get<std::string>(c, i, f, "a string of bytes");
            if (s.size() != static_cast<std::size_t>(c.length))
                bad_field(c, i, "has " + std::to_string(s.size()) + " bytes, BINARY(" + std::to_string(c.length) +
                                    ") needs exactly " + std::to_string(c.length));
            b.data += s;
            break;
        }
        case data_type::string:
        case data_type::char_:
        case data_type::bytes: {
            if (!is_null) b.data += get<std::string>(c, i, f, "a string");
            if (b.data.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
                bad_field(c, i, "the column's bytes pass 2^31 - 1 (Arrow int32 offsets)");
            put_raw<std::int32_t>(b.offsets, static_cast<std::int32_t>(b.data.size()));
            break;
        }
        }
    }
    return b;
}

/// The IPC body: buffer regions at 8-aligned offsets (§1.1), each compressed
/// as Arrow Java's AbstractCompressionCodec does (§3).
class body_writer {
public:
    explicit body_writer(const arrow_write_options& o) : opts_(o) {}

    void add(const std::string& raw) {
        while (body_.size() % 8 != 0) body_ += '\0';
        const std::size_t at = body_.size();
        if (opts_.compression == arrow_compression::none) {
            body_ += raw;
        } else if (raw.empty()) {
            put_raw<std::int64_t>(body_, 0);
        } else {
            const std::string frame = opts_.compression == arrow_compression::zstd
                                          ? detail::zstd_compress(as_bytes(raw), opts_.zstd_level)
                                          : detail::lz4_frame_compress(as_bytes(raw));
            if (frame.size() > raw.size()) {  // strictly larger: keep it raw
                put_raw<std::int64_t>(body_, -1);
                body_ += raw;
            } else {
                put_raw<std::int64_t>(body_, static_cast<std::int64_t>(raw.size()));
                body_ += frame;
            }
        }
        put_raw<std::int64_t>(buffers_, static_cast<std::int64_t>(at));
        put_raw<std::int64_t>(buffers_, static_cast<std::int64_t>(body_.size() - at));
        ++count_;
    }

    std::string finish() {
        while (body_.size() % 8 != 0) body_ += '\0';
        return std::move(body_);
    }
    const std::string& buffers() const noexcept { return buffers_; }  // Buffer structs, 16 B each
    std::size_t count() const noexcept { return count_; }

private:
    arrow_write_options opts_;
    std::string body_;
    std::string buffers_;
    std::size_t count_ = 0;
};

}  // namespace

std::string encode_arrow_records(const schema& s, std::span<const std::pair<change_type, row>> rows, bool append_only,
                                 const arrow_write_options& opts) {
    if (opts.compression == arrow_compression::zstd && (opts.zstd_level < 1 || opts.zstd_level > 22))
        throw std::invalid_argument("ZSTD level " + std::to_string(opts.zstd_level) + " is not 1..22");
    if (rows.empty()) return {};
    const std::size_t ncols = s.columns.size();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (rows[i].second.size() != ncols)
            throw std::invalid_argument("row " + std::to_string(i) + " has " + std::to_string(rows[i].second.size()) +
                                        " fields, the schema " + std::to_string(ncols));
        const auto t = static_cast<int>(rows[i].first);
        if (t < 0 || t > 4) throw std::invalid_argument("row " + std::to_string(i) + ": unknown change type " + std::to_string(t));
    }

    std::string out;
    if (!append_only) {
        out.reserve(rows.size());
        for (const auto& r : rows) out += static_cast<char>(r.first);
    }

    body_writer body(opts);
    std::string nodes;  // FieldNode structs: length, null_count
    for (std::size_t col = 0; col < ncols; ++col) {
        const column_buffers b = build_column(s.columns[col], col, rows);
        put_raw<std::int64_t>(nodes, static_cast<std::int64_t>(rows.size()));
        put_raw<std::int64_t>(nodes, b.null_count);
        body.add(b.validity);
        if (b.variable) body.add(b.offsets);
        body.add(b.data);
    }
    const std::size_t nbuffers = body.count();
    const std::string buffers = body.buffers();
    const std::string body_bytes = body.finish();

    // Metadata: Message { version, header_type, header -> RecordBatch, bodyLength }.
    using fb = detail::flatbuf_builder;
    fb meta;
    const auto message = meta.table({
        fb::field{0, 2, metadata_v5},
        fb::field{1, 1, header_record_batch},
        fb::field{2, 4, 0, true},
        fb::field{3, 8, static_cast<std::uint64_t>(body_bytes.size())},
    });
    meta.set_root(message.table);
    const bool compressed = opts.compression != arrow_compression::none;
    std::vector<fb::field> rb_fields{
        fb::field{0, 8, static_cast<std::uint64_t>(rows.size())},
        fb::field{1, 4, 0, true},
        fb::field{2, 4, 0, true},
    };
    if (compressed) rb_fields.push_back(fb::field{3, 4, 0, true});
    const auto record_batch = meta.table(std::move(rb_fields));
    meta.patch(message.offset_of(2), record_batch.table);
    meta.patch(record_batch.offset_of(1), meta.struct_vector(nodes.data(), ncols, 16));
    meta.patch(record_batch.offset_of(2), meta.struct_vector(buffers.data(), nbuffers, 16));
    if (compressed) {
        // BodyCompression { codec (LZ4_FRAME = 0 omitted), method BUFFER = 0 omitted }.
        const auto bc = meta.table({fb::field{0, 1, opts.compression == arrow_compression::zstd ? codec_zstd : 0}});
        meta.patch(record_batch.offset_of(3), bc.table);
    }
    const std::string metadata = meta.finish();  // a multiple of 8, so 8 + length is too

    out.reserve(out.size() + 8 + metadata.size() + body_bytes.size());
    put_raw<std::uint32_t>(out, 0xFFFFFFFFu);
    put_raw<std::int32_t>(out, static_cast<std::int32_t>(metadata.size()));
    out += metadata;
    out += body_bytes;
    return out;
}

}  // namespace fluss_fetch::log
