// A bounded flatbuffer table reader of our own, for the Arrow IPC metadata of
// ARROW batches (fluss-arrow.md §2). Internal to the log layer.
//
// Why not libflatbuffers: the ARROW reader needs about 12 fields (Message
// version/header_type/header/bodyLength, RecordBatch length/nodes/buffers/
// compression, BodyCompression codec/method, and the FieldNode and Buffer
// structs), and the bytes come from files we do not trust. This reader checks
// every root offset, table soffset, vtable (size, alignment-free), field
// slot, table-relative field width, uoffset and vector length against the
// buffer before it reads a byte, and reads every value with memcpy (the
// metadata is not aligned in a segment file). Anything out of bounds is a
// flatbuf_error naming the position (relative to the buffer start) and what.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace fluss_fetch::log::detail {

/// A flatbuffer that does not hold together: `pos` is the offending byte's
/// position in the flatbuffer.
class flatbuf_error : public std::runtime_error {
public:
    flatbuf_error(std::size_t pos, const std::string& what) : std::runtime_error(what), pos_(pos) {}
    std::size_t pos() const noexcept { return pos_; }

private:
    std::size_t pos_;
};

class flatbuf {
public:
    /// A table whose vtable has been checked.
    struct table {
        std::size_t pos = 0;          ///< the table's start (its soffset)
        std::size_t vtable = 0;       ///< the vtable's start
        std::uint16_t vt_size = 0;    ///< vtable bytes (>= 4)
        std::uint16_t tbl_size = 0;   ///< table bytes (>= 4)
        const char* name = "";        ///< for messages: "Message", "RecordBatch", ...
    };
    /// A vector whose `count` elements of `elem_size` bytes all lie in the buffer.
    struct vector {
        std::size_t pos = 0;  ///< the first element
        std::uint32_t count = 0;
    };

    explicit flatbuf(std::span<const std::byte> buf) noexcept : buf_(buf) {}

    std::size_t size() const noexcept { return buf_.size(); }

    /// A value of `T` at `pos`, after checking `pos + sizeof(T)` is in the buffer.
    template <class T>
    T read(std::size_t pos, const char* what) const {
        static_assert(std::is_trivially_copyable_v<T>);
        if (pos > buf_.size() || buf_.size() - pos < sizeof(T))
            fail(pos, std::string(what) + ": " + std::to_string(sizeof(T)) + " bytes at " + std::to_string(pos) +
                          " run past the end (" + std::to_string(buf_.size()) + " bytes)");
        T v;
        std::memcpy(&v, buf_.data() + pos, sizeof v);
        return v;
    }

    /// The root table (the uoffset at byte 0).
    table root(const char* name) const { return table_at(0, name); }

    /// The table a uoffset at `at` points to.
    table table_at(std::size_t at, const char* name) const {
        const auto u = read<std::uint32_t>(at, name);
        const std::uint64_t pos = static_cast<std::uint64_t>(at) + u;
        if (pos > buf_.size())
            fail(at, std::string(name) + ": table offset " + std::to_string(u) + " at " + std::to_string(at) +
                         " points past the end (" + std::to_string(buf_.size()) + " bytes)");
        table t;
        t.pos = static_cast<std::size_t>(pos);
        t.name = name;
        const auto soff = read<std::int32_t>(t.pos, name);
        const std::int64_t vt = static_cast<std::int64_t>(t.pos) - soff;
        if (vt < 0 || static_cast<std::uint64_t>(vt) > buf_.size())
            fail(t.pos, std::string(name) + ": vtable offset " + std::to_string(soff) + " at " + std::to_string(t.pos) +
                            " points outside the metadata");
        t.vtable = static_cast<std::size_t>(vt);
        t.vt_size = read<std::uint16_t>(t.vtable, name);
        t.tbl_size = read<std::uint16_t>(t.vtable + 2, name);
        if (t.vt_size < 4 || t.vt_size % 2 != 0 || buf_.size() - t.vtable < t.vt_size)
            fail(t.vtable, std::string(name) + ": vtable at " + std::to_string(t.vtable) + " has size " +
                               std::to_string(t.vt_size) + " (must be even, >= 4 and within " +
                               std::to_string(buf_.size()) + " bytes)");
        if (t.tbl_size < 4 || buf_.size() - t.pos < t.tbl_size)
            fail(t.vtable + 2, std::string(name) + ": table at " + std::to_string(t.pos) + " has size " +
                                   std::to_string(t.tbl_size) + " (must be >= 4 and within " +
                                   std::to_string(buf_.size()) + " bytes)");
        return t;
    }

    /// Where field `id` (`width` bytes) of `t` is, or nullopt when absent.
    std::optional<std::size_t> field(const table& t, int id, std::size_t width, const char* name) const {
        const std::size_t slot = 4 + 2 * static_cast<std::size_t>(id);
        if (slot + 2 > t.vt_size) return std::nullopt;  // vtable too short: field absent
        const auto off = read<std::uint16_t>(t.vtable + slot, name);
        if (off == 0) return std::nullopt;
        if (off < 4 || static_cast<std::size_t>(off) + width > t.tbl_size)
            fail(t.vtable + slot, std::string(t.name) + "." + name + ": field offset " + std::to_string(off) +
                                      " (+" + std::to_string(width) + " bytes) lies outside its table of " +
                                      std::to_string(t.tbl_size) + " bytes");
        return t.pos + off;
    }

    /// Scalar field `id` of `t`, or `def` when absent.
    template <class T>
    T scalar(const table& t, int id, T def, const char* name) const {
        const auto at = field(t, id, sizeof(T), name);
        return at ? read<T>(*at, name) : def;
    }

    /// Table field `id` (named `name`) of `t`, a `table_name` table, or nullopt when absent.
    std::optional<table> sub_table(const table& t, int id, const char* name, const char* table_name) const {
        const auto at = field(t, id, 4, name);
        if (!at) return std::nullopt;
        return table_at(*at, table_name);
    }

    /// Vector field `id` of `t` with elements of `elem_size` bytes, or nullopt when absent.
    std::optional<vector> vec(const table& t, int id, std::size_t elem_size, const char* name) const {
        const auto at = field(t, id, 4, name);
        if (!at) return std::nullopt;
        const auto u = read<std::uint32_t>(*at, name);
        const std::uint64_t pos = static_cast<std::uint64_t>(*at) + u;
        const std::string full = std::string(t.name) + "." + name;
        if (pos > buf_.size())
            fail(*at, full + ": vector offset " + std::to_string(u) + " points past the end (" +
                          std::to_string(buf_.size()) + " bytes)");
        vector v;
        v.count = read<std::uint32_t>(static_cast<std::size_t>(pos), name);
        v.pos = static_cast<std::size_t>(pos) + 4;
        const std::uint64_t bytes = static_cast<std::uint64_t>(v.count) * elem_size;
        if (v.pos > buf_.size() || buf_.size() - v.pos < bytes)
            fail(static_cast<std::size_t>(pos), full + ": vector of " + std::to_string(v.count) + " " +
                                                    std::to_string(elem_size) + "-byte elements at " +
                                                    std::to_string(pos) + " runs past the end (" +
                                                    std::to_string(buf_.size()) + " bytes)");
        return v;
    }

private:
    [[noreturn]] static void fail(std::size_t pos, const std::string& what) { throw flatbuf_error(pos, what); }

    std::span<const std::byte> buf_;
};

}  // namespace fluss_fetch::log::detail
