// fluss_fetch — an object store over a local directory (a file:// remote.data.dir).
#pragma once

#include <fluss_fetch/storage/object_store.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace fluss_fetch::storage {

/// An object store over a local directory: key `a/b.log` is the file
/// `root/a/b.log`. The same interface as `s3_store`, for Fluss's local
/// `remote.data.dir` (`file:///...`) and for tests.
///
/// GETs copy in large chunks and check cancellation between chunks; a
/// missing file is `errc::no_such_key`; a range past the end is
/// `errc::invalid_range`. PUT writes a temp file and renames it. Keys with
/// `..` components are rejected (`errc::invalid_argument`).
///
/// \par Thread safety
/// Distinct objects: safe. Shared objects: safe.
class local_store final : public object_store {
public:
    local_store(executor_type ex, std::filesystem::path root);
    ~local_store() override;

    executor_type get_executor() const noexcept override;
    std::string describe() const override;
    const std::filesystem::path& root() const noexcept;

    struct impl;

protected:
    void do_get(std::string key, get_options opts, byte_sink& sink, diagnostics& diag, get_handler h) override;
    void do_head(std::string key, diagnostics& diag, head_handler h) override;
    void do_list(std::string prefix, diagnostics& diag, list_handler h) override;
    void do_put(std::string key, std::string body, diagnostics& diag, put_handler h) override;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace fluss_fetch::storage
