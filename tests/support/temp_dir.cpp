#include "support/temp_dir.hpp"

#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>

namespace fluss_fetch::test {

temp_dir::temp_dir(const std::string& tag) {
    auto base = std::filesystem::temp_directory_path();
    std::string pattern = (base / ("fluss-fetch-" + tag + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::size_t temp_dir::file_count() const {
    std::size_t n = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(path_))
        if (e.is_regular_file()) ++n;
    return n;
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + p.string());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& p, const std::string& data) {
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        auto v = rng();
        for (int b = 0; b < 8; ++b) s[i + b] = static_cast<char>(v >> (8 * b));
    }
    for (; i < n; ++i) s[i] = static_cast<char>(rng());
    return s;
}

}  // namespace fluss_fetch::test
