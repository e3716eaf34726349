// Drawing structures shared by the display channel's messages (spice.proto: Rect, Clip,
// DisplayBase, Image, Brush, QMask, Path, LineAttr, String, ...), decoded from the wire with
// every field. Image payloads and glyph bitmaps are views into the message body, never copies,
// so a decoded message must not outlive the bytes it was parsed from.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "decode/wire/byte_reader.h"

namespace spicetap {
class JsonWriter;
}

namespace spicetap::channels::display {

// Enumerations keep the raw wire value (unknown values survive decoding); the *_name
// functions give the stable lower-case names used in JSON, or empty for an undefined value.

enum class ClipType : uint8_t { None = 0, Rects = 1 };
enum class BrushType : uint8_t { None = 0, Solid = 1, Pattern = 2 };

enum class ImageType : uint8_t {
    Bitmap = 0,
    Quic = 1,
    Reserved = 2,
    LzPlt = 100,
    LzRgb = 101,
    GlzRgb = 102,
    FromCache = 103,
    Surface = 104,
    Jpeg = 105,
    FromCacheLossless = 106,
    ZlibGlzRgb = 107,
    JpegAlpha = 108,
    Lz4 = 109,
};

// Flag bits, as spice.proto numbers them.
namespace image_flags {
inline constexpr uint8_t kCacheMe = 1;
inline constexpr uint8_t kHighBitsSet = 2;
inline constexpr uint8_t kCacheReplaceMe = 4;
}  // namespace image_flags

namespace bitmap_flags {
inline constexpr uint8_t kPalCacheMe = 1;
inline constexpr uint8_t kPalFromCache = 2;
inline constexpr uint8_t kTopDown = 4;
}  // namespace bitmap_flags

// ROP descriptor (ropd, u16): one OP_* selects the operation, INVERS_* negate its operands.
namespace ropd {
inline constexpr uint16_t kInversSrc = 1;
inline constexpr uint16_t kInversBrush = 2;
inline constexpr uint16_t kInversDest = 4;
inline constexpr uint16_t kOpPut = 8;
inline constexpr uint16_t kOpOr = 16;
inline constexpr uint16_t kOpAnd = 32;
inline constexpr uint16_t kOpXor = 64;
inline constexpr uint16_t kOpBlackness = 128;
inline constexpr uint16_t kOpWhiteness = 256;
inline constexpr uint16_t kOpInvers = 512;
inline constexpr uint16_t kInversRes = 1024;
}  // namespace ropd

namespace line_flags {
inline constexpr uint8_t kStartWithGap = 4;
inline constexpr uint8_t kStyled = 8;
}  // namespace line_flags

namespace string_flags {
inline constexpr uint8_t kRasterA1 = 1;
inline constexpr uint8_t kRasterA4 = 2;
inline constexpr uint8_t kRasterA8 = 4;
inline constexpr uint8_t kRasterTopDown = 8;
}  // namespace string_flags

namespace composite_flags {
inline constexpr uint32_t kOpMask = 0xff;
inline constexpr unsigned kSrcFilterShift = 8;
inline constexpr unsigned kMaskFilterShift = 11;
inline constexpr unsigned kSrcRepeatShift = 14;
inline constexpr unsigned kMaskRepeatShift = 16;
inline constexpr uint32_t kComponentAlpha = 1u << 18;
inline constexpr uint32_t kHasMask = 1u << 19;
inline constexpr uint32_t kHasSrcTransform = 1u << 20;
inline constexpr uint32_t kHasMaskTransform = 1u << 21;
inline constexpr uint32_t kSourceOpaque = 1u << 22;
inline constexpr uint32_t kMaskOpaque = 1u << 23;
inline constexpr uint32_t kDestOpaque = 1u << 24;
}  // namespace composite_flags

std::string_view clip_type_name(uint8_t type);
std::string_view brush_type_name(uint8_t type);
std::string_view image_type_name(uint8_t type);
std::string_view bitmap_format_name(uint8_t format);
std::string_view scale_mode_name(uint8_t mode);
std::string_view video_codec_name(uint8_t codec);
std::string_view surface_format_name(uint32_t format);
std::string_view image_compression_name(uint8_t compression);
std::string_view resource_type_name(uint8_t type);

struct Point {
    int32_t x = 0;
    int32_t y = 0;
};

struct Point16 {
    int16_t x = 0;
    int16_t y = 0;
};

// fixed28_4 coordinates: the raw int32 values (divide by 16 for the real value).
struct PointFix {
    int32_t x = 0;
    int32_t y = 0;
};

// Wire order is top, left, bottom, right (not SpiceRect's declaration order).
struct Rect {
    int32_t top = 0;
    int32_t left = 0;
    int32_t bottom = 0;
    int32_t right = 0;
};

// pixman 16.16 matrix, first two rows (the third is implicitly 0 0 1).
struct Transform {
    uint32_t t00 = 0, t01 = 0, t02 = 0;
    uint32_t t10 = 0, t11 = 0, t12 = 0;
};

struct Clip {
    uint8_t type = 0;         // ClipType
    std::vector<Rect> rects;  // only for Rects
};

struct DisplayBase {
    uint32_t surface_id = 0;
    Rect box;
    Clip clip;
};

struct Palette {
    uint32_t offset = 0;  // where it sits in the body
    uint64_t unique = 0;
    std::vector<uint32_t> ents;  // xRGB; num_ents = ents.size()
};

// The palette of a BITMAP or LZ_PLT image: an id into the palette cache (PAL_FROM_CACHE), or
// a pointer to an inline palette (which may be NULL for BITMAP).
struct PaletteRef {
    std::optional<uint64_t> cache_id;  // set iff PAL_FROM_CACHE
    uint32_t pointer = 0;              // raw pointer field otherwise (0 = NULL)
    std::optional<Palette> palette;    // what pointer led to
};

struct BitmapData {
    uint8_t format = 0;  // SpiceBitmapFmt
    uint8_t flags = 0;   // bitmap_flags
    uint32_t x = 0;      // width in pixels
    uint32_t y = 0;      // height in rows
    uint32_t stride = 0;
    PaletteRef palette;
    ByteView data;  // stride * y bytes
};

// QUIC, LZ_RGB, GLZ_RGB, JPEG and LZ4 images: a length-prefixed compressed stream.
struct BinaryData {
    ByteView data;  // data_size = data.size()
};

struct LzPltData {
    uint8_t flags = 0;   // bitmap_flags
    PaletteRef palette;  // pointer never NULL
    ByteView data;
};

struct ZlibGlzData {
    uint32_t glz_data_size = 0;  // size of the GLZ stream once inflated
    ByteView data;
};

struct JpegAlphaData {
    uint8_t flags = 0;  // 1 = TOP_DOWN
    uint32_t jpeg_size = 0;
    ByteView data;  // jpeg_size bytes of JPEG, then the LZ alpha stream

