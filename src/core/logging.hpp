// The library's spdlog logger, named "fluss_fetch". An application configures
// it with spdlog::get("fluss_fetch") (or registers its own logger of that name
// before the library first logs). Default: stderr, level warn, or the level
// named by FLUSS_FETCH_LOG_LEVEL (trace, debug, info, warn, error, off).
#pragma once

#include <spdlog/spdlog.h>

namespace fluss_fetch::detail {
spdlog::logger& logger();
}  // namespace fluss_fetch::detail
