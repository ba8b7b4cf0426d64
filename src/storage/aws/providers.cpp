// The local credential providers: static, environment, the profile of the
// shared files (static keys, role_arn + source_profile / web identity /
// credential_source), the chain, and the default chain.
//
// Every provider completes through aws::complete_later: posted to the
// provider's executor, then dispatched to the handler's associated executor,
// so a handler never runs inside async_get_credentials.
#include "storage/aws/providers_detail.hpp"
#include "storage/aws/service.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <memory>
#include <system_error>

namespace fluss_fetch::storage {

namespace asio = boost::asio;
using boost::system::error_code;

namespace aws {

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view s) {
    auto digits = [&](std::size_t pos, std::size_t n, int& out) {
        if (pos + n > s.size()) return false;
        int v = 0;
        for (std::size_t i = pos; i < pos + n; ++i) {
            if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
            v = v * 10 + (s[i] - '0');
        }
        out = v;
        return true;
    };
    int y, mo, d, h, mi, sec;
    if (!digits(0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-' || !digits(8, 2, d) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(11, 2, h) || s[13] != ':' || !digits(14, 2, mi) ||
        s[16] != ':' || !digits(17, 2, sec))
        return std::nullopt;
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
    // A day the month does not have (2026-02-30) is refused, not rolled over.
    const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                          std::chrono::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;
    std::size_t pos = 19;
    std::chrono::nanoseconds frac{0};
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        std::size_t start = pos;
        long long ns = 0;
        int scale = 0;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
            if (scale < 9) {
                ns = ns * 10 + (s[pos] - '0');
                ++scale;
            }
            ++pos;
        }
        if (pos == start) return std::nullopt;
        for (; scale < 9; ++scale) ns *= 10;
        frac = std::chrono::nanoseconds(ns);
    }
    int offset_min = 0;
    if (pos == s.size()) return std::nullopt;  // no zone: refuse rather than guess local time
    if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
        int sign = s[pos] == '-' ? -1 : 1;
        int oh, om = 0;
        if (!digits(pos + 1, 2, oh)) return std::nullopt;
        pos += 3;
        if (pos < s.size() && s[pos] == ':') ++pos;
        if (pos < s.size()) {
            if (!digits(pos, 2, om)) return std::nullopt;
            pos += 2;
        }
        if (oh > 23 || om > 59) return std::nullopt;
        offset_min = sign * (oh * 60 + om);
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    std::time_t t = ::timegm(&tm);
    auto tp = std::chrono::system_clock::from_time_t(t) - std::chrono::minutes(offset_min);
    return tp + std::chrono::duration_cast<std::chrono::system_clock::duration>(frac);
}

namespace {

/// Completes every call the same way: fixed credentials or a fixed error.
class fixed_provider final : public credentials_provider {
public:
    fixed_provider(asio::any_io_executor ex, error_code ec, aws_credentials creds, std::string message,
                   std::string description)
        : ex_(std::move(ex)), ec_(ec), creds_(std::move(creds)), message_(std::move(message)),
          description_(std::move(description)) {}

    std::string describe() const override { return description_; }

protected:
    void do_get_credentials(diagnostics& diag, credentials_handler h) override {
        diag.clear();
        if (ec_) {
            diag.message = message_;
            aws::complete_later(ex_, std::move(h), ec_, aws_credentials{});
        } else {
            aws::complete_later(ex_, std::move(h), error_code{}, creds_);
        }
    }

private:
    asio::any_io_executor ex_;
    error_code ec_;
    aws_credentials creds_;
    std::string message_;
    std::string description_;
};

/// Hands every call to `inner` (chosen when made), keeping its own name.
class delegating_provider final : public credentials_provider {
public:
    delegating_provider(credentials_provider_ptr inner, std::string description)
        : inner_(std::move(inner)), description_(std::move(description)) {}

    std::string describe() const override { return description_; }
    void invalidate(const aws_credentials& rejected) override { inner_->invalidate(rejected); }

protected:
    void do_get_credentials(diagnostics& diag, credentials_handler h) override {
        inner_->async_get_credentials(diag, std::move(h));
    }

private:
    credentials_provider_ptr inner_;
    std::string description_;
};

class environment_provider final : public credentials_provider {
public:
    environment_provider(asio::any_io_executor ex, env_lookup env) : ex_(std::move(ex)), env_(std::move(env)) {}

