#include "storage/s3/xml.hpp"

#include <charconv>

namespace fluss_fetch::storage::s3 {
namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// The element `name` starting at or after `from` within `doc`: its inner text
// (raw) and the position after its end tag. Matches `<name>` and
// `<name attr...>`, not `<nameSuffix>`. Self-closing `<name/>` gives "".
struct element {
    std::string_view inner;
    std::size_t end = std::string_view::npos;
};

element find_element(std::string_view doc, std::string_view name, std::size_t from = 0) {
    std::size_t pos = from;
    while (true) {
        pos = doc.find('<', pos);
        if (pos == std::string_view::npos) return {};
        std::size_t p = pos + 1;
        if (doc.compare(p, name.size(), name) != 0) {
            ++pos;
            continue;
        }
        p += name.size();
        if (p >= doc.size()) return {};
        char c = doc[p];
        if (c != '>' && c != ' ' && c != '/' && c != '\t' && c != '\r' && c != '\n') {
            ++pos;
            continue;
        }
        std::size_t open_end = doc.find('>', p);
        if (open_end == std::string_view::npos) return {};
        if (doc[open_end - 1] == '/') return {std::string_view{}, open_end + 1};
        std::string close = "</" + std::string(name) + ">";
        std::size_t close_pos = doc.find(close, open_end + 1);
        if (close_pos == std::string_view::npos) return {};
        return {doc.substr(open_end + 1, close_pos - open_end - 1), close_pos + close.size()};
    }
}

std::optional<std::string> text_of(std::string_view doc, std::string_view name) {
    auto e = find_element(doc, name);
    if (e.end == std::string_view::npos) return std::nullopt;
    return xml_unescape(e.inner);
}

}  // namespace

std::string xml_unescape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '&') {
            out.push_back(text[i]);
            continue;
        }
        std::size_t semi = text.find(';', i);
        if (semi == std::string_view::npos || semi - i > 12) {
            out.push_back('&');
            continue;
        }
        std::string_view ent = text.substr(i + 1, semi - i - 1);
        if (ent == "amp") out.push_back('&');
        else if (ent == "lt") out.push_back('<');
        else if (ent == "gt") out.push_back('>');
        else if (ent == "quot") out.push_back('"');
        else if (ent == "apos") out.push_back('\'');
        else if (ent.size() > 1 && ent[0] == '#') {
            std::uint32_t cp = 0;
            const bool hex = ent[1] == 'x' || ent[1] == 'X';
            auto digits = ent.substr(hex ? 2 : 1);
            auto r = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
            if (r.ec != std::errc{} || r.ptr != digits.data() + digits.size() || cp > 0x10FFFF) {
                out.push_back('&');
                continue;
            }
            append_utf8(out, cp);
        } else {
            out.push_back('&');
            continue;
        }
        i = semi;
    }
    return out;
}

std::optional<error_body> parse_error_body(std::string_view xml) {
    auto root = find_element(xml, "Error");
    if (root.end == std::string_view::npos) return std::nullopt;
    error_body e;
    e.code = text_of(root.inner, "Code").value_or("");
    e.message = text_of(root.inner, "Message").value_or("");
    e.key = text_of(root.inner, "Key").value_or("");
    e.request_id = text_of(root.inner, "RequestId").value_or("");
    e.endpoint = text_of(root.inner, "Endpoint").value_or("");
    if (e.code.empty()) return std::nullopt;
    return e;
}

std::optional<list_page> parse_list_page(std::string_view xml) {
    auto root = find_element(xml, "ListBucketResult");
    if (root.end == std::string_view::npos) return std::nullopt;
    list_page page;
    std::string_view body = root.inner;
    std::size_t pos = 0;
    while (true) {
        auto c = find_element(body, "Contents", pos);
        if (c.end == std::string_view::npos) break;
        pos = c.end;
        object_entry e;
        auto key = text_of(c.inner, "Key");
        if (!key) return std::nullopt;
        e.key = std::move(*key);
        auto size = text_of(c.inner, "Size").value_or("");
        auto r = std::from_chars(size.data(), size.data() + size.size(), e.size);
        if (size.empty() || r.ec != std::errc{} || r.ptr != size.data() + size.size()) return std::nullopt;
        e.etag = text_of(c.inner, "ETag").value_or("");
        e.last_modified = text_of(c.inner, "LastModified").value_or("");
        page.entries.push_back(std::move(e));
    }
    // IsTruncated and the token sit at the top level, after or before the Contents.
    std::string top;
    top.reserve(body.size());
    std::size_t last = 0;
    pos = 0;
    while (true) {
        auto c = find_element(body, "Contents", pos);
        if (c.end == std::string_view::npos) break;
        std::size_t start = body.rfind("<Contents", c.end);
        top.append(body.substr(last, start - last));
        last = pos = c.end;
    }
    top.append(body.substr(last));
    page.is_truncated = text_of(top, "IsTruncated").value_or("false") == "true";
    page.next_continuation_token = text_of(top, "NextContinuationToken").value_or("");
    return page;
}

}  // namespace fluss_fetch::storage::s3
