// fluss_fetch — a downloaded remote log segment file, deleted when its
// owner goes.
#pragma once

#include <fluss_fetch/log/remote_log_segment.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace fluss_fetch::fetch {

/// A downloaded segment file. Owns the file: deletes it when destroyed
/// (unless `release()`d). The file lives in the fetcher's temp dir, which
/// the fetcher removes when it closes. While it lives, its bytes count
/// against the download scheduler's disk budget (`hold`, let go with the
/// file or at `release()`).
class downloaded_segment {
public:
    downloaded_segment(log::remote_log_segment seg, std::string key, std::filesystem::path path, std::uint64_t size,
                       std::int64_t read_start, std::int64_t read_end, std::shared_ptr<void> hold = {}) noexcept;
    downloaded_segment(downloaded_segment&& other) noexcept;
    downloaded_segment& operator=(downloaded_segment&& other) noexcept;
    downloaded_segment(const downloaded_segment&) = delete;
    downloaded_segment& operator=(const downloaded_segment&) = delete;
    ~downloaded_segment();

    const log::remote_log_segment& segment() const noexcept { return seg_; }
    const std::string& key() const noexcept { return key_; }               ///< object key it came from
    const std::filesystem::path& path() const noexcept { return path_; }   ///< local file (empty once released)
    std::uint64_t size() const noexcept { return size_; }                   ///< bytes in the file

    /// The offsets a reader uses of this file: [read_start_offset, read_end_offset),
    /// the segment's logical range clipped to the fetch's [start, stop).
    /// Batches ending at or before read_start_offset are skipped; reading stops
    /// at the first batch that starts at or after read_end_offset.
    std::int64_t read_start_offset() const noexcept { return read_start_; }
    std::int64_t read_end_offset() const noexcept { return read_end_; }

    /// Give up ownership: the file is no longer deleted by this object, and
    /// no longer counts against the scheduler's disk budget.
    std::filesystem::path release() noexcept;

private:
    void remove_file() noexcept;
    log::remote_log_segment seg_;
    std::string key_;
    std::filesystem::path path_;
    std::uint64_t size_ = 0;
    std::int64_t read_start_ = 0, read_end_ = 0;
    std::shared_ptr<void> hold_;
};

}  // namespace fluss_fetch::fetch
