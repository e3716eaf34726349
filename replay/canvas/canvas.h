// The software canvas: every SPICE display draw operation on a Surface, pixel for pixel as
// spice-gtk's software canvas (spice-common canvas_base.c + sw_canvas.c + pixman_utils.c +
// rop3.c + lines.c) draws it. One function per spice.proto display message; each takes the
// destination surface, the DisplayBase box and clip, and the message body mapped to pixel-level
// structs. Every function clips to the surface, never touches memory outside it, and returns
// the damaged region, or an error naming what it refused (nothing is drawn then).
//
// Where spice-gtk would crash or read out of bounds on hostile input we clip and say so in a
// comment; where it deliberately draws nothing we draw nothing too (see each function).
#pragma once

#include <cstdint>
#include <vector>

#include "decode/wire/result.h"
#include "replay/canvas/surface.h"
#include "replay/canvas/types.h"

namespace spicetap::canvas {

// canvas_base.c ropd_descriptor_to_rop(): a ROP descriptor to one of the 16 binary ops.
// `src` names the operand that plays "source", `dest` the one that plays "destination".
Rop rop_from_descriptor(uint16_t descriptor, RopInput src, RopInput dest);

// The binary op on raw values (all 32 bits; callers truncate to the pixel depth).
uint32_t apply_rop(Rop rop, uint32_t src, uint32_t dst);

// The ternary raster op `code` (Windows ROP3 numbering: bit (p<<2 | s<<1 | d) of the code is
// the result for pattern bit p, source bit s, destination bit d), bitwise on raw values.
uint32_t apply_rop3(uint8_t code, uint32_t pattern, uint32_t src, uint32_t dst);

// True for the 38 rop3 codes spice-common's rop3.c has no handler for (they reduce to binary
// or trivial ops, 0x00, 0xff, 0xcc, 0xf0, 0x5a, 0x66, ...): spice-gtk logs "not implemented"
// and leaves the destination as it was.
bool rop3_missing_in_reference(uint8_t code);

struct CanvasOptions {
    // Draw what spice-gtk draws for rop3 codes its rop3.c lacks (nothing). false: draw the
    // mathematically defined result instead.
    bool reference_rop3_gaps = true;
    CanvasLimits limits{};
};

// DRAW_FILL (302): brush through rop_descriptor (operands: brush = src, dest = dest), mask.
struct Fill {
    Brush brush;
    uint16_t rop_descriptor = ropd::kOpPut;
    Mask mask;
};

Result<Damage> draw_fill(Surface& dest, const DrawArea& area, const Fill& fill);

// DRAW_COPY (304) and DRAW_BLEND (305, drawn identically by spice-gtk): src_area of src into
// box, scaled with scale_mode when the sizes differ, through rop_descriptor (src, dest), mask.
struct Copy {
    Source src{};
    Rect src_area;
    uint16_t rop_descriptor = ropd::kOpPut;
    ScaleMode scale_mode = ScaleMode::Nearest;
    Mask mask;
};

Result<Damage> draw_copy(Surface& dest, const DrawArea& area, const Copy& copy);
Result<Damage> draw_blend(Surface& dest, const DrawArea& area, const Copy& blend);

// DRAW_OPAQUE (303): src_area of src copied (scaled) into box, then the brush applied over it
// through rop_descriptor with operands (brush = src, the copied source = dest); mask.
struct Opaque {
    Source src{};
    Rect src_area;
    Brush brush;
    uint16_t rop_descriptor = ropd::kOpPut;
    ScaleMode scale_mode = ScaleMode::Nearest;
    Mask mask;
};

Result<Damage> draw_opaque(Surface& dest, const DrawArea& area, const Opaque& opaque);

// DRAW_BLACKNESS (306), DRAW_WHITENESS (307), DRAW_INVERS (308): raw value 0, raw value
// 0xffffffff (truncated to the depth), or every bit of the pixel inverted; mask.
Result<Damage> draw_blackness(Surface& dest, const DrawArea& area, const Mask& mask);
Result<Damage> draw_whiteness(Surface& dest, const DrawArea& area, const Mask& mask);
Result<Damage> draw_invers(Surface& dest, const DrawArea& area, const Mask& mask);

// DRAW_ROP3 (309): ternary op over brush (pattern or colour), src_area of src (scaled to the
// box when sizes differ) and the destination; mask. 32- and 16-bit surfaces only.
struct Rop3 {
    Source src{};
    Rect src_area;
    Brush brush;
    uint8_t rop3 = 0xcc;
    ScaleMode scale_mode = ScaleMode::Nearest;
    Mask mask;
};

Result<Damage> draw_rop3(Surface& dest, const DrawArea& area, const Rop3& rop3,
                         const CanvasOptions& options = {});

// DRAW_TRANSPARENT (312): src_area of src into box (nearest scaling when sizes differ), pixels
// whose colour equals true_color (24 bits on 32-bit surfaces, converted to 5-5-5 / 5-6-5 on
// 16-bit ones) left out. src_color is not used by spice-gtk.
struct Transparent {
    Source src{};
    Rect src_area;
    uint32_t src_color = 0;
    uint32_t true_color = 0;
};

Result<Damage> draw_transparent(Surface& dest, const DrawArea& area, const Transparent& t);

// DRAW_ALPHA_BLEND (313): src_area of src OVER the box (nearest scaling when sizes differ) with
// constant alpha. alpha_flags 1 DEST_HAS_ALPHA (an xRGB destination is read/written as ARGB;
// otherwise its alpha byte is cleared afterwards), 2 SRC_SURFACE_HAS_ALPHA (an xRGB source
// surface is read as ARGB). Decoded images keep their own format (Argb32 has alpha).
namespace alpha_flags {
inline constexpr uint8_t kDestHasAlpha = 1;
inline constexpr uint8_t kSrcSurfaceHasAlpha = 2;
}  // namespace alpha_flags

struct AlphaBlend {
    uint8_t alpha_flags = 0;
    uint8_t alpha = 255;
    Source src{};
    Rect src_area;
};

Result<Damage> draw_alpha_blend(Surface& dest, const DrawArea& area, const AlphaBlend& blend);

// DRAW_STROKE (310): a path of 1-pixel-wide lines (spice-gtk always strokes with X11 zero-width
// lines, CapNotLast, whatever LineAttr.width says), brush through fore_mode (brush, dest).
// Styled (dashed) lines are refused as Unsupported.
struct PointFix {  // 28.4 fixed point
    int32_t x = 0;
    int32_t y = 0;
};

namespace path_flags {
inline constexpr uint8_t kBegin = 1 << 0;
inline constexpr uint8_t kEnd = 1 << 1;
inline constexpr uint8_t kClose = 1 << 3;
inline constexpr uint8_t kBezier = 1 << 4;
}  // namespace path_flags

struct PathSegment {
    uint8_t flags = 0;
    std::vector<PointFix> points;
};

namespace line_flags {
inline constexpr uint8_t kStartWithGap = 1 << 2;
inline constexpr uint8_t kStyled = 1 << 3;
}  // namespace line_flags

struct LineAttr {
    uint8_t flags = 0;
    std::vector<int32_t> style;  // 28.4 dash lengths
};

struct Stroke {
    std::vector<PathSegment> path;
    LineAttr attr;
    Brush brush;
    uint16_t fore_mode = ropd::kOpPut;
    uint16_t back_mode = ropd::kOpPut;
};

Result<Damage> draw_stroke(Surface& dest, const DrawArea& area, const Stroke& stroke);

// Raster pixels a zero-width polyline lights (lines.c miZeroLine with CapNotLast, the X11
// Bresenham with the default octant bias), clipped to `width` x `height`, in drawing order.
std::vector<Point> zero_line_pixels(const std::vector<Point>& polyline, int32_t width,
                                    int32_t height);

// DRAW_TEXT (311): raster glyph strings (1, 4 or 8 bits per pixel, rows stored bottom-up) drawn
// with fore_brush OVER the surface; a non-empty back_area is first filled with back_brush
// (COPY), which spice-gtk only does when fore_mode is OP_PUT (otherwise it draws nothing).
namespace string_flags {
inline constexpr uint16_t kRasterA1 = 1 << 0;
inline constexpr uint16_t kRasterA4 = 1 << 1;
inline constexpr uint16_t kRasterA8 = 1 << 2;
inline constexpr uint16_t kRasterTopDown = 1 << 3;
}  // namespace string_flags

struct Glyph {
    Point render_pos;
    Point glyph_origin;
    uint16_t width = 0;
    uint16_t height = 0;
    const uint8_t* data = nullptr;  // rows of ALIGN(width * bpp, 8) / 8 bytes, bottom row first
    size_t size = 0;
};

struct GlyphString {
    uint16_t flags = 0;
    std::vector<Glyph> glyphs;
};

struct Text {
    GlyphString str;
    Rect back_area;
    Brush fore_brush;
    Brush back_brush;
    uint16_t fore_mode = ropd::kOpPut;
    uint16_t back_mode = ropd::kOpPut;
};

Result<Damage> draw_text(Surface& dest, const DrawArea& area, const Text& text,
                         const CanvasLimits& limits = {});

// DRAW_COMPOSITE (318): Render-style compositing with pixman's op, filters, repeat modes,
// component alpha and 16.16 transforms taken from `flags` (SpiceCompositeFlags layout).
struct Transform {  // 16.16 fixed point, row-major 2x3
    int32_t t00 = 0x10000, t01 = 0, t02 = 0;
    int32_t t10 = 0, t11 = 0x10000, t12 = 0;
};

namespace composite_flags {
inline constexpr uint32_t kHasMask = 1u << 19;
inline constexpr uint32_t kHasSrcTransform = 1u << 20;
inline constexpr uint32_t kHasMaskTransform = 1u << 21;
inline constexpr uint32_t kSourceOpaque = 1u << 22;
inline constexpr uint32_t kMaskOpaque = 1u << 23;
inline constexpr uint32_t kDestOpaque = 1u << 24;
}  // namespace composite_flags

struct Composite {
    uint32_t flags = 0;
    Source src{};
    std::optional<Source> mask;  // present iff flags has HAS_MASK
    Transform src_transform;
    Transform mask_transform;
    Point src_origin;
    Point mask_origin;
};

Result<Damage> draw_composite(Surface& dest, const DrawArea& area, const Composite& c);

// COPY_BITS (104): the box's pixels taken from src_pos on the same surface (overlap-safe).
Result<Damage> copy_bits(Surface& dest, const DrawArea& area, Point src_pos);

}  // namespace spicetap::canvas
