#include "decode/codec/glz_decoder.h"

#include <fmt/core.h>

#include <cstring>
#include <type_traits>

#include "decode/codec/lz_units.h"

namespace spicetap::codec {

uint64_t GlzHeader::gross_pixels() const {
    if (lz::is_palette(type)) {
        return uint64_t{stride} * lz::pixels_per_byte(type) * height;
    }
    return uint64_t{width} * height;
}

namespace lz_detail {

struct GlzCursor {
    const uint8_t* begin;
    const uint8_t* p;
    const uint8_t* end;
};

// Resolves references into earlier images; remembers the last image used, since consecutive
// matches mostly come from the same one.
struct GlzRefs {
    const GlzWindow* window = nullptr;
    uint64_t id = 0;  // the image being decoded
    uint64_t cached_id = 0;
    const GlzImage* cached = nullptr;
    std::optional<uint64_t> missing;
    GlzDecodeStats stats;

    const GlzImage* lookup(uint64_t ref_id) {
        if (cached == nullptr || cached_id != ref_id) {
            cached = window->find(ref_id);
            cached_id = ref_id;
        }
        return cached;
    }
};

// GLZ match lengths are biased one less than LZ's.
template <typename Unit>
constexpr size_t glz_length_bias() {
    if constexpr (std::is_same_v<Unit, RgbUnit>) {
        return 0;
    } else if constexpr (std::is_same_v<Unit, Rgb16Unit>) {
        return 1;
    } else {
        return 2;
    }
}

// One GLZ pass over `count` pixels. A match names a pixel offset and an image distance; distance
// 0 is a back-reference in this image (offset + 1 pixels back), otherwise an absolute offset in
// the image `distance` ids earlier.
template <typename Unit>
PassStatus glz_pass(GlzCursor& in, uint32_t* out, size_t count, const Unit& unit, GlzRefs& refs) {
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
            if (n > count - op) {
                return {"literal run overruns the image", Errc::Corrupt, at(token)};
            }
            if (n * Unit::kInBytes > static_cast<size_t>(end - ip)) {
                return {"literal run is cut short", Errc::Truncated, at(end)};
            }
            unit.literals(ip, out + op, n);
            ip += n * Unit::kInBytes;
            op += n;
            continue;
        }
        size_t len = ctrl >> 5;
        const bool pixel_flag = (ctrl & 0x10) != 0;
        size_t pofs = ctrl & 0x0f;
        if (len == 7) {
            uint32_t code = 0;
            do {
                if (ip == end) {
                    return {"match length is cut short", Errc::Truncated, at(ip)};
                }
                code = *ip++;
                len += code;
            } while (code == 255);
        }
        if (end - ip < 2) {
            return {"match is cut short", Errc::Truncated, at(end)};
        }
        pofs += size_t{ip[0]} << 4;
        const uint32_t code = ip[1];
        ip += 2;
        const uint32_t extra = code >> 6;  // bytes of image distance that follow
        uint64_t dist = 0;
        if (!pixel_flag) {
            dist = code & 0x3f;
            if (static_cast<size_t>(end - ip) < extra) {
                return {"image distance is cut short", Errc::Truncated, at(end)};
            }
            for (uint32_t i = 0; i < extra; ++i) {
                dist += uint64_t{*ip++} << (6 + 8 * i);
            }
        } else {
            const bool very_long = (code & 0x20) != 0;
            pofs += size_t{code & 0x1f} << 12;
            if (static_cast<size_t>(end - ip) < extra + (very_long ? 1 : 0)) {
                return {"image distance is cut short", Errc::Truncated, at(end)};
            }
            for (uint32_t i = 0; i < extra; ++i) {
                dist += uint64_t{*ip++} << (8 * i);
            }
            if (very_long) {
                pofs += size_t{*ip++} << 17;
            }
        }
        len += glz_length_bias<Unit>();
        if (len > count - op) {
            return {"match overruns the image", Errc::Corrupt, at(token)};
        }
        if (dist == 0) {
            pofs += 1;
            if (pofs > op) {
                return {"match refers to before the start of the image", Errc::Corrupt, at(token)};
            }
            Unit::match(out + op, pofs, len);
        } else {
            if (dist > refs.id) {
                return {"match refers to an image id below 0", Errc::Corrupt, at(token)};
            }
            const uint64_t ref_id = refs.id - dist;
            const GlzImage* ref = refs.lookup(ref_id);
            if (ref == nullptr) {
                refs.missing = ref_id;
                return {"missing image", Errc::Corrupt, at(token)};
            }
            if (pofs > ref->pixels.size() || len > ref->pixels.size() - pofs) {
                return {"match reaches past the end of the referenced image", Errc::Corrupt,
                        at(token)};
            }
            Unit::copy_from(out + op, ref->pixels.data() + pofs, len);
            ++refs.stats.cross_image_refs;
            refs.stats.cross_image_pixels += len;
            if (!refs.stats.oldest_referenced || ref_id < *refs.stats.oldest_referenced) {
                refs.stats.oldest_referenced = ref_id;
            }
        }
        op += len;
    }
    in.p = ip;
    return {};
}

