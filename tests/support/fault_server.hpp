// An in-process S3-ish HTTP/1.1 server on 127.0.0.1 for fault tests: serves
// path-style GET (with Range) / HEAD / PUT / ListObjectsV2, and misbehaves
// on request: error statuses, resets, stalls, short bodies, wrong
// Content-Range (or a false total in it), slow first bytes, a new version of
// an object put between two requests, If-Match ignored (default) or honoured.
// Counts what it saw, including the most requests it had in flight and the
// most connections it had open at once. Shapes like a real object store when
// asked: a first-byte latency, a bandwidth cap per connection, and one over
// all connections (a tablet server's NIC). Runs its own threads; the
// destructor stops them and closes every connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace fluss_fetch::test {

struct fault {
    enum class kind {
        status,               ///< answer `status` with an S3 XML error `s3_code`
        reset_after,          ///< send the header and `bytes` of the body, then RST
        stall_after,          ///< send the header and `bytes`, then nothing until the client leaves
        short_body,           ///< declare the full length, send `bytes`, close cleanly (FIN)
        wrong_content_range,  ///< answer a ranged GET with Content-Range shifted by one
        delay_first_byte,     ///< wait `delay` before the header, then answer normally
        hold,                 ///< wait until release_held() before the header, then answer normally
        raw,                  ///< send `raw` as the whole response, byte for byte, then close (fuzzing)
        /// answer this GET from the object as it is, then put `replacement` (ETag
        /// `replacement_etag`) in its place: the next requests see a new version
        replace_after,
        /// answer a ranged GET normally but claim `claimed_total` as the object's
        /// size in Content-Range (`bytes F-L/claimed_total`)
        claim_total,
    };
    kind what = kind::status;
    std::string key;  ///< applies to requests for this key only; empty: any request
    unsigned status = 503;
    std::string s3_code = "SlowDown";
    std::size_t bytes = 0;
    std::chrono::milliseconds delay{0};
    std::string raw;  ///< the response bytes of a `raw` fault
    std::string replacement;       ///< the new version of a `replace_after` fault
    std::string replacement_etag;  ///< its ETag, quotes included; empty: "e<size>"
    std::uint64_t claimed_total = 0;  ///< the Content-Range total of a `claim_total` fault
};

struct recorded_request {
    std::string method;
    std::string target;
    std::string key;  ///< decoded key ("" for bucket-level requests)
    std::map<std::string, std::string> headers;  ///< lower-case names
    std::string access_key_id;  ///< from the Authorization header's Credential=, "" when unsigned
    std::chrono::steady_clock::time_point at;    ///< when the request had been read
};

/// Does `r`'s SigV4 Authorization header verify with `secret` in `region`
/// (service s3), over the request as the server received it? On a mismatch
/// `why` gets the canonical request the server computed.
bool sigv4_matches(const recorded_request& r, const std::string& secret, const std::string& region,
                   std::string* why = nullptr);

class fault_server {
public:
    explicit fault_server(unsigned threads = 2);
    ~fault_server();
    fault_server(const fault_server&) = delete;
    fault_server& operator=(const fault_server&) = delete;

    std::string endpoint() const;  ///< "http://127.0.0.1:PORT"
    unsigned short port() const noexcept;

    /// Store an object; its ETag is `etag` (quotes included), or "e<size>" in quotes when empty.
    void put_object(const std::string& bucket, const std::string& key, std::string bytes, std::string etag = {});
    /// Answer a GET whose If-Match differs from the object's ETag with 412
    /// PreconditionFailed, as S3 does (default false: If-Match is ignored,
    /// like s3rver and some proxies).
    void set_honour_if_match(bool on);
    /// Queue a fault; faults are used once each, first matching first.
    void add_fault(fault f);
    /// Let every request held by a `hold` fault go on (now and until the next hold fault is queued).
    void release_held();
    /// Cap each connection's body bytes per second, like a real object store (default 0: none).
    void set_bandwidth_per_connection(std::uint64_t bytes_per_second);
    /// Cap the body bytes per second of all connections together (default 0:
    /// none): one token bucket shared by every response, with a burst of
    /// 10 ms worth of bytes; per-connection caps still apply on top.
    void set_bandwidth_total(std::uint64_t bytes_per_second);
    /// Wait this long before the header of every GET of an object (default 0).
    void set_first_byte_delay(std::chrono::milliseconds d);
    /// Accept only requests signed with these access key ids (others: 403
    /// InvalidAccessKeyId, unsigned ones 403 AccessDenied). Empty (default): any.
    void set_accepted_access_keys(std::set<std::string> ids);
    /// Answer requests signed with these key ids 400 ExpiredToken (an S3 XML error).
    void set_expired_access_keys(std::set<std::string> ids);
    /// Serve `requests` requests signed with `id`, then treat it as expired
    /// (a session running out mid-run, without the test timing it).
    void expire_access_key_after(const std::string& id, std::size_t requests);
    /// Serve the S3 API under this path ("/minio"): "/minio/bucket/key".
    void set_path_prefix(std::string prefix);
    /// Objects per ListObjectsV2 page (default 1000).
    void set_list_page_size(std::size_t n);

    std::size_t requests() const;
    std::size_t requests_for(const std::string& key) const;
    std::size_t in_flight() const;
    std::size_t max_in_flight() const;
    /// Connections accepted so far (open or closed).
    std::size_t connections() const;
    /// Connections open now, and the most open at once (since the start or reset_peaks()).
    std::size_t open_connections() const;
    std::size_t max_open_connections() const;
    /// Start max_in_flight() and max_open_connections() again from the current figures.
    void reset_peaks();
    /// Responses sent in full (all requests, and for one key).
    std::size_t completed() const;
    std::size_t completed_for(const std::string& key) const;
    /// Requests waiting in a `hold` fault.
    std::size_t held() const;
    /// Connections the client closed (or reset) while a response was unfinished.
    std::size_t client_aborts() const;
    std::vector<recorded_request> recorded() const;
    std::size_t faults_left() const;

    /// Wait until `pred` holds, re-checked after every change the server
    /// sees; false on timeout. No sleeping: a condition variable.
    bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

}  // namespace fluss_fetch::test
