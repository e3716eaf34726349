#include "decode/codec/bmp_decoder.h"

#include <array>
#include <bit>
#include <string>
#include <vector>

namespace spicetap::codec {

namespace {

constexpr uint32_t kBiRgb = 0;
constexpr uint32_t kBiBitfields = 3;
constexpr uint32_t kBiAlphaBitfields = 6;

const char* compression_name(uint32_t c) {
    switch (c) {
        case 1:
            return "RLE8";
        case 2:
            return "RLE4";
        case 4:
            return "JPEG";
        case 5:
            return "PNG";
        default:
            return "unknown";
    }
}

// Everything decode needs, read once from the headers.
struct Layout {
    BmpInfo info;
    size_t pixels_at = 0;             // offset of the first stored row
    size_t row_bytes = 0;             // stored row length, padded to 4 bytes
    std::array<uint32_t, 4> masks{};  // r, g, b, a for 16/32-bit
    std::vector<uint32_t> palette;    // 0xffRRGGBB
};

// Scales a masked channel value to 8 bits.
struct Channel {
    uint32_t mask = 0;
    unsigned shift = 0;
    unsigned width = 0;

    explicit Channel(uint32_t m) : mask(m) {
        if (m != 0) {
            shift = static_cast<unsigned>(std::countr_zero(m));
            width = static_cast<unsigned>(std::popcount(m));
        }
    }

    uint32_t get(uint32_t px) const {
        if (width == 0) {
            return 0;
        }
        const uint32_t v = (px & mask) >> shift;
        if (width >= 8) {
            return v >> (width - 8);
        }
        const uint32_t max = (1u << width) - 1;
        return (v * 255 + max / 2) / max;
    }
};

Result<Layout> read_layout(ByteView bmp, const Limits& limits) {
    ByteReader r(bmp);
    Layout l;
    size_t dib_at = 0;
    uint32_t pixel_offset = 0;
    if (bmp.size() >= 2 && bmp[0] == 'B' && bmp[1] == 'M') {
        l.info.file_header = true;
        r.skip(10);  // magic, file size, two reserved words
        pixel_offset = r.u32();
        dib_at = 14;
    }
    l.info.header_size = r.u32();
    if (!r.ok()) {
        return r.error("BMP header");
    }
    const uint32_t hs = l.info.header_size;
    if (hs != 12 && hs != 40 && hs != 52 && hs != 56 && hs != 108 && hs != 124) {
        return make_error(Errc::BadMagic, dib_at,
                          "BMP: DIB header size " + std::to_string(hs) + " is not a known header");
    }
    int64_t width = 0, height = 0;
    uint16_t planes = 0;
    uint32_t colours_used = 0;
    if (hs == 12) {
        width = r.u16();
        height = r.u16();
        planes = r.u16();
        l.info.bits_per_pixel = r.u16();
    } else {
        width = r.i32();
        height = r.i32();
        planes = r.u16();
        l.info.bits_per_pixel = r.u16();
        l.info.compression = r.u32();
        r.skip(12);  // image size, resolution
        colours_used = r.u32();
        r.skip(4);  // important colours
    }
    if (!r.ok()) {
        return r.error("BMP DIB header");
    }
    const uint16_t bpp = l.info.bits_per_pixel;
    if (planes != 1) {
        return make_error(Errc::BadValue, dib_at + (hs == 12 ? 8 : 12),
                          "BMP: planes " + std::to_string(planes) + ", expected 1");
    }
    if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32) {
        return make_error(Errc::Unsupported, dib_at + (hs == 12 ? 10 : 14),
                          "BMP: " + std::to_string(bpp) + " bits per pixel");
    }
    const uint32_t comp = l.info.compression;
    if (comp != kBiRgb && comp != kBiBitfields && comp != kBiAlphaBitfields) {
        return make_error(Errc::Unsupported, dib_at + 16,
                          std::string("BMP: ") + compression_name(comp) + " compression (" +
                              std::to_string(comp) + ")");
    }
    if (comp != kBiRgb && bpp != 16 && bpp != 32) {
        return make_error(Errc::BadValue, dib_at + 16,
                          "BMP: BITFIELDS with " + std::to_string(bpp) + " bits per pixel");
    }
    l.info.image.top_down = height < 0;
    if (height < 0) {
        height = -height;
    }
    if (width <= 0 || height <= 0 || width > limits.max_width || height > limits.max_height ||
        static_cast<uint64_t>(width) * static_cast<uint64_t>(height) > limits.max_pixels) {
        return make_error(Errc::LimitExceeded, dib_at + 4,
                          "BMP: size " + std::to_string(width) + "x" + std::to_string(height) +
                              " outside the limits");
    }
    l.info.image.width = static_cast<uint32_t>(width);
    l.info.image.height = static_cast<uint32_t>(height);

