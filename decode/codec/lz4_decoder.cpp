#include "decode/codec/lz4_decoder.h"

#include <fmt/core.h>
#include <lz4.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>

#include "decode/codec/bitmap_decoder.h"

namespace spicetap::codec {

namespace {

struct Lz4Header {
    bool top_down = false;
    BitmapFormat format = BitmapFormat::Invalid;
    uint32_t bytes_per_pixel = 0;
    PixelFormat out_format = PixelFormat::Xrgb32;
};

Result<Lz4Header> read_header(ByteView payload, uint32_t width, uint32_t height,
                              const Limits& limits, uint64_t base) {
    if (payload.size() < 2) {
        return make_error(Errc::Truncated, base + payload.size(),
                          "lz4: missing the 2-byte header (top_down, format)");
    }
    Lz4Header h;
    h.top_down = payload[0] != 0;
    h.format = static_cast<BitmapFormat>(payload[1]);
    switch (h.format) {
        case BitmapFormat::Rgb16:
            h.bytes_per_pixel = 2;
            break;
        case BitmapFormat::Rgb24:
            h.bytes_per_pixel = 3;
            break;
        case BitmapFormat::Rgb32:
            h.bytes_per_pixel = 4;
            break;
        case BitmapFormat::Rgba:
            h.bytes_per_pixel = 4;
            h.out_format = PixelFormat::Argb32;
            break;
        default:
            return make_error(Errc::Unsupported, base + 1,
                              fmt::format("lz4: bitmap format {} ({}) is not used with LZ4 "
                                          "(only 16BIT, 24BIT, 32BIT, RGBA)",
                                          payload[1], bitmap_format_name(payload[1])));
    }
    if (width == 0 || height == 0 || width > limits.max_width || height > limits.max_height ||
        uint64_t{width} * height > limits.max_pixels) {
        return make_error(
            Errc::LimitExceeded, base,
            fmt::format("lz4: image size {}x{} is empty or exceeds the limits", width, height));
    }
    return h;
}

// One stored row into 32-bit pixels; the format is decided once per row, not per pixel.
void convert_row(BitmapFormat f, const uint8_t* src, uint8_t* dst, uint32_t width) {
    switch (f) {
        case BitmapFormat::Rgb16:
            for (uint32_t x = 0; x < width; ++x) {
                store_pixel32(
                    dst + 4 * x,
                    rgb555_to_xrgb(static_cast<uint16_t>(src[2 * x] | src[2 * x + 1] << 8)));
            }
            break;
        case BitmapFormat::Rgb24:
            for (uint32_t x = 0; x < width; ++x) {
                std::memcpy(dst + 4 * x, src + 3 * x, 3);
                dst[4 * x + 3] = 0xff;
            }
            break;
        default:
            std::memcpy(dst, src, size_t{width} * 4);
            break;
    }
}

// Sets the top byte of `width` 32-bit pixels (Xrgb32 output of 32BIT or RGBA images).
void make_opaque(uint8_t* row, uint32_t width) {
    copy_pixels_or(row, row, width, 0xff000000u);
}

// Decompresses the blocks from `pos` on into `dst` (capacity bytes), as one LZ4 stream.
// Returns the bytes produced.
Result<size_t> decompress_blocks(ByteView payload, size_t pos, uint8_t* dst, size_t capacity,
                                 const PixelView& out, uint64_t base_offset) {
    // The stream state is a few dozen bytes: on the stack, not allocated per image.
    LZ4_streamDecode_t stream;
    LZ4_setStreamDecode(&stream, nullptr, 0);
    size_t produced = 0;
    do {
        if (payload.size() - pos < 4) {
            return make_error(Errc::Truncated, base_offset + pos,
                              "lz4: missing a block size (u32 big-endian)");
        }
        const uint32_t block = uint32_t{payload[pos]} << 24 | uint32_t{payload[pos + 1]} << 16 |
                               uint32_t{payload[pos + 2]} << 8 | payload[pos + 3];
        pos += 4;
        if (block == 0 || block > payload.size() - pos || block > INT_MAX) {
            return make_error(Errc::Truncated, base_offset + pos - 4,
                              fmt::format("lz4: block of {} bytes, {} left in the payload", block,
                                          payload.size() - pos));
        }
        if (produced == capacity) {
            return make_error(Errc::Corrupt, base_offset + pos,
                              fmt::format("lz4: more blocks after the {}x{} image is complete",
                                          out.width, out.height));
        }
        const int n = LZ4_decompress_safe_continue(
            &stream, reinterpret_cast<const char*>(payload.data() + pos),
            reinterpret_cast<char*>(dst + produced), static_cast<int>(block),
            static_cast<int>(capacity - produced));
        if (n <= 0) {
            return make_error(Errc::Corrupt, base_offset + pos,
                              fmt::format("lz4: corrupt block of {} bytes (or it decodes past "
                                          "the {}x{} image)",
                                          block, out.width, out.height));
        }
        produced += static_cast<size_t>(n);
        pos += block;
    } while (pos < payload.size());
    return produced;
}

}  // namespace

Result<ImageInfo> probe_lz4(ByteView payload, uint32_t width, uint32_t height, const Limits& limits,
                            uint64_t base_offset) {
    auto header = read_header(payload, width, height, limits, base_offset);
    if (!header) {
        return header.error();
    }
    return ImageInfo{width, height, header->out_format, header->top_down};
}

Result<void> decode_lz4(ByteView payload, const PixelView& out, const Limits& limits,
                        uint64_t base_offset) {
    auto header = read_header(payload, out.width, out.height, limits, base_offset);
    if (!header) {
        return header.error();
    }
    const Lz4Header& h = *header;
    if (auto ok = check_output("lz4", out, out.width, out.height, h.out_format); !ok) {
        return ok.error();
    }
    const size_t packed_row = size_t{out.width} * h.bytes_per_pixel;
    // Room for rows padded to 4 bytes (the strides QXL bitmaps have); see the header comment.
    const size_t max_row = (packed_row + 3) & ~size_t{3};
    const size_t capacity = max_row * out.height;
    if (capacity > INT_MAX) {
        return make_error(
            Errc::LimitExceeded, base_offset,
            fmt::format("lz4: {}x{} image is too large for LZ4", out.width, out.height));
    }
    // 16/24/32-bit images are opaque; RGBA keeps its alpha unless asked for as Xrgb32.
    const bool opaque = h.format != BitmapFormat::Rgba || out.format == PixelFormat::Xrgb32;
    if (h.bytes_per_pixel == 4 && out.stride == packed_row) {
        // 32-bit pixels into a packed view: straight into the output, rows flipped in place
        // for bottom-up images, the top byte set after.
        auto produced = decompress_blocks(payload, 2, out.data, capacity, out, base_offset);
        if (!produced) {
            return produced.error();
        }
        if (*produced != capacity) {
            return make_error(Errc::Corrupt, base_offset + payload.size(),
                              fmt::format("lz4: {} decompressed bytes are not {} rows of at "
                                          "least {} bytes",
                                          *produced, out.height, packed_row));
        }
        if (!h.top_down) {
            for (uint32_t y = 0; y < out.height / 2; ++y) {
                std::swap_ranges(out.row(y), out.row(y) + packed_row, out.row(out.height - 1 - y));
            }
        }
        if (opaque) {
            for (uint32_t y = 0; y < out.height; ++y) {
                make_opaque(out.row(y), out.width);
            }
        }
        return {};
    }
    std::vector<uint8_t> raw(capacity);
    auto produced_or = decompress_blocks(payload, 2, raw.data(), capacity, out, base_offset);
    if (!produced_or) {
        return produced_or.error();
    }
    const size_t produced = *produced_or;
    const size_t row = produced / out.height;
    if (produced % out.height != 0 || row < packed_row) {
        return make_error(Errc::Corrupt, base_offset + payload.size(),
                          fmt::format("lz4: {} decompressed bytes are not {} rows of at least {} "
                                      "bytes",
                                      produced, out.height, packed_row));
    }
    for (uint32_t y = 0; y < out.height; ++y) {
        const uint32_t stored = h.top_down ? y : out.height - 1 - y;
        convert_row(h.format, raw.data() + size_t{stored} * row, out.row(y), out.width);
        if (opaque && h.bytes_per_pixel == 4) {
            make_opaque(out.row(y), out.width);
        }
    }
    return {};
}

Result<std::vector<uint8_t>> decompress_lz4_block(ByteView compressed, uint32_t uncompressed_size,
                                                  uint32_t max_size, uint64_t base_offset) {
    if (uncompressed_size > max_size || uncompressed_size > INT_MAX ||
        compressed.size() > INT_MAX) {
        return make_error(Errc::LimitExceeded, base_offset,
                          fmt::format("lz4: uncompressed size {} exceeds the limit {}",
                                      uncompressed_size, max_size));
    }
    std::vector<uint8_t> out(uncompressed_size);
    const int n = LZ4_decompress_safe(
        reinterpret_cast<const char*>(compressed.data()), reinterpret_cast<char*>(out.data()),
        static_cast<int>(compressed.size()), static_cast<int>(uncompressed_size));
    if (n < 0 || static_cast<uint32_t>(n) != uncompressed_size) {
        return make_error(Errc::Corrupt, base_offset,
                          fmt::format("lz4: block of {} bytes does not decompress to the announced "
                                      "{} bytes",
                                      compressed.size(), uncompressed_size));
    }
    return out;
}

Result<std::vector<uint8_t>> decode_spicevmc_compressed(ByteView body, uint32_t max_size,
                                                        uint64_t base_offset) {
    ByteReader r(body, base_offset);
    const uint8_t type = r.u8();
    if (!r.ok()) {
        return r.error("spicevmc compressed data: type");
    }
    if (type == static_cast<uint8_t>(DataCompression::None)) {
        ByteView rest = r.rest();
        return std::vector<uint8_t>(rest.begin(), rest.end());
    }
    if (type != static_cast<uint8_t>(DataCompression::Lz4)) {
        return make_error(Errc::Unsupported, base_offset,
                          fmt::format("spicevmc compressed data: compression type {} (only NONE "
                                      "and LZ4 exist)",
                                      type));
    }
    const uint32_t size = r.u32();
    if (!r.ok()) {
        return r.error("spicevmc compressed data: uncompressed_size");
    }
    const uint64_t data_offset = base_offset + r.pos();
    return decompress_lz4_block(r.rest(), size, max_size, data_offset);
}

}  // namespace spicetap::codec
