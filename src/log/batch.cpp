// Record batches: parse and verify every layout, frame records, map files, build batches.
#include <fluss_fetch/log/batch.hpp>
#include <fluss_fetch/log/crc32c.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

namespace fluss_fetch::log {

namespace {

std::string describe(const std::string& segment_id, std::int64_t file_offset, std::int64_t log_offset,
                     const std::string& problem) {
    std::string out;
    if (!segment_id.empty()) out += "segment " + segment_id;
    if (file_offset >= 0) out += (out.empty() ? "" : ": ") + std::string("file offset ") + std::to_string(file_offset);
    if (log_offset >= 0) out += (out.empty() ? "" : ", ") + std::string("log offset ") + std::to_string(log_offset);
    return out.empty() ? problem : out + ": " + problem;
}

template <class T>
T load(const std::byte* p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof v);  // the format is little-endian, as are the hosts we build for
    return v;
}

template <class T>
void store(std::string& s, std::size_t at, T v) {
    std::memcpy(s.data() + at, &v, sizeof v);
}

std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", v);
    return buf;
}

// Where each layout keeps its fields.
struct layout {
    std::size_t crc_at, attrs_from;  // CRC position; the CRC covers [attrs_from, end)
    std::size_t schema_at, attributes_at, delta_at, writer_at, sequence_at, count_at;
    std::int64_t epoch_at;           // -1: none
    std::int64_t stats_at;           // -1: none
    std::size_t fixed;               // header size before statistics
};

constexpr layout v0{21, 25, 25, 27, 28, 32, 40, 44, -1, -1, 48};
constexpr layout v1_stats{21, 25, 25, 27, 28, 32, 40, 44, -1, 48, 52};
constexpr layout v_epoch_no_stats{25, 29, 29, 31, 32, 36, 44, 48, 21, -1, 52};
constexpr layout v2{25, 29, 29, 31, 32, 36, 44, 48, 21, 52, 56};

const layout* layout_of(std::int8_t magic, magic1_layout m1) {
    switch (magic) {
    case 0: return &v0;
    case 1: return m1 == magic1_layout::statistics ? &v1_stats : &v_epoch_no_stats;
    case 2: return &v2;
    default: return nullptr;
    }
}

}  // namespace

log_error::log_error(kind k, std::string segment_id, std::int64_t file_offset, std::int64_t log_offset,
                     std::string problem)
    : std::runtime_error(describe(segment_id, file_offset, log_offset, problem)),
      kind_(k),
      segment_id_(std::move(segment_id)),
      file_offset_(file_offset),
      log_offset_(log_offset),
      problem_(std::move(problem)) {}

// ---------------------------------------------------------------- batch_reader

batch_reader::batch_reader(std::span<const std::byte> file, std::string segment_id, batch_reader_options opts)
    : file_(file), segment_id_(std::move(segment_id)), opts_(opts) {}