    std::string describe() const override { return "environment"; }

protected:
    void do_get_credentials(diagnostics& diag, credentials_handler h) override {
        diag.clear();
        auto fail = [&](errc e, std::string msg) {
            diag.message = "environment: " + std::move(msg);
            aws::complete_later(ex_, std::move(h), make_error_code(e), aws_credentials{});
        };
        // An empty variable counts as unset (`export AWS_SESSION_TOKEN=`).
        auto var = [this](const char* name) -> std::optional<std::string> {
            auto v = env_(name);
            if (v && v->empty()) return std::nullopt;
            return v;
        };
        auto id = var("AWS_ACCESS_KEY_ID");
        auto secret = var("AWS_SECRET_ACCESS_KEY");
        if (!id && !secret) return fail(errc::no_credentials, "AWS_ACCESS_KEY_ID is not set");
        if (!secret) return fail(errc::credentials_failed, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
        if (!id) return fail(errc::credentials_failed, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
        aws_credentials c;
        c.access_key_id = std::move(*id);
        c.secret_access_key = std::move(*secret);
        c.session_token = var("AWS_SESSION_TOKEN").value_or("");
        if (auto exp = var("AWS_CREDENTIAL_EXPIRATION")) {
            auto tp = aws::parse_iso8601(*exp);
            if (!tp)
                return fail(errc::credentials_failed,
                            "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time (e.g. 2026-12-02T14:00:00Z): '" +
                                *exp + "'");
            c.expiration = *tp;
        }
        c.source = "environment";
        aws::complete_later(ex_, std::move(h), error_code{}, std::move(c));
    }

private:
    asio::any_io_executor ex_;
    env_lookup env_;
};

// --- the profile -----------------------------------------------------------

/// One profile as both files have it: the credentials file's keys first.
struct profile_view {
    std::string name;
    const profile_section* cred = nullptr;
    const profile_section* conf = nullptr;

    bool exists() const { return cred != nullptr || conf != nullptr; }
    const std::string* get(std::string_view key) const {
        if (cred)
            if (auto v = cred->get(key)) return v;
        if (conf)
            if (auto v = conf->get(key)) return v;
        return nullptr;
    }
    /// "file:line" of the section holding `key` (else of the first section there is).
    std::string where(std::string_view key = {}) const {
        const profile_section* s = nullptr;
        if (!key.empty()) s = (cred && cred->get(key)) ? cred : (conf && conf->get(key)) ? conf : nullptr;
        if (!s) s = cred ? cred : conf;
        return s ? s->file + ":" + std::to_string(s->line) : std::string("?");
    }
    /// The file holding `key`, for `aws_credentials::source`.
    std::string file_of(std::string_view key) const {
        const profile_section* s = (cred && cred->get(key)) ? cred : conf;
        return s ? s->file : std::string();
    }
    bool has_static_keys() const { return get("aws_access_key_id") || get("aws_secret_access_key"); }
};

struct resolved {
    credentials_provider_ptr provider;  // set on success
    error_code ec;
    std::string message;
};

class profile_resolver {
public:
    profile_resolver(asio::any_io_executor ex, const aws::shared_files& f, credentials_options opts,
                     aws::role_factories fac)
        : ex_(std::move(ex)), f_(f), opts_(std::move(opts)), fac_(std::move(fac)) {}

    resolved resolve_selected() {
        std::vector<std::string> chain;
        return resolve(f_.profile, chain, false);
    }

private:
    profile_view view(const std::string& name) const {
        profile_view v;
        v.name = name;
        if (auto it = f_.all_credentials.find(name); it != f_.all_credentials.end()) v.cred = &it->second;
        if (auto it = f_.all_config.find(name); it != f_.all_config.end()) v.conf = &it->second;
        return v;
    }

    static resolved failed(std::string msg) { return {nullptr, make_error_code(errc::credentials_failed), std::move(msg)}; }

    std::string file_state(const std::string& path, bool exists) const {
        return path + (exists ? "" : " (no such file)");
    }

    static std::string join(const std::vector<std::string>& chain, const std::string& last) {
        std::string s;
        for (const auto& n : chain) s += n + " → ";
        return s + last;
    }

    resolved static_keys(const profile_view& v) {
        const std::string* id = v.get("aws_access_key_id");
        const std::string* secret = v.get("aws_secret_access_key");
        if (!id || id->empty())
            return failed("profile " + v.name + " (" + v.where("aws_secret_access_key") +
                          "): aws_secret_access_key without aws_access_key_id");
        if (!secret || secret->empty())
            return failed("profile " + v.name + " (" + v.where("aws_access_key_id") +
                          "): aws_access_key_id without aws_secret_access_key");
        aws_credentials c;
        c.access_key_id = *id;
        c.secret_access_key = *secret;
        if (auto t = v.get("aws_session_token")) c.session_token = *t;
        c.source = "profile " + v.name + " (" + v.file_of("aws_access_key_id") + ")";
        return {make_static_credentials_provider(ex_, std::move(c)), {}, {}};
    }

    credentials_options opts_for(const profile_view& v) const {
        credentials_options o = opts_;
        if (o.region.empty())
            if (auto r = v.get("region")) o.region = *r;
        return o;
    }

    static std::string session_name(const profile_view& v) {
        if (auto s = v.get("role_session_name"); s && !s->empty()) return *s;
        return "fluss-fetch-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                    std::chrono::system_clock::now().time_since_epoch())
                                                    .count());
    }

    resolved role(const profile_view& v, std::vector<std::string>& chain) {
        const std::string& role_arn = *v.get("role_arn");
        std::string desc = "profile " + v.name + " (role " + role_arn + ")";
        const std::string* source = v.get("source_profile");
        const std::string* cred_source = v.get("credential_source");
        const std::string* token_file = v.get("web_identity_token_file");
        if (source && cred_source)
            return failed("profile " + v.name + " (" + v.where("role_arn") +
                          "): both source_profile and credential_source are set; keep one");
        if (token_file && !source && !cred_source) {
            aws::role_factories::web_identity_fn make = fac_.web_identity;
            if (!make) make = &aws::make_web_identity_provider;
            return {make(ex_, *token_file, role_arn, session_name(v), opts_for(v), desc), {}, {}};
        }
        credentials_provider_ptr src;
        if (source) {
            if (*source == v.name) {
                // A profile may name itself when it holds the keys to assume the role with.
                if (!v.has_static_keys())
                    return failed("profile " + v.name + " (" + v.where("source_profile") +
                                  "): source_profile loop: " + join(chain, v.name) + " → " + v.name);
                auto r = static_keys(v);
                if (!r.provider) return r;
                src = r.provider;
            } else if (std::find(chain.begin(), chain.end(), *source) != chain.end()) {
                return failed("profile " + v.name + " (" + v.where("source_profile") +
                              "): source_profile loop: " + join(chain, v.name) + " → " + *source);
            } else {
                chain.push_back(v.name);
                auto r = resolve(*source, chain, true);
                chain.pop_back();
                if (!r.provider) return r;
                src = r.provider;
            }
        } else if (cred_source) {
            if (*cred_source == "Environment")
                src = make_environment_credentials_provider(ex_, opts_);
            else if (*cred_source == "Ec2InstanceMetadata")
                src = make_imds_credentials_provider(ex_, opts_);
            else if (*cred_source == "EcsContainer")
                src = make_container_credentials_provider(ex_, opts_);
            else
                return failed("profile " + v.name + " (" + v.where("credential_source") + "): credential_source '" +
                              *cred_source + "' is not Environment, Ec2InstanceMetadata or EcsContainer");
        } else {
            return failed("profile " + v.name + " (" + v.where("role_arn") +
                          "): role_arn without source_profile, credential_source or web_identity_token_file");
        }
        std::string external_id;
        if (auto e = v.get("external_id")) external_id = *e;
        aws::role_factories::assume_role_fn make = fac_.assume_role;
        if (!make) make = &aws::make_assume_role_provider;
        return {make(ex_, std::move(src), role_arn, session_name(v), std::move(external_id), opts_for(v), desc), {}, {}};
    }

    resolved resolve(const std::string& name, std::vector<std::string>& chain, bool is_source) {
        profile_view v = view(name);
        if (!v.exists()) {
            if (!is_source)
                return {nullptr, make_error_code(errc::no_credentials),
                        "profile " + name + ": not in " + file_state(f_.credentials_path, f_.credentials_file_exists) +
                            " or " + file_state(f_.config_path, f_.config_file_exists)};
            return failed("profile " + chain.back() + ": its source_profile " + name + " is not in " +
                          file_state(f_.credentials_path, f_.credentials_file_exists) + " or " +
                          file_state(f_.config_path, f_.config_file_exists));
        }
        // The selected profile assumes its role even when it has keys too; a
        // source profile with keys gives those keys (botocore, aws-c-auth).
        if (is_source && v.has_static_keys()) return static_keys(v);
        if (v.get("role_arn")) return role(v, chain);
        if (v.has_static_keys()) return static_keys(v);
        if (is_source) {
            if (auto cmd = v.get("credential_process"); cmd && !cmd->empty())
                return {aws::make_command_provider(ex_, *cmd, "profile " + v.name + " (" + v.file_of("credential_process") + ")",
                                                   opts_.process_timeout),
                        {}, {}};
            return failed("profile " + chain.back() + ": its source_profile " + name + " (" + v.where() +
                          ") has no aws_access_key_id, role_arn or credential_process");
        }
        return {nullptr, make_error_code(errc::no_credentials),
                "profile " + name + ": no aws_access_key_id, role_arn or web_identity_token_file in " + v.where()};
    }

    asio::any_io_executor ex_;
    const aws::shared_files& f_;
    credentials_options opts_;
    aws::role_factories fac_;
};

/// `std::system_error::what()` is "what_arg: category message"; keep what_arg.
std::string what_arg(const std::system_error& e) {
    std::string w = e.what();
    std::string suffix = ": " + e.code().message();
    if (w.size() > suffix.size() && w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0)
        w.resize(w.size() - suffix.size());
    return w;
}

// --- the chain -------------------------------------------------------------

class chain_provider final : public credentials_provider, public std::enable_shared_from_this<chain_provider> {
public:
    chain_provider(asio::any_io_executor ex, std::vector<credentials_provider_ptr> providers, std::string description)
        : ex_(std::move(ex)), providers_(std::move(providers)), description_(std::move(description)) {}

