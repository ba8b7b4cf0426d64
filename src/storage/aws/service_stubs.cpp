// TEMPORARY stand-ins for the service providers helper "svc" builds (web
// identity, container, IMDS, STS AssumeRole / AssumeRoleWithWebIdentity), so
// that the default chain links and falls through them meanwhile. Each says
// "not configured" (errc::no_credentials, "...: not built yet").
// The lead deletes this file when svc's implementation is merged.
#include "storage/aws/providers_detail.hpp"
#include "storage/aws/service.hpp"

namespace fluss_fetch::storage {

namespace {
credentials_provider_ptr stub(boost::asio::any_io_executor ex, std::string what) {
    return aws::make_failing_provider(std::move(ex), make_error_code(errc::no_credentials), what + ": not built yet",
                                      what);
}
}  // namespace

credentials_provider_ptr make_web_identity_credentials_provider(boost::asio::any_io_executor ex, credentials_options) {
    return stub(std::move(ex), "web identity");
}

credentials_provider_ptr make_container_credentials_provider(boost::asio::any_io_executor ex, credentials_options) {
    return stub(std::move(ex), "container");
}

credentials_provider_ptr make_imds_credentials_provider(boost::asio::any_io_executor ex, credentials_options) {
    return stub(std::move(ex), "IMDS");
}

namespace aws {

credentials_provider_ptr make_assume_role_provider(boost::asio::any_io_executor ex, credentials_provider_ptr,
                                                   std::string, std::string, std::string, credentials_options,
                                                   std::string description) {
    return stub(std::move(ex), description.empty() ? std::string("STS AssumeRole") : description);
}

credentials_provider_ptr make_web_identity_provider(boost::asio::any_io_executor ex, std::string, std::string,
                                                    std::string, credentials_options, std::string description) {
    return stub(std::move(ex), description.empty() ? std::string("STS AssumeRoleWithWebIdentity") : description);
}

}  // namespace aws
}  // namespace fluss_fetch::storage
