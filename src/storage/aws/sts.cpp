// STS: AssumeRole (signed with a source provider's credentials) and
// AssumeRoleWithWebIdentity (unsigned; the token file is read on every call),
// in the query protocol as the SDKs send it: POST, a form body with
// Action, Version=2011-06-15 and the parameters; XML answers.
#include "storage/aws/service.hpp"
#include "storage/aws/service_common.hpp"
#include "storage/s3/sigv4.hpp"
#include "storage/s3/xml.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace fluss_fetch::storage::aws {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view sts_version = "2011-06-15";
constexpr std::string_view form_type = "application/x-www-form-urlencoded; charset=utf-8";

// The inner text of the first <name> element in `doc` (raw), or nullopt.
std::optional<std::string_view> element(std::string_view doc, std::string_view name) {
    std::size_t pos = 0;
    while ((pos = doc.find('<', pos)) != std::string_view::npos) {
        const std::size_t p = pos + 1;
        if (doc.compare(p, name.size(), name) == 0 && p + name.size() < doc.size()) {
            const char c = doc[p + name.size()];
            if (c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/') {
                const auto open_end = doc.find('>', p);
                if (open_end == std::string_view::npos) return std::nullopt;
                if (doc[open_end - 1] == '/') return std::string_view{};
                const std::string close = "</" + std::string(name) + ">";
                const auto close_pos = doc.find(close, open_end + 1);
                if (close_pos == std::string_view::npos) return std::nullopt;
                return doc.substr(open_end + 1, close_pos - open_end - 1);
            }
        }
        pos = p;
    }
    return std::nullopt;
}

std::string text(std::string_view doc, std::string_view name) {
    auto e = element(doc, name);
    return e ? svc::trim(s3::xml_unescape(*e)) : std::string();
}

std::string resolve_region(const credentials_options& opts) {
    if (!opts.region.empty()) return opts.region;
    auto env = svc::effective_env(opts);
    for (const char* v : {"AWS_REGION", "AWS_DEFAULT_REGION"})
        if (auto r = env(v); r && !r->empty()) return *r;
    return "us-east-1";
}

std::string default_session_name() {
    return "fluss-fetch-" + s3::amz_date(std::chrono::system_clock::now());
}

struct sts_call {
    std::string action;        // "AssumeRole"
    std::string endpoint;
    std::string body;          // the form, without Action/Version
    std::vector<std::string_view> secrets;  // never to appear in a message
};

// POST the form, read the Credentials. Every failure is credentials_failed
// (cancellation stays operation_aborted) with a message naming the action and URL.
asio::awaitable<svc::fetch_result> post_sts(const sts_call& call, std::vector<std::pair<std::string, std::string>> headers,
                                            std::string body, const credentials_options& opts, diagnostics& diag) {
    auto ex = co_await asio::this_coro::executor;
    service_request req;
    req.method = boost::beast::http::verb::post;
    req.url = call.endpoint;
    req.headers = std::move(headers);
    req.body = std::move(body);
    req.content_type = std::string(form_type);
    const std::string what = "STS " + call.action;
    auto copts = svc::call_options(opts, what, false);
    const std::string where = what + " at " + svc::url_for_message(call.endpoint);
    auto [ec, res] = co_await call_service(ex, std::move(req), std::move(copts), diag);
    auto fail = [&](std::string message) {
        std::string m = std::move(message);
        for (auto s : call.secrets) m = svc::redact(std::move(m), {s});
        diag.message = std::move(m);
        return svc::fetch_result{make_error_code(errc::credentials_failed), aws_credentials{}};
    };
    if (ec == asio::error::operation_aborted) co_return svc::fetch_result{ec, aws_credentials{}};
    if (ec) co_return fail(diag.message);
    if (res.status < 200 || res.status >= 300) {
        std::string m = where + ": HTTP " + std::to_string(res.status);
        if (auto e = s3::parse_error_body(res.body)) {
            m += " " + e->code;
            if (!e->message.empty()) m += ": " + e->message;
            std::string rid = e->request_id.empty() ? text(res.body, "RequestId") : e->request_id;
            if (!rid.empty()) m += " (request id " + rid + ")";
        }
        co_return fail(std::move(m));
    }
    auto creds_xml = element(res.body, "Credentials");
    if (!creds_xml) co_return fail(where + ": HTTP " + std::to_string(res.status) + " but the answer has no Credentials");
    aws_credentials c;
    c.access_key_id = text(*creds_xml, "AccessKeyId");
    c.secret_access_key = text(*creds_xml, "SecretAccessKey");
    c.session_token = text(*creds_xml, "SessionToken");
    const std::string exp = text(*creds_xml, "Expiration");
    if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty())
        co_return fail(where + ": the answer's Credentials lack AccessKeyId, SecretAccessKey or SessionToken");
    c.expiration = svc::parse_iso8601(exp);
    if (!c.expiration)
        co_return fail(where + ": the answer's Expiration '" + exp.substr(0, 40) + "' is not an ISO 8601 time");
    co_return svc::fetch_result{error_code{}, std::move(c)};
}

