#include "storage/s3/credentials.hpp"

#include <system_error>

namespace fluss_fetch::storage::s3 {

env_lookup store_env(const s3_options& opts) { return opts.env ? opts.env : process_env(); }

store_credentials make_store_credentials(const boost::asio::any_io_executor& ex, const s3_options& opts,
                                         const env_lookup& env) {
    store_credentials out;
    if (opts.credentials_provider) {
        out.provider = opts.credentials_provider;
    } else if (opts.credentials) {
        if (opts.credentials->access_key_id.empty() || opts.credentials->secret_access_key.empty())
            throw std::system_error(std::error_code(make_error_code(errc::invalid_argument)),
                                    std::string("s3_options.credentials is set but its ") +
                                        (opts.credentials->access_key_id.empty() ? "access_key_id" : "secret_access_key") +
                                        " is empty");
        auto c = *opts.credentials;
        if (c.source.empty()) c.source = "explicit";
        out.access_key_id = c.access_key_id;
        out.provider = make_static_credentials_provider(ex, std::move(c));
    } else if (opts.anonymous) {
        out.source = "anonymous";
        return out;
    } else {
        credentials_options co;
        co.profile = opts.profile;
        co.env = env;
        co.ca_file = opts.ca_file;
        out.provider = make_default_credentials_chain(ex, std::move(co));
    }
    out.source = out.provider->describe();
    return out;
}

bool rejects_token(unsigned status, std::string_view s3_code) {
    return (status == 400 || status == 403) && (s3_code == "ExpiredToken" || s3_code == "InvalidToken");
}

}  // namespace fluss_fetch::storage::s3
