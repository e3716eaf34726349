// A small JSON reader for tests: our JSON Lines, tshark's output and the peers' manifests are
// checked by value rather than by searching strings.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spicetap::test {

class JsonValue {
public:
    enum class Kind { null, boolean, number, string, array, object };

    // Parses one JSON text; nullopt (with `error` set when given) on malformed input.
    static std::optional<JsonValue> parse(std::string_view text, std::string* error = nullptr);

    Kind kind() const { return kind_; }

    bool is_null() const { return kind_ == Kind::null; }

    bool is_object() const { return kind_ == Kind::object; }

    bool is_array() const { return kind_ == Kind::array; }

    bool is_number() const { return kind_ == Kind::number; }

    bool is_string() const { return kind_ == Kind::string; }

    bool boolean() const { return bool_; }

    double number() const { return number_; }

    // The number as written when it is an integer (exact beyond 2^53).
    int64_t integer() const { return integer_; }

    const std::string& string() const { return string_; }

    const std::vector<JsonValue>& items() const { return items_; }

    // Members in document order.
    const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }

    // Member lookup; null when absent or when this is not an object.
    const JsonValue* find(std::string_view key) const;
    // Same, through dotted keys: "base.box.top".
    const JsonValue* at_path(std::string_view dotted) const;

    // Scalars as text: numbers as written, strings unquoted, true/false/null.
    std::string text() const;

private:
    Kind kind_ = Kind::null;
    bool bool_ = false;
    double number_ = 0;
    int64_t integer_ = 0;
    std::string string_;
    std::vector<JsonValue> items_;
    std::vector<std::pair<std::string, JsonValue>> members_;

    friend class JsonParser;
};

}  // namespace spicetap::test
