#include "decode/codec/lz4_decoder.h"

#include <fmt/core.h>
#include <lz4.h>

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

void convert_row(BitmapFormat f, const uint8_t* src, uint8_t* dst, uint32_t width) {
    for (uint32_t x = 0; x < width; ++x) {
        uint8_t* d = dst + 4 * x;
        switch (f) {
            case BitmapFormat::Rgb16:
                store_pixel32(
                    d, rgb555_to_xrgb(static_cast<uint16_t>(src[2 * x] | src[2 * x + 1] << 8)));
                break;
            case BitmapFormat::Rgb24:
                std::memcpy(d, src + 3 * x, 3);
                d[3] = 0xff;
                break;
            case BitmapFormat::Rgb32:
                std::memcpy(d, src + 4 * x, 3);
                d[3] = 0xff;
                break;
            default:
                std::memcpy(d, src + 4 * x, 4);
                break;
        }
    }
}

struct StreamDeleter {
    void operator()(LZ4_streamDecode_t* s) const { LZ4_freeStreamDecode(s); }
};

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
    std::vector<uint8_t> raw(capacity);
    std::unique_ptr<LZ4_streamDecode_t, StreamDeleter> stream(LZ4_createStreamDecode());
    if (!stream) {
        return make_error(Errc::Io, base_offset, "lz4: cannot allocate a stream decoder");
    }

    size_t pos = 2;
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
            stream.get(), reinterpret_cast<const char*>(payload.data() + pos),
            reinterpret_cast<char*>(raw.data() + produced), static_cast<int>(block),
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
        if (out.format == PixelFormat::Xrgb32) {
            // An RGBA image asked for as Xrgb32: the caller wants it opaque.
            for (uint32_t x = 0; x < out.width; ++x) {
                out.row(y)[4 * x + 3] = 0xff;
            }
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
