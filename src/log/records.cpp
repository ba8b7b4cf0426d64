// The format seam: COMPACTED and INDEXED record sources, and the factory.
#include <fluss_fetch/log/log_error.hpp>
#include <fluss_fetch/log/records.hpp>

#include <optional>
#include <stdexcept>
#include <string>

namespace fluss_fetch::log {

const char* format_name(log_format f) noexcept {
    switch (f) {
    case log_format::arrow: return "ARROW";
    case log_format::compacted: return "COMPACTED";
    case log_format::indexed: return "INDEXED";
    }
    return "?";
}

namespace {

// COMPACTED and INDEXED: `[int32 length][int8 change type][row]` records;
// the key comes straight from the row bytes, the value is the row as stored.
class row_record_source final : public record_source {
public:
    row_record_source(const schema& s, row_format f) : schema_(s), format_(f) { value_.reserve(256); }

    void open(const batch_view& batch, std::string_view segment_id) override {
        batch_ = &batch;
        segment_id_.assign(segment_id);
        reader_.emplace(batch, segment_id_);
        const auto id = batch.header.schema_id;
        schema_id_[0] = static_cast<char>(id & 0xff);
        schema_id_[1] = static_cast<char>((id >> 8) & 0xff);
    }

    bool next(kv_record& out) override {
        auto r = reader_->next();
        if (!r) return false;
        out.type = r->type;
        out.offset = r->offset;
        out.key = {};
        out.value = {};
        if (r->type == change_type::update_before) return true;
        try {
            key_ = key_of(schema_, r->row, format_);
        } catch (const std::invalid_argument& e) {
            throw log_error(log_error::kind::bad_row, segment_id_, static_cast<std::int64_t>(batch_->file_offset),
                            r->offset, e.what());
        }
        out.key = key_;
        if (r->type != change_type::del) {
            value_.assign(schema_id_, 2);
            value_.append(reinterpret_cast<const char*>(r->row.data()), r->row.size());
            out.value = value_;
        }
        return true;
    }

private:
    const schema& schema_;
    row_format format_;
    const batch_view* batch_ = nullptr;
    std::string segment_id_;
    std::optional<record_reader> reader_;
    char schema_id_[2] = {};
    std::string key_;
    std::string value_;
};

}  // namespace

std::unique_ptr<record_source> make_record_source(log_format format, const schema& s) {
    switch (format) {
    case log_format::compacted: return std::make_unique<row_record_source>(s, row_format::compacted);
    case log_format::indexed: return std::make_unique<row_record_source>(s, row_format::indexed);
    case log_format::arrow: return make_arrow_record_source(s);
    }
    throw std::invalid_argument("unknown log format");
}

}  // namespace fluss_fetch::log
