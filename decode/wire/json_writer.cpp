#include "decode/wire/json_writer.h"

#include <fmt/core.h>

#include <cmath>

namespace spicetap {

void JsonWriter::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!has_element_.empty()) {
        if (has_element_.back()) {
            out_.push_back(',');
        }
        has_element_.back() = true;
    }
}

JsonWriter& JsonWriter::begin_object() {
    before_value();
    out_.push_back('{');
    has_element_.push_back(false);
    return *this;
}

JsonWriter& JsonWriter::end_object() {
    out_.push_back('}');
    has_element_.pop_back();
    return *this;
}

JsonWriter& JsonWriter::begin_array() {
    before_value();
    out_.push_back('[');
    has_element_.push_back(false);
    return *this;
}

JsonWriter& JsonWriter::end_array() {
    out_.push_back(']');
    has_element_.pop_back();
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
    before_value();
    escape_to(out_, k);
    out_.push_back(':');
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
    before_value();
    escape_to(out_, s);
    return *this;
}

JsonWriter& JsonWriter::value(bool b) {
    before_value();
    out_ += b ? "true" : "false";
    return *this;
}

JsonWriter& JsonWriter::value(int64_t v) {
    before_value();
    out_ += fmt::format("{}", v);
    return *this;
}

JsonWriter& JsonWriter::value(uint64_t v) {
    before_value();
    out_ += fmt::format("{}", v);
    return *this;
}

JsonWriter& JsonWriter::value(double v) {
    before_value();
    if (std::isfinite(v)) {
        out_ += fmt::format("{}", v);
    } else {
        out_ += "null";
    }
    return *this;
}

JsonWriter& JsonWriter::null() {
    before_value();
    out_ += "null";
    return *this;
}

JsonWriter& JsonWriter::hex(std::span<const uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    before_value();
    out_.push_back('"');
    for (uint8_t b : bytes) {
        out_.push_back(kDigits[b >> 4]);
        out_.push_back(kDigits[b & 15]);
    }
    out_.push_back('"');
    return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
    before_value();
    out_ += json;
    return *this;
}

JsonWriter& JsonWriter::raw_fields(std::string_view fields) {
    if (fields.empty()) {
        return *this;
    }
    if (!has_element_.empty()) {
        if (has_element_.back()) {
            out_.push_back(',');
        }
        has_element_.back() = true;
    }
    out_ += fields;
    return *this;
}

void JsonWriter::escape_to(std::string& out, std::string_view s) {
    out.push_back('"');
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += fmt::format("\\u{:04x}", c);
                } else {
                    out.push_back(ch);
                }
        }
    }
    out.push_back('"');
}

}  // namespace spicetap
