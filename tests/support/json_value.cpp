#include "tests/support/json_value.h"

#include <charconv>
#include <cstdlib>

namespace spicetap::test {

class JsonParser {
public:
    explicit JsonParser(std::string_view text) : s_(text) {}

    std::optional<JsonValue> document(std::string* error) {
        JsonValue v;
        if (!value(v, 0)) {
            if (error) {
                *error = "malformed JSON at byte " + std::to_string(pos_);
            }
            return std::nullopt;
        }
        skip_space();
        if (pos_ != s_.size()) {
            if (error) {
                *error = "trailing bytes at byte " + std::to_string(pos_);
            }
            return std::nullopt;
        }
        return v;
    }

private:
    std::string_view s_;
    size_t pos_ = 0;

    void skip_space() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) {
            ++pos_;
        }
    }

    bool literal(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) {
            return false;
        }
        pos_ += word.size();
        return true;
    }

    bool value(JsonValue& v, int depth) {
        if (depth > 200) {
            return false;
        }
        skip_space();
        if (pos_ >= s_.size()) {
            return false;
        }
        const char c = s_[pos_];
        if (c == '{') {
            return object(v, depth);
        }
        if (c == '[') {
            return array(v, depth);
        }
        if (c == '"') {
            v.kind_ = JsonValue::Kind::string;
            return string(v.string_);
        }
        if (literal("true")) {
            v.kind_ = JsonValue::Kind::boolean;
            v.bool_ = true;
            return true;
        }
        if (literal("false")) {
            v.kind_ = JsonValue::Kind::boolean;
            return true;
        }
        if (literal("null")) {
            return true;
        }
        return number(v);
    }

    bool object(JsonValue& v, int depth) {
        v.kind_ = JsonValue::Kind::object;
        ++pos_;
        skip_space();
        if (pos_ < s_.size() && s_[pos_] == '}') {
            ++pos_;
            return true;
        }
        for (;;) {
            skip_space();
            std::string key;
            if (pos_ >= s_.size() || s_[pos_] != '"' || !string(key)) {
                return false;
            }
            skip_space();
            if (pos_ >= s_.size() || s_[pos_] != ':') {
                return false;
            }
            ++pos_;
            JsonValue member;
            if (!value(member, depth + 1)) {
                return false;
            }
            v.members_.emplace_back(std::move(key), std::move(member));
            skip_space();
            if (pos_ < s_.size() && s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < s_.size() && s_[pos_] == '}') {
                ++pos_;
                return true;
            }
            return false;
        }
    }

    bool array(JsonValue& v, int depth) {
        v.kind_ = JsonValue::Kind::array;
        ++pos_;
        skip_space();
        if (pos_ < s_.size() && s_[pos_] == ']') {
            ++pos_;
            return true;
        }
        for (;;) {
            JsonValue item;
            if (!value(item, depth + 1)) {
                return false;
            }
            v.items_.push_back(std::move(item));
            skip_space();
            if (pos_ < s_.size() && s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < s_.size() && s_[pos_] == ']') {
                ++pos_;
                return true;
            }
            return false;
        }
    }

    static void put_utf8(std::string& out, uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }

    bool hex4(uint32_t& cp) {
        if (pos_ + 4 > s_.size()) {
            return false;
        }
        auto r = std::from_chars(s_.data() + pos_, s_.data() + pos_ + 4, cp, 16);
        if (r.ptr != s_.data() + pos_ + 4) {
            return false;
        }
        pos_ += 4;
        return true;
    }

    bool string(std::string& out) {
        ++pos_;
        while (pos_ < s_.size()) {
            const char c = s_[pos_++];
            if (c == '"') {
                return true;
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= s_.size()) {
                return false;
            }
            const char e = s_[pos_++];
            switch (e) {
                case '"':
                    out += '"';
                    break;
                case '\\':
                    out += '\\';
                    break;
                case '/':
                    out += '/';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    uint32_t cp = 0;
                    if (!hex4(cp)) {
                        return false;
                    }
                    if (cp >= 0xd800 && cp < 0xdc00 && s_.substr(pos_, 2) == "\\u") {
                        pos_ += 2;
                        uint32_t low = 0;
                        if (!hex4(low)) {
                            return false;
                        }
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                    }
                    put_utf8(out, cp);
                    break;
                }
                default:
                    return false;
            }
        }
        return false;
    }

    bool number(JsonValue& v) {
        const size_t start = pos_;
        if (pos_ < s_.size() && s_[pos_] == '-') {
            ++pos_;
        }
        bool integral = true;
        while (pos_ < s_.size()) {
            const char c = s_[pos_];
            if (c >= '0' && c <= '9') {
                ++pos_;
            } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                integral = false;
                ++pos_;
            } else {
                break;
            }
        }
        if (pos_ == start) {
            return false;
        }
        const std::string text(s_.substr(start, pos_ - start));
        char* end = nullptr;
        v.kind_ = JsonValue::Kind::number;
        v.number_ = std::strtod(text.c_str(), &end);
        if (end != text.c_str() + text.size()) {
            return false;
        }
        v.string_ = text;
        if (integral) {
            std::from_chars(text.data(), text.data() + text.size(), v.integer_);
        } else {
            v.integer_ = static_cast<int64_t>(v.number_);
        }
        return true;
    }
};

std::optional<JsonValue> JsonValue::parse(std::string_view text, std::string* error) {
    return JsonParser(text).document(error);
}

const JsonValue* JsonValue::find(std::string_view key) const {
    for (const auto& [k, v] : members_) {
        if (k == key) {
            return &v;
        }
    }
    return nullptr;
}

const JsonValue* JsonValue::at_path(std::string_view dotted) const {
    const JsonValue* v = this;
    while (v != nullptr && !dotted.empty()) {
        const auto dot = dotted.find('.');
        v = v->find(dotted.substr(0, dot));
        dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
    }
    return v;
}

std::string JsonValue::text() const {
    switch (kind_) {
        case Kind::null:
            return "null";
        case Kind::boolean:
            return bool_ ? "true" : "false";
        case Kind::number:
            return string_;
        case Kind::string:
            return string_;
        default:
            return {};
    }
}

}  // namespace spicetap::test
