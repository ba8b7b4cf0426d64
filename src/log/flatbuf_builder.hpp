// A minimal FlatBuffers writer of our own (no libflatbuffers), enough for the
// Arrow IPC metadata that encode_arrow_records writes: tables of scalar and
// offset fields, vectors of fixed-size structs, a root offset at the start.
//
// It lays objects out front to back: a parent is written before its children,
// so every uoffset points forward as the format demands (uoffsets are
// unsigned, measured from where they are stored). Each table is preceded by
// its own vtable (soffset = table - vtable, positive). All integers are
// little-endian; a table's 8-byte fields and a vector's 8-byte-aligned
// elements are aligned relative to the buffer's start, which the caller
// keeps 8-aligned in the final message. Fields equal to their default (every
// default here is 0) are left out of the table, as FlatBufferBuilder does
// without forceDefaults. Internal to the log layer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace fluss_fetch::log::detail {

class flatbuf_builder {
public:
    /// One field of a table being written: a scalar of 1, 2, 4 or 8 bytes,
    /// or a uoffset (4 bytes) to an object written later (see patch()).
    struct field {
        int id = 0;
        int size = 0;              ///< 1, 2, 4, 8
        std::uint64_t value = 0;   ///< scalars: the value's bits (two's complement for signed)
        bool is_offset = false;    ///< a reference: written as 0, patched later
        bool keep_default = false; ///< write even when value == 0 (a present, all-default sub-table is an offset, never 0)
    };

    /// Where each written offset field sits (by field id), for patch().
    struct table_ref {
        std::size_t table = 0;                       ///< the table's position
        std::vector<std::pair<int, std::size_t>> offsets;  ///< field id -> position of its uoffset
        std::size_t offset_of(int id) const {
            for (const auto& [i, pos] : offsets)
                if (i == id) return pos;
            throw std::logic_error("flatbuf_builder: no offset field " + std::to_string(id));
        }
    };

    flatbuf_builder() { buf_.assign(4, '\0'); }  // the root uoffset, patched by set_root()

    std::size_t size() const noexcept { return buf_.size(); }

    /// Pad with zeros until (size() + ahead) is a multiple of `align`.
    void align(std::size_t align, std::size_t ahead = 0) {
        while ((buf_.size() + ahead) % align != 0) buf_ += '\0';
    }

    /// Write a vtable and its table; the fields go largest first so each is
    /// naturally aligned. Offset fields are written as 0: patch() them once
    /// their target exists.
    table_ref table(std::vector<field> fields) {
        fields.erase(std::remove_if(fields.begin(), fields.end(),
                                    [](const field& f) { return !f.is_offset && !f.keep_default && f.value == 0; }),
                     fields.end());
        std::stable_sort(fields.begin(), fields.end(), [](const field& a, const field& b) { return a.size > b.size; });
        int max_id = -1;
        for (const auto& f : fields) max_id = std::max(max_id, f.id);
        // Place the inline fields after the 4-byte soffset, largest first:
        // with the table at 4 mod 8 (when it has 8-byte fields), the 8-byte
        // fields at 4, 12, ... are 8-aligned, and every smaller field after
        // them is aligned to its size without padding.
        std::vector<std::uint16_t> slot(static_cast<std::size_t>(max_id + 1), 0);
        const bool has8 = !fields.empty() && fields.front().size == 8;
        std::size_t at = 4;
        std::vector<std::size_t> field_at;
        for (const auto& f : fields) {
            field_at.push_back(at);
            slot[static_cast<std::size_t>(f.id)] = static_cast<std::uint16_t>(at);
            at += static_cast<std::size_t>(f.size);
        }
        const std::size_t table_size = at;
        // The vtable: u16 vtable size, u16 table size, one u16 per field id.
        align(2);
        const std::size_t vtable = buf_.size();
        put<std::uint16_t>(static_cast<std::uint16_t>(4 + 2 * slot.size()));
        put<std::uint16_t>(static_cast<std::uint16_t>(table_size));
        for (auto s : slot) put<std::uint16_t>(s);
        if (has8) align(8, 4);  // table at 4 mod 8: its first 8-byte field lands 8-aligned
        else align(4);
        table_ref ref;
        ref.table = buf_.size();
        buf_.resize(ref.table + table_size, '\0');
        store<std::int32_t>(ref.table, static_cast<std::int32_t>(ref.table - vtable));
        for (std::size_t i = 0; i < fields.size(); ++i) {
            const auto& f = fields[i];
            const std::size_t pos = ref.table + field_at[i];
            if (f.is_offset) {
                ref.offsets.emplace_back(f.id, pos);
                continue;
            }
            std::memcpy(buf_.data() + pos, &f.value, static_cast<std::size_t>(f.size));  // little-endian host
        }
        return ref;
    }

    /// A vector of `count` structs of `struct_size` bytes each, 8-aligned
    /// elements, from `data` (already little-endian). Returns its position (the count's).
    std::size_t struct_vector(const void* data, std::size_t count, std::size_t struct_size) {
        align(8, 4);
        const std::size_t at = buf_.size();
        put<std::uint32_t>(static_cast<std::uint32_t>(count));
        buf_.append(static_cast<const char*>(data), count * struct_size);
        return at;
    }

    /// Make the uoffset stored at `where` point to `target` (which must lie after it).
    void patch(std::size_t where, std::size_t target) {
        if (target <= where) throw std::logic_error("flatbuf_builder: a uoffset must point forward");
        store<std::uint32_t>(where, static_cast<std::uint32_t>(target - where));
    }

    /// The root table: the uoffset at position 0.
    void set_root(std::size_t table) { patch(0, table); }

    /// The finished buffer, zero-padded to a multiple of 8.
    std::string finish() {
        align(8);
        return std::move(buf_);
    }

private:
    template <class T>
    void put(T v) {
        char b[sizeof v];
        std::memcpy(b, &v, sizeof v);
        buf_.append(b, sizeof v);
    }
    template <class T>
    void store(std::size_t pos, T v) {
        std::memcpy(buf_.data() + pos, &v, sizeof v);
    }

    std::string buf_;
};

}  // namespace fluss_fetch::log::detail
