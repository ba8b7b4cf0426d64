// The credentials chain: explicit → environment → shared credentials file.
#pragma once

#include <fluss_fetch/storage/s3_store.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace fluss_fetch::storage::s3 {

/// Parse an AWS shared credentials file (INI: [profile] sections,
/// key = value lines, '#' and ';' comments) and return `profile`'s
/// aws_access_key_id / aws_secret_access_key / aws_session_token.
/// nullopt when the profile is missing; throws std::system_error
/// (errc::bad_credentials_file, naming the line) when the profile exists but
/// lacks a key id or secret.
std::optional<s3_credentials> parse_credentials_file(std::string_view text, std::string_view profile,
                                                     std::string_view file_name_for_errors);

/// Environment lookup, injectable for tests. Returns nullopt for unset variables.
using env_lookup = std::function<std::optional<std::string>(const char*)>;
env_lookup process_env();

struct resolved_credentials {
    s3_credentials creds;    ///< empty when anonymous
    std::string source;      ///< "explicit", "environment", "file:PATH[profile]", "anonymous"
};

/// Walk the chain. Throws std::system_error(errc::no_credentials) naming every
/// place that was looked at when nothing is found and `opts.anonymous` is false.
resolved_credentials resolve_credentials(const s3_options& opts, const env_lookup& env);

}  // namespace fluss_fetch::storage::s3
