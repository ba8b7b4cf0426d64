// The fetcher's temp dirs: making one, locked, and sweeping those no live
// fetcher holds.
#include <fluss_fetch/fetch/temp_dir.hpp>

#include "core/logging.hpp"
#include "fetch/temp_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <system_error>

namespace fluss_fetch::fetch {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view dir_prefix = "remote-log-recovery-";

std::string random_uuid() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uint64_t hi = rng(), lo = rng();
    hi = (hi & 0xffffffffffff0fffull) | 0x0000000000004000ull;  // version 4
    lo = (lo & 0x3fffffffffffffffull) | 0x8000000000000000ull;  // variant 1
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx", static_cast<unsigned long long>(hi >> 32),
                  static_cast<unsigned long long>((hi >> 16) & 0xffff), static_cast<unsigned long long>(hi & 0xffff),
                  static_cast<unsigned long long>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffull));
    return buf;
}

[[noreturn]] void throw_errno(int err, const std::string& what) {
    throw std::system_error(err, std::generic_category(), what);
}

}  // namespace

fs::path make_temp_dir(const fs::path& parent, int& lock_fd) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) throw std::system_error(ec, "cannot create temp parent '" + parent.string() + "'");
    const std::string uuid = random_uuid();
    const fs::path hidden = parent / ("." + std::string(dir_prefix) + uuid + ".init");
    const fs::path final_dir = parent / (std::string(dir_prefix) + uuid);
    if (::mkdir(hidden.c_str(), 0700) != 0) throw_errno(errno, "cannot create temp dir '" + hidden.string() + "'");
    const fs::path lock = hidden / ".lock";
    int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        if (fd >= 0) ::close(fd);
        fs::remove_all(hidden, ec);
        throw_errno(err, "cannot lock '" + lock.string() + "'");
    }
    if (::rename(hidden.c_str(), final_dir.c_str()) != 0) {
        const int err = errno;
        ::close(fd);
        fs::remove_all(hidden, ec);
        throw_errno(err, "cannot rename '" + hidden.string() + "' to '" + final_dir.string() + "'");
    }
    lock_fd = fd;
    return final_dir;
}

std::size_t sweep_stale_temp_dirs(const fs::path& parent, std::chrono::seconds unlocked_min_age) {
    std::size_t removed = 0;
    std::error_code ec;
    fs::directory_iterator it(parent, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        const auto name = it->path().filename().string();
        const bool ours = name.starts_with(dir_prefix);
        const bool half_made = name.starts_with("." + std::string(dir_prefix)) && name.ends_with(".init");
        std::error_code sec;
        if ((!ours && !half_made) || !it->is_directory(sec)) continue;
        bool stale = false;
        int fd = ::open((it->path() / ".lock").c_str(), O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
            stale = ::flock(fd, LOCK_EX | LOCK_NB) == 0;  // its owner is gone
        } else {
            auto mtime = fs::last_write_time(it->path(), sec);
            stale = !sec && fs::file_time_type::clock::now() - mtime >= unlocked_min_age;
        }
        if (stale) {
            fs::remove_all(it->path(), sec);
            if (sec)
                detail::logger().warn("cannot remove stale temp dir '{}': {}", it->path().string(), sec.message());
            else {
                detail::logger().info("removed stale temp dir '{}'", it->path().string());
                ++removed;
            }
        }
        if (fd >= 0) ::close(fd);
    }
    return removed;
}

}  // namespace fluss_fetch::fetch
