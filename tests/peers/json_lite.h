// A small JSON reader for the fixture manifests the peers write (the project has a JSON
// writer but no reader). Parse errors throw: manifests are our own output, and a broken one
// should fail the test loudly.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace spicetap::test {

class Json {
public:
    using Array = std::vector<Json>;
    using Object = std::map<std::string, Json, std::less<>>;

    Json() = default;

    static Json parse(std::string_view text) {
        size_t pos = 0;
        Json v = parse_value(text, pos);
        skip_ws(text, pos);
        if (pos != text.size()) {
            throw std::runtime_error("json: trailing bytes at " + std::to_string(pos));
        }
        return v;
    }

    bool is_null() const { return std::holds_alternative<std::monostate>(v_); }

    bool is_string() const { return std::holds_alternative<std::string>(v_); }

    bool is_number() const { return std::holds_alternative<double>(v_); }

    bool is_object() const { return std::holds_alternative<std::shared_ptr<Object>>(v_); }

    bool is_array() const { return std::holds_alternative<std::shared_ptr<Array>>(v_); }

    const std::string& str() const { return std::get<std::string>(v_); }

    double num() const { return std::get<double>(v_); }

    int64_t integer() const { return static_cast<int64_t>(std::get<double>(v_)); }

    bool boolean() const { return std::get<bool>(v_); }

    const Array& arr() const { return *std::get<std::shared_ptr<Array>>(v_); }

    const Object& obj() const { return *std::get<std::shared_ptr<Object>>(v_); }

    bool has(std::string_view key) const { return is_object() && obj().count(key) > 0; }

    const Json& operator[](std::string_view key) const {
        auto it = obj().find(key);
        if (it == obj().end()) {
            throw std::runtime_error("json: no key " + std::string(key));
        }
        return it->second;
    }

    const Json& operator[](size_t i) const { return arr().at(i); }

private:
    std::variant<std::monostate, bool, double, std::string, std::shared_ptr<Array>,
                 std::shared_ptr<Object>>
        v_;

    static void skip_ws(std::string_view t, size_t& p) {
        while (p < t.size() && (t[p] == ' ' || t[p] == '\n' || t[p] == '\r' || t[p] == '\t')) {
            p++;
        }
    }

    [[noreturn]] static void fail(const char* what, size_t p) {
        throw std::runtime_error(std::string("json: ") + what + " at " + std::to_string(p));
    }

    static void put_utf8(std::string& out, uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }

    static std::string parse_string(std::string_view t, size_t& p) {
        std::string out;
        p++;  // opening quote
        while (p < t.size() && t[p] != '"') {
            char c = t[p++];
            if (c != '\\') {
                out += c;
                continue;
            }
            if (p >= t.size()) {
                fail("bad escape", p);
            }
            char e = t[p++];
            switch (e) {
                case 'n':
                    out += '\n';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'u':
                    if (p + 4 > t.size()) {
                        fail("bad \\u escape", p);
                    }
                    put_utf8(out, static_cast<uint32_t>(
                                      std::stoul(std::string(t.substr(p, 4)), nullptr, 16)));
                    p += 4;
                    break;
                default:
                    out += e;
                    break;
            }
        }
        if (p >= t.size()) {
            fail("unterminated string", p);
        }
        p++;
        return out;
    }

    static Json parse_value(std::string_view t, size_t& p) {
        skip_ws(t, p);
        if (p >= t.size()) {
            fail("unexpected end", p);
        }
        Json j;
        char c = t[p];
        if (c == '{') {
            auto o = std::make_shared<Object>();
            p++;
            skip_ws(t, p);
            if (p < t.size() && t[p] == '}') {
                p++;
            } else {
                for (;;) {
                    skip_ws(t, p);
                    if (p >= t.size() || t[p] != '"') {
                        fail("expected key", p);
                    }
                    std::string k = parse_string(t, p);
                    skip_ws(t, p);
                    if (p >= t.size() || t[p] != ':') {
                        fail("expected ':'", p);
                    }
                    p++;
                    (*o)[k] = parse_value(t, p);
                    skip_ws(t, p);
                    if (p < t.size() && t[p] == ',') {
                        p++;
                        continue;
                    }
                    if (p < t.size() && t[p] == '}') {
                        p++;
                        break;
                    }
                    fail("expected ',' or '}'", p);
                }
            }
            j.v_ = o;
        } else if (c == '[') {
            auto a = std::make_shared<Array>();
            p++;
            skip_ws(t, p);
            if (p < t.size() && t[p] == ']') {
                p++;
            } else {
                for (;;) {
                    a->push_back(parse_value(t, p));
                    skip_ws(t, p);
                    if (p < t.size() && t[p] == ',') {
                        p++;
                        continue;
                    }
                    if (p < t.size() && t[p] == ']') {
                        p++;
                        break;
                    }
                    fail("expected ',' or ']'", p);
                }
            }
            j.v_ = a;
        } else if (c == '"') {
            j.v_ = parse_string(t, p);
        } else if (t.substr(p, 4) == "true") {
            j.v_ = true;
            p += 4;
        } else if (t.substr(p, 5) == "false") {
            j.v_ = false;
            p += 5;
        } else if (t.substr(p, 4) == "null") {
            p += 4;
        } else {
            size_t used = 0;
            j.v_ = std::stod(std::string(t.substr(p, 40)), &used);
            if (used == 0) {
                fail("bad value", p);
            }
            p += used;
        }
        return j;
    }
};

}  // namespace spicetap::test
