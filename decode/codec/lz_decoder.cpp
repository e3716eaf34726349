#include "decode/codec/lz_decoder.h"

#include <fmt/core.h>

#include <cstring>
#include <type_traits>

#include "decode/codec/lz_units.h"

namespace spicetap::codec {

const char* lz_image_type_name(LzImageType type) {
    switch (type) {
        case LzImageType::Invalid:
            return "INVALID";
        case LzImageType::Plt1Le:
            return "PLT1_LE";
        case LzImageType::Plt1Be:
            return "PLT1_BE";
        case LzImageType::Plt4Le:
            return "PLT4_LE";
        case LzImageType::Plt4Be:
            return "PLT4_BE";
        case LzImageType::Plt8:
            return "PLT8";
        case LzImageType::Rgb16:
            return "RGB16";
        case LzImageType::Rgb24:
            return "RGB24";
        case LzImageType::Rgb32:
            return "RGB32";
        case LzImageType::Rgba:
            return "RGBA";
        case LzImageType::Xxxa:
            return "XXXA";
        case LzImageType::A8:
            return "A8";
    }
    return "UNKNOWN";
}

uint64_t LzHeader::gross_pixels() const {
    if (lz::is_palette(type)) {
        return uint64_t{stride} * lz::pixels_per_byte(type) * height;
    }
    return uint64_t{width} * height;
}

namespace lz_detail {

struct Cursor {
    const uint8_t* begin;
    const uint8_t* p;
    const uint8_t* end;
};

// LZ match lengths are biased by the shortest match the encoder emits for the unit.
template <typename Unit>
constexpr size_t lz_length_bias() {
    if constexpr (std::is_same_v<Unit, RgbUnit>) {
        return 1;
    } else if constexpr (std::is_same_v<Unit, Rgb16Unit>) {
        return 2;
    } else {
        return 3;  // palette bytes, alpha, A8
    }
}

// One LZ pass: decodes exactly `count` output pixels (FastLZ level-2 style tokens: a control
// byte below 32 is a literal run, anything else a back-reference with 13-bit or far distance).
template <typename Unit>
PassStatus lz_pass(Cursor& in, typename Unit::Out* out, size_t count, const Unit& unit) {
    const uint8_t* ip = in.p;
    const uint8_t* const end = in.end;
    const auto at = [&](const uint8_t* q) { return static_cast<size_t>(q - in.begin); };
    size_t op = 0;
    while (op < count) {
        if (ip == end) {
            return {"stream ends before the image is complete", Errc::Truncated, at(ip)};
        }
        const uint8_t* const token = ip;
        const uint32_t ctrl = *ip++;
        if (ctrl < 32) {
            const size_t n = size_t{ctrl} + 1;
            if (n * Unit::kPixels > count - op) {
                return {"literal run overruns the image", Errc::Corrupt, at(token)};
            }
            if (n * Unit::kInBytes > static_cast<size_t>(end - ip)) {
                return {"literal run is cut short", Errc::Truncated, at(end)};
            }
            unit.literals(ip, out + op, n);
            ip += n * Unit::kInBytes;
            op += n * Unit::kPixels;
            continue;
        }
        size_t len = (ctrl >> 5) - 1;
        size_t ofs = size_t{ctrl & 31} << 8;
        if (len == 6) {
            uint32_t code = 0;
            do {
                if (ip == end) {
                    return {"match length is cut short", Errc::Truncated, at(ip)};
                }
                code = *ip++;
                len += code;
            } while (code == 255);
        }
        if (ip == end) {
            return {"match distance is cut short", Errc::Truncated, at(ip)};
        }
        const uint32_t code = *ip++;
        ofs += code;
        if (code == 255 && (ctrl & 31) == 31) {
            if (end - ip < 2) {
                return {"far match distance is cut short", Errc::Truncated, at(end)};
            }
            ofs = ((size_t{ip[0]} << 8) | ip[1]) + 8191;
            ip += 2;
        }
        len = (len + lz_length_bias<Unit>()) * Unit::kPixels;
        ofs = (ofs + 1) * Unit::kPixels;
        if (ofs > op) {
            return {"match refers to before the start of the image", Errc::Corrupt, at(token)};
        }
        if (len > count - op) {
            return {"match overruns the image", Errc::Corrupt, at(token)};
        }
        Unit::match(out + op, ofs, len);
        op += len;
    }
    in.p = ip;
    return {};
}

template PassStatus lz_pass<RgbUnit>(Cursor&, uint32_t*, size_t, const RgbUnit&);
template PassStatus lz_pass<Rgb16Unit>(Cursor&, uint32_t*, size_t, const Rgb16Unit&);
template PassStatus lz_pass<AlphaUnit>(Cursor&, uint32_t*, size_t, const AlphaUnit&);
template PassStatus lz_pass<ByteUnit>(Cursor&, uint8_t*, size_t, const ByteUnit&);
template PassStatus lz_pass<Plt1LeUnit>(Cursor&, uint32_t*, size_t, const Plt1LeUnit&);
template PassStatus lz_pass<Plt1BeUnit>(Cursor&, uint32_t*, size_t, const Plt1BeUnit&);
template PassStatus lz_pass<Plt4LeUnit>(Cursor&, uint32_t*, size_t, const Plt4LeUnit&);
template PassStatus lz_pass<Plt4BeUnit>(Cursor&, uint32_t*, size_t, const Plt4BeUnit&);
template PassStatus lz_pass<Plt8Unit>(Cursor&, uint32_t*, size_t, const Plt8Unit&);

}  // namespace lz_detail

namespace {

using namespace lz_detail;

constexpr uint32_t kOpaque = 0xff000000u;
constexpr uint64_t kMaxStreamImageBytes = (uint64_t{1} << 30) - 1;  // spice-common's cap

DecodeError lz_error(Errc code, uint64_t offset, std::string_view what) {
    return make_error(code, offset, fmt::format("LZ: {}", what));
}

bool format_accepts(LzImageType type, PixelFormat f) {
    switch (lz::output_format(type)) {
        case PixelFormat::Xrgb32:
            return f == PixelFormat::Xrgb32 || f == PixelFormat::Argb32;
        case PixelFormat::Argb32:
            return f == PixelFormat::Argb32 || (type == LzImageType::Xxxa && f == PixelFormat::A8);
        case PixelFormat::A8:
            return f == PixelFormat::A8;
        case PixelFormat::A1:
            return false;
    }
    return false;
}

bool aligned32(const PixelView& v) {
    return reinterpret_cast<uintptr_t>(v.data) % 4 == 0 && v.stride % 4 == 0;
}

// Stream rows (row_units wide, in stream order) to view rows (top row first, width wide).
template <typename T>
void copy_rows(const T* src, size_t row_units, const PixelView& out, bool top_down) {
    for (uint32_t r = 0; r < out.height; ++r) {
        const uint32_t y = top_down ? r : out.height - 1 - r;
        std::memcpy(out.row(y), src + size_t{r} * row_units, size_t{out.width} * sizeof(T));
    }
}

// Puts stream-order alpha bytes into byte 3 (the top byte) of each 32-bit pixel of the view.
void merge_alpha(const uint8_t* src, size_t row_units, const PixelView& out, bool top_down) {
    for (uint32_t r = 0; r < out.height; ++r) {
        const uint32_t y = top_down ? r : out.height - 1 - r;
        uint8_t* row = out.row(y);
        const uint8_t* a = src + size_t{r} * row_units;
        for (uint32_t x = 0; x < out.width; ++x) {
            uint32_t px;
            std::memcpy(&px, row + size_t{x} * 4, 4);
            px = (px & 0x00ffffffu) | (uint32_t{a[x]} << 24);
            std::memcpy(row + size_t{x} * 4, &px, 4);
        }
    }
}

}  // namespace

Result<LzHeader> LzDecoder::read_header(ByteView stream) const {
    if (stream.size() < kLzHeaderSize) {
        return lz_error(
            Errc::Truncated, stream.size(),
            fmt::format("header needs {} bytes, have {}", kLzHeaderSize, stream.size()));
    }
    const uint8_t* p = stream.data();
    if (read_be32(p) != lz::kMagic) {
        return lz_error(Errc::BadMagic, 0, "magic is not \"  ZL\"");
    }
    if (const uint32_t version = read_be32(p + 4); version != lz::kVersion) {
        return lz_error(Errc::Unsupported, 4, fmt::format("version {:#010x}", version));
    }
    const uint32_t type = read_be32(p + 8);
    if (type == 0 || type > lz::kMaxType) {
        return lz_error(Errc::BadValue, 8, fmt::format("image type {}", type));
    }
    LzHeader h;
    h.type = static_cast<LzImageType>(type);
    h.width = read_be32(p + 12);
    h.height = read_be32(p + 16);
    h.stride = read_be32(p + 20);
    h.top_down = read_be32(p + 24) != 0;
    if (h.width == 0 || h.height == 0) {
        return lz_error(Errc::BadValue, 12, fmt::format("empty image {}x{}", h.width, h.height));
    }
    if (h.width > limits_.max_width || h.height > limits_.max_height) {
        return lz_error(Errc::LimitExceeded, 12,
                        fmt::format("image {}x{} exceeds the limits", h.width, h.height));
    }
    if (lz::is_palette(h.type)) {
        const uint32_t ppb = lz::pixels_per_byte(h.type);
        const uint32_t tight = h.width / ppb;
        if (h.stride > tight && (h.width % ppb == 0 || h.stride - tight > 1)) {
            return lz_error(Errc::BadValue, 20,
                            fmt::format("stride {} too large for {} pixels of {}", h.stride,
                                        h.width, lz_image_type_name(h.type)));
        }
        if (uint64_t{h.stride} * ppb < h.width) {
            return lz_error(Errc::BadValue, 20,
                            fmt::format("stride {} too small for {} pixels of {}", h.stride,
                                        h.width, lz_image_type_name(h.type)));
        }
    } else if (uint64_t{h.stride} != uint64_t{h.width} * lz::bytes_per_pixel(h.type)) {
        return lz_error(Errc::BadValue, 20,
                        fmt::format("stride {} is not width {} x {} bytes ({})", h.stride, h.width,
                                    lz::bytes_per_pixel(h.type), lz_image_type_name(h.type)));
    }
    if (uint64_t{h.stride} * h.height > kMaxStreamImageBytes ||
        h.gross_pixels() > limits_.max_pixels) {
        return lz_error(
            Errc::LimitExceeded, 12,
            fmt::format("image {}x{} (stride {}) exceeds the limits", h.width, h.height, h.stride));
    }
    return h;
}

Result<ImageInfo> LzDecoder::probe(ByteView stream) const {
    auto h = read_header(stream);
    if (!h) {
        return h.error();
    }
    return ImageInfo{h->width, h->height, lz::output_format(h->type), h->top_down};
}

Result<void> LzDecoder::decode(ByteView stream, const PixelView& out,
                               std::span<const uint32_t> palette) {
    auto parsed = read_header(stream);
    if (!parsed) {
        return parsed.error();
    }
    const LzHeader& h = *parsed;
    if (out.data == nullptr || out.width != h.width || out.height != h.height) {
        return lz_error(Errc::BadValue, 0,
                        fmt::format("output view {}x{} does not fit the {}x{} image", out.width,
                                    out.height, h.width, h.height));
    }
    if (!format_accepts(h.type, out.format) || out.stride < bytes_per_row(out.format, h.width)) {
        return lz_error(Errc::BadValue, 0,
                        fmt::format("{} image cannot be written to this output view",
                                    lz_image_type_name(h.type)));
    }

    Cursor in{stream.data(), stream.data() + kLzHeaderSize, stream.data() + stream.size()};
    const size_t gross = static_cast<size_t>(h.gross_pixels());
    const size_t row_units = gross / h.height;
    const bool tight = h.top_down && row_units == h.width;
    PassStatus st;

    // 32-bit output: straight into the view when its rows are the stream's rows, otherwise via
    // the scratch buffer and a row copy (bottom-up images, padded views, palette row padding).
    const bool direct32 = tight && aligned32(out) && out.stride == size_t{h.width} * 4;
    uint32_t* dst32 = nullptr;
    const auto target32 = [&]() {
        if (direct32) {
            return reinterpret_cast<uint32_t*>(out.data);
        }
        if (scratch_.size() < gross) {
            scratch_.resize(gross);
        }
        return scratch_.data();
    };

    switch (h.type) {
        case LzImageType::Rgb24:
        case LzImageType::Rgb32:
            dst32 = target32();
            st = lz_pass(in, dst32, gross, RgbUnit{kOpaque});
            break;
        case LzImageType::Rgb16:
            dst32 = target32();
            st = lz_pass(in, dst32, gross, Rgb16Unit{kOpaque});
            break;
        case LzImageType::Rgba:
            dst32 = target32();
            st = lz_pass(in, dst32, gross, RgbUnit{0});
            if (st.ok()) {
                st = lz_pass(in, dst32, gross, AlphaUnit{});
            }
            break;
        case LzImageType::Plt1Le:
        case LzImageType::Plt1Be:
        case LzImageType::Plt4Le:
        case LzImageType::Plt4Be:
        case LzImageType::Plt8: {
            if (palette.empty()) {
                return lz_error(Errc::BadValue, 8,
                                fmt::format("{} image needs a palette and none was given",
                                            lz_image_type_name(h.type)));
            }
            uint32_t table[256];
            for (size_t i = 0; i < 256; ++i) {
                table[i] = (palette[i % palette.size()] & 0x00ffffffu) | kOpaque;
            }
            dst32 = target32();
            switch (h.type) {
                case LzImageType::Plt1Le:
                    st = lz_pass(in, dst32, gross, Plt1LeUnit{table});
                    break;
                case LzImageType::Plt1Be:
                    st = lz_pass(in, dst32, gross, Plt1BeUnit{table});
                    break;
                case LzImageType::Plt4Le:
                    st = lz_pass(in, dst32, gross, Plt4LeUnit{table});
                    break;
                case LzImageType::Plt4Be:
                    st = lz_pass(in, dst32, gross, Plt4BeUnit{table});
                    break;
                default:
                    st = lz_pass(in, dst32, gross, Plt8Unit{table});
                    break;
            }
            break;
        }
        case LzImageType::A8:
        case LzImageType::Xxxa: {
            const bool direct8 = tight && out.format == PixelFormat::A8 && out.stride == h.width;
            uint8_t* dst8 = out.data;
            if (!direct8) {
                if (scratch8_.size() < gross) {
                    scratch8_.resize(gross);
                }
                dst8 = scratch8_.data();
            }
            st = lz_pass(in, dst8, gross, ByteUnit{});
            if (st.ok() && !direct8) {
                if (out.format == PixelFormat::A8) {
                    copy_rows(dst8, row_units, out, h.top_down);
                } else {
                    merge_alpha(dst8, row_units, out, h.top_down);
                }
            }
            break;
        }
        case LzImageType::Invalid:
            break;
    }
    if (!st.ok()) {
        return lz_error(
            st.code, st.at,
            fmt::format("{} {}x{}: {}", lz_image_type_name(h.type), h.width, h.height, st.what));
    }
    if (in.p != in.end) {
        return lz_error(
            Errc::Corrupt, static_cast<size_t>(in.p - in.begin),
            fmt::format("{} bytes left over after the image", static_cast<size_t>(in.end - in.p)));
    }
    if (dst32 != nullptr && !direct32) {
        copy_rows(dst32, row_units, out, h.top_down);
    }
    return {};
}

}  // namespace spicetap::codec
