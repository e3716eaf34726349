#include "decode/codec/bitmap_decoder.h"

#include <fmt/core.h>

#include <array>
#include <cstring>

namespace spicetap::codec {

namespace {

bool is_colour(PixelFormat f) {
    return f == PixelFormat::Xrgb32 || f == PixelFormat::Argb32;
}

uint32_t bits_per_pixel(BitmapFormat f) {
    switch (f) {
        case BitmapFormat::OneBitLe:
        case BitmapFormat::OneBitBe:
            return 1;
        case BitmapFormat::FourBitLe:
        case BitmapFormat::FourBitBe:
            return 4;
        case BitmapFormat::EightBit:
        case BitmapFormat::Alpha8:
            return 8;
        case BitmapFormat::Rgb16:
            return 16;
        case BitmapFormat::Rgb24:
            return 24;
        case BitmapFormat::Rgb32:
        case BitmapFormat::Rgba:
            return 32;
        case BitmapFormat::Invalid:
            return 0;
    }
    return 0;
}

PixelFormat output_format(BitmapFormat f) {
    switch (f) {
        case BitmapFormat::Rgba:
            return PixelFormat::Argb32;
        case BitmapFormat::Alpha8:
            return PixelFormat::A8;
        default:
            return PixelFormat::Xrgb32;
    }
}

// Shared validation: known format, limits, and enough stored rows.
Result<void> check_layout(const BitmapDescriptor& b, const Limits& limits) {
    const auto fmt_value = static_cast<BitmapFormat>(b.format);
    if (b.format == 0 || b.format > static_cast<uint8_t>(BitmapFormat::Alpha8)) {
        return make_error(Errc::BadValue, b.data_offset,
                          fmt::format("bitmap: unknown bitmap format {}", b.format));
    }
    if (b.width > limits.max_width || b.height > limits.max_height ||
        uint64_t{b.width} * b.height > limits.max_pixels) {
        return make_error(
            Errc::LimitExceeded, b.data_offset,
            fmt::format("bitmap: {}x{} exceeds the configured limits", b.width, b.height));
    }
    if (b.width == 0 || b.height == 0) {
        return {};
    }
    const uint64_t row_bytes = (uint64_t{b.width} * bits_per_pixel(fmt_value) + 7) / 8;
    if (b.stride < row_bytes) {
        return make_error(Errc::BadValue, b.data_offset,
                          fmt::format("bitmap: stride {} is shorter than a {} row of {} pixels "
                                      "({} bytes)",
                                      b.stride, bitmap_format_name(b.format), b.width, row_bytes));
    }
    // The last row needs only its pixels, not its padding.
    const uint64_t needed = uint64_t{b.stride} * (b.height - 1) + row_bytes;
    if (b.data.size() < needed) {
        return make_error(
            Errc::Truncated, b.data_offset + b.data.size(),
            fmt::format("bitmap: {}x{} {} with stride {} needs {} data bytes, got {}", b.width,
                        b.height, bitmap_format_name(b.format), b.stride, needed, b.data.size()));
    }
    return {};
}

// Palette as a full 256-entry table so indices never need a bounds check per pixel.
std::array<uint32_t, 256> palette_table(const Palette& p) {
    std::array<uint32_t, 256> table{};
    table.fill(0xff000000u);
    const size_t n = std::min<size_t>(p.entries.size(), table.size());
    for (size_t i = 0; i < n; ++i) {
        table[i] = p.entries[i] | 0xff000000u;
    }
    return table;
}

const uint8_t* source_row(const BitmapDescriptor& b, uint32_t y) {
    // Bottom-up bitmaps store the bottom row first.
    const uint32_t stored = (b.flags & bitmap_flags::kTopDown) ? y : b.height - 1 - y;
    return b.data.data() + size_t{stored} * b.stride;
}

uint8_t reverse_bits(uint8_t v) {
    v = static_cast<uint8_t>((v & 0xf0) >> 4 | (v & 0x0f) << 4);
    v = static_cast<uint8_t>((v & 0xcc) >> 2 | (v & 0x33) << 2);
    v = static_cast<uint8_t>((v & 0xaa) >> 1 | (v & 0x55) << 1);
    return v;
}

void convert_row(BitmapFormat f, const uint8_t* src, uint8_t* dst, uint32_t width,
                 const std::array<uint32_t, 256>& pal) {
    switch (f) {
        case BitmapFormat::OneBitLe:
            for (uint32_t x = 0; x < width; ++x) {
                store_pixel32(dst + 4 * x, pal[(src[x / 8] >> (x % 8)) & 1]);
            }
            break;
        case BitmapFormat::OneBitBe:
            for (uint32_t x = 0; x < width; ++x) {
                store_pixel32(dst + 4 * x, pal[(src[x / 8] >> (7 - x % 8)) & 1]);
            }
            break;
        case BitmapFormat::FourBitLe:
            for (uint32_t x = 0; x < width; ++x) {
                const uint8_t byte = src[x / 2];
                store_pixel32(dst + 4 * x, pal[(x & 1) ? byte >> 4 : byte & 0x0f]);
            }
            break;
        case BitmapFormat::FourBitBe:
            for (uint32_t x = 0; x < width; ++x) {
                const uint8_t byte = src[x / 2];
                store_pixel32(dst + 4 * x, pal[(x & 1) ? byte & 0x0f : byte >> 4]);
            }
            break;
        case BitmapFormat::EightBit:
            for (uint32_t x = 0; x < width; ++x) {
                store_pixel32(dst + 4 * x, pal[src[x]]);
            }
            break;
        case BitmapFormat::Rgb16:
            for (uint32_t x = 0; x < width; ++x) {
                const auto v = static_cast<uint16_t>(src[2 * x] | src[2 * x + 1] << 8);
                store_pixel32(dst + 4 * x, rgb555_to_xrgb(v));
            }
            break;
        case BitmapFormat::Rgb24:
            for (uint32_t x = 0; x < width; ++x) {
                const uint8_t* s = src + 3 * x;
                uint8_t* d = dst + 4 * x;
                d[0] = s[0];
                d[1] = s[1];
                d[2] = s[2];
                d[3] = 0xff;
            }
            break;
        case BitmapFormat::Rgb32:
            for (uint32_t x = 0; x < width; ++x) {
                std::memcpy(dst + 4 * x, src + 4 * x, 3);
                dst[4 * x + 3] = 0xff;
            }
            break;
        case BitmapFormat::Rgba:
            std::memcpy(dst, src, size_t{width} * 4);
            break;
        case BitmapFormat::Alpha8:
            std::memcpy(dst, src, width);
            break;
        case BitmapFormat::Invalid:
            break;
    }
}

}  // namespace

const char* bitmap_format_name(uint8_t format) {
    switch (static_cast<BitmapFormat>(format)) {
        case BitmapFormat::Invalid:
            return "INVALID";
        case BitmapFormat::OneBitLe:
            return "1BIT_LE";
        case BitmapFormat::OneBitBe:
            return "1BIT_BE";
        case BitmapFormat::FourBitLe:
            return "4BIT_LE";
        case BitmapFormat::FourBitBe:
            return "4BIT_BE";
        case BitmapFormat::EightBit:
            return "8BIT";
        case BitmapFormat::Rgb16:
            return "16BIT";
        case BitmapFormat::Rgb24:
            return "24BIT";
        case BitmapFormat::Rgb32:
            return "32BIT";
        case BitmapFormat::Rgba:
            return "RGBA";
        case BitmapFormat::Alpha8:
            return "8BIT_A";
    }
    return "unknown";
}

bool bitmap_format_is_indexed(uint8_t format) {
    return format >= static_cast<uint8_t>(BitmapFormat::OneBitLe) &&
           format <= static_cast<uint8_t>(BitmapFormat::EightBit);
}

Result<void> check_output(const char* codec, const PixelView& out, uint32_t width, uint32_t height,
                          PixelFormat want) {
    const bool format_ok = out.format == want || (is_colour(out.format) && is_colour(want));
    if (!format_ok || out.width != width || out.height != height ||
        (height > 0 && out.data == nullptr) || out.stride < bytes_per_row(want, width)) {
        return make_error(Errc::BadValue, 0,
                          fmt::format("{}: output view {}x{} (stride {}) does not fit a {}x{} "
                                      "image",
                                      codec, out.width, out.height, out.stride, width, height));
    }
    return {};
}

Result<ImageInfo> probe_bitmap(const BitmapDescriptor& b, const Limits& limits) {
    if (auto ok = check_layout(b, limits); !ok) {
        return ok.error();
    }
    ImageInfo info;
    info.width = b.width;
    info.height = b.height;
    info.format = output_format(static_cast<BitmapFormat>(b.format));
    info.top_down = (b.flags & bitmap_flags::kTopDown) != 0;
    return info;
}

Result<void> decode_bitmap(const BitmapDescriptor& b, const Palette* palette, const PixelView& out,
                           const Limits& limits) {
    if (auto ok = check_layout(b, limits); !ok) {
        return ok.error();
    }
    const auto format = static_cast<BitmapFormat>(b.format);
    if (auto ok = check_output("bitmap", out, b.width, b.height, output_format(format)); !ok) {
        return ok.error();
    }
    std::array<uint32_t, 256> table{};
    if (bitmap_format_is_indexed(b.format)) {
        if (palette == nullptr) {
            return make_error(
                Errc::BadValue, b.data_offset,
                fmt::format("bitmap: {} bitmap without a palette", bitmap_format_name(b.format)));
        }
        table = palette_table(*palette);
    }
    const bool drop_alpha = format == BitmapFormat::Rgba && out.format == PixelFormat::Xrgb32;
    for (uint32_t y = 0; y < b.height; ++y) {
        uint8_t* row = out.row(y);
        convert_row(format, source_row(b, y), row, b.width, table);
        if (drop_alpha) {
            for (uint32_t x = 0; x < b.width; ++x) {
                row[4 * x + 3] = 0xff;
            }
        }
    }
    return {};
}

Result<void> decode_bitmap_mask(const BitmapDescriptor& b, bool invert, const PixelView& out,
                                const Limits& limits) {
    const auto format = static_cast<BitmapFormat>(b.format);
    if (format != BitmapFormat::OneBitLe && format != BitmapFormat::OneBitBe) {
        return make_error(Errc::Unsupported, b.data_offset,
                          fmt::format("bitmap: a {} bitmap cannot be a mask (only 1BIT_LE and "
                                      "1BIT_BE)",
                                      bitmap_format_name(b.format)));
    }
    if (auto ok = check_layout(b, limits); !ok) {
        return ok.error();
    }
    if (auto ok = check_output("bitmap mask", out, b.width, b.height, PixelFormat::A1); !ok) {
        return ok.error();
    }
    const size_t row_bytes = bytes_per_row(PixelFormat::A1, b.width);
    const uint8_t flip = invert ? 0xff : 0x00;
    for (uint32_t y = 0; y < b.height; ++y) {
        const uint8_t* src = source_row(b, y);
        uint8_t* dst = out.row(y);
        for (size_t i = 0; i < row_bytes; ++i) {
            // A1 keeps the leftmost pixel in bit 0, like 1BIT_LE.
            const uint8_t v = format == BitmapFormat::OneBitLe ? src[i] : reverse_bits(src[i]);
            dst[i] = v ^ flip;
        }
    }
    return {};
}

}  // namespace spicetap::codec
