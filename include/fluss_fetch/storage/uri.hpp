// fluss_fetch — s3:// and file:// URIs, and opening the store a URI names.
#pragma once

#include <fluss_fetch/storage/object_store.hpp>
#include <fluss_fetch/storage/s3_store.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace fluss_fetch::storage {

/// A parsed object location.
///  - `s3://bucket/some/key`    → scheme s3, bucket "bucket", key "some/key"
///  - `s3://bucket/prefix/`     → key "prefix/" (is_prefix() is true)
///  - `s3a://bucket/some/key`   → the same as `s3://` (Hadoop's name, as Fluss writes it)
///  - `file:///var/fluss/x.log` → scheme file, bucket "", key "var/fluss/x.log"
///    (absolute path without its leading '/'; the store's root is "/");
///    `file:/var/fluss/x.log` (Java's single-slash form) is the same
/// `to_string()` writes the canonical forms, `s3://` and `file:///`.
struct object_uri {
    enum class scheme_kind { s3, file };
    scheme_kind scheme = scheme_kind::s3;
    std::string bucket;
    std::string key;

    bool is_prefix() const noexcept { return key.empty() || key.back() == '/'; }
    std::string to_string() const;
};

/// Parse an `s3://` / `s3a://` or `file://` / `file:/` URI. Percent-escapes in file URIs are decoded.
/// \throws std::system_error with `errc::invalid_uri`; what() quotes the URI and says what is wrong.
object_uri parse_object_uri(std::string_view uri);

/// Open the store a URI lives in: an `s3_store` for s3:// (with `base`'s
/// settings and the URI's bucket), a `local_store` rooted at "/" for file://.
std::unique_ptr<object_store> open_store(object_store::executor_type ex, const object_uri& uri,
                                         const s3_options& base = {});

}  // namespace fluss_fetch::storage
