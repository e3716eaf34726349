// Result<T>: a value or a DecodeError. A subset of std::expected's API so it can become an
// alias once we move to C++23. Bad input is expected, not exceptional: parsers return this.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace spicetap {

enum class Errc : uint8_t {
    Truncated,       // ran out of bytes
    BadMagic,        // not the protocol we expected
    BadValue,        // a field holds a value the format forbids
    Unsupported,     // valid, but we do not implement it
    LimitExceeded,   // larger than our configured limits
    Corrupt,         // internally inconsistent data
    Io,              // file, socket or database trouble
};

const char* errc_name(Errc code);

struct DecodeError {
    Errc code = Errc::Corrupt;
    uint64_t offset = 0;  // byte offset within the span that was being parsed
    std::string what;

    // "truncated at byte 18: link header"
    std::string message() const;
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
    Result(DecodeError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    const DecodeError& error() const { return std::get<1>(v_); }

    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

private:
    std::variant<T, DecodeError> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(DecodeError error) : error_(std::move(error)), ok_(false) {}  // NOLINT

    bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const DecodeError& error() const { return error_; }

private:
    DecodeError error_;
    bool ok_ = true;
};

inline DecodeError make_error(Errc code, uint64_t offset, std::string what) {
    return DecodeError{code, offset, std::move(what)};
}

}  // namespace spicetap
