// Fuzz target: the manifest JSON reader. Contract: bad JSON or bad fields are
// a std::invalid_argument; a manifest that parses writes back to JSON that
// parses to the same manifest (compared through its written form).
#include <fluss_fetch/log/manifest.hpp>

#include <cstdlib>
#include <stdexcept>
#include <string_view>

using namespace fluss_fetch::log;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view json(reinterpret_cast<const char*>(data), size);
    try {
        const remote_log_manifest m = parse_manifest(json, "fuzz");
        const std::string written = write_manifest(m);
        const remote_log_manifest back = parse_manifest(written, "fuzz-rewritten");
        if (write_manifest(back) != written) std::abort();
        if (back.segments.size() != m.segments.size() || back.end_offset() != m.end_offset()) std::abort();
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
