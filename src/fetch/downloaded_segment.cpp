// A downloaded segment file and its ownership.
#include <fluss_fetch/fetch/downloaded_segment.hpp>

#include <system_error>
#include <utility>

namespace fluss_fetch::fetch {

namespace fs = std::filesystem;

downloaded_segment::downloaded_segment(log::remote_log_segment seg, std::string key, fs::path path,
                                       std::uint64_t size, std::int64_t read_start, std::int64_t read_end,
                                       std::shared_ptr<void> hold) noexcept
    : seg_(std::move(seg)),
      key_(std::move(key)),
      path_(std::move(path)),
      size_(size),
      read_start_(read_start),
      read_end_(read_end),
      hold_(std::move(hold)) {}

downloaded_segment::downloaded_segment(downloaded_segment&& o) noexcept
    : seg_(std::move(o.seg_)),
      key_(std::move(o.key_)),
      path_(std::exchange(o.path_, fs::path{})),
      size_(o.size_),
      read_start_(o.read_start_),
      read_end_(o.read_end_),
      hold_(std::move(o.hold_)) {}

downloaded_segment& downloaded_segment::operator=(downloaded_segment&& o) noexcept {
    if (this != &o) {
        remove_file();
        seg_ = std::move(o.seg_);
        key_ = std::move(o.key_);
        path_ = std::exchange(o.path_, fs::path{});
        size_ = o.size_;
        read_start_ = o.read_start_;
        read_end_ = o.read_end_;
        hold_ = std::move(o.hold_);
    }
    return *this;
}

downloaded_segment::~downloaded_segment() { remove_file(); }

fs::path downloaded_segment::release() noexcept {
    hold_.reset();
    return std::exchange(path_, fs::path{});
}

void downloaded_segment::remove_file() noexcept {
    if (!path_.empty()) {
        std::error_code ec;
        fs::remove(path_, ec);
        path_.clear();
    }
    hold_.reset();  // after the file is gone: the budget never counts less than the disk holds
}

}  // namespace fluss_fetch::fetch