std::string form(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
    std::string out;
    for (const auto& [name, value] : fields) {
        if (!out.empty()) out += '&';
        out += svc::form_encode(name);
        out += '=';
        out += svc::form_encode(value);
    }
    return out;
}

// Ask `source` for credentials from inside a coroutine.
asio::awaitable<svc::fetch_result> source_credentials(credentials_provider& source, diagnostics& diag) {
    auto [ec, c] = co_await source.async_get_credentials(diag, use_tuple);
    co_return svc::fetch_result{ec, std::move(c)};
}

}  // namespace

std::string sts_endpoint(const credentials_options& opts, const std::string& region) {
    auto env = svc::effective_env(opts);
    for (const char* v : {"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"})
        if (auto e = env(v); e && !e->empty()) return *e;
    const std::string r = region.empty() ? std::string("us-east-1") : region;
    return "https://sts." + r + ".amazonaws.com" + (r.starts_with("cn-") ? ".cn" : "");
}

credentials_provider_ptr make_assume_role_provider(asio::any_io_executor ex, credentials_provider_ptr source,
                                                   std::string role_arn, std::string session_name,
                                                   std::string external_id, credentials_options opts,
                                                   std::string description) {
    if (description.empty()) description = "assume role (" + role_arn + ")";
    struct state {
        credentials_provider_ptr source;
        std::string role_arn, session_name, external_id, region, endpoint;
        credentials_options opts;
    };
    auto st = std::make_shared<state>();
    st->source = std::move(source);
    st->role_arn = std::move(role_arn);
    st->session_name = session_name.empty() ? default_session_name() : std::move(session_name);
    st->external_id = std::move(external_id);
    st->region = resolve_region(opts);
    st->endpoint = sts_endpoint(opts, st->region);
    st->opts = std::move(opts);
    svc::fetch_fn f = [st](diagnostics& diag) -> asio::awaitable<svc::fetch_result> {
        const std::string where = "STS AssumeRole at " + svc::url_for_message(st->endpoint);
        diagnostics source_diag;
        auto [sec, src] = co_await source_credentials(*st->source, source_diag);
        if (sec) {
            diag.message = where + ": the source credentials (" + st->source->describe() +
                           ") failed: " + (source_diag.message.empty() ? sec.message() : source_diag.message);
            co_return svc::fetch_result{sec == asio::error::operation_aborted ? sec
                                                                              : make_error_code(errc::credentials_failed),
                                        aws_credentials{}};
        }
        std::string body = st->external_id.empty()
                               ? form({{"Action", "AssumeRole"}, {"Version", sts_version}, {"RoleArn", st->role_arn},
                                       {"RoleSessionName", st->session_name}})
                               : form({{"Action", "AssumeRole"}, {"Version", sts_version}, {"RoleArn", st->role_arn},
                                       {"RoleSessionName", st->session_name}, {"ExternalId", st->external_id}});
        std::string host, path;
        if (!svc::url_host_and_path(st->endpoint, host, path)) {
            diag.message = "STS AssumeRole: bad endpoint " + svc::url_for_message(st->endpoint);
            co_return svc::fetch_result{make_error_code(errc::credentials_failed), aws_credentials{}};
        }
        const std::string date = s3::amz_date(std::chrono::system_clock::now());
        const std::string payload_hash = s3::sha256_hex(body);
        std::vector<std::pair<std::string, std::string>> headers{
            {"content-type", std::string(form_type)}, {"host", host}, {"x-amz-date", date}};
        if (!src.session_token.empty()) headers.emplace_back("x-amz-security-token", src.session_token);
        s3::request_to_sign rs{"POST", path, {}, headers, payload_hash};
        auto sig = s3::sign(rs, src.access_key_id, src.secret_access_key, st->region, "sts", date);
        // Host and Content-Type go out from call_service with these same values.
        std::vector<std::pair<std::string, std::string>> send{{"X-Amz-Date", date},
                                                              {"Authorization", sig.authorization}};
        if (!src.session_token.empty()) send.emplace_back("X-Amz-Security-Token", src.session_token);
        sts_call call{"AssumeRole", st->endpoint, {}, {src.secret_access_key, src.session_token}};
        auto r = co_await post_sts(call, std::move(send), std::move(body), st->opts, diag);
        co_return r;
    };
    return svc::make_coroutine_provider(std::move(ex), std::move(description), std::move(f));
}