    std::string describe() const override { return description_; }

    void invalidate(const aws_credentials& rejected) override {
        for (auto& p : providers_) p->invalidate(rejected);
    }

protected:
    struct op {
        op(std::shared_ptr<chain_provider> s, diagnostics* d, credentials_handler h)
            : self(std::move(s)), diag(d), handler(std::move(h)) {}
        std::shared_ptr<chain_provider> self;
        diagnostics* diag;
        credentials_handler handler;  // move-constructed only: Asio 1.81's move assignment recurses
        std::size_t next = 0;
        std::vector<std::string> tried;
        diagnostics inner;
    };

    void do_get_credentials(diagnostics& diag, credentials_handler h) override {
        diag.clear();
        auto o = std::make_shared<op>(shared_from_this(), &diag, std::move(h));
        step(std::move(o));
    }

private:
    static void step(std::shared_ptr<op> o) {
        auto& self = *o->self;
        if (o->next == self.providers_.size()) {
            std::string msg = "no credentials";
            for (std::size_t i = 0; i < o->tried.size(); ++i) msg += (i == 0 ? ": " : "; ") + o->tried[i];
            if (o->tried.empty()) msg += ": the chain '" + self.description_ + "' has no providers";
            o->diag->message = std::move(msg);
            auto h = std::move(o->handler);
            aws::complete_later(self.ex_, std::move(h), make_error_code(errc::no_credentials), aws_credentials{});
            return;
        }
        auto& p = self.providers_[o->next];
        o->inner.clear();
        auto slot = asio::get_associated_cancellation_slot(o->handler);
        auto& inner = o->inner;
        p->async_get_credentials(inner, asio::bind_cancellation_slot(slot, [o](error_code ec, aws_credentials c) mutable {
                                     finish_one(std::move(o), ec, std::move(c));
                                 }));
    }

