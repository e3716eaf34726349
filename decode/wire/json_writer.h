// JsonWriter: a small streaming JSON writer (objects, arrays, numbers, strings, bytes as hex).
// Used by every decoded message's to_json so `dump --json` output has one consistent shape.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace spicetap {

class JsonWriter {
public:
    explicit JsonWriter(std::string& out) : out_(out) {}

    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();

    // Inside an object: the key of the next value.
    JsonWriter& key(std::string_view k);

    JsonWriter& value(std::string_view s);
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(bool b);
    JsonWriter& value(int64_t v);
    JsonWriter& value(uint64_t v);
    JsonWriter& value(int32_t v) { return value(static_cast<int64_t>(v)); }
    JsonWriter& value(uint32_t v) { return value(static_cast<uint64_t>(v)); }
    JsonWriter& value(int16_t v) { return value(static_cast<int64_t>(v)); }
    JsonWriter& value(uint16_t v) { return value(static_cast<uint64_t>(v)); }
    JsonWriter& value(int8_t v) { return value(static_cast<int64_t>(v)); }
    JsonWriter& value(uint8_t v) { return value(static_cast<uint64_t>(v)); }
    JsonWriter& value(double v);
    JsonWriter& null();
    // Bytes as a lower-case hex string.
    JsonWriter& hex(std::span<const uint8_t> bytes);

    // key + value in one call.
    template <typename T>
    JsonWriter& field(std::string_view k, const T& v) {
        key(k);
        return value(v);
    }

    JsonWriter& field_null(std::string_view k) {
        key(k);
        return null();
    }

    // Appends already-serialised JSON as the next value (trusted input only).
    JsonWriter& raw(std::string_view json);

    // Inside an open object: appends already-serialised `"key":value,...` pairs.
    JsonWriter& raw_fields(std::string_view fields);

    static void escape_to(std::string& out, std::string_view s);

private:
    void before_value();

    std::string& out_;
    // Per open container: has it had an element yet?
    std::vector<bool> has_element_;
    bool after_key_ = false;
};

}  // namespace spicetap
