#include "core/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace fluss_fetch::detail {

spdlog::logger& logger() {
    static std::shared_ptr<spdlog::logger> instance = [] {
        if (auto existing = spdlog::get("fluss_fetch")) return existing;
        auto l = spdlog::stderr_color_mt("fluss_fetch");
        l->set_level(spdlog::level::warn);
        return l;
    }();
    return *instance;
}

}  // namespace fluss_fetch::detail
