// Bytes from a hex dump as the spec prints its test vectors: pairs of
// lower-case hex digits; anything else (spaces, newlines, offsets' colons) is
// skipped.
#pragma once

#include <string>
#include <string_view>

namespace fluss_fetch::test {

inline std::string unhex(std::string_view text) {
    std::string out;
    int nibble = -1;
    for (char c : text) {
        const int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (v < 0) continue;
        if (nibble < 0) {
            nibble = v;
        } else {
            out += static_cast<char>(nibble * 16 + v);
            nibble = -1;
        }
    }
    return out;
}

}  // namespace fluss_fetch::test
