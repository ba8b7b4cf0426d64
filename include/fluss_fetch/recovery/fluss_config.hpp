// fluss_fetch — the parts of a Fluss server.yaml a recovery needs.
//
// Fluss reads its configuration file as flat `key: value` lines (Fluss's
// GlobalConfiguration: '#' comments, the first ": " splits key and value).
// This reader takes the same lines, plus what a YAML writer may produce for
// them: single- or double-quoted values, trailing comments after whitespace,
// CRLF line ends. Nested maps, lists and flow collections are refused naming
// file and line, as are lines that are not `key: value`; other keys are
// ignored, as Fluss ignores keys it does not know.
#pragma once

#include <fluss_fetch/storage/s3_store.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace fluss_fetch::recovery {

/// A server.yaml's storage and recovery settings. Each S3 key is read under
/// every name Fluss's S3 plugin accepts: the `s3.`, `s3a.` and `fs.s3a.`
/// prefixes, and `access-key` / `access.key`, `secret-key` / `secret.key`,
/// `path.style.access` / `path-style-access`; the last line wins.
///
/// The secret is held, never printed: no error message of this file quotes
/// the value of a line, and `describe()` leaves the secret out.
struct fluss_server_config {
    std::string source;              ///< the file read ("" for text), for messages
    std::string remote_data_dir;     ///< remote.data.dir: s3://, s3a://, file:/ or file:///
    int remote_data_dir_line = 0;    ///< its line, for messages (0: not set)
    std::string s3_endpoint;         ///< s3.endpoint, as written (a scheme or not)
    std::string s3_access_key;       ///< s3.access-key
    std::string s3_secret_key;       ///< s3.secret-key (never printed)
    std::string s3_region;           ///< s3.region
    std::optional<bool> s3_path_style_access;  ///< s3.path.style.access
    /// s3.connection.ssl.enabled (Hadoop's fs.s3a.connection.ssl.enabled): the
    /// scheme of an endpoint written without one (default true: https).
    std::optional<bool> s3_ssl_enabled;
    std::optional<int> prefetch_num;      ///< kv.recover.remote-log.prefetch-num (at least 1)
    std::optional<int> download_threads;  ///< kv.recover.remote-log.download-threads (at least 1)

    /// What was read, without the secret: "remote.data.dir=..., s3.endpoint=...,
    /// s3.access-key=AK..., s3.secret-key=(set), ...".
    std::string describe() const;
};

/// Parse a server.yaml's text; `name` is what errors call it ("conf/server.yaml").
/// \throws std::system_error with `errc::invalid_argument` and a what() of
/// "NAME:LINE: why" (a nested map, a list, a line that is not `key: value`,
/// an unterminated quote, a bad boolean or number, only one of the two keys).
fluss_server_config parse_fluss_config(std::string_view text, std::string_view name);

/// Read and parse a server.yaml. \throws std::system_error with
/// `errc::file_error` when the file cannot be read, else as `parse_fluss_config`.
fluss_server_config load_fluss_config(const std::filesystem::path& file);

/// The endpoint as a URL: as written when it has a scheme, else with
/// `https://` (`http://` when s3.connection.ssl.enabled is false); "" when unset.
std::string fluss_s3_endpoint_url(const fluss_server_config& c);

/// s3_options from the file: endpoint (see `fluss_s3_endpoint_url`), region,
/// path style when s3.path.style.access is true (virtual-hosted when false,
/// automatic when unset), and static credentials when both keys are set
/// (else the default chain, as Fluss's plugin falls back to it). Everything
/// else is `base`'s.
storage::s3_options fluss_s3_options(const fluss_server_config& c, storage::s3_options base = {});

}  // namespace fluss_fetch::recovery
