#include "core/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <mutex>

namespace fluss_fetch::detail {

spdlog::logger& logger() {
    static std::shared_ptr<spdlog::logger> instance = [] {
        if (auto existing = spdlog::get("fluss_fetch")) return existing;
        auto l = spdlog::stderr_color_mt("fluss_fetch");
        l->set_level(spdlog::level::warn);
        if (const char* lv = std::getenv("FLUSS_FETCH_LOG_LEVEL")) l->set_level(spdlog::level::from_str(lv));
        return l;
    }();
    return *instance;
}

}  // namespace fluss_fetch::detail
