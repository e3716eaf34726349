// ByteReader: bounded little-endian reads over a byte span with a *sticky* error. The first
// overrun records where it happened; later reads return zero, so a parser reads its fields
// straight through and checks ok() once at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "decode/wire/result.h"

namespace spicetap {

using ByteView = std::span<const uint8_t>;

class ByteReader {
public:
    explicit ByteReader(ByteView data, uint64_t base_offset = 0)
        : data_(data), base_(base_offset) {}

    bool ok() const { return !failed_; }
    size_t pos() const { return pos_; }
    size_t size() const { return data_.size(); }
    size_t remaining() const { return failed_ ? 0 : data_.size() - pos_; }
    ByteView whole() const { return data_; }
    uint64_t base_offset() const { return base_; }

    // Where the first failure happened (absolute: base offset + position).
    uint64_t error_offset() const { return base_ + fail_pos_; }

    uint8_t u8() { return static_cast<uint8_t>(read_le(1)); }
    uint16_t u16() { return static_cast<uint16_t>(read_le(2)); }
    uint32_t u32() { return static_cast<uint32_t>(read_le(4)); }
    uint64_t u64() { return read_le(8); }
    int8_t i8() { return static_cast<int8_t>(u8()); }
    int16_t i16() { return static_cast<int16_t>(u16()); }
    int32_t i32() { return static_cast<int32_t>(u32()); }
    int64_t i64() { return static_cast<int64_t>(u64()); }

    // n bytes as a view into the underlying data (empty on failure).
    ByteView bytes(size_t n) {
        if (!need(n)) {
            return {};
        }
        ByteView out = data_.subspan(pos_, n);
        pos_ += n;
        return out;
    }

    ByteView rest() { return bytes(remaining()); }

    void skip(size_t n) { (void)bytes(n); }

    // Move to an absolute position inside the span (for pointer fields).
    bool seek(size_t pos) {
        if (failed_) {
            return false;
        }
        if (pos > data_.size()) {
            fail(pos);
            return false;
        }
        pos_ = pos;
        return true;
    }

    // Marks the reader failed at the current position (for values the format forbids).
    void fail() { fail(pos_); }

    DecodeError error(std::string what, Errc code = Errc::Truncated) const {
        return make_error(code, error_offset(), std::move(what));
    }

private:
    bool need(size_t n) {
        if (failed_) {
            return false;
        }
        if (n > data_.size() - pos_) {
            fail(pos_);
            return false;
        }
        return true;
    }

    void fail(size_t at) {
        if (!failed_) {
            failed_ = true;
            fail_pos_ = at;
        }
    }

    uint64_t read_le(size_t n) {
        if (!need(n)) {
            return 0;
        }
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i) {
            v |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
        }
        pos_ += n;
        return v;
    }

    ByteView data_;
    uint64_t base_ = 0;
    size_t pos_ = 0;
    size_t fail_pos_ = 0;
    bool failed_ = false;
};

}  // namespace spicetap
