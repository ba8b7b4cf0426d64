// The ARROW record source (fluss-arrow.md §1-§6): a batch's change-type
// vector and its one Arrow IPC RecordBatch message in, KV records out, each
// value a CompactedRow exactly as encode_row writes the same row and each key
// exactly as encode_key does.
//
// open() checks the whole message (framing, flatbuffer, field nodes, buffer
// regions, compression) and decompresses every buffer once into scratch
// memory kept across batches; next() builds one row's key and value into
// reused strings, straight from the column buffers (no variant, no
// allocation once the strings have grown). Per-row problems (a null in a NOT
// NULL column, a timestamp Java cannot recover, a decimal too wide for a NOT
// NULL column) are raised by next() with the row's log offset.
#include "log/codec.hpp"
#include "log/compacted.hpp"
#include "log/flatbuf.hpp"

#include <fluss_fetch/log/log_error.hpp>
#include <fluss_fetch/log/records.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace fluss_fetch::log {

namespace {

using detail::flatbuf;
using detail::flatbuf_error;

// How a column sits in Arrow (§4).
enum class phys : std::uint8_t {
    boolean, i8, i16, i32, i64, f32, f64,
    var,      // Utf8 / Binary: validity, offsets, data
    fixed,    // FixedSizeBinary(n)
    decimal,  // Decimal128
    date,
    time32_s, time32_ms, time64_us, time64_ns,
    ts_s, ts_ms, ts_us, ts_ns,
};

phys phys_of(const column& c) {
    switch (c.type) {
    case data_type::boolean: return phys::boolean;
    case data_type::tinyint: return phys::i8;
    case data_type::smallint: return phys::i16;
    case data_type::int_: return phys::i32;
    case data_type::bigint: return phys::i64;
    case data_type::float_: return phys::f32;
    case data_type::double_: return phys::f64;
    case data_type::string:
    case data_type::char_:
    case data_type::bytes: return phys::var;
    case data_type::binary: return phys::fixed;
    case data_type::decimal: return phys::decimal;
    case data_type::date: return phys::date;
    case data_type::time:
        return c.precision == 0 ? phys::time32_s : c.precision <= 3 ? phys::time32_ms
               : c.precision <= 6 ? phys::time64_us : phys::time64_ns;
    case data_type::timestamp:
    case data_type::timestamp_ltz:
        return c.precision == 0 ? phys::ts_s : c.precision <= 3 ? phys::ts_ms
               : c.precision <= 6 ? phys::ts_us : phys::ts_ns;
    }
    return phys::i32;
}

// Bytes per value in the data buffer (0: bits or variable).
std::size_t width_of(phys p, const column& c) {
    switch (p) {
    case phys::boolean: return 0;
    case phys::i8: return 1;
    case phys::i16: return 2;
    case phys::i32: case phys::f32: case phys::date: case phys::time32_s: case phys::time32_ms: return 4;
    case phys::i64: case phys::f64: case phys::time64_us: case phys::time64_ns:
    case phys::ts_s: case phys::ts_ms: case phys::ts_us: case phys::ts_ns: return 8;
    case phys::var: return 0;
    case phys::fixed: return static_cast<std::size_t>(c.length);
    case phys::decimal: return 16;
    }
    return 0;
}

// Most CompactedRow bytes one value takes (var: the length varint only).
std::size_t max_bytes_of(phys p, const column& c) {
    switch (p) {
    case phys::boolean: case phys::i8: return 1;
    case phys::i16: return 2;
    case phys::i32: case phys::date: case phys::time32_s: case phys::time32_ms: case phys::time64_us:
    case phys::time64_ns: return detail::max_int32;
    case phys::i64: return detail::max_int64;
    case phys::f32: return 4;
    case phys::f64: return 8;
    case phys::var: return detail::max_int32;
    case phys::fixed: return detail::max_int32 + static_cast<std::size_t>(c.length);
    case phys::decimal: return detail::max_decimal;
    case phys::ts_s: case phys::ts_ms: case phys::ts_us: case phys::ts_ns: return detail::max_timestamp;
    }
    return detail::max_decimal;
}

template <class T>
T load(const std::byte* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

std::string hex_bytes(const std::byte* p, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        const auto b = static_cast<unsigned char>(p[i]);
        if (i) s += ' ';
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

using int128 = detail::int128_t;

// 10^k for k = 0..38.
struct pow10_table {
    int128 v[39];
    constexpr pow10_table() : v{} {
        v[0] = 1;
        for (int i = 1; i < 39; ++i) v[i] = v[i - 1] * 10;
    }
};
constexpr pow10_table pow10{};

// One decoded buffer: where its bytes are now and where they came from.
struct buffer {
    const std::byte* data = nullptr;
    std::size_t size = 0;
    std::uint64_t file_pos = 0;  ///< file offset of the region (of the raw bytes when `raw`)
    bool raw = false;            ///< bytes are the file's own (file_pos + i is byte i)
    std::uint64_t at(std::size_t i) const noexcept { return raw ? file_pos + i : file_pos; }
};

struct col_state {
    const column* c = nullptr;
    phys p = phys::i32;
    std::size_t width = 0;
    buffer validity;  ///< data == nullptr: no nulls
    buffer offsets;   ///< var only
    buffer data;
    std::size_t max_bytes = 0;  ///< most CompactedRow bytes of one value (var: without the data)
    bool key = false;           ///< a primary-key column
};

const char* buffer_name(int slot, phys p) {
    if (slot == 0) return "validity buffer";
    if (p == phys::var) return slot == 1 ? "offsets buffer" : "data buffer";
    return "data buffer";
}

class arrow_record_source final : public record_source {
public:
    explicit arrow_record_source(const schema& s) : schema_(s) {
        cols_.resize(s.columns.size());
        for (std::size_t i = 0; i < s.columns.size(); ++i) {
            cols_[i].c = &s.columns[i];
            cols_[i].p = phys_of(s.columns[i]);
            cols_[i].width = width_of(cols_[i].p, s.columns[i]);
            cols_[i].max_bytes = max_bytes_of(cols_[i].p, s.columns[i]);
            buffer_count_ += cols_[i].p == phys::var ? 3 : 2;
        }
        scratch_.resize(buffer_count_);
        null_bytes_ = (s.columns.size() + 7) / 8;
        for (const auto idx : s.primary_key) cols_[idx].key = true;
        key_span_.resize(s.columns.size());
        key_.resize(64);
        value_.resize(256);
    }

    void open(const batch_view& batch, std::string_view segment_id) override;
    bool next(kv_record& out) override;

private:
    [[noreturn]] void fail(log_error::kind k, std::uint64_t file_pos, std::int64_t log_offset,
                           const std::string& problem) const {
        throw log_error(k, segment_id_, static_cast<std::int64_t>(file_pos), log_offset, problem);
    }
    [[noreturn]] void corrupt(std::uint64_t file_pos, const std::string& problem) const {
        fail(log_error::kind::bad_arrow, file_pos, base_offset_, problem);
    }
    std::string col_label(const column& c) const {
        return "column '" + c.name + "' (" + type_name(c.type) + ")";
    }
    void parse_message(std::span<const std::byte> ipc, std::uint64_t ipc_file, std::size_t n);
    buffer decode_buffer(std::size_t index, const col_state& cs, int slot, std::span<const std::byte> body,
                         std::uint64_t body_file, std::int64_t off, std::int64_t len, std::uint64_t need);
    // Write column `cs`'s value of row `i` at `out` (room for field_bound
    // bytes); the end, or nullptr when the value reads as null (a decimal
    // wider than its precision).
    char* write_field(char* out, const col_state& cs, std::size_t i) const;
    std::size_t field_bound(const col_state& cs, std::size_t i) const;
    static char* room(std::vector<char>& buf, std::size_t n);
    bool is_null(const col_state& cs, std::size_t i) const {
        if (!cs.validity.data) return false;
        return ((static_cast<unsigned>(cs.validity.data[i / 8]) >> (i % 8)) & 1u) == 0;
    }
    std::uint64_t row_pos(const col_state& cs, std::size_t i) const {
        return cs.data.at(cs.width ? i * cs.width : i / 8);
    }

    const schema& schema_;
    std::vector<col_state> cols_;
    std::size_t buffer_count_ = 0;
    std::size_t null_bytes_ = 0;
    struct scratch {
        std::unique_ptr<std::byte[]> bytes;
        std::size_t capacity = 0;
    };
    std::vector<scratch> scratch_;  ///< one per buffer of the message, kept across batches
    enum class codec : std::uint8_t { none, lz4_frame, zstd } codec_ = codec::none;

    std::string segment_id_;
    std::int64_t base_offset_ = 0;
    std::size_t rows_ = 0;
    std::size_t row_ = 0;
    const std::byte* change_types_ = nullptr;  ///< nullptr: append-only
    char schema_id_[2] = {};
    std::vector<char> key_;    ///< the current record's key (grown, never shrunk)
    std::vector<char> value_;  ///< the current record's value
    std::vector<std::pair<std::size_t, std::size_t>> key_span_;  ///< per column: (offset, length) in value_
};

void arrow_record_source::open(const batch_view& batch, std::string_view segment_id) {
    segment_id_.assign(segment_id);
    base_offset_ = batch.header.base_offset;
    rows_ = 0;
    row_ = 0;
    change_types_ = nullptr;
    const auto id = batch.header.schema_id;
    schema_id_[0] = static_cast<char>(id & 0xff);
    schema_id_[1] = static_cast<char>((id >> 8) & 0xff);
    if (batch.header.record_count <= 0) return;  // no IPC message at all (§6): never parse bytes here

    const auto n = static_cast<std::size_t>(batch.header.record_count);
    const auto area = batch.records;
    const std::uint64_t area_file =
        batch.file_offset + static_cast<std::uint64_t>(area.data() - batch.bytes.data());
    std::size_t pos = 0;
    if (!batch.header.append_only()) {
        if (area.size() < n)
            corrupt(area_file, "change-type vector: " + std::to_string(n) + " rows need " + std::to_string(n) +
                                   " bytes, the record area has " + std::to_string(area.size()));
        for (std::size_t i = 0; i < n; ++i) {
            const auto t = static_cast<std::uint8_t>(area[i]);
            if (t > 4)
                fail(log_error::kind::bad_arrow, area_file + i, base_offset_ + static_cast<std::int64_t>(i),
                     "change-type vector: row " + std::to_string(i) + " has change type " + std::to_string(t) +
                         " (known: 0..4)");
        }
        change_types_ = area.data();
        pos = n;
    }
    parse_message(area.subspan(pos), area_file + pos, n);
    rows_ = n;
}

void arrow_record_source::parse_message(std::span<const std::byte> ipc, std::uint64_t ipc_file, std::size_t n) {
    if (ipc.size() < 8)
        corrupt(ipc_file, "IPC message: " + std::to_string(ipc.size()) +
                              " bytes after the change-type vector, its prefix alone needs 8");
    if (load<std::uint32_t>(ipc.data()) != 0xffffffffu)
        corrupt(ipc_file, "IPC message: continuation marker is " + hex_bytes(ipc.data(), 4) + ", not ff ff ff ff");
    const auto mlen = load<std::int32_t>(ipc.data() + 4);
    if (mlen <= 0 || static_cast<std::uint64_t>(mlen) > ipc.size() - 8)
        corrupt(ipc_file + 4, "IPC message: metadata length " + std::to_string(mlen) + " does not fit the " +
                                  std::to_string(ipc.size() - 8) + " bytes after the prefix");
    const auto meta_size = static_cast<std::size_t>(mlen);
    const flatbuf fb(ipc.subspan(8, meta_size));
    const std::uint64_t fb_file = ipc_file + 8;
    const auto field_pos = [&](const flatbuf::table& t, int id, std::size_t w) -> std::uint64_t {
        const auto f = fb.field(t, id, w, "field");
        return fb_file + (f ? *f : t.pos);
    };
    const std::size_t ncols = cols_.size();
    try {
        const auto msg = fb.root("Message");
        const auto version = fb.scalar<std::int16_t>(msg, 0, 0, "version");
        if (version != 4) {
            if (version >= 0 && version < 4)
                fail(log_error::kind::unsupported, field_pos(msg, 0, 2), base_offset_,
                     "IPC message: metadata version V" + std::to_string(version + 1) + ", only V5 is read");
            corrupt(field_pos(msg, 0, 2), "IPC message: unknown metadata version " + std::to_string(version) +
                                              " (V5 is 4)");
        }
        const auto header_type = fb.scalar<std::uint8_t>(msg, 1, 0, "header_type");
        if (header_type != 3)
            corrupt(field_pos(msg, 1, 1), "IPC message: header type " + std::to_string(header_type) +
                                              ", not RecordBatch (3)");
        const auto rb = fb.sub_table(msg, 2, "header", "RecordBatch");
        if (!rb) corrupt(fb_file + msg.pos, "IPC message: Message.header (the RecordBatch) is missing");
        const auto body_len = fb.scalar<std::int64_t>(msg, 3, 0, "bodyLength");
        const std::uint64_t room = ipc.size() - 8 - meta_size;
        if (body_len < 0 || static_cast<std::uint64_t>(body_len) > room)
            corrupt(field_pos(msg, 3, 8), "IPC message: body length " + std::to_string(body_len) +
                                              " does not fit the " + std::to_string(room) +
                                              " bytes after the metadata");
        const auto body = ipc.subspan(8 + meta_size, static_cast<std::size_t>(body_len));
        const std::uint64_t body_file = ipc_file + 8 + meta_size;

        const auto length = fb.scalar<std::int64_t>(*rb, 0, 0, "length");
        if (length != static_cast<std::int64_t>(n))
            corrupt(field_pos(*rb, 0, 8), "IPC message: RecordBatch.length " + std::to_string(length) +
                                              " differs from the batch's record count " + std::to_string(n));
        const auto nodes = fb.vec(*rb, 1, 16, "nodes");
        const std::uint32_t node_count = nodes ? nodes->count : 0;
        if (node_count != ncols)
            corrupt(field_pos(*rb, 1, 4), "IPC message: " + std::to_string(node_count) + " field nodes, the schema has " +
                                              std::to_string(ncols) + " columns");
        const auto buffers = fb.vec(*rb, 2, 16, "buffers");
        const std::uint32_t buffer_count = buffers ? buffers->count : 0;
        if (buffer_count != buffer_count_)
            corrupt(field_pos(*rb, 2, 4), "IPC message: " + std::to_string(buffer_count) +
                                              " buffers, the schema's columns have " + std::to_string(buffer_count_));
        codec_ = codec::none;
        if (const auto comp = fb.sub_table(*rb, 3, "compression", "BodyCompression")) {
            const auto c = fb.scalar<std::int8_t>(*comp, 0, 0, "codec");
            if (c != 0 && c != 1)
                corrupt(field_pos(*comp, 0, 1), "IPC message: BodyCompression.codec " + std::to_string(c) +
                                                    " is unknown (LZ4_FRAME 0, ZSTD 1)");
            const auto m = fb.scalar<std::int8_t>(*comp, 1, 0, "method");
            if (m != 0)
                corrupt(field_pos(*comp, 1, 1), "IPC message: BodyCompression.method " + std::to_string(m) +
                                                    " is not BUFFER (0)");
            codec_ = c == 0 ? codec::lz4_frame : codec::zstd;
        }

        std::size_t bi = 0;
        for (std::size_t j = 0; j < ncols; ++j) {
            auto& cs = cols_[j];
            const std::size_t node_at = nodes->pos + 16 * j;
            const auto node_len = fb.read<std::int64_t>(node_at, "FieldNode");
            const auto null_count = fb.read<std::int64_t>(node_at + 8, "FieldNode");
            if (node_len != static_cast<std::int64_t>(n))
                corrupt(fb_file + node_at, col_label(*cs.c) + ": field node length " + std::to_string(node_len) +
                                               ", the batch has " + std::to_string(n) + " rows");
            if (null_count < 0 || null_count > static_cast<std::int64_t>(n))
                corrupt(fb_file + node_at + 8, col_label(*cs.c) + ": field node null count " +
                                                   std::to_string(null_count) + " is not within 0.." +
                                                   std::to_string(n));
            const int slots = cs.p == phys::var ? 3 : 2;
            std::int64_t off[3] = {}, len[3] = {};
            for (int k = 0; k < slots; ++k) {
                const std::size_t at = buffers->pos + 16 * (bi + static_cast<std::size_t>(k));
                off[k] = fb.read<std::int64_t>(at, "Buffer");
                len[k] = fb.read<std::int64_t>(at + 8, "Buffer");
                if (off[k] < 0 || len[k] < 0 || static_cast<std::uint64_t>(off[k]) > body.size() ||
                    static_cast<std::uint64_t>(len[k]) > body.size() - static_cast<std::uint64_t>(off[k]))
                    corrupt(fb_file + at, col_label(*cs.c) + ": " + buffer_name(k, cs.p) + ": region offset " +
                                              std::to_string(off[k]) + ", length " + std::to_string(len[k]) +
                                              " lies outside the body of " + std::to_string(body.size()) + " bytes");
            }
            const std::uint64_t bits = (static_cast<std::uint64_t>(n) + 7) / 8;
            // Validity.
            cs.validity = decode_buffer(bi, cs, 0, body, body_file, off[0], len[0], bits);
            if (cs.validity.size == 0) {
                if (null_count != 0)
                    corrupt(cs.validity.file_pos, col_label(*cs.c) + ": validity buffer is empty but the field node counts " +
                                                      std::to_string(null_count) + " nulls");
                cs.validity.data = nullptr;
            } else if (cs.validity.size < bits) {
                corrupt(cs.validity.file_pos, col_label(*cs.c) + ": validity buffer has " +
                                                  std::to_string(cs.validity.size) + " bytes, " + std::to_string(n) +
                                                  " rows need " + std::to_string(bits));
            }
            if (cs.p == phys::var) {
                const std::uint64_t need = (static_cast<std::uint64_t>(n) + 1) * 4;
                cs.offsets = decode_buffer(bi + 1, cs, 1, body, body_file, off[1], len[1], need);
                if (cs.offsets.size < need)
                    corrupt(cs.offsets.file_pos, col_label(*cs.c) + ": offsets buffer has " +
                                                     std::to_string(cs.offsets.size) + " bytes, " + std::to_string(n) +
                                                     " rows need " + std::to_string(need));
                const std::byte* o = cs.offsets.data;
                std::int32_t prev = load<std::int32_t>(o);
                if (prev < 0)
                    corrupt(cs.offsets.at(0), col_label(*cs.c) + ": offsets buffer: offset[0] = " +
                                                  std::to_string(prev) + " is negative");
                for (std::size_t i = 1; i <= n; ++i) {
                    const auto cur = load<std::int32_t>(o + 4 * i);
                    if (cur < prev)
                        corrupt(cs.offsets.at(4 * i), col_label(*cs.c) + ": offsets buffer: offset[" +
                                                          std::to_string(i) + "] = " + std::to_string(cur) +
                                                          " is before offset[" + std::to_string(i - 1) +
                                                          "] = " + std::to_string(prev));
                    prev = cur;
                }
                cs.data = decode_buffer(bi + 2, cs, 2, body, body_file, off[2], len[2],
                                        static_cast<std::uint64_t>(prev));
                if (static_cast<std::uint64_t>(prev) > cs.data.size)
                    corrupt(cs.offsets.at(4 * n), col_label(*cs.c) + ": offsets buffer: offset[" + std::to_string(n) +
                                                      "] = " + std::to_string(prev) + " is past the end of the data buffer (" +
                                                      std::to_string(cs.data.size) + " bytes)");
            } else {
                const std::uint64_t need = cs.p == phys::boolean ? bits : static_cast<std::uint64_t>(n) * cs.width;
                cs.data = decode_buffer(bi + 1, cs, 1, body, body_file, off[1], len[1], need);
                if (cs.data.size < need)
                    corrupt(cs.data.file_pos, col_label(*cs.c) + ": data buffer has " + std::to_string(cs.data.size) +
                                                  " bytes, " + std::to_string(n) + " rows need " + std::to_string(need));
            }
            bi += static_cast<std::size_t>(slots);
        }
    } catch (const flatbuf_error& e) {
        corrupt(fb_file + e.pos(), std::string("IPC metadata: ") + e.what());
    }
}

buffer arrow_record_source::decode_buffer(std::size_t index, const col_state& cs, int slot,
                                          std::span<const std::byte> body, std::uint64_t body_file,
                                          std::int64_t off, std::int64_t len, std::uint64_t need) {
    buffer b;
    const std::byte* region = body.data() + off;
    const auto size = static_cast<std::size_t>(len);
    b.file_pos = body_file + static_cast<std::uint64_t>(off);
    b.raw = true;
    b.data = region;
    b.size = size;
    if (codec_ == codec::none || size == 0) return b;  // raw, or an empty region under compression
    const auto label = [&] { return col_label(*cs.c) + ": " + buffer_name(slot, cs.p); };
    if (size < 8)
        corrupt(b.file_pos, label() + ": compressed region of " + std::to_string(size) +
                                " bytes is shorter than its 8-byte length prefix");
    const auto prefix = load<std::int64_t>(region);
    if (prefix == -1) {  // stored uncompressed
        b.data = region + 8;
        b.size = size - 8;
        b.file_pos += 8;
        return b;
    }
    if (prefix == 0) {
        b.size = 0;
        return b;
    }
    if (prefix < 0)
        corrupt(b.file_pos, label() + ": length prefix " + std::to_string(prefix) +
                                " is neither -1 (stored raw), 0 (empty) nor an uncompressed length");
    // Bound the allocation before making it: what the column can need (JS
    // pads to 64 bytes), and what the codec can expand the region to.
    const std::uint64_t cap = (need + 63) / 64 * 64;
    const std::uint64_t in = size - 8;
    const std::uint64_t expand = codec_ == codec::zstd ? in * 43691 + 131072 : in * 256 + 65536;
    if (static_cast<std::uint64_t>(prefix) > cap || static_cast<std::uint64_t>(prefix) > expand)
        corrupt(b.file_pos, label() + ": length prefix " + std::to_string(prefix) + " is more than the " +
                                std::to_string(cap) + " bytes the column can need" +
                                (static_cast<std::uint64_t>(prefix) > expand
                                     ? " or the " + std::to_string(in) + " compressed bytes can hold"
                                     : std::string()));
    auto& s = scratch_[index];
    const auto out_size = static_cast<std::size_t>(prefix);
    if (s.capacity < out_size) {
        s.bytes.reset(new std::byte[out_size]);  // not zero-filled: the codec writes every byte
        s.capacity = out_size;
    }
    try {
        const std::span<const std::byte> src(region + 8, static_cast<std::size_t>(in));
        const std::span<std::byte> dst(s.bytes.get(), out_size);
        if (codec_ == codec::zstd)
            detail::zstd_decompress(src, dst);
        else
            detail::lz4_frame_decompress(src, dst);
    } catch (const std::invalid_argument& e) {
        corrupt(b.file_pos + 8, label() + ": " + (codec_ == codec::zstd ? "ZSTD" : "LZ4_FRAME") + ": " + e.what());
    }
    b.data = s.bytes.get();
    b.size = out_size;
    b.raw = false;
    return b;
}

char* arrow_record_source::write_field(char* out, const col_state& cs, std::size_t i) const {
    const std::byte* d = cs.data.data;
    switch (cs.p) {
    case phys::boolean: *out++ = static_cast<char>((static_cast<unsigned>(d[i / 8]) >> (i % 8)) & 1u); return out;
    case phys::i8: *out++ = static_cast<char>(d[i]); return out;
    case phys::i16: std::memcpy(out, d + 2 * i, 2); return out + 2;
    case phys::i32:
    case phys::date:
    case phys::time32_ms: return detail::write_int32(out, load<std::int32_t>(d + 4 * i));
    case phys::i64: return detail::write_int64(out, load<std::int64_t>(d + 8 * i));
    case phys::f32: std::memcpy(out, d + 4 * i, 4); return out + 4;
    case phys::f64: std::memcpy(out, d + 8 * i, 8); return out + 8;
    case phys::var: {
        const std::byte* o = cs.offsets.data;
        const auto from = load<std::int32_t>(o + 4 * i);
        const auto to = load<std::int32_t>(o + 4 * i + 4);
        return detail::write_bytes(out, d + from, static_cast<std::size_t>(to - from));
    }
    case phys::fixed: return detail::write_bytes(out, d + i * cs.width, cs.width);
    case phys::decimal: {
        const auto v = load<int128>(d + 16 * i);
        const int p = cs.c->precision < 1 ? 1 : cs.c->precision > 38 ? 38 : cs.c->precision;
        if (v >= pow10.v[p] || v <= -pow10.v[p]) return nullptr;  // more than p digits: Decimal.fromBigDecimal gives null
        return detail::write_decimal(out, v, cs.c->precision);
    }
    // TIME: Java int arithmetic (ArrowTimeColumnVector): sec * 1000, us / 1000, ns / 1000000.
    case phys::time32_s:
        return detail::write_int32(
            out, static_cast<std::int32_t>(static_cast<std::uint32_t>(load<std::int32_t>(d + 4 * i)) * 1000u));
    case phys::time64_us: return detail::write_int32(out, static_cast<std::int32_t>(load<std::int64_t>(d + 8 * i) / 1000));
    case phys::time64_ns:
        return detail::write_int32(out, static_cast<std::int32_t>(load<std::int64_t>(d + 8 * i) / 1000000));
    case phys::ts_s:
        return detail::write_timestamp(
            out, static_cast<std::int64_t>(static_cast<std::uint64_t>(load<std::int64_t>(d + 8 * i)) * 1000u), 0,
            cs.c->precision);
    case phys::ts_ms: return detail::write_timestamp(out, load<std::int64_t>(d + 8 * i), 0, cs.c->precision);
    case phys::ts_us:
    case phys::ts_ns: {
        const auto v = load<std::int64_t>(d + 8 * i);
        const std::int64_t unit = cs.p == phys::ts_us ? 1000 : 1000000;
        const std::int64_t millis = v / unit;  // Java truncating division
        const auto rem = static_cast<std::int32_t>(v % unit);
        if (rem < 0)
            fail(log_error::kind::unsupported, row_pos(cs, i), base_offset_ + static_cast<std::int64_t>(i),
                 col_label(*cs.c) + ": row " + std::to_string(i) + ": raw value " + std::to_string(v) +
                     (cs.p == phys::ts_us ? " us" : " ns") +
                     " is before 1970 with a sub-millisecond part; Fluss cannot recover it (negative nanos of millisecond)");
        return detail::write_timestamp(out, millis, cs.p == phys::ts_us ? rem * 1000 : rem, cs.c->precision);
    }
    }
    return out;
}

// The most bytes column `cs` can take in row `i` (fixed part precomputed per column).
std::size_t arrow_record_source::field_bound(const col_state& cs, std::size_t i) const {
    if (cs.p != phys::var) return cs.max_bytes;
    const std::byte* o = cs.offsets.data;
    return cs.max_bytes + static_cast<std::size_t>(load<std::int32_t>(o + 4 * i + 4) - load<std::int32_t>(o + 4 * i));
}

char* arrow_record_source::room(std::vector<char>& buf, std::size_t n) {
    if (buf.size() < n) buf.resize(std::max(n, 2 * buf.size()));
    return buf.data();
}

bool arrow_record_source::next(kv_record& out) {
    if (row_ >= rows_) return false;
    const std::size_t i = row_++;
    const auto offset = base_offset_ + static_cast<std::int64_t>(i);
    out.type = change_types_ ? static_cast<change_type>(change_types_[i]) : change_type::append_only;
    out.offset = offset;
    out.key = {};
    out.value = {};
    if (out.type == change_type::update_before) return true;  // a recovery skips it: no key, no value
    auto key_overflow = [&](const col_state& cs) {
        fail(log_error::kind::bad_arrow, row_pos(cs, i), offset,
             col_label(*cs.c) + ": row " + std::to_string(i) + ": primary key decimal has more than " +
                 std::to_string(cs.c->precision) + " digits");
    };
    std::size_t key_bound = 0;
    for (const auto idx : schema_.primary_key) {
        const auto& cs = cols_[idx];
        if (is_null(cs, i))
            fail(log_error::kind::bad_arrow, cs.validity.at(i / 8), offset,
                 col_label(*cs.c) + ": row " + std::to_string(i) + ": primary key column is null");
        key_bound += field_bound(cs, i);
    }
    if (out.type == change_type::del) {  // the key alone
        char* const k = room(key_, key_bound);
        char* w = k;
        for (const auto idx : schema_.primary_key) {
            w = write_field(w, cols_[idx], i);
            if (!w) key_overflow(cols_[idx]);
        }
        out.key = {k, static_cast<std::size_t>(w - k)};
        return true;
    }
    // The value, recording where each key column's bytes are: a key field is
    // encoded exactly as the value's field (CompactedKeyEncoder = CompactedRow
    // field writers), so the key is copied from the value.
    std::size_t bound = 2 + null_bytes_;
    for (const auto& cs : cols_) bound += field_bound(cs, i);
    char* const v = room(value_, bound);
    v[0] = schema_id_[0];
    v[1] = schema_id_[1];
    std::memset(v + 2, 0, null_bytes_);
    char* w = v + 2 + null_bytes_;
    for (std::size_t j = 0; j < cols_.size(); ++j) {
        const auto& cs = cols_[j];
        char* const start = w;
        if (!is_null(cs, i)) {
            w = write_field(w, cs, i);
            if (w) {
                if (cs.key) key_span_[j] = {static_cast<std::size_t>(start - v), static_cast<std::size_t>(w - start)};
                continue;
            }
            w = start;  // a decimal wider than its precision reads as null
            if (cs.key) key_overflow(cs);
            if (!cs.c->nullable)
                fail(log_error::kind::bad_arrow, row_pos(cs, i), offset,
                     col_label(*cs.c) + ": row " + std::to_string(i) + ": decimal has more than " +
                         std::to_string(cs.c->precision) + " digits in a NOT NULL column");
        } else if (!cs.c->nullable) {
            fail(log_error::kind::bad_arrow, cs.validity.at(i / 8), offset,
                 col_label(*cs.c) + ": row " + std::to_string(i) + ": null in a NOT NULL column");
        }
        v[2 + j / 8] = static_cast<char>(v[2 + j / 8] | (1 << (j % 8)));
    }
    out.value = {v, static_cast<std::size_t>(w - v)};
    char* const k = room(key_, key_bound);
    char* kw = k;
    for (const auto idx : schema_.primary_key) {
        std::memcpy(kw, v + key_span_[idx].first, key_span_[idx].second);
        kw += key_span_[idx].second;
    }
    out.key = {k, static_cast<std::size_t>(kw - k)};
    return true;
}
}  // namespace

std::unique_ptr<record_source> make_arrow_record_source(const schema& s) {
    return std::make_unique<arrow_record_source>(s);
}

}  // namespace fluss_fetch::log