template PassStatus glz_pass<RgbUnit>(GlzCursor&, uint32_t*, size_t, const RgbUnit&, GlzRefs&);
template PassStatus glz_pass<Rgb16Unit>(GlzCursor&, uint32_t*, size_t, const Rgb16Unit&, GlzRefs&);
template PassStatus glz_pass<AlphaUnit>(GlzCursor&, uint32_t*, size_t, const AlphaUnit&, GlzRefs&);

}  // namespace lz_detail

namespace {

using namespace lz_detail;

DecodeError glz_error(Errc code, uint64_t offset, std::string_view what) {
    return make_error(code, offset, fmt::format("GLZ: {}", what));
}

DecodeError glz_image_error(Errc code, uint64_t offset, uint64_t id, std::string_view what) {
    return make_error(code, offset, fmt::format("GLZ image {}: {}", id, what));
}

bool format_accepts(LzImageType type, PixelFormat f) {
    if (type == LzImageType::Rgba) {
        return f == PixelFormat::Argb32;
    }
    return f == PixelFormat::Xrgb32 || f == PixelFormat::Argb32;
}

}  // namespace

GlzDecoder::GlzDecoder(GlzWindow& window, Limits limits) : window_(window), limits_(limits) {}

GlzDecoder::~GlzDecoder() = default;

Result<GlzHeader> GlzDecoder::read_header(ByteView stream) const {
    if (stream.size() < kGlzHeaderSize) {
        return glz_error(
            Errc::Truncated, stream.size(),
            fmt::format("header needs {} bytes, have {}", kGlzHeaderSize, stream.size()));
    }
    const uint8_t* p = stream.data();
    if (read_be32(p) != lz::kMagic) {
        return glz_error(Errc::BadMagic, 0, "magic is not \"  ZL\"");
    }
    if (const uint32_t version = read_be32(p + 4); version != lz::kVersion) {
        return glz_error(Errc::Unsupported, 4, fmt::format("version {:#010x}", version));
    }
    GlzHeader h;
    const uint32_t type = p[8] & 0x0f;
    h.top_down = (p[8] >> 4) != 0;
    h.width = read_be32(p + 9);
    h.height = read_be32(p + 13);
    h.stride = read_be32(p + 17);
    h.id = (uint64_t{read_be32(p + 21)} << 32) | read_be32(p + 25);
    h.win_head_dist = read_be32(p + 29);
    if (type == 0 || type > lz::kMaxType) {
        return glz_image_error(Errc::BadValue, 8, h.id, fmt::format("image type {}", type));
    }
    h.type = static_cast<LzImageType>(type);
    if (h.type != LzImageType::Rgb16 && h.type != LzImageType::Rgb24 &&
        h.type != LzImageType::Rgb32 && h.type != LzImageType::Rgba) {
        return glz_image_error(
            Errc::Unsupported, 8, h.id,
            fmt::format("{} images are not carried by GLZ", lz_image_type_name(h.type)));
    }
    if (h.width == 0 || h.height == 0) {
        return glz_image_error(Errc::BadValue, 9, h.id,
                               fmt::format("empty image {}x{}", h.width, h.height));
    }
    if (h.width > limits_.max_width || h.height > limits_.max_height ||
        h.gross_pixels() > limits_.max_pixels) {
        return glz_image_error(Errc::LimitExceeded, 9, h.id,
                               fmt::format("image {}x{} exceeds the limits", h.width, h.height));
    }
    return h;
}

Result<ImageInfo> GlzDecoder::probe(ByteView stream) const {
    auto h = read_header(stream);
    if (!h) {
        return h.error();
    }
    return ImageInfo{h->width, h->height, lz::output_format(h->type), h->top_down};
}

