// The process environment as an env_lookup.
#include <fluss_fetch/storage/credentials.hpp>

#include <cstdlib>

namespace fluss_fetch::storage {

env_lookup process_env() {
    // An empty variable counts as unset, as the AWS CLI treats `AWS_PROFILE=`.
    return [](const char* name) -> std::optional<std::string> {
        const char* v = std::getenv(name);
        if (v == nullptr || *v == '\0') return std::nullopt;
        return std::string(v);
    };
}

}  // namespace fluss_fetch::storage
