// Making a fetcher's temp dir (internal to the fetcher; the public side,
// sweeping stale dirs, is <fluss_fetch/fetch/temp_dir.hpp>).
#pragma once

#include <filesystem>

namespace fluss_fetch::fetch {

// Make `{parent}/remote-log-recovery-{uuid}` holding a locked `.lock`. The
// dir is built under a hidden name and renamed once locked, so a sweeper
// never sees a fresh dir without its lock.
//
// `lock_fd` gets the descriptor holding the lock; the caller closes it once
// it has removed the dir. \throws std::system_error naming the path.
std::filesystem::path make_temp_dir(const std::filesystem::path& parent, int& lock_fd);

}  // namespace fluss_fetch::fetch
