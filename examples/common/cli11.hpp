// What the three programs share on their command lines: one CLI11 setup
// (`--opt value` and `--opt=value`, the last of a repeated option wins,
// `--help` with defaults, `--version`), usage errors (exit 2, one line
// naming the flag) and the S3 flags the AWS CLI has. Sizes, counts and
// usage_error are cli.hpp's (which the benchmarks and the soak use without CLI11).
#pragma once

#include "cli.hpp"

#include <fluss_fetch/storage/s3_store.hpp>
#include <fluss_fetch/version.hpp>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <string>

namespace fluss_fetch::examples {

/// "NAME fluss_fetch X.Y.Z", what --version prints.
inline std::string version_line(const std::string& program) {
    return program + " fluss_fetch " FLUSS_FETCH_VERSION_STRING;
}

/// The CLI11 setup of every program: --version, the last of a repeated
/// option wins (as the hand-written loops did), wide enough columns.
inline void setup(CLI::App& app, const std::string& program) {
    app.set_version_flag("--version", version_line(program), "Print the program's and the library's version and exit");
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.get_formatter()->column_width(34);
}

/// An option taking a value that `set` converts (and checks, throwing
/// `usage_error` that names the flag). `shown` is the default --help shows.
inline CLI::Option* add_value(CLI::App& app, const std::string& names, std::function<void(const std::string&)> set,
                              const std::string& help, const std::string& shown = "",
                              const std::string& type = "TEXT") {
    auto* o = app.add_option_function<std::string>(names, std::move(set), help);
    o->type_name(type);
    if (!shown.empty()) o->default_str(shown);
    return o;
}

/// A non-negative integer option: `set(n)` gets it.
inline CLI::Option* add_count(CLI::App& app, const std::string& flag, std::function<void(std::int64_t)> set,
                              const std::string& help, const std::string& shown = "") {
    return add_value(
        app, flag, [flag, set = std::move(set)](const std::string& v) { set(parse_count(flag, v)); }, help, shown, "N");
}

/// Parse the command line. nullopt: go on; else the exit code: 0 after
/// --help or --version (printed on stdout), 2 after a usage error (one line
/// on stderr naming the flag and what is wrong with it).
inline std::optional<int> parse(CLI::App& app, const std::string& program, int argc, char** argv) {
    try {
        app.parse(argc, argv);
        return std::nullopt;
    } catch (const CLI::Success& e) {  // --help, --version
        return app.exit(e, std::cout, std::cerr);
    } catch (const CLI::ParseError& e) {
        std::cerr << program << ": " << e.what() << " (see " << program << " --help)\n";
        return 2;
    } catch (const usage_error& e) {
        std::cerr << program << ": " << e.what() << " (see " << program << " --help)\n";
        return 2;
    }
}

/// The S3 flags of every program, with the AWS CLI's names and its
/// environment fallbacks (a flag wins over its variable, and over a Fluss
/// server.yaml; the variable fills in only what neither set).
struct s3_flags {
    std::optional<std::string> endpoint;  ///< --endpoint (env AWS_ENDPOINT_URL_S3)
    std::optional<std::string> region;    ///< --region (env AWS_REGION)
    std::optional<std::string> profile;   ///< --profile (env AWS_PROFILE)
    std::optional<std::string> ca_file;   ///< --ca-file (env AWS_CA_BUNDLE, read by the library)
    bool path_style = false;              ///< --path-style
    bool no_sign_request = false;         ///< --no-sign-request

    void add_to(CLI::App& app) {
        app.add_option("--endpoint", endpoint,
                       "S3 endpoint, http[s]://HOST[:PORT][/PREFIX] (env AWS_ENDPOINT_URL_S3; else AWS_ENDPOINT_URL, "
                       "the profile's endpoint_url, AWS's regional endpoint)")
            ->type_name("URL");
        app.add_option("--region", region, "signing region (env AWS_REGION; else AWS_DEFAULT_REGION, the profile's, "
                                           "us-east-1)")
            ->type_name("REGION");
        app.add_option("--profile", profile,
                       "profile of ~/.aws/config and ~/.aws/credentials (env AWS_PROFILE; else default)")
            ->type_name("NAME");
        app.add_option("--ca-file", ca_file, "PEM CA bundle for https (env AWS_CA_BUNDLE; else the system's)")
            ->type_name("FILE");
        app.add_flag("--path-style", path_style,
                     "path-style addressing (http://HOST/BUCKET/KEY), e.g. for MinIO or Ceph RGW behind a host name");
        app.add_flag("--no-sign-request", no_sign_request, "send unsigned requests (public buckets): no credentials");
    }

    /// Apply the flags to `o` (which may hold a server.yaml's settings), then
    /// the environment to what is still empty. An explicit --profile or
    /// --no-sign-request replaces static keys from the file.
    void apply(storage::s3_options& o) const {
        if (endpoint) o.endpoint = *endpoint;
        if (region) o.region = *region;
        if (ca_file) o.ca_file = *ca_file;
        if (profile) {
            o.profile = *profile;
            o.credentials.reset();
        }
        if (path_style) o.addressing = storage::s3_addressing::path;
        if (no_sign_request) {
            o.anonymous = true;
            o.credentials.reset();
        }
        auto env = [](const char* name) -> std::string {
            const char* v = std::getenv(name);
            return v ? v : "";
        };
        if (o.endpoint.empty()) o.endpoint = env("AWS_ENDPOINT_URL_S3");
        if (o.region.empty()) o.region = env("AWS_REGION");
        if (o.profile.empty()) o.profile = env("AWS_PROFILE");
    }
};

}  // namespace fluss_fetch::examples
