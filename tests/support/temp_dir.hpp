// A unique temporary directory for one test, removed with everything in it.
#pragma once

#include <filesystem>
#include <string>

namespace fluss_fetch::test {

class temp_dir {
public:
    explicit temp_dir(const std::string& tag = "test");
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    /// Regular files below the directory (recursively).
    std::size_t file_count() const;

private:
    std::filesystem::path path_;
};

/// Read a whole file into a string (throws on error).
std::string read_file(const std::filesystem::path& p);
/// Write a string to a file, creating parent folders.
void write_file(const std::filesystem::path& p, const std::string& data);
/// `n` pseudo-random bytes, deterministic per seed.
std::string random_bytes(std::size_t n, unsigned seed);

}  // namespace fluss_fetch::test
