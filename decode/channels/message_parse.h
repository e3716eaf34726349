// Helpers shared by the non-display channel demarshallers: turning a ByteReader's state into a
// Result, reading pointer-addressed arrays, and naming small enums in JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "decode/wire/byte_reader.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/result.h"

namespace spicetap::channels::detail {

// The reader's overrun (if any) as an error naming the structure, else the value.
template <typename T>
Result<T> finish(const ByteReader& r, T value, std::string_view what) {
    if (!r.ok()) {
        return r.error(std::string(what));
    }
    return value;
}

// Wraps a parsed message into the channel's variant.
template <typename Variant, typename T>
Result<Variant> lift(Result<T> parsed) {
    if (!parsed) {
        return parsed.error();
    }
    return Variant{std::move(*parsed)};
}

inline DecodeError unknown_type(std::string_view channel, uint16_t type) {
    return make_error(
        Errc::Unsupported, 0,
        std::string("unknown ") + std::string(channel) + " message type " + std::to_string(type));
}

// Text up to the first NUL (or the whole span): names, notify messages, port names.
inline std::string text_until_nul(ByteView bytes) {
    size_t n = 0;
    while (n < bytes.size() && bytes[n] != 0) {
        ++n;
    }
    return std::string(reinterpret_cast<const char*>(bytes.data()), n);
}

// `size` bytes at body offset `offset` (a spice.proto pointer). A zero offset is NULL.
inline Result<std::optional<ByteView>> pointed_bytes(ByteView body, uint32_t offset, uint32_t size,
                                                     std::string_view what) {
    if (offset == 0) {
        return std::optional<ByteView>{};
    }
    if (offset > body.size() || size > body.size() - offset) {
        return make_error(Errc::BadValue, offset,
                          std::string(what) + ": pointer " + std::to_string(offset) + " + " +
                              std::to_string(size) + " bytes outside the " +
                              std::to_string(body.size()) + "-byte body");
    }
    return std::optional<ByteView>{body.subspan(offset, size)};
}

// A name from a dense table, or "unknown".
template <size_t N>
std::string_view enum_name(const std::string_view (&names)[N], uint64_t value) {
    return value < N ? names[value] : std::string_view("unknown");
}

// Writes the names of the set bits (bit i -> names[i]) as an array.
template <size_t N>
void write_flag_names(JsonWriter& w, std::string_view key, const std::string_view (&names)[N],
                      uint64_t flags) {
    w.key(key).begin_array();
    for (size_t i = 0; i < N; ++i) {
        if ((flags >> i) & 1u) {
            w.value(names[i]);
        }
    }
    w.end_array();
}

}  // namespace spicetap::channels::detail
