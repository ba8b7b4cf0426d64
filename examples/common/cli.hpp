// Small helpers shared by the example programs: usage errors, sizes, numbers.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace fluss_fetch::examples {

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// The value after the flag at argv[i] (advancing i). \throws usage_error when there is none.
inline std::string next_value(int argc, char** argv, int& i) {
    if (i + 1 >= argc) throw usage_error(std::string(argv[i]) + " needs a value");
    return argv[++i];
}

/// "8388608", "8M", "512K", "1G" (also KiB/MiB/GiB) → bytes.
inline std::uint64_t parse_size(const std::string& flag, const std::string& v) {
    std::size_t pos = 0;
    unsigned long long n = 0;
    try {
        if (v.empty() || v.front() == '-') throw std::invalid_argument(v);
        n = std::stoull(v, &pos);
    } catch (const std::exception&) {
        throw usage_error(flag + ": '" + v + "' is not a size (e.g. 8388608, 8M, 512K)");
    }
    const std::string suffix = v.substr(pos);
    std::uint64_t mul = 1;
    if (suffix == "K" || suffix == "KiB") mul = 1ull << 10;
    else if (suffix == "M" || suffix == "MiB") mul = 1ull << 20;
    else if (suffix == "G" || suffix == "GiB") mul = 1ull << 30;
    else if (!suffix.empty()) throw usage_error(flag + ": unknown size suffix in '" + v + "' (use K, M or G)");
    return n * mul;
}

/// A non-negative integer (offsets, counts).
inline std::int64_t parse_count(const std::string& flag, const std::string& v) {
    std::size_t pos = 0;
    long long n = -1;
    try {
        n = std::stoll(v, &pos);
    } catch (const std::exception&) {
        pos = 0;
    }
    if (pos != v.size() || v.empty() || n < 0) throw usage_error(flag + ": '" + v + "' is not a non-negative integer");
    return n;
}

}  // namespace fluss_fetch::examples