Result<GlzHeader> GlzDecoder::decode_into_window(ByteView stream) {
    missing_.reset();
    auto parsed = read_header(stream);
    if (!parsed) {
        return parsed.error();
    }
    const GlzHeader& h = *parsed;
    if (!work_) {
        work_ = window_.make_image();
    }
    const size_t gross = static_cast<size_t>(h.gross_pixels());
    auto& pixels = work_->pixels;
    pixels.resize(gross);

    GlzCursor in{stream.data(), stream.data() + kGlzHeaderSize, stream.data() + stream.size()};
    GlzRefs refs;
    refs.window = &window_;
    refs.id = h.id;
    PassStatus st;
    switch (h.type) {
        case LzImageType::Rgb24:
        case LzImageType::Rgb32:
            st = glz_pass(in, pixels.data(), gross, RgbUnit{0}, refs);
            break;
        case LzImageType::Rgb16:
            st = glz_pass(in, pixels.data(), gross, Rgb16Unit{0}, refs);
            break;
        case LzImageType::Rgba:
            st = glz_pass(in, pixels.data(), gross, RgbUnit{0}, refs);
            if (st.ok()) {
                st = glz_pass(in, pixels.data(), gross, AlphaUnit{}, refs);
            }
            break;
        default:
            break;  // read_header let only the types above through
    }
    if (!st.ok()) {
        if (refs.missing) {
            missing_ = refs.missing;
            const GlzAbsence why = window_.why_missing(*refs.missing);
            return glz_image_error(
                why == GlzAbsence::EvictedByCap ? Errc::LimitExceeded : Errc::Corrupt, st.at, h.id,
                fmt::format("refers to image {} (distance {}), which is {}", *refs.missing,
                            h.id - *refs.missing, glz_absence_name(why)));
        }
        return glz_image_error(
            st.code, st.at, h.id,
            fmt::format("{} {}x{}: {}", lz_image_type_name(h.type), h.width, h.height, st.what));
    }
    if (in.p != in.end) {
        return glz_image_error(
            Errc::Corrupt, static_cast<size_t>(in.p - in.begin), h.id,
            fmt::format("{} bytes left over after the image", static_cast<size_t>(in.end - in.p)));
    }
    work_->id = h.id;
    work_->win_head_dist = h.win_head_dist;
    work_->type = h.type;
    work_->width = h.width;
    work_->height = h.height;
    work_->top_down = h.top_down;
    window_.insert(std::move(work_));
    stats_ = refs.stats;
    return h;
}

Result<GlzHeader> GlzDecoder::decode(ByteView stream) {
    return decode_into_window(stream);
}

Result<void> GlzDecoder::decode(ByteView stream, const PixelView& out) {
    auto parsed = read_header(stream);
    if (!parsed) {
        return parsed.error();
    }
    const GlzHeader& h = *parsed;
    if (out.data == nullptr || out.width != h.width || out.height != h.height ||
        !format_accepts(h.type, out.format) || out.stride < bytes_per_row(out.format, h.width)) {
        return glz_image_error(
            Errc::BadValue, 0, h.id,
            fmt::format("output view {}x{} does not fit the {} {}x{} image", out.width, out.height,
                        lz_image_type_name(h.type), h.width, h.height));
    }
    auto done = decode_into_window(stream);
    if (!done) {
        return done.error();
    }
    const GlzImage* image = window_.find(h.id);
    if (image == nullptr) {  // only if the cap is smaller than this one image
        return glz_image_error(Errc::LimitExceeded, 0, h.id, "image does not fit the window");
    }
    return copy_out(*image, out);
}

Result<void> GlzDecoder::copy_out(const GlzImage& image, const PixelView& out) {
    if (out.data == nullptr || image.height == 0 || out.width != image.width ||
        out.height != image.height || !format_accepts(image.type, out.format) ||
        out.stride < bytes_per_row(out.format, image.width) ||
        image.pixels.size() / image.height < image.width) {
        return glz_image_error(Errc::BadValue, 0, image.id, "output view does not fit the image");
    }
    const size_t row_units = image.pixels.size() / image.height;
    const uint32_t top = image.type == LzImageType::Rgba ? 0u : 0xff000000u;
    for (uint32_t r = 0; r < image.height; ++r) {
        const uint32_t y = image.top_down ? r : image.height - 1 - r;
        const uint32_t* src = image.pixels.data() + size_t{r} * row_units;
        uint8_t* dst = out.row(y);
        if (top == 0) {
            std::memcpy(dst, src, size_t{image.width} * 4);
        } else {
            copy_pixels_or(dst, reinterpret_cast<const uint8_t*>(src), image.width, top);
        }
    }
    return {};
}

}  // namespace spicetap::codec