credentials_provider_ptr make_web_identity_provider(asio::any_io_executor ex, std::string token_file,
                                                    std::string role_arn, std::string session_name,
                                                    credentials_options opts, std::string description) {
    if (description.empty()) description = "web identity (" + role_arn + ")";
    struct state {
        std::string token_file, role_arn, session_name, endpoint;
        credentials_options opts;
    };
    auto st = std::make_shared<state>();
    st->token_file = std::move(token_file);
    st->role_arn = std::move(role_arn);
    st->session_name = session_name.empty() ? default_session_name() : std::move(session_name);
    st->endpoint = sts_endpoint(opts, resolve_region(opts));
    st->opts = std::move(opts);
    svc::fetch_fn f = [st](diagnostics& diag) -> asio::awaitable<svc::fetch_result> {
        std::string why;
        auto raw = svc::read_small_file(st->token_file, why);
        if (!raw) {
            diag.message = "web identity: the token file (AWS_WEB_IDENTITY_TOKEN_FILE / web_identity_token_file): " + why;
            co_return svc::fetch_result{make_error_code(errc::credentials_failed), aws_credentials{}};
        }
        const std::string token = svc::trim(*raw);
        if (token.empty()) {
            diag.message = "web identity: the token file " + st->token_file + " is empty";
            co_return svc::fetch_result{make_error_code(errc::credentials_failed), aws_credentials{}};
        }
        std::string body = form({{"Action", "AssumeRoleWithWebIdentity"},
                                 {"Version", sts_version},
                                 {"RoleArn", st->role_arn},
                                 {"RoleSessionName", st->session_name},
                                 {"WebIdentityToken", token}});
        sts_call call{"AssumeRoleWithWebIdentity", st->endpoint, {}, {token, *raw}};
        std::vector<std::pair<std::string, std::string>> headers;
        auto r = co_await post_sts(call, std::move(headers), std::move(body), st->opts, diag);
        co_return r;
    };
    return svc::make_coroutine_provider(std::move(ex), std::move(description), std::move(f));
}

}  // namespace fluss_fetch::storage::aws

namespace fluss_fetch::storage {

credentials_provider_ptr make_web_identity_credentials_provider(boost::asio::any_io_executor ex,
                                                                credentials_options opts) {
    auto env = aws::svc::effective_env(opts);
    auto file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
    if (!file || file->empty())
        return aws::svc::make_failing_provider(std::move(ex), "web identity", errc::no_credentials,
                                          "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set");
    auto role = env("AWS_ROLE_ARN");
    if (!role || role->empty())
        return aws::svc::make_failing_provider(std::move(ex), "web identity", errc::credentials_failed,
                                          "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set (" + *file +
                                              ") but AWS_ROLE_ARN is not");
    std::string session = env("AWS_ROLE_SESSION_NAME").value_or("");
    std::string role_arn = *role;
    return aws::make_web_identity_provider(std::move(ex), *file, role_arn, std::move(session), std::move(opts),
                                           "web identity (" + role_arn + ")");
}

}  // namespace fluss_fetch::storage