std::optional<batch_view> batch_reader::next() {
    const std::uint64_t left = file_.size() - pos_;
    if (left == 0) return std::nullopt;
    const auto at = static_cast<std::int64_t>(pos_);
    auto fail = [&](log_error::kind k, std::int64_t log_offset, const std::string& what) -> log_error {
        return log_error(k, segment_id_, at, log_offset, what);
    };
    if (left < 13)
        throw fail(log_error::kind::truncated, -1,
                   "truncated tail: " + std::to_string(left) + " bytes left, a batch header needs at least 13");
    const std::byte* p = file_.data() + pos_;
    batch_header h;
    h.base_offset = load<std::int64_t>(p);
    h.length = load<std::int32_t>(p + 8);
    h.magic = load<std::int8_t>(p + 12);
    const layout* l = layout_of(h.magic, opts_.magic1);
    if (!l) throw fail(log_error::kind::bad_magic, h.base_offset, "unknown batch magic " + std::to_string(h.magic));
    if (h.length < 0 || static_cast<std::size_t>(h.length) + 12 < l->fixed)
        throw fail(log_error::kind::bad_batch, h.base_offset,
                   "batch length " + std::to_string(h.length) + " is shorter than a magic " + std::to_string(h.magic) +
                       " header");
    if (h.size() > left)
        throw fail(log_error::kind::truncated, h.base_offset,
                   "truncated tail: the batch needs " + std::to_string(h.size()) + " bytes, " + std::to_string(left) +
                       " are left");
    h.commit_timestamp = load<std::int64_t>(p + 13);
    if (l->epoch_at >= 0) h.leader_epoch = load<std::int32_t>(p + l->epoch_at);
    h.crc = load<std::uint32_t>(p + l->crc_at);
    h.schema_id = load<std::int16_t>(p + l->schema_at);
    h.attributes = load<std::int8_t>(p + l->attributes_at);
    h.last_offset_delta = load<std::int32_t>(p + l->delta_at);
    h.writer_id = load<std::int64_t>(p + l->writer_at);
    h.batch_sequence = load<std::int32_t>(p + l->sequence_at);
    h.record_count = load<std::int32_t>(p + l->count_at);
    if (l->stats_at >= 0) h.statistics_length = load<std::int32_t>(p + l->stats_at);
    if (h.record_count < 0 || h.last_offset_delta < 0)
        throw fail(log_error::kind::bad_batch, h.base_offset,
                   "negative record count " + std::to_string(h.record_count) + " or last offset delta " +
                       std::to_string(h.last_offset_delta));
    if (h.statistics_length < 0 || l->fixed + static_cast<std::size_t>(h.statistics_length) > h.size())
        throw fail(log_error::kind::bad_batch, h.base_offset,
                   "statistics length " + std::to_string(h.statistics_length) + " runs past the batch");
    if (opts_.verify_crc) {
        const auto computed = crc32c(p + l->attrs_from, h.size() - l->attrs_from);
        if (computed != h.crc)
            throw fail(log_error::kind::crc_mismatch, h.base_offset,
                       "CRC mismatch: stored " + hex32(h.crc) + ", computed " + hex32(computed));
    }
    batch_view v;
    v.header = h;
    v.file_offset = pos_;
    v.bytes = file_.subspan(pos_, h.size());
    const std::size_t records_at = l->fixed + static_cast<std::size_t>(h.statistics_length);
    v.records = v.bytes.subspan(records_at);
    pos_ += h.size();
    return v;
}

// ---------------------------------------------------------------- segment_batches

segment_batches::segment_batches(std::span<const std::byte> file, std::string segment_id, range r,
                                 batch_reader_options opts)
    : reader_(file, segment_id, opts), segment_id_(std::move(segment_id)), range_(r) {}

std::optional<batch_view> segment_batches::next() {
    while (!done_) {
        auto b = reader_.next();
        if (!b) {
            done_ = true;
            break;
        }
        const auto& h = b->header;
        const auto boundary = [&](std::int64_t at, const char* which) {
            return log_error(log_error::kind::logical_boundary, segment_id_, static_cast<std::int64_t>(b->file_offset),
                             h.base_offset,
                             "batch [" + std::to_string(h.base_offset) + ", " + std::to_string(h.next_offset()) +
                                 ") straddles the segment's logical " + which + " " + std::to_string(at));
        };
        if (h.base_offset < range_.logical_start && range_.logical_start < h.next_offset())
            throw boundary(range_.logical_start, "start");
        if (h.base_offset < range_.logical_end && range_.logical_end < h.next_offset())
            throw boundary(range_.logical_end, "end");
        if (h.base_offset >= range_.read_end) {
            done_ = true;
            break;
        }
        if (h.next_offset() <= std::max(range_.logical_start, range_.read_start)) {
            ++skipped_;
            continue;
        }
        return b;
    }
    return std::nullopt;
}

// ---------------------------------------------------------------- record_reader

record_reader::record_reader(const batch_view& batch, std::string segment_id)
    : batch_(&batch), segment_id_(std::move(segment_id)) {}