    static void finish_one(std::shared_ptr<op> o, error_code ec, aws_credentials c) {
        auto& self = *o->self;
        if (ec == errc::no_credentials) {
            auto& p = self.providers_[o->next];
            o->tried.push_back(o->inner.message.empty() ? p->describe() + ": not configured" : o->inner.message);
            ++o->next;
            step(std::move(o));
            return;
        }
        if (ec) *o->diag = o->inner;
        auto h = std::move(o->handler);
        // We run in the inner provider's completion, never inside the caller's
        // initiating function: dispatch is enough.
        auto hex = asio::get_associated_executor(h, self.ex_);
        asio::dispatch(hex, [h = std::move(h), ec, c = std::move(c)]() mutable { std::move(h)(ec, std::move(c)); });
    }

    asio::any_io_executor ex_;
    std::vector<credentials_provider_ptr> providers_;
    std::string description_;
};

}  // namespace

credentials_provider_ptr make_failing_provider(asio::any_io_executor ex, error_code ec, std::string message,
                                               std::string description) {
    return std::make_shared<fixed_provider>(std::move(ex), ec, aws_credentials{}, std::move(message),
                                            std::move(description));
}

credentials_provider_ptr make_profile_provider(asio::any_io_executor ex, credentials_options opts,
                                               role_factories factories) {
    shared_files f;
    try {
        f = load_shared_files(opts);
    } catch (const std::system_error& e) {
        // A broken file is a broken setup: the chain stops here and says where.
        return make_failing_provider(ex, error_code(e.code()), what_arg(e), "profile");
    }
    std::string desc = "profile " + f.profile;
    profile_resolver r(ex, f, opts, std::move(factories));
    auto res = r.resolve_selected();
    if (!res.provider) return make_failing_provider(ex, res.ec, std::move(res.message), desc);
    return std::make_shared<delegating_provider>(std::move(res.provider), std::move(desc));
}

}  // namespace aws

