// The ECS task role / EKS Pod Identity endpoint: GET the credentials URL
// with the Authorization token, read the JSON answer.
#include "storage/aws/service.hpp"
#include "storage/aws/service_common.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>

namespace fluss_fetch::storage::aws {

namespace asio = boost::asio;
using boost::system::error_code;

namespace svc {

/// AccessKeyId, SecretAccessKey, Token, Expiration from a JSON document (the
/// container endpoint's and IMDS's answer). On failure returns nullopt and
/// says why in `why` (never a value).
std::optional<aws_credentials> parse_json_credentials(std::string_view body, std::string& why) {
    error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) {
        why = "the answer is not a JSON object";
        return std::nullopt;
    }
    const auto& o = v.as_object();
    auto str = [&](const char* name) -> std::string {
        auto it = o.find(name);
        return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
    };
    aws_credentials c;
    c.access_key_id = str("AccessKeyId");
    c.secret_access_key = str("SecretAccessKey");
    c.session_token = str("Token");
    if (c.access_key_id.empty() || c.secret_access_key.empty()) {
        why = "the answer lacks AccessKeyId or SecretAccessKey";
        return std::nullopt;
    }
    const std::string exp = str("Expiration");
    if (!exp.empty()) {
        c.expiration = parse_iso8601(exp);
        if (!c.expiration) {
            why = "the answer's Expiration '" + exp.substr(0, 40) + "' is not an ISO 8601 time";
            return std::nullopt;
        }
    } else if (!c.session_token.empty()) {
        why = "the answer has a Token but no Expiration";
        return std::nullopt;
    }
    return c;
}

/// "Code: Message" of an error document, when it is JSON with those fields.
std::string json_error_summary(std::string_view body) {
    error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) return {};
    const auto& o = v.as_object();
    std::string out;
    for (const char* k : {"Code", "code", "Message", "message"}) {
        auto it = o.find(k);
        if (it == o.end() || !it->value().is_string()) continue;
        if (!out.empty()) out += ": ";
        out += std::string(it->value().as_string()).substr(0, 200);
    }
    return out;
}

}  // namespace svc

namespace {

constexpr std::string_view ecs_host = "http://169.254.170.2";

// Plain http is allowed only to the addresses the SDKs allow: loopback, and
// the ECS (169.254.170.2) and EKS Pod Identity (169.254.170.23, fd00:ec2::23) agents.
bool http_host_allowed(std::string host) {
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    if (host == "localhost") return true;
    error_code ec;
    auto a = asio::ip::make_address(host, ec);
    if (ec) return false;
    if (a.is_loopback()) return true;
    if (a.is_v4()) return a.to_string() == "169.254.170.2" || a.to_string() == "169.254.170.23";
    return a == asio::ip::make_address("fd00:ec2::23", ec);
}

}  // namespace

}  // namespace fluss_fetch::storage::aws

namespace fluss_fetch::storage {

credentials_provider_ptr make_container_credentials_provider(boost::asio::any_io_executor ex,
                                                             credentials_options opts) {
    using namespace aws;
    auto env = svc::effective_env(opts);
    std::string url, from;
    if (auto rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel && !rel->empty()) {
        url = std::string(ecs_host) + (rel->front() == '/' ? "" : "/") + *rel;
        from = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
    } else if (auto full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI"); full && !full->empty()) {
        url = *full;
        from = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
        auto u = boost::urls::parse_uri(url);
        const std::string shown = svc::url_for_message(url);
        if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->encoded_host().empty())
            return svc::make_failing_provider(ex, "container", errc::credentials_failed,
                                              "container: AWS_CONTAINER_CREDENTIALS_FULL_URI " + shown +
                                                  " is not an http(s) URL");
        if (u->scheme() == "http" && !http_host_allowed(std::string(u->encoded_host())))
            return svc::make_failing_provider(
                ex, "container", errc::credentials_failed,
                "container: AWS_CONTAINER_CREDENTIALS_FULL_URI " + shown + ": plain http is allowed only to a "
                "loopback address or the ECS/EKS agent (169.254.170.2, 169.254.170.23, fd00:ec2::23); use https");
    } else {
        return svc::make_failing_provider(ex, "container", errc::no_credentials,
                                          "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
                                          "AWS_CONTAINER_CREDENTIALS_FULL_URI are not set");
    }
    struct state {
        std::string url, from, token_file, token;
        credentials_options opts;
    };
    auto st = std::make_shared<state>();
    st->url = std::move(url);
    st->from = std::move(from);
    st->token_file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").value_or("");
    st->token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN").value_or("");
    st->opts = std::move(opts);
    const std::string description = "container (" + svc::url_for_message(st->url) + ")";
    svc::fetch_fn f = [st](diagnostics& diag) -> asio::awaitable<svc::fetch_result> {
        auto ex = co_await asio::this_coro::executor;
        const std::string where = "container credentials at " + svc::url_for_message(st->url);
        auto fail = [&](std::string m, std::string_view token) {
            diag.message = svc::redact(std::move(m), {token});
            return svc::fetch_result{make_error_code(errc::credentials_failed), aws_credentials{}};
        };
        std::string token = st->token;
        if (!st->token_file.empty()) {
            std::string why;
            auto t = svc::read_small_file(st->token_file, why);
            if (!t) co_return fail("container: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: " + why, {});
            token = svc::trim(*t);
        }
        if (token.find_first_of("\r\n") != std::string::npos)
            co_return fail("container: the authorization token (" +
                               std::string(st->token_file.empty() ? "AWS_CONTAINER_AUTHORIZATION_TOKEN"
                                                                  : "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") +
                               ") holds a line break",
                           token);
        service_request req;
        req.url = st->url;
        if (!token.empty()) req.headers.emplace_back("Authorization", token);
        req.headers.emplace_back("Accept", "application/json");
        auto copts = svc::call_options(st->opts, "container credentials", false);
        auto [ec, res] = co_await call_service(ex, std::move(req), std::move(copts), diag);
        if (ec == asio::error::operation_aborted) co_return svc::fetch_result{ec, aws_credentials{}};
        if (ec) co_return fail(diag.message, token);
        if (res.status != 200) {
            std::string m = where + ": HTTP " + std::to_string(res.status);
            if (auto s = svc::json_error_summary(res.body); !s.empty()) m += ": " + s;
            co_return fail(std::move(m), token);
        }
        std::string why;
        auto c = svc::parse_json_credentials(res.body, why);
        if (!c) co_return fail(where + ": " + why, token);
        co_return svc::fetch_result{error_code{}, std::move(*c)};
    };
    return svc::make_coroutine_provider(std::move(ex), description, std::move(f));
}

}  // namespace fluss_fetch::storage
