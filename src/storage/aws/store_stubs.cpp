// TEMPORARY (branch "store" only): stand-ins for what helper "prov" implements
// in src/storage/aws/, so the store links and its tests run before that
// lands. The lead deletes this file when merging prov. Only what the store
// needs: static credentials and an environment-only "default chain".
#include <fluss_fetch/storage/credentials.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>


namespace fluss_fetch::storage {
namespace {

namespace asio = boost::asio;

void complete(const asio::any_io_executor& ex, boost::asio::any_completion_handler<void(boost::system::error_code, aws_credentials)> h,
              boost::system::error_code ec, aws_credentials c) {
    auto hex = asio::get_associated_executor(h, ex);
    auto run = [h = std::move(h), ec, c = std::move(c)]() mutable { std::move(h)(ec, std::move(c)); };
    asio::post(ex, asio::bind_executor(hex, std::move(run)));
}

class stub_static final : public credentials_provider {
public:
    stub_static(asio::any_io_executor ex, aws_credentials c) : ex_(std::move(ex)), c_(std::move(c)) {}
    std::string describe() const override { return "explicit"; }

protected:
    void do_get_credentials(diagnostics&, credentials_handler h) override { complete(ex_, std::move(h), {}, c_); }

private:
    asio::any_io_executor ex_;
    aws_credentials c_;
};

class stub_env_chain final : public credentials_provider {
public:
    stub_env_chain(asio::any_io_executor ex, env_lookup env) : ex_(std::move(ex)), env_(std::move(env)) {}
    std::string describe() const override { return "default chain"; }

protected:
    void do_get_credentials(diagnostics& diag, credentials_handler h) override {
        auto id = env_("AWS_ACCESS_KEY_ID");
        auto secret = env_("AWS_SECRET_ACCESS_KEY");
        if (!id || !secret) {
            diag.message = "no credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set (stub chain)";
            complete(ex_, std::move(h), make_error_code(errc::no_credentials), {});
            return;
        }
        aws_credentials c{*id, *secret, env_("AWS_SESSION_TOKEN").value_or(""), std::nullopt, "environment"};
        complete(ex_, std::move(h), {}, std::move(c));
    }

private:
    asio::any_io_executor ex_;
    env_lookup env_;
};

}  // namespace

credentials_provider_ptr make_static_credentials_provider(boost::asio::any_io_executor ex, aws_credentials creds) {
    return std::make_shared<stub_static>(std::move(ex), std::move(creds));
}

credentials_provider_ptr make_default_credentials_chain(boost::asio::any_io_executor ex, credentials_options opts) {
    return std::make_shared<stub_env_chain>(std::move(ex), opts.env ? opts.env : process_env());
}


}  // namespace fluss_fetch::storage
