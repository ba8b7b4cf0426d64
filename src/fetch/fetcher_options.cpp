// Fetcher options: their checks and Fluss-style configuration.
#include <fluss_fetch/fetch/fetcher_options.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>
#include <system_error>

namespace fluss_fetch::fetch {

std::size_t fetcher_options::effective_download_threads() const noexcept {
    return std::clamp<std::size_t>(download_threads, 1, std::max<std::size_t>(prefetch_num, 1));
}

void fetcher_options::validate() const {
    if (prefetch_num < 1) throw std::invalid_argument("fetcher_options.prefetch_num must be at least 1");
    if (prefetch_num > 4096)
        throw std::invalid_argument("fetcher_options.prefetch_num " + std::to_string(prefetch_num) +
                                    " is above the limit of 4096");
    if (stall_timeout.count() < 0) throw std::invalid_argument("fetcher_options.stall_timeout must not be negative");
    retry.validate();
}

namespace {

std::size_t parse_positive(const std::map<std::string, std::string>& config, const std::string& key,
                           std::size_t fallback) {
    auto it = config.find(key);
    if (it == config.end()) return fallback;
    std::string v = it->second;
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.erase(v.begin());
    std::size_t out = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || out == 0)
        throw std::invalid_argument("configuration key '" + key + "': '" + it->second +
                                    "' is not a positive integer");
    return out;
}

}  // namespace

fetcher_options fetcher_options::from_config(const std::map<std::string, std::string>& config) {
    return from_config(config, fetcher_options{});
}

fetcher_options fetcher_options::from_config(const std::map<std::string, std::string>& config,
                                             fetcher_options base) {
    base.prefetch_num = parse_positive(config, "kv.recover.remote-log.prefetch-num", base.prefetch_num);
    base.download_threads = parse_positive(config, "kv.recover.remote-log.download-threads", base.download_threads);
    base.validate();
    return base;
}

}  // namespace fluss_fetch::fetch
