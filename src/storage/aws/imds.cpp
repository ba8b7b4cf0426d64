// EC2 instance metadata, IMDSv2: PUT a session token (with its TTL), then
// GET the role name and the role's credentials with that token. The token
// is kept until shortly before its TTL ends, and fetched again once when a
// GET is answered 401 (the token expired or IMDS restarted).
#include "storage/aws/service.hpp"
#include "storage/aws/service_common.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/string.hpp>

#include <mutex>

namespace fluss_fetch::storage {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr int token_ttl_seconds = 21'600;
constexpr std::string_view token_path = "/latest/api/token";
constexpr std::string_view role_path = "/latest/meta-data/iam/security-credentials/";

struct imds_state {
    std::string endpoint;  // without a trailing '/'
    credentials_options opts;
    std::mutex mutex;
    std::string token;
    std::chrono::steady_clock::time_point token_until{};

    std::string cached_token() {
        std::lock_guard l(mutex);
        if (!token.empty() && std::chrono::steady_clock::now() < token_until) return token;
        return {};
    }
    void keep_token(std::string t) {
        std::lock_guard l(mutex);
        token = std::move(t);
        // A minute of margin: a token must not run out between two GETs.
        token_until = std::chrono::steady_clock::now() + std::chrono::seconds(token_ttl_seconds - 60);
    }
    void drop_token() {
        std::lock_guard l(mutex);
        token.clear();
    }
};

using aws::call_service;
using aws::service_request;
using aws::service_response;

struct step {
    error_code ec;
    service_response res;
};

asio::awaitable<step> imds_call(imds_state& st, boost::beast::http::verb method, std::string path,
                                std::vector<std::pair<std::string, std::string>> headers, diagnostics& diag) {
    auto ex = co_await asio::this_coro::executor;
    service_request req;
    req.method = method;
    req.url = st.endpoint + path;
    req.headers = std::move(headers);
    auto copts = aws::svc::call_options(st.opts, "IMDS", true);
    auto [ec, res] = co_await call_service(ex, std::move(req), std::move(copts), diag);
    co_return step{ec, std::move(res)};
}

}  // namespace

credentials_provider_ptr make_imds_credentials_provider(boost::asio::any_io_executor ex, credentials_options opts) {
    namespace svc = aws::svc;
    auto env = svc::effective_env(opts);
    if (auto d = env("AWS_EC2_METADATA_DISABLED"); d && boost::beast::iequals(svc::trim(*d), "true"))
        return svc::make_failing_provider(ex, "IMDS", errc::no_credentials,
                                          "IMDS: disabled (AWS_EC2_METADATA_DISABLED=true)");
    auto st = std::make_shared<imds_state>();
    st->endpoint = env("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("");
    if (st->endpoint.empty()) st->endpoint = "http://169.254.169.254";
    while (!st->endpoint.empty() && st->endpoint.back() == '/') st->endpoint.pop_back();
    st->opts = std::move(opts);

    svc::fetch_fn f = [st](diagnostics& diag) -> asio::awaitable<svc::fetch_result> {
        using verb = boost::beast::http::verb;
        const std::string base = svc::url_for_message(st->endpoint);
        std::string token;
        // Transport failures mean "not on EC2" (or IMDS unreachable): not configured.
        auto result = [&](errc code, std::string m) {
            diag.message = svc::redact(std::move(m), {token});
            return svc::fetch_result{make_error_code(code), aws_credentials{}};
        };
        auto transport = [&](const error_code& ec) {
            if (ec == asio::error::operation_aborted) return svc::fetch_result{ec, aws_credentials{}};
            return result(errc::no_credentials, diag.message);
        };
        std::string role;
        for (int round = 0; round < 2; ++round) {
            token = round == 0 ? st->cached_token() : std::string();
            if (token.empty()) {
                std::vector<std::pair<std::string, std::string>> h{
                    {"X-aws-ec2-metadata-token-ttl-seconds", std::to_string(token_ttl_seconds)}};
                auto s = co_await imds_call(*st, verb::put, std::string(token_path), std::move(h), diag);
                if (s.ec) co_return transport(s.ec);
                if (s.res.status != 200)
                    co_return result(errc::credentials_failed, "IMDS at " + base + std::string(token_path) +
                                                                   ": HTTP " + std::to_string(s.res.status) +
                                                                   " to the token PUT (IMDSv2)");
                token = svc::trim(s.res.body);
                if (token.empty())
                    co_return result(errc::credentials_failed,
                                     "IMDS at " + base + std::string(token_path) + ": an empty token");
                st->keep_token(token);
            }
            std::vector<std::pair<std::string, std::string>> h{{"X-aws-ec2-metadata-token", token}};
            auto s = co_await imds_call(*st, verb::get, std::string(role_path), std::move(h), diag);
            if (s.ec) co_return transport(s.ec);
            if (s.res.status == 401 && round == 0) {
                st->drop_token();
                continue;
            }
            if (s.res.status == 404)
                co_return result(errc::no_credentials,
                                 "IMDS at " + base + std::string(role_path) + ": HTTP 404: the instance has no IAM role");
            if (s.res.status != 200)
                co_return result(errc::credentials_failed, "IMDS at " + base + std::string(role_path) + ": HTTP " +
                                                               std::to_string(s.res.status));
            role = svc::trim(s.res.body.substr(0, s.res.body.find('\n')));
            break;
        }
        if (role.empty())
            co_return result(errc::no_credentials, "IMDS at " + base + std::string(role_path) + ": no IAM role named");
        if (role.find_first_of("/?#% ") != std::string::npos)
            co_return result(errc::credentials_failed,
                             "IMDS at " + base + std::string(role_path) + ": the role name is not a name");
        const std::string creds_path = std::string(role_path) + role;
        std::vector<std::pair<std::string, std::string>> h{{"X-aws-ec2-metadata-token", token}};
        auto s = co_await imds_call(*st, verb::get, creds_path, std::move(h), diag);
        if (s.ec) co_return transport(s.ec);
        if (s.res.status == 401) st->drop_token();
        if (s.res.status != 200)
            co_return result(errc::credentials_failed,
                             "IMDS at " + base + creds_path + ": HTTP " + std::to_string(s.res.status));
        std::string why;
        auto c = svc::parse_json_credentials(s.res.body, why);
        if (c) {
            // {"Code": "Success", ...}; anything else is IMDS saying it failed.
            auto summary = svc::json_error_summary(s.res.body);
            if (!summary.empty() && !summary.starts_with("Success"))
                co_return result(errc::credentials_failed, "IMDS at " + base + creds_path + ": Code " + summary);
        }
        if (!c) co_return result(errc::credentials_failed, "IMDS at " + base + creds_path + ": " + why);
        c->source = "IMDS (role " + role + ")";
        co_return svc::fetch_result{error_code{}, std::move(*c)};
    };
    return svc::make_coroutine_provider(std::move(ex), "IMDS", std::move(f));
}

}  // namespace fluss_fetch::storage
