// Readers for the display channel's shared structures, laid out as spice.proto declares them.
#include "decode/channels/display_types.h"

#include <fmt/core.h>

#include <iterator>
#include <type_traits>

#include "decode/channels/display_parse.h"

namespace spicetap::channels::display {

std::string_view clip_type_name(uint8_t type) {
    switch (type) {
        case 0:
            return "none";
        case 1:
            return "rects";
        default:
            return {};
    }
}

std::string_view brush_type_name(uint8_t type) {
    switch (type) {
        case 0:
            return "none";
        case 1:
            return "solid";
        case 2:
            return "pattern";
        default:
            return {};
    }
}

std::string_view image_type_name(uint8_t type) {
    switch (static_cast<ImageType>(type)) {
        case ImageType::Bitmap:
            return "bitmap";
        case ImageType::Quic:
            return "quic";
        case ImageType::Reserved:
            return "reserved";
        case ImageType::LzPlt:
            return "lz_plt";
        case ImageType::LzRgb:
            return "lz_rgb";
        case ImageType::GlzRgb:
            return "glz_rgb";
        case ImageType::FromCache:
            return "from_cache";
        case ImageType::Surface:
            return "surface";
        case ImageType::Jpeg:
            return "jpeg";
        case ImageType::FromCacheLossless:
            return "from_cache_lossless";
        case ImageType::ZlibGlzRgb:
            return "zlib_glz_rgb";
        case ImageType::JpegAlpha:
            return "jpeg_alpha";
        case ImageType::Lz4:
            return "lz4";
    }
    return {};
}

std::string_view bitmap_format_name(uint8_t format) {
    static constexpr std::string_view kNames[] = {"invalid", "1bit_le", "1bit_be", "4bit_le",
                                                  "4bit_be", "8bit",    "16bit",   "24bit",
                                                  "32bit",   "rgba",    "8bit_a"};
    if (format < std::size(kNames)) {
        return kNames[format];
    }
    return {};
}

std::string_view scale_mode_name(uint8_t mode) {
    switch (mode) {
        case 0:
            return "interpolate";
        case 1:
            return "nearest";
        default:
            return {};
    }
}

std::string_view video_codec_name(uint8_t codec) {
    switch (codec) {
        case 1:
            return "mjpeg";
        case 2:
            return "vp8";
        case 3:
            return "h264";
        case 4:
            return "vp9";
        case 5:
            return "h265";
        default:
            return {};
    }
}

std::string_view surface_format_name(uint32_t format) {
    switch (format) {
        case 0:
            return "invalid";
        case 1:
            return "1_a";
        case 8:
            return "8_a";
        case 16:
            return "16_555";
        case 32:
            return "32_xrgb";
        case 80:
            return "16_565";
        case 96:
            return "32_argb";
        default:
            return {};
    }
}

std::string_view image_compression_name(uint8_t compression) {
    static constexpr std::string_view kNames[] = {"invalid", "off", "auto_glz", "auto_lz",
                                                  "quic",    "glz", "lz",       "lz4"};
    if (compression < std::size(kNames)) {
        return kNames[compression];
    }
    return {};
}

std::string_view resource_type_name(uint8_t type) {
    switch (type) {
        case 0:
            return "invalid";
        case 1:
            return "pixmap";
        default:
            return {};
    }
}

ByteView Image::data() const {
    return std::visit(
        [](const auto& p) -> ByteView {
            using T = std::decay_t<decltype(p)>;
            if constexpr (std::is_same_v<T, std::monostate> || std::is_same_v<T, SurfaceImage>) {
                return {};
            } else {
                return p.data;
            }
        },
        payload);
}

unsigned GlyphString::bpp() const {
    if (flags & string_flags::kRasterA1) {
        return 1;
    }
    if (flags & string_flags::kRasterA4) {
        return 4;
    }
    if (flags & string_flags::kRasterA8) {
        return 8;
    }
    return 0;
}

namespace detail {

bool Ctx::fail(Errc code, uint64_t offset, std::string_view what) {
    if (!error_) {
        error_ = make_error(code, offset, fmt::format("{}: {}", message_, what));
    }
    return false;
}

bool Ctx::check(const ByteReader& r, std::string_view what) {
    if (r.ok()) {
        return true;
    }
    return fail(Errc::Truncated, r.error_offset(),
                fmt::format("{} truncated (body is {} bytes)", what, body_.size()));
}

std::optional<ByteReader> Ctx::follow(uint32_t pointer, size_t field_pos, size_t min_size,
                                      std::string_view what) {
    if (pointer > body_.size() || body_.size() - pointer < min_size) {
        fail(Errc::Truncated, field_pos,
             fmt::format("{} pointer {:#x} past end of body ({} bytes)", what, pointer,
                         body_.size()));
        return std::nullopt;
    }
    ByteReader r(body_);
    r.seek(pointer);
    return r;
}

bool Ctx::fits(const ByteReader& r, uint64_t count, uint64_t elem_size, std::string_view what) {
    if (!r.ok()) {
        return check(r, what);
    }
    // count < 2^32 and elem_size is small, so the product cannot overflow.
    const uint64_t need = count * elem_size;
    if (need > r.remaining()) {
        return fail(
            Errc::Truncated, r.pos(),
            fmt::format("{} ({} bytes) past end of body ({} bytes)", what, need, body_.size()));
    }
    return true;
}

Point read_point(ByteReader& r) {
    Point p;
    p.x = r.i32();
    p.y = r.i32();
    return p;
}

Point16 read_point16(ByteReader& r) {
    Point16 p;
    p.x = r.i16();
    p.y = r.i16();
    return p;
}

PointFix read_point_fix(ByteReader& r) {
    PointFix p;
    p.x = r.i32();
    p.y = r.i32();
    return p;
}

Rect read_rect(ByteReader& r) {
    Rect rect;
    rect.top = r.i32();
    rect.left = r.i32();
    rect.bottom = r.i32();
    rect.right = r.i32();
    return rect;
}

Transform read_transform(ByteReader& r) {
    Transform t;
    t.t00 = r.u32();
    t.t01 = r.u32();
    t.t02 = r.u32();
    t.t10 = r.u32();
    t.t11 = r.u32();
    t.t12 = r.u32();
    return t;
}

bool read_clip(Ctx& ctx, ByteReader& r, Clip& out, std::string_view what) {
    const size_t type_pos = r.pos();
    out.type = r.u8();
    if (!ctx.check(r, what)) {
        return false;
    }
    if (out.type == static_cast<uint8_t>(ClipType::None)) {
        return true;
    }
    if (out.type != static_cast<uint8_t>(ClipType::Rects)) {
        return ctx.fail(Errc::BadValue, type_pos,
                        fmt::format("{}: unknown clip type {}", what, out.type));
    }
    const uint32_t count = r.u32();
    const std::string rects_what = fmt::format("{}.rects", what);
    if (!ctx.fits(r, count, 16, rects_what)) {
        return false;
    }
    out.rects.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
        out.rects.push_back(read_rect(r));
    }
    return ctx.check(r, rects_what);
}

bool read_base(Ctx& ctx, ByteReader& r, DisplayBase& out) {
    out.surface_id = r.u32();
    out.box = read_rect(r);
    if (!ctx.check(r, "base")) {
        return false;
    }
    return read_clip(ctx, r, out.clip, "base.clip");
}

namespace {

// `size` bytes at r's position as a view, or an error naming `what`.
bool take(Ctx& ctx, ByteReader& r, uint64_t size, ByteView& out, std::string_view what) {
    if (!ctx.check(r, what)) {
        return false;
    }
    if (size > r.remaining()) {
        return ctx.fail(Errc::Truncated, r.pos(),
                        fmt::format("{} ({} bytes) past end of body ({} bytes)", what, size,
                                    ctx.body().size()));
    }
    out = r.bytes(static_cast<size_t>(size));
    return true;
}

bool read_palette_at(Ctx& ctx, uint32_t pointer, size_t field_pos, Palette& out,
                     std::string_view what) {
    auto pr = ctx.follow(pointer, field_pos, 10, what);
    if (!pr) {
        return false;
    }
    out.offset = pointer;
    out.unique = pr->u64();
    const uint16_t count = pr->u16();
    if (!ctx.fits(*pr, count, 4, fmt::format("{}.ents", what))) {
        return false;
    }
    out.ents.reserve(count);
    for (uint16_t i = 0; i < count; ++i) {
        out.ents.push_back(pr->u32());
    }
    return ctx.check(*pr, what);
}

// The palette field of BITMAP and LZ_PLT: a cache id or a pointer, chosen by PAL_FROM_CACHE.
bool read_palette_ref(Ctx& ctx, ByteReader& r, uint8_t bitmap_flags_value, bool nonnull,
                      PaletteRef& out, std::string_view what) {
    const std::string pal_what = fmt::format("{}.palette", what);
    if (bitmap_flags_value & bitmap_flags::kPalFromCache) {
        out.cache_id = r.u64();
        return ctx.check(r, pal_what);
    }
    const size_t field_pos = r.pos();
    out.pointer = r.u32();
    if (!ctx.check(r, pal_what)) {
        return false;
    }
    if (out.pointer == 0) {
        if (nonnull) {
            return ctx.fail(Errc::BadValue, field_pos, fmt::format("{} pointer is NULL", pal_what));
        }
        return true;
    }
    out.palette.emplace();
    return read_palette_at(ctx, out.pointer, field_pos, *out.palette, pal_what);
}

bool read_binary(Ctx& ctx, ByteReader& r, BinaryData& out, std::string_view what) {
    const uint32_t size = r.u32();
    return take(ctx, r, size, out.data, fmt::format("{} data", what));
}

bool read_image_at(Ctx& ctx, uint32_t pointer, size_t field_pos, Image& out,
                   std::string_view what) {
    auto ir = ctx.follow(pointer, field_pos, 18, what);
    if (!ir) {
        return false;
    }
    ByteReader& r = *ir;
    out.offset = pointer;
    out.descriptor.id = r.u64();
    const size_t type_pos = r.pos();
    out.descriptor.type = r.u8();
    out.descriptor.flags = r.u8();
    out.descriptor.width = r.u32();
    out.descriptor.height = r.u32();
    if (!ctx.check(r, what)) {
        return false;
    }
    const std::string sub = fmt::format("{} ({})", what, image_type_name(out.descriptor.type));
    switch (out.type()) {
        case ImageType::Bitmap: {
            BitmapData bmp;
            bmp.format = r.u8();
            bmp.flags = r.u8();
            bmp.x = r.u32();
            bmp.y = r.u32();
            bmp.stride = r.u32();
            if (!ctx.check(r, sub) ||
                !read_palette_ref(ctx, r, bmp.flags, false, bmp.palette, sub)) {
                return false;
            }
            const uint64_t size = uint64_t{bmp.stride} * bmp.y;
            if (!take(ctx, r, size, bmp.data, fmt::format("{} data", sub))) {
                return false;
            }
            out.payload = std::move(bmp);
            return true;
        }
        case ImageType::Lz4:
            if (!ctx.lz4_allowed()) {
                return ctx.fail(Errc::BadValue, type_pos,
                                fmt::format("{}: LZ4 image, but the client did not announce "
                                            "display capability lz4_compression",
                                            what));
            }
            [[fallthrough]];
        case ImageType::Quic:
        case ImageType::LzRgb:
        case ImageType::GlzRgb:
        case ImageType::Jpeg: {
            BinaryData bin;
            if (!read_binary(ctx, r, bin, sub)) {
                return false;
            }
            out.payload = bin;
            return true;
        }
        case ImageType::LzPlt: {
            LzPltData plt;
            plt.flags = r.u8();
            const uint32_t size = r.u32();
            if (!ctx.check(r, sub) ||
                !read_palette_ref(ctx, r, plt.flags, true, plt.palette, sub) ||
                !take(ctx, r, size, plt.data, fmt::format("{} data", sub))) {
                return false;
            }
            out.payload = std::move(plt);
            return true;
        }
        case ImageType::ZlibGlzRgb: {
            ZlibGlzData z;
            z.glz_data_size = r.u32();
            const uint32_t size = r.u32();
            if (!take(ctx, r, size, z.data, fmt::format("{} data", sub))) {
                return false;
            }
            out.payload = z;
            return true;
        }
        case ImageType::JpegAlpha: {
            JpegAlphaData ja;
            ja.flags = r.u8();
            const size_t jpeg_size_pos = r.pos();
            ja.jpeg_size = r.u32();
            const uint32_t size = r.u32();
            if (!take(ctx, r, size, ja.data, fmt::format("{} data", sub))) {
                return false;
            }
            if (ja.jpeg_size > size) {
                return ctx.fail(
                    Errc::BadValue, jpeg_size_pos,
                    fmt::format("{}: jpeg_size {} exceeds data_size {}", sub, ja.jpeg_size, size));
            }
            out.payload = ja;
            return true;
        }
        case ImageType::Surface: {
            SurfaceImage s;
            s.surface_id = r.u32();
            if (!ctx.check(r, sub)) {
                return false;
            }
            out.payload = s;
            return true;
        }
        case ImageType::FromCache:
        case ImageType::FromCacheLossless:
        case ImageType::Reserved:
            out.payload = std::monostate{};
            return true;
    }
    return ctx.fail(Errc::Unsupported, type_pos,
                    fmt::format("{}: unknown image type {}", what, out.descriptor.type));
}

}  // namespace

bool read_image_ptr(Ctx& ctx, ByteReader& r, std::optional<Image>& out, std::string_view what,
                    bool nonnull) {
    const size_t field_pos = r.pos();
    const uint32_t pointer = r.u32();
    if (!ctx.check(r, what)) {
        return false;
    }
    if (pointer == 0) {
        if (nonnull) {
            return ctx.fail(Errc::BadValue, field_pos, fmt::format("{} pointer is NULL", what));
        }
        out.reset();
        return true;
    }
    out.emplace();
    return read_image_at(ctx, pointer, field_pos, *out, what);
}

bool read_brush(Ctx& ctx, ByteReader& r, Brush& out, std::string_view what) {
    const size_t type_pos = r.pos();
    out.type = r.u8();
    if (!ctx.check(r, what)) {
        return false;
    }
    switch (static_cast<BrushType>(out.type)) {
        case BrushType::None:
            return true;
        case BrushType::Solid:
            out.color = r.u32();
            return ctx.check(r, what);
        case BrushType::Pattern: {
            std::optional<Image> pat;
            const std::string pat_what = fmt::format("{}.pattern", what);
            if (!read_image_ptr(ctx, r, pat, pat_what, true)) {
                return false;
            }
            out.pattern.emplace();
            out.pattern->pat = std::move(*pat);
            out.pattern->pos = read_point(r);
            return ctx.check(r, pat_what);
        }
    }
    return ctx.fail(Errc::BadValue, type_pos,
                    fmt::format("{}: unknown brush type {}", what, out.type));
}

bool read_qmask(Ctx& ctx, ByteReader& r, QMask& out, std::string_view what) {
    out.flags = r.u8();
    out.pos = read_point(r);
    if (!ctx.check(r, what)) {
        return false;
    }
    return read_image_ptr(ctx, r, out.bitmap, fmt::format("{}.bitmap", what), false);
}

bool read_line_attr(Ctx& ctx, ByteReader& r, LineAttr& out, std::string_view what) {
    out.flags = r.u8();
    if (!ctx.check(r, what)) {
        return false;
    }
    if (!(out.flags & line_flags::kStyled)) {
        return true;
    }
    out.style_nseg = r.u8();
    const size_t field_pos = r.pos();
    out.style_pointer = r.u32();
    const std::string style_what = fmt::format("{}.style", what);
    if (!ctx.check(r, style_what) || out.style_pointer == 0) {
        return !ctx.failed();
    }
    auto sr = ctx.follow(out.style_pointer, field_pos, size_t{out.style_nseg} * 4, style_what);
    if (!sr) {
        return false;
    }
    out.style.reserve(out.style_nseg);
    for (unsigned i = 0; i < out.style_nseg; ++i) {
        out.style.push_back(sr->i32());
    }
    return ctx.check(*sr, style_what);
}

bool read_path_ptr(Ctx& ctx, ByteReader& r, Path& out, std::string_view what) {
    const size_t field_pos = r.pos();
    const uint32_t pointer = r.u32();
    if (!ctx.check(r, what)) {
        return false;
    }
    if (pointer == 0) {
        return ctx.fail(Errc::BadValue, field_pos, fmt::format("{} pointer is NULL", what));
    }
    auto pr = ctx.follow(pointer, field_pos, 4, what);
    if (!pr) {
        return false;
    }
    out.offset = pointer;
    const uint32_t num_segments = pr->u32();
    // Each segment is at least a flags byte and a count.
    if (!ctx.fits(*pr, num_segments, 5, fmt::format("{}.segments", what))) {
        return false;
    }
    out.segments.reserve(num_segments);
    for (uint32_t i = 0; i < num_segments; ++i) {
        PathSegment seg;
        seg.flags = pr->u8();
        const uint32_t count = pr->u32();
        const std::string seg_what = fmt::format("{}.segments[{}]", what, i);
        if (!ctx.fits(*pr, count, 8, seg_what)) {
            return false;
        }
        seg.points.reserve(count);
        for (uint32_t j = 0; j < count; ++j) {
            seg.points.push_back(read_point_fix(*pr));
        }
        if (!ctx.check(*pr, seg_what)) {
            return false;
        }
        out.segments.push_back(std::move(seg));
    }
    return true;
}

bool read_string_ptr(Ctx& ctx, ByteReader& r, GlyphString& out, std::string_view what) {
    const size_t field_pos = r.pos();
    const uint32_t pointer = r.u32();
    if (!ctx.check(r, what)) {
        return false;
    }
    if (pointer == 0) {
        return ctx.fail(Errc::BadValue, field_pos, fmt::format("{} pointer is NULL", what));
    }
    auto sr = ctx.follow(pointer, field_pos, 3, what);
    if (!sr) {
        return false;
    }
    out.offset = pointer;
    const uint16_t length = sr->u16();
    const size_t flags_pos = sr->pos();
    out.flags = sr->u8();
    const unsigned bpp = out.bpp();
    if (length == 0) {
        return true;
    }
    if (bpp == 0) {
        return ctx.fail(
            Errc::BadValue, flags_pos,
            fmt::format("{}: flags {:#x} select no raster glyph format", what, out.flags));
    }
    if (!ctx.fits(*sr, length, 20, fmt::format("{}.glyphs", what))) {
        return false;
    }
    out.glyphs.reserve(length);
    for (unsigned i = 0; i < length; ++i) {
        RasterGlyph g;
        g.render_pos = read_point(*sr);
        g.glyph_origin = read_point(*sr);
        g.width = sr->u16();
        g.height = sr->u16();
        const uint64_t size = (uint64_t{g.width} * bpp + 7) / 8 * g.height;
        if (!take(ctx, *sr, size, g.data, fmt::format("{}.glyphs[{}]", what, i))) {
            return false;
        }
        out.glyphs.push_back(g);
    }
    return true;
}

}  // namespace detail

}  // namespace spicetap::channels::display
