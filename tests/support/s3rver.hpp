// A real @20minutes/s3rver (SigV4-verifying S3 server, node) for one test
// fixture: started on 127.0.0.1 with an ephemeral port, stopped and its data
// removed on destruction. A missing node or package fails the test loudly.
#pragma once

#include "support/temp_dir.hpp"

#include <sys/types.h>

#include <string>
#include <vector>

namespace fluss_fetch::test {

class s3rver {
public:
    struct options {
        std::vector<std::string> buckets{"test-bucket"};
        std::string tls_key;   ///< PEM paths; both set → https
        std::string tls_cert;
    };
    explicit s3rver(options opts);
    s3rver() : s3rver(options{}) {}
    ~s3rver();
    s3rver(const s3rver&) = delete;
    s3rver& operator=(const s3rver&) = delete;

    unsigned short port() const noexcept { return port_; }
    /// "http://127.0.0.1:PORT" (https when TLS is on).
    std::string endpoint() const;
    static constexpr const char* access_key = "S3RVER";
    static constexpr const char* secret_key = "S3RVER";

private:
    void stop() noexcept;
    temp_dir data_{"s3rver"};
    pid_t pid_ = -1;
    int stdin_ = -1;
    unsigned short port_ = 0;
    bool tls_ = false;
};

}  // namespace fluss_fetch::test
