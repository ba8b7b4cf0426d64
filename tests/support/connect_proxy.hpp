// An in-process HTTP proxy on 127.0.0.1 for proxy tests: `CONNECT host:port`
// tunnels (for https origins) and absolute-form requests
// (`GET http://host:port/path`, for http origins) forwarded in origin form.
// Optionally requires Basic credentials (407 otherwise). Counts what it did.
// Forwards to loopback only. Also `tls_front`: a TLS terminator in front of
// a plain-HTTP server (the fault server), so an https origin can sit behind
// the proxy. Each runs its own thread; the destructor stops it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace fluss_fetch::test {

class connect_proxy {
public:
    connect_proxy();
    ~connect_proxy();
    connect_proxy(const connect_proxy&) = delete;
    connect_proxy& operator=(const connect_proxy&) = delete;

    unsigned short port() const noexcept;
    /// "http://127.0.0.1:PORT", or with "user:password@" when given.
    std::string url(const std::string& userinfo = {}) const;

    /// Answer 407 to every request without `Proxy-Authorization: Basic base64(user:password)`.
    void require_basic(const std::string& user, const std::string& password);

    std::size_t tunnels() const;    ///< CONNECTs answered 200 (each a tunnel opened to the origin)
    std::size_t forwarded() const;  ///< absolute-form requests forwarded to the origin
    std::size_t refused() const;    ///< requests answered 407
    /// The CONNECT authorities and absolute-form targets as received, in order.
    std::vector<std::string> targets() const;
    /// The Host header of every request received (CONNECT included), in order.
    std::vector<std::string> hosts() const;

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

class tls_front {
public:
    /// Accept TLS with this certificate and key on 127.0.0.1 and relay the
    /// plaintext to 127.0.0.1:`upstream_port`.
    tls_front(const std::filesystem::path& cert, const std::filesystem::path& key, unsigned short upstream_port);
    ~tls_front();
    tls_front(const tls_front&) = delete;
    tls_front& operator=(const tls_front&) = delete;

    unsigned short port() const noexcept;
    std::size_t handshakes() const;  ///< TLS handshakes completed

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace fluss_fetch::test
