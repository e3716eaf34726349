// Pixel-level vocabulary of the software canvas: rectangles, ROPs, brushes, masks and image
// sources. Independent of the wire structs: the replay layer maps decoded display messages onto
// these. Values that travel on the wire keep their SPICE numbers (ROP descriptor bits, surface
// formats, scale modes, composite flags) so the mapping is a copy, not a translation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "decode/codec/image_types.h"

namespace spicetap::canvas {

class Surface;

// SpiceRect: half-open, right/bottom exclusive. May be empty or inverted (then it is empty).
struct Rect {
    int32_t left = 0;
    int32_t top = 0;
    int32_t right = 0;
    int32_t bottom = 0;

    int64_t width() const { return int64_t{right} - left; }

    int64_t height() const { return int64_t{bottom} - top; }

    bool empty() const { return right <= left || bottom <= top; }

    bool operator==(const Rect&) const = default;
};

struct Point {
    int32_t x = 0;
    int32_t y = 0;
    bool operator==(const Point&) const = default;
};

// SpiceSurfaceFmt values.
enum class SurfaceFormat : uint32_t {
    A1 = 1,
    A8 = 8,
    Rgb16_555 = 16,
    Rgb32 = 32,  // 32_xRGB
    Rgb16_565 = 80,
    Argb32 = 96,
};

const char* surface_format_name(SurfaceFormat f);

// SPICE_ROPD_* bits of a rop_descriptor (DRAW_FILL/COPY/BLEND/OPAQUE, STROKE/TEXT modes).
namespace ropd {
inline constexpr uint16_t kInversSrc = 1 << 0;
inline constexpr uint16_t kInversBrush = 1 << 1;
inline constexpr uint16_t kInversDest = 1 << 2;
inline constexpr uint16_t kOpPut = 1 << 3;
inline constexpr uint16_t kOpOr = 1 << 4;
inline constexpr uint16_t kOpAnd = 1 << 5;
inline constexpr uint16_t kOpXor = 1 << 6;
inline constexpr uint16_t kOpBlackness = 1 << 7;
inline constexpr uint16_t kOpWhiteness = 1 << 8;
inline constexpr uint16_t kOpInvers = 1 << 9;
inline constexpr uint16_t kInversRes = 1 << 10;
}  // namespace ropd

// The 16 binary raster ops (spice-common SpiceROP; same order as X11 GX codes), applied to raw
// pixel values of the destination's depth.
enum class Rop : uint8_t {
    Clear,         // 0
    And,           // src & dst
    AndReverse,    // src & ~dst
    Copy,          // src
    AndInverted,   // ~src & dst
    Noop,          // dst
    Xor,           // src ^ dst
    Or,            // src | dst
    Nor,           // ~src & ~dst
    Equiv,         // ~src ^ dst
    Invert,        // ~dst
    OrReverse,     // src | ~dst
    CopyInverted,  // ~src
    OrInverted,    // ~src | dst
    Nand,          // ~src | ~dst
    Set,           // all ones
};

// Which operand a descriptor's INVERS_* bit applies to (canvas_base.c ROPInput).
enum class RopInput : uint8_t { Src, Brush, Dest };

// SpiceImageScaleMode.
enum class ScaleMode : uint8_t { Interpolate = 0, Nearest = 1 };

// Read-only pixels of a decoded image (decode/codec output). Row 0 is the top row.
struct ImageRef {
    const uint8_t* data = nullptr;
    uint32_t width = 0;
    uint32_t height = 0;
    size_t stride = 0;
    codec::PixelFormat format = codec::PixelFormat::Xrgb32;
};

// An image operand: decoded pixels, or a SPICE_IMAGE_TYPE_SURFACE reference to another surface
// (read as it is now; may be the destination itself).
using Source = std::variant<ImageRef, const Surface*>;

// SpiceBrush.
struct Brush {
    enum class Type : uint8_t { None = 0, Solid = 1, Pattern = 2 };
    Type type = Type::None;
    uint32_t color = 0;  // Solid: raw pixel value of the destination format
    Source pattern{};    // Pattern: tiled image
    Point pos{};         // Pattern: the destination point where the tile's (0, 0) lands
};

// SpiceQMask. Absent `image` = no mask. The image is 1 bit per pixel (ImageRef format A1, bit 0
// of each byte = leftmost pixel; convert 1BIT_BE bitmaps before) or a surface of format A1.
struct Mask {
    std::optional<Source> image;
    Point pos{};          // mask pixel that lines up with box.left/top
    bool invert = false;  // SPICE_MASK_FLAGS_INVERS
};

// SpiceClip: NONE (nullopt) or a list of rectangles (their union).
using Clip = std::optional<std::vector<Rect>>;

// The part of SpiceMsgDisplayBase the canvas needs (surface_id selects the Surface).
struct DrawArea {
    Rect box;
    Clip clip;
};

// Pixels an operation may have changed (the destination region it was allowed to write),
// as y-x banded rectangles. Never smaller than what changed.
struct Damage {
    std::vector<Rect> rects;

    bool empty() const { return rects.empty(); }

    Rect extents() const;
};

// Hard caps on what messages may make the canvas allocate.
struct CanvasLimits {
    uint32_t max_width = 16384;
    uint32_t max_height = 16384;
    uint64_t max_pixels = uint64_t{1} << 26;
    uint32_t max_path_points = 1u << 20;
    uint32_t max_glyphs = 1u << 16;
};

}  // namespace spicetap::canvas