credentials_provider_ptr make_static_credentials_provider(asio::any_io_executor ex, aws_credentials creds) {
    std::string desc = creds.source.empty() ? "explicit" : creds.source;
    if (creds.access_key_id.empty() || creds.secret_access_key.empty())
        return aws::make_failing_provider(ex, make_error_code(errc::credentials_failed),
                                          desc + ": the access key id or the secret access key is empty", desc);
    if (creds.source.empty()) creds.source = "explicit";
    return std::make_shared<aws::fixed_provider>(std::move(ex), error_code{}, std::move(creds), std::string(), desc);
}

credentials_provider_ptr make_environment_credentials_provider(asio::any_io_executor ex, credentials_options opts) {
    return std::make_shared<aws::environment_provider>(std::move(ex), aws::env_of(opts));
}

credentials_provider_ptr make_profile_credentials_provider(asio::any_io_executor ex, credentials_options opts) {
    return aws::make_profile_provider(std::move(ex), std::move(opts), {});
}

credentials_provider_ptr make_chain_credentials_provider(asio::any_io_executor ex,
                                                         std::vector<credentials_provider_ptr> providers,
                                                         std::string description) {
    return std::make_shared<aws::chain_provider>(std::move(ex), std::move(providers), std::move(description));
}

credentials_provider_ptr make_default_credentials_chain(asio::any_io_executor ex, credentials_options opts) {
    std::vector<credentials_provider_ptr> chain{
        make_environment_credentials_provider(ex, opts), make_profile_credentials_provider(ex, opts),
        make_web_identity_credentials_provider(ex, opts), make_process_credentials_provider(ex, opts),
        make_container_credentials_provider(ex, opts),   make_imds_credentials_provider(ex, opts)};
    return make_caching_credentials_provider(ex, make_chain_credentials_provider(ex, std::move(chain), "default chain"));
}

}  // namespace fluss_fetch::storage
