#include "support/tls.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

namespace fluss_fetch::test {
namespace {

void sh(const std::string& cmd) {
    if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

void make_leaf(const std::filesystem::path& d, const std::string& name, const std::string& cn,
               const std::string& san) {
    const std::string p = (d / name).string();
    sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + p + ".key -out " + p +
       ".csr -subj /CN=" + cn);
    std::ofstream(p + ".ext") << "subjectAltName=" << san << "\nbasicConstraints=CA:FALSE\n"
                              << "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n";
    sh("openssl x509 -req -in " + p + ".csr -CA " + (d / "ca.pem").string() + " -CAkey " + (d / "ca.key").string() +
       " -CAcreateserial -days 2 -sha256 -extfile " + p + ".ext -out " + p + ".pem");
}

}  // namespace

test_pki make_test_pki(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    const auto ca = dir / "ca";
    sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=fluss-fetch-test-ca"
       " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout " +
       (dir / "ca.key").string() + " -out " + (dir / "ca.pem").string());
    make_leaf(dir, "server", "127.0.0.1", "IP:127.0.0.1,DNS:localhost");
    make_leaf(dir, "other", "other.example", "DNS:other.example");
    return {dir / "ca.pem", dir / "server.key", dir / "server.pem", dir / "other.key", dir / "other.pem"};
}

}  // namespace fluss_fetch::test