    ByteView jpeg() const { return data.first(jpeg_size); }

    ByteView alpha() const { return data.subspan(jpeg_size); }
};

struct SurfaceImage {
    uint32_t surface_id = 0;
};

struct ImageDescriptor {
    uint64_t id = 0;
    uint8_t type = 0;   // ImageType
    uint8_t flags = 0;  // image_flags
    uint32_t width = 0;
    uint32_t height = 0;
};

// monostate: FROM_CACHE, FROM_CACHE_LOSSLESS and RESERVED carry nothing.
using ImagePayload = std::variant<std::monostate, BitmapData, BinaryData, LzPltData, ZlibGlzData,
                                  JpegAlphaData, SurfaceImage>;

struct Image {
    uint32_t offset = 0;  // the pointer value that led here
    ImageDescriptor descriptor;
    ImagePayload payload;

    ImageType type() const { return static_cast<ImageType>(descriptor.type); }

    // The compressed (or raw) pixel bytes this image carries; empty when it has none.
    ByteView data() const;
};

struct Pattern {
    Image pat;
    Point pos;
};

struct Brush {
    uint8_t type = 0;                // BrushType
    uint32_t color = 0;              // Solid
    std::optional<Pattern> pattern;  // Pattern
};

struct QMask {
    uint8_t flags = 0;  // 1 = INVERS
    Point pos;
    std::optional<Image> bitmap;  // NULL pointer = no mask
};

struct LineAttr {
    uint8_t flags = 0;           // line_flags
    uint8_t style_nseg = 0;      // STYLED only
    uint32_t style_pointer = 0;  // STYLED only; 0 = NULL
    std::vector<int32_t> style;  // fixed28_4 dash lengths (style_nseg)
};

struct PathSegment {
    uint8_t flags = 0;  // 1 BEGIN, 2 END, 8 CLOSE, 16 BEZIER
    std::vector<PointFix> points;
};

struct Path {
    uint32_t offset = 0;
    std::vector<PathSegment> segments;
};

struct RasterGlyph {
    Point render_pos;
    Point glyph_origin;
    uint16_t width = 0;
    uint16_t height = 0;
    ByteView data;  // ((width * bpp + 7) / 8) * height bytes
};

struct GlyphString {
    uint32_t offset = 0;
    uint8_t flags = 0;                // string_flags
    std::vector<RasterGlyph> glyphs;  // length = glyphs.size()

    // Bits per pixel chosen by the flags (1, 4 or 8).
    unsigned bpp() const;
};

struct ResourceId {
    uint8_t type = 0;  // 1 = PIXMAP
    uint64_t id = 0;
};

struct WaitForChannel {
    uint8_t channel_type = 0;
    uint8_t channel_id = 0;
    uint64_t message_serial = 0;
};

struct Head {
    uint32_t monitor_id = 0;
    uint32_t surface_id = 0;
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t x = 0;
    uint32_t y = 0;
    uint32_t flags = 0;
};

// JSON for the shared structures: each writes one value (an object) after the caller's key.
void write_json(const Rect& r, JsonWriter& w);
void write_json(const Point& p, JsonWriter& w);
void write_json(const Point16& p, JsonWriter& w);
void write_json(const PointFix& p, JsonWriter& w);
void write_json(const Transform& t, JsonWriter& w);
void write_json(const Clip& c, JsonWriter& w);
void write_json(const DisplayBase& b, JsonWriter& w);
void write_json(const Palette& p, JsonWriter& w);
void write_json(const Image& img, JsonWriter& w);
void write_json(const Brush& b, JsonWriter& w);
void write_json(const QMask& m, JsonWriter& w);
void write_json(const LineAttr& a, JsonWriter& w);
void write_json(const Path& p, JsonWriter& w);
void write_json(const GlyphString& s, JsonWriter& w);

}  // namespace spicetap::channels::display
