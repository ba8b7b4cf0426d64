// Fuzz target: the batch reader, segment ranges, the record reader and the
// KV apply over arbitrary segment bytes. The first byte picks the options, so
// that the fuzzer also gets past the CRC (verify_crc off) into the records.
// Contract: a bad file is a log_error (rows included),
// never a crash, an out-of-bounds read or a batch outside the file.
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/kv.hpp>
#include <fluss_fetch/log/row.hpp>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

using namespace fluss_fetch::log;

namespace {
const schema spec_schema = schema::parse("id INT, v BIGINT, name STRING", "id");

void check(bool ok) {
    if (!ok) std::abort();
}

std::int64_t take_i64(const std::uint8_t*& data, std::size_t& size) {
    std::int64_t v = 0;
    if (size >= 2) {
        v = static_cast<std::int8_t>(data[0]) * 256 + data[1];
        data += 2;
        size -= 2;
    }
    return v;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t flags = data[0];
    ++data;
    --size;
    batch_reader_options opts;
    opts.verify_crc = (flags & 1) != 0;
    opts.magic1 = (flags & 2) ? magic1_layout::leader_epoch : magic1_layout::statistics;
    const log_format format = (flags & 16) ? log_format::arrow : (flags & 4) ? log_format::compacted : log_format::indexed;
    const bool ranged = (flags & 8) != 0;
    segment_batches::range r{};
    if (ranged) {
        r.logical_start = take_i64(data, size);
        r.logical_end = take_i64(data, size);
        r.read_start = take_i64(data, size);
        r.read_end = take_i64(data, size);
    }
    // A copy of exactly `size` bytes, so ASan sees any read past the end.
    auto* copy = static_cast<std::byte*>(std::malloc(size ? size : 1));
    if (size) std::memcpy(copy, data, size);
    const std::span<const std::byte> file(copy, size);

    memory_kv_state state;
    apply_stats stats;
    const std::string id = "6e94fbd1-c056-446e-859c-77345dddcd96";
    auto visit = [&](const batch_view& b) {
        check(b.file_offset + b.bytes.size() <= size);
        check(b.bytes.data() >= file.data() && b.bytes.data() + b.bytes.size() <= file.data() + size);
        check(b.records.data() >= b.bytes.data() &&
              b.records.data() + b.records.size() <= b.bytes.data() + b.bytes.size());
        record_reader records(b, id);
        while (auto rec = records.next()) {
            check(rec->row.data() >= b.records.data() &&
                  rec->row.data() + rec->row.size() <= b.records.data() + b.records.size());
        }
        apply_batch(spec_schema, format, b, id, state, stats);
    };
    try {
        if (ranged) {
            segment_batches batches(file, id, r, opts);
            while (auto b = batches.next()) visit(*b);
        } else {
            batch_reader reader(file, id, opts);
            std::uint64_t last = 0;
            while (auto b = reader.next()) {
                check(b->file_offset >= last);
                last = b->file_offset + b->bytes.size();
                visit(*b);
            }
            check(reader.position() == size);
        }
    } catch (const log_error&) {
        // The only way bad bytes may end a read (apply_batch wraps row errors).
    }
    std::free(copy);
    return 0;
}
