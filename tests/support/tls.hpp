// A throwaway CA and server certificates for 127.0.0.1, made with the
// openssl CLI at test time.
#pragma once

#include <filesystem>

namespace fluss_fetch::test {

struct test_pki {
    std::filesystem::path ca_cert;       ///< the CA to trust
    std::filesystem::path server_key;    ///< key + cert valid for 127.0.0.1 and localhost
    std::filesystem::path server_cert;
    std::filesystem::path other_key;     ///< key + cert for "other.example" only (name mismatch)
    std::filesystem::path other_cert;
};

/// Writes everything into `dir`; throws std::runtime_error naming the failed step.
test_pki make_test_pki(const std::filesystem::path& dir);

}  // namespace fluss_fetch::test
