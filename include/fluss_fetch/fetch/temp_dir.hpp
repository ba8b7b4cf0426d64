// fluss_fetch — the fetcher's temp dirs, `remote-log-recovery-{uuid}`: each
// holds a locked `.lock` file while its fetcher lives, so the dirs a crashed
// process left behind can be told apart and swept.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>

namespace fluss_fetch::fetch {

/// Remove the `remote-log-recovery-*` dirs under `parent` that no live
/// fetcher holds (see `fetcher_options::sweep_stale_temp_dirs`). Returns how
/// many were removed; a dir that cannot be removed is logged and skipped.
std::size_t sweep_stale_temp_dirs(const std::filesystem::path& parent,
                                  std::chrono::seconds unlocked_min_age = std::chrono::hours(1));

}  // namespace fluss_fetch::fetch
