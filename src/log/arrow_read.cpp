// ARROW record source (placeholder until the reader lands: a batch with
// records is "not supported yet", an empty one has no records).
#include <fluss_fetch/log/log_error.hpp>
#include <fluss_fetch/log/records.hpp>

#include <string>

namespace fluss_fetch::log {

namespace {

class arrow_record_source final : public record_source {
public:
    void open(const batch_view& batch, std::string_view segment_id) override {
        if (batch.header.record_count > 0)
            throw log_error(log_error::kind::unsupported, std::string(segment_id),
                            static_cast<std::int64_t>(batch.file_offset), batch.header.base_offset,
                            "ARROW log format is not supported yet");
    }
    bool next(kv_record&) override { return false; }
};

}  // namespace

std::unique_ptr<record_source> make_arrow_record_source(const schema&) {
    return std::make_unique<arrow_record_source>();
}

}  // namespace fluss_fetch::log