std::optional<record_view> record_reader::next() {
    const auto& h = batch_->header;
    const auto& area = batch_->records;
    const auto log_offset = h.base_offset + index_;
    auto fail = [&](const std::string& what) {
        return log_error(log_error::kind::bad_record, segment_id_,
                         static_cast<std::int64_t>(batch_->file_offset + (area.data() - batch_->bytes.data()) + pos_),
                         log_offset, what);
    };
    if (index_ == h.record_count) {
        if (pos_ != area.size())
            throw fail(std::to_string(area.size() - pos_) + " bytes after the batch's " +
                       std::to_string(h.record_count) + " records");
        return std::nullopt;
    }
    if (area.size() - pos_ < 5)
        throw fail("record " + std::to_string(index_) + " of " + std::to_string(h.record_count) +
                   " missing: the batch ends");
    const auto length = load<std::int32_t>(area.data() + pos_);
    if (length < 1 || static_cast<std::size_t>(length) > area.size() - pos_ - 4)
        throw fail("record length " + std::to_string(length) + " does not fit the batch");
    const auto type = load<std::int8_t>(area.data() + pos_ + 4);
    if (type < 0 || type > 4) throw fail("unknown change type " + std::to_string(type));
    record_view r;
    r.type = static_cast<change_type>(type);
    r.offset = log_offset;
    r.row = area.subspan(pos_ + 5, static_cast<std::size_t>(length) - 1);
    pos_ += 4 + static_cast<std::size_t>(length);
    ++index_;
    return r;
}

// ---------------------------------------------------------------- mapped_file

mapped_file::mapped_file(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open '" + path.string() + "'");
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        throw std::system_error(err, std::generic_category(), "cannot stat '" + path.string() + "'");
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw std::system_error(err, std::generic_category(), "cannot map '" + path.string() + "'");
        }
        ::madvise(p, size_, MADV_SEQUENTIAL);
        data_ = p;
    }
    ::close(fd);  // the mapping keeps the file
}

void mapped_file::drop_before(std::size_t offset) noexcept {
    static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t end = std::min(offset, size_) / page * page;
    if (!data_ || end <= dropped_) return;
    ::madvise(static_cast<char*>(data_) + dropped_, end - dropped_, MADV_DONTNEED);
    dropped_ = end;
}

mapped_file::~mapped_file() {
    if (data_) ::munmap(data_, size_);
}

// ---------------------------------------------------------------- batch_builder

void batch_builder::add_record(change_type t, std::string_view row) {
    const auto length = static_cast<std::int32_t>(row.size() + 1);
    const std::size_t at = records_.size();
    records_.resize(at + 5);
    store(records_, at, length);
    records_[at + 4] = static_cast<char>(t);
    records_.append(row);
    ++count_;
}

void batch_builder::set_raw_records(std::string bytes, std::int32_t record_count) {
    records_ = std::move(bytes);
    count_ = record_count;
}

std::string batch_builder::build() const {
    const layout* l = layout_of(magic, magic1);
    if (!l) throw std::invalid_argument("batch_builder: unknown magic " + std::to_string(magic));
    const bool has_stats = l->stats_at >= 0;
    const std::size_t stats = has_stats ? statistics.size() : 0;
    std::string b(l->fixed + stats, '\0');
    b += records_;
    store(b, 0, base_offset);
    store(b, 8, static_cast<std::int32_t>(b.size() - 12));
    store(b, 12, magic);
    store(b, 13, commit_timestamp);
    if (l->epoch_at >= 0) store(b, static_cast<std::size_t>(l->epoch_at), leader_epoch);
    store(b, l->schema_at, schema_id);
    store(b, l->attributes_at, attributes);
    store(b, l->delta_at, static_cast<std::int32_t>(count_ > 0 ? count_ - 1 : 0));
    store(b, l->writer_at, writer_id);
    store(b, l->sequence_at, batch_sequence);
    store(b, l->count_at, count_);
    if (has_stats) {
        store(b, static_cast<std::size_t>(l->stats_at), static_cast<std::int32_t>(stats));
        std::memcpy(b.data() + l->fixed, statistics.data(), stats);
    }
    store(b, l->crc_at, crc32c(b.data() + l->attrs_from, b.size() - l->attrs_from));
    return b;
}

}  // namespace fluss_fetch::log
