// Little-endian byte builders and malformed-input sweeps for the channel and agent tests.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "decode/wire/byte_reader.h"
#include "decode/wire/json_writer.h"

namespace spicetap::test {

class Bytes {
public:
    Bytes& u8(uint8_t v) {
        b_.push_back(v);
        return *this;
    }

    Bytes& u16(uint16_t v) { return le(v, 2); }

    Bytes& u32(uint32_t v) { return le(v, 4); }

    Bytes& u64(uint64_t v) { return le(v, 8); }

    Bytes& i16(int16_t v) { return le(static_cast<uint16_t>(v), 2); }

    Bytes& i32(int32_t v) { return le(static_cast<uint32_t>(v), 4); }

    Bytes& i64(int64_t v) { return le(static_cast<uint64_t>(v), 8); }

    Bytes& str(std::string_view s) {
        b_.insert(b_.end(), s.begin(), s.end());
        return *this;
    }

    Bytes& cstr(std::string_view s) { return str(s).u8(0); }

    Bytes& fill(size_t n, uint8_t v = 0) {
        b_.insert(b_.end(), n, v);
        return *this;
    }

    Bytes& append(const std::vector<uint8_t>& v) {
        b_.insert(b_.end(), v.begin(), v.end());
        return *this;
    }

    void put_u32(size_t at, uint32_t v) {
        for (int i = 0; i < 4; ++i) {
            b_[at + i] = static_cast<uint8_t>(v >> (8 * i));
        }
    }

    size_t size() const { return b_.size(); }

    ByteView view() const { return b_; }

    const std::vector<uint8_t>& vec() const { return b_; }

private:
    Bytes& le(uint64_t v, int n) {
        for (int i = 0; i < n; ++i) {
            b_.push_back(static_cast<uint8_t>(v >> (8 * i)));
        }
        return *this;
    }

    std::vector<uint8_t> b_;
};

// Runs `parse` on every proper prefix of `body`, each in its own exactly-sized heap buffer so
// ASan sees any over-read. Prefixes shorter than `min_len` must fail.
template <typename Parse>
void sweep_truncations(const std::vector<uint8_t>& body, size_t min_len, Parse parse) {
    for (size_t len = 0; len < body.size(); ++len) {
        std::vector<uint8_t> cut(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(len));
        auto r = parse(ByteView(cut));
        if (len < min_len) {
            INFO("prefix length " << len);
            CHECK_FALSE(r.has_value());
        }
    }
}

// A message's fields as JSON, inside braces.
template <typename Write>
std::string object_json(Write write) {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    write(w);
    w.end_object();
    return out;
}

}  // namespace spicetap::test
