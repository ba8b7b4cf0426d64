// Fuzz target: the S3 XML parsers (error bodies, ListObjectsV2 pages) and the
// entity decoder. Contract: no crash on any bytes; nothing thrown (a page
// that does not parse is nullopt); unescaping never grows the text.
#include "storage/s3/xml.hpp"

#include <cstdlib>
#include <string_view>

using namespace fluss_fetch::storage::s3;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view xml(reinterpret_cast<const char*>(data), size);
    (void)parse_error_body(xml);
    if (auto page = parse_list_page(xml)) {
        for (const auto& e : page->entries) {
            if (e.key.size() > size) std::abort();
        }
    }
    if (xml_unescape(xml).size() > size) std::abort();
    return 0;
}