    // Masks: inside V4/V5 and the 52/56-byte headers, or after a 40-byte header (BITFIELDS).
    if (comp != kBiRgb) {
        r.seek(dib_at + 40);
        const unsigned n = hs >= 56 || comp == kBiAlphaBitfields ? 4 : 3;
        for (unsigned i = 0; i < n; ++i) {
            l.masks[i] = r.u32();
        }
        if (!r.ok()) {
            return r.error("BMP colour masks");
        }
        if (l.masks[0] == 0 && l.masks[1] == 0 && l.masks[2] == 0) {
            return make_error(Errc::BadValue, dib_at + 40, "BMP: BITFIELDS with empty masks");
        }
    } else if (bpp == 16) {
        l.masks = {0x7c00, 0x03e0, 0x001f, 0};
    } else if (bpp == 32) {
        l.masks = {0x00ff0000, 0x0000ff00, 0x000000ff, 0};
        if (hs >= 108) {
            // V4/V5 always carry an alpha mask, used when it is set.
            r.seek(dib_at + 52);
            l.masks[3] = r.u32();
        }
    }
    size_t palette_at = dib_at + hs;
    if (hs == 40 && comp == kBiBitfields) {
        palette_at += 12;
    } else if (hs == 40 && comp == kBiAlphaBitfields) {
        palette_at += 16;
    }
    if (bpp <= 8) {
        const uint32_t max = 1u << bpp;
        const uint32_t n = colours_used == 0 || colours_used > max ? max : colours_used;
        const size_t each = hs == 12 ? 3 : 4;
        r.seek(palette_at);
        for (uint32_t i = 0; i < n && r.ok(); ++i) {
            const uint8_t b = r.u8(), g = r.u8(), rr = r.u8();
            if (each == 4) {
                r.skip(1);
            }
            l.palette.push_back(0xff000000u | uint32_t{rr} << 16 | uint32_t{g} << 8 | b);
        }
        if (!r.ok()) {
            return r.error("BMP palette");
        }
        palette_at += size_t{n} * each;
    }
    l.pixels_at = l.info.file_header ? pixel_offset : palette_at;
    l.row_bytes = ((size_t{l.info.image.width} * bpp + 31) / 32) * 4;
    const size_t need = l.row_bytes * l.info.image.height;
    if (l.pixels_at > bmp.size() || bmp.size() - l.pixels_at < need) {
        return make_error(Errc::Truncated, l.pixels_at,
                          "BMP pixels: " + std::to_string(need) + " bytes needed at offset " +
                              std::to_string(l.pixels_at) + ", " + std::to_string(bmp.size()) +
                              " in the bitmap");
    }
    l.info.image.format = l.masks[3] != 0 ? PixelFormat::Argb32 : PixelFormat::Xrgb32;
    return l;
}

}  // namespace

Result<BmpInfo> probe_bmp(ByteView bmp, const Limits& limits) {
    auto l = read_layout(bmp, limits);
    if (!l) {
        return l.error();
    }
    return l->info;
}

Result<void> decode_bmp(ByteView bmp, const PixelView& out, const Limits& limits) {
    auto l = read_layout(bmp, limits);
    if (!l) {
        return l.error();
    }
    const ImageInfo& im = l->info.image;
    if (out.width != im.width || out.height != im.height || out.format != im.format) {
        return make_error(Errc::BadValue, 0, "BMP: destination does not match the bitmap");
    }
    const uint16_t bpp = l->info.bits_per_pixel;
    const Channel cr(l->masks[0]), cg(l->masks[1]), cb(l->masks[2]), ca(l->masks[3]);
    const bool alpha = l->masks[3] != 0;
    size_t bad_index_at = 0;
    for (uint32_t y = 0; y < im.height; ++y) {
        const uint32_t stored = im.top_down ? y : im.height - 1 - y;
        const size_t row_at = l->pixels_at + size_t{stored} * l->row_bytes;
        const uint8_t* s = bmp.data() + row_at;
        auto* d = reinterpret_cast<uint32_t*>(out.row(y));
        for (uint32_t x = 0; x < im.width; ++x) {
            uint32_t px = 0;
            switch (bpp) {
                case 1:
                case 4:
                case 8: {
                    const size_t bit = size_t{x} * bpp;
                    const unsigned shift = 8 - bpp - static_cast<unsigned>(bit % 8);
                    const uint32_t index = (s[bit / 8] >> shift) & ((1u << bpp) - 1);
                    if (index >= l->palette.size()) {
                        if (bad_index_at == 0) {
                            bad_index_at = row_at + bit / 8;
                        }
                        d[x] = 0xff000000u;
                        continue;
                    }
                    d[x] = l->palette[index];
                    continue;
                }
                case 16:
                    px = uint32_t{s[x * 2]} | uint32_t{s[x * 2 + 1]} << 8;
                    break;
                case 24:
                    d[x] = 0xff000000u | uint32_t{s[x * 3 + 2]} << 16 |
                           uint32_t{s[x * 3 + 1]} << 8 | s[x * 3];
                    continue;
                default:
                    px = uint32_t{s[x * 4]} | uint32_t{s[x * 4 + 1]} << 8 |
                         uint32_t{s[x * 4 + 2]} << 16 | uint32_t{s[x * 4 + 3]} << 24;
            }
            const uint32_t a = alpha ? ca.get(px) : 0xff;
            d[x] = a << 24 | cr.get(px) << 16 | cg.get(px) << 8 | cb.get(px);
        }
    }
    if (bad_index_at != 0) {
        return make_error(Errc::BadValue, bad_index_at, "BMP: colour index outside the palette");
    }
    return {};
}

}  // namespace spicetap::codec
