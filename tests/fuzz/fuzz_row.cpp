// Fuzz target: the COMPACTED and INDEXED row decoders and the key extractor,
// over a schema holding every supported type. Contract: bad bytes are a
// std::invalid_argument; bytes that decode re-encode to bytes that decode to
// the same encoding (stable round trip), and the key read straight from the
// bytes equals the key encoded from the decoded row.
#include <fluss_fetch/log/row.hpp>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>

using namespace fluss_fetch::log;

namespace {
const schema all_types = schema::parse(
    "b BOOLEAN, t TINYINT, s SMALLINT, i INT NOT NULL, l BIGINT, f FLOAT, d DOUBLE, str STRING, "
    "by BYTES, dt DATE, tm TIME, ts3 TIMESTAMP(3), ts9 TIMESTAMP(9)",
    "i, str");

void check(bool ok) {
    if (!ok) std::abort();
}

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

template <class F>
auto attempt(F f) -> std::optional<decltype(f())> {
    try {
        return f();
    } catch (const std::invalid_argument&) {
        return std::nullopt;
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const row_format fmt = (data[0] & 1) ? row_format::indexed : row_format::compacted;
    // A copy of exactly the row bytes, so ASan sees any read past the end.
    const std::size_t n = size - 1;
    auto* copy = static_cast<std::byte*>(std::malloc(n ? n : 1));
    if (n) std::memcpy(copy, data + 1, n);
    const std::span<const std::byte> bytes(copy, n);

    auto decoded = attempt([&] { return decode_row(all_types, bytes, fmt); });
    auto key_direct = attempt([&] { return key_of(all_types, bytes, fmt); });
    if (decoded) {
        check(decoded->size() == all_types.columns.size());
        const std::string once = encode_row(all_types, *decoded, fmt);  // must not throw: it decoded
        const row again = decode_row(all_types, bytes_of(once), fmt);
        check(encode_row(all_types, again, fmt) == once);
        auto key = attempt([&] { return encode_key(all_types, *decoded); });
        check(key.has_value() == key_direct.has_value());
        if (key) check(*key == *key_direct);
    }
    std::free(copy);
    return 0;
}
