// The AWS shared files (~/.aws/credentials, ~/.aws/config): parsing and
// profile lookup. Internal, no Asio.
#pragma once

#include <fluss_fetch/storage/credentials.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace fluss_fetch::storage::aws {

/// One profile's keys as written (names lower-cased, values trimmed), with
/// nested sections (`s3 =` followed by indented `addressing_style = path`)
/// under `nested["s3"]`.
struct profile_section {
    std::string name;                                        ///< "default", "dev" (without "profile ")
    std::map<std::string, std::string> values;
    std::map<std::string, std::map<std::string, std::string>> nested;
    std::string file;                                        ///< path, for messages
    int line = 0;                                            ///< line of the [header]

    const std::string* get(std::string_view key) const;
    const std::string* get_nested(std::string_view section, std::string_view key) const;
};

/// Parse one shared file. `config_style`: section headers are
/// `[default]` / `[profile NAME]` (the config file; `[NAME]` alone is not a
/// profile there, `[sso-session X]` / `[services X]` are skipped); otherwise
/// `[NAME]` (the credentials file). Comments: lines starting with '#' or ';'
/// and ' #' / ' ;' after a value. Throws std::system_error
/// (errc::bad_credentials_file) naming file and line on a malformed line.
std::map<std::string, profile_section> parse_shared_file(std::string_view text, std::string_view file_name,
                                                         bool config_style);

/// The files and profile `opts` select, resolved against the environment.
struct shared_files {
    std::string profile;             ///< the selected profile's name
    std::string credentials_path;    ///< resolved path (may not exist)
    std::string config_path;
    std::optional<profile_section> credentials;  ///< the profile in the credentials file
    std::optional<profile_section> config;       ///< the profile in the config file
    std::map<std::string, profile_section> all_credentials;  ///< for source_profile lookups
    std::map<std::string, profile_section> all_config;
    bool credentials_file_exists = false;
    bool config_file_exists = false;

    /// A key of the selected profile: credentials file first, then config file.
    const std::string* get(std::string_view key) const;
};

/// The STS providers a profile's `role_arn` leads to. Empty members mean the
/// real ones (`make_assume_role_provider`, `make_web_identity_provider` of
/// service.hpp); tests put doubles here to see what a profile asks for.
struct role_factories {
    using assume_role_fn = std::function<credentials_provider_ptr(
        boost::asio::any_io_executor ex, credentials_provider_ptr source, std::string role_arn,
        std::string session_name, std::string external_id, credentials_options opts, std::string description)>;
    using web_identity_fn = std::function<credentials_provider_ptr(
        boost::asio::any_io_executor ex, std::string token_file, std::string role_arn, std::string session_name,
        credentials_options opts, std::string description)>;
    assume_role_fn assume_role;
    web_identity_fn web_identity;
};

/// `make_profile_credentials_provider` with its STS providers chosen by `factories`.
credentials_provider_ptr make_profile_provider(boost::asio::any_io_executor ex, credentials_options opts,
                                               role_factories factories);

/// Read both files (missing files are not an error). Throws as parse_shared_file.
shared_files load_shared_files(const credentials_options& opts);
/// `~` → $HOME.
std::string expand_home(std::string_view path, const env_lookup& env);

}  // namespace fluss_fetch::storage::aws
