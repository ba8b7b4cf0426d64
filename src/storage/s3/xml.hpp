// The few S3 XML documents fluss_fetch reads: error bodies and ListObjectsV2 pages.
// A small tolerant reader: no DTDs, namespaces ignored, entities decoded.
#pragma once

#include <fluss_fetch/storage/object_store.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fluss_fetch::storage::s3 {

/// <Error><Code/><Message/><Key/><RequestId/></Error>
struct error_body {
    std::string code;
    std::string message;
    std::string key;
    std::string request_id;
    std::string endpoint;  ///< <Endpoint> of a 301 PermanentRedirect / 307 TemporaryRedirect
};

/// nullopt when `xml` is not an S3 error document.
std::optional<error_body> parse_error_body(std::string_view xml);

/// One page of ListObjectsV2.
struct list_page {
    std::vector<object_entry> entries;
    bool is_truncated = false;
    std::string next_continuation_token;
};

/// nullopt when `xml` is not a ListBucketResult document (or a Size is not a number).
std::optional<list_page> parse_list_page(std::string_view xml);

/// Decode the five predefined entities and &#N; / &#xN; references.
std::string xml_unescape(std::string_view text);

}  // namespace fluss_fetch::storage::s3
