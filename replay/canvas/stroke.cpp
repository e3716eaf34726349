// DRAW_STROKE. spice-gtk (canvas_base.c canvas_draw_stroke) turns the path into integer
// polylines (28.4 points rounded by fix_to_int, beziers flattened by midpoint subdivision) and
// draws each with lines.c's miZeroLine: X11 thin lines, Bresenham with the default zero-line
// bias (octants 2-5 step axially on an error of exactly zero) and CapNotLast. Each segment's
// pixels go through the fore ROP separately, so XOR strokes toggle shared pixels twice.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "replay/canvas/canvas.h"
#include "replay/canvas/pixman_internal.h"

namespace spicetap::canvas {

namespace {

// X11 octant bits and DEFAULTZEROLINEBIAS (OCTANT2 | OCTANT3 | OCTANT4 | OCTANT5).
constexpr unsigned kXDecreasing = 4;
constexpr unsigned kYDecreasing = 2;
constexpr unsigned kYMajor = 1;
constexpr unsigned kDefaultBias = (1u << (kYDecreasing | kYMajor)) |
                                  (1u << (kXDecreasing | kYDecreasing | kYMajor)) |
                                  (1u << (kXDecreasing | kYDecreasing)) | (1u << kXDecreasing);

int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        --q;
    return q;
}

// One segment, end point excluded. Pixel i of the major axis has minor offset
// n_i = floor((E0 + i * 2 * minor) / (2 * major)) + 1 with E0 = -major - bias_bit: the closed
// form of miZeroLine's error-term loop, so only the on-surface part is walked.
void segment(Point a, Point b, int32_t width, int32_t height, std::vector<Point>& out) {
    const int64_t dx = int64_t{b.x} - a.x;
    const int64_t dy = int64_t{b.y} - a.y;
    const int64_t adx = std::llabs(dx);
    const int64_t ady = std::llabs(dy);
    const int64_t sx = dx < 0 ? -1 : 1;
    const int64_t sy = dy < 0 ? -1 : 1;
    unsigned octant = (dx < 0 ? kXDecreasing : 0) | (dy < 0 ? kYDecreasing : 0);
    const bool x_major = adx > ady;
    if (!x_major)
        octant |= kYMajor;
    const int64_t major = x_major ? adx : ady;
    const int64_t minor = x_major ? ady : adx;
    if (major == 0)
        return;
    const int64_t bias = (kDefaultBias >> octant) & 1;
    const int64_t e0 = -major - bias;
    // restrict i to the surface along the major axis
    const int64_t start = x_major ? a.x : a.y;
    const int64_t step = x_major ? sx : sy;
    const int64_t limit = x_major ? width : height;
    int64_t i0 = 0, i1 = major;  // [i0, i1)
    if (step > 0) {
        i0 = std::max<int64_t>(i0, -start);
        i1 = std::min<int64_t>(i1, limit - start);
    } else {
        i0 = std::max<int64_t>(i0, start - (limit - 1));
        i1 = std::min<int64_t>(i1, start + 1);
    }
    for (int64_t i = i0; i < i1; ++i) {
        const int64_t n = floor_div(e0 + i * 2 * minor, 2 * major) + 1;
        const int64_t x = x_major ? a.x + i * sx : a.x + n * sx;
        const int64_t y = x_major ? a.y + n * sy : a.y + i * sy;
        if (x >= 0 && x < width && y >= 0 && y < height) {
            out.push_back(Point{int32_t(x), int32_t(y)});
        }
    }
}

// fix_to_int (canvas_base.c): round 28.4 to nearest, halves down.
int32_t fix_to_int(int32_t v) {
    int32_t val = v >> 4;
    if ((v & 0x0f) > 8)
        ++val;
    return val;
}

struct FixPt {
    int64_t x;
    int64_t y;
};

int64_t wrap_mul(int64_t a, int64_t b) {
    return int64_t(uint64_t(a) * uint64_t(b));
}

int64_t dot(int64_t x1, int64_t y1, int64_t x2, int64_t y2) {
    return int64_t(uint64_t(wrap_mul(x1, x2)) + uint64_t(wrap_mul(y1, y2))) >> 4;
}

// subdivide_bezier: flat enough (both control points within half a pixel of the chord) ->
// one straight piece to p3; otherwise split at t = 1/2 with truncating midpoints. Depth is
// capped: spice-gtk recurses forever on a curve whose end points coincide.
void subdivide(std::vector<Point>& pts, FixPt p0, FixPt p1, FixPt p2, FixPt p3, int depth) {
    const int64_t a2 = dot(p1.x - p0.x, p1.y - p0.y, p1.x - p0.x, p1.y - p0.y);
    const int64_t b2 = dot(p3.x - p0.x, p3.y - p0.y, p3.x - p0.x, p3.y - p0.y);
    const int64_t c2 = dot(p2.x - p3.x, p2.y - p3.y, p2.x - p3.x, p2.y - p3.y);
    const int64_t ab = dot(p1.x - p0.x, p1.y - p0.y, p3.x - p0.x, p3.y - p0.y);
    const int64_t cb = dot(p2.x - p3.x, p2.y - p3.y, p0.x - p3.x, p0.y - p3.y);
    const int64_t h1 = int64_t(uint64_t(wrap_mul(a2, b2)) - uint64_t(wrap_mul(ab, ab))) >> 3;
    const int64_t h2 = int64_t(uint64_t(wrap_mul(c2, b2)) - uint64_t(wrap_mul(cb, cb))) >> 3;
    if ((h1 < b2 && h2 < b2) || depth >= 16) {
        pts.push_back(Point{fix_to_int(int32_t(p3.x)), fix_to_int(int32_t(p3.y))});
        return;
    }
    auto mid = [](FixPt a, FixPt b) { return FixPt{(a.x + b.x) / 2, (a.y + b.y) / 2}; };
    const FixPt p01 = mid(p0, p1), p12 = mid(p1, p2), p23 = mid(p2, p3);
    const FixPt p012 = mid(p01, p12), p123 = mid(p12, p23);
    const FixPt p0123 = mid(p012, p123);
    subdivide(pts, p0, p01, p012, p0123, depth + 1);
    subdivide(pts, p0123, p123, p23, p3, depth + 1);
}

}  // namespace

std::vector<Point> zero_line_pixels(const std::vector<Point>& polyline, int32_t width,
                                    int32_t height) {
    std::vector<Point> out;
    for (size_t k = 1; k < polyline.size(); ++k) {
        segment(polyline[k - 1], polyline[k], width, height, out);
    }
    return out;
}

Result<Damage> draw_stroke(Surface& dest, const DrawArea& area, const Stroke& stroke) {
    using detail::Region;
    if (dest.format() == SurfaceFormat::A1) {
        return make_error(Errc::Unsupported, 0, "drawing on a 1_A surface");
    }
    if (stroke.attr.flags & line_flags::kStyled) {
        return make_error(Errc::Unsupported, 0,
                          "styled (dashed) strokes (lines.c miZeroDashLine / miWideDash)");
    }
    if (stroke.brush.type != Brush::Type::None && stroke.brush.type != Brush::Type::Solid &&
        stroke.brush.type != Brush::Type::Pattern) {
        return make_error(Errc::BadValue, 0, "stroke brush type");
    }
    // Build the polylines first so a malformed path draws nothing.
    std::vector<std::vector<Point>> polylines;
    std::vector<Point> cur;
    size_t total = 0;
    const uint32_t max_points = CanvasLimits{}.max_path_points;
    auto flush = [&] {
        if (!cur.empty()) {
            total += cur.size();
            polylines.push_back(std::move(cur));
        }
        cur.clear();
    };
    for (const PathSegment& seg : stroke.path) {
        size_t i = 0;
        if (seg.flags & path_flags::kBegin) {
            if (seg.points.empty()) {
                return make_error(Errc::BadValue, 0, "path segment BEGIN without points");
            }
            flush();
            cur.push_back(Point{fix_to_int(seg.points[0].x), fix_to_int(seg.points[0].y)});
            i = 1;
        }
        if (seg.flags & path_flags::kBezier) {
            if ((seg.points.size() - i) % 3 != 0) {
                return make_error(Errc::BadValue, 0, "bezier segment not made of point triples");
            }
            for (; i + 2 < seg.points.size(); i += 3) {
                if (cur.empty())
                    return make_error(Errc::BadValue, 0, "bezier without a start");
                const FixPt p0{int64_t{cur.back().x} * 16, int64_t{cur.back().y} * 16};
                auto fx = [](const PointFix& p) { return FixPt{p.x, p.y}; };
                subdivide(cur, p0, fx(seg.points[i]), fx(seg.points[i + 1]), fx(seg.points[i + 2]),
                          0);
            }
        } else {
            for (; i < seg.points.size(); ++i) {
                cur.push_back(Point{fix_to_int(seg.points[i].x), fix_to_int(seg.points[i].y)});
            }
        }
        if (seg.flags & path_flags::kEnd) {
            if ((seg.flags & path_flags::kClose) && !cur.empty())
                cur.push_back(cur.front());
            flush();
        }
        if (total + cur.size() > max_points) {
            return make_error(Errc::LimitExceeded, 0, "stroke path has too many points");
        }
    }
    flush();

    Region region;
    {
        // box ∩ surface ∩ clip, as for every other op
        Region box(Rect{std::max(area.box.left, 0), std::max(area.box.top, 0),
                        std::min(area.box.right, int32_t(dest.width())),
                        std::min(area.box.bottom, int32_t(dest.height()))});
        pixman_region32_copy(region.get(), box.get());
        if (area.clip) {
            Region clip;
            for (const Rect& r : *area.clip) {
                Region one(r);
                pixman_region32_union(clip.get(), clip.get(), one.get());
            }
            region.intersect(clip);
        }
    }
    if (region.empty())
        return Damage{};
    const Rop rop = rop_from_descriptor(stroke.fore_mode, RopInput::Brush, RopInput::Dest);
    detail::PixmanImage tile;
    if (stroke.brush.type == Brush::Type::Pattern) {
        auto t = detail::source_for(stroke.brush.pattern, dest.format());
        if (!t)
            return t.error();
        tile = std::move(*t);
        if (PIXMAN_FORMAT_BPP(pixman_image_get_format(tile.get())) !=
            detail::bits_per_pixel(dest.format())) {
            return make_error(Errc::Unsupported, 0, "pattern of another depth than the surface");
        }
    }
    const int bpp = detail::bits_per_pixel(dest.format());
    const uint32_t depth_mask = bpp == 32 ? 0xffffffffu : bpp == 16 ? 0xffffu : 0xffu;
    for (const auto& line : polylines) {
        for (const Point& p :
             zero_line_pixels(line, int32_t(dest.width()), int32_t(dest.height()))) {
            if (!pixman_region32_contains_point(region.get(), p.x, p.y, nullptr))
                continue;
            uint32_t src = stroke.brush.type == Brush::Type::Solid ? stroke.brush.color : 0;
            if (tile) {
                const int32_t tw = pixman_image_get_width(tile.get());
                const int32_t th = pixman_image_get_height(tile.get());
                const int64_t tx = ((int64_t{p.x} - stroke.brush.pos.x) % tw + tw) % tw;
                const int64_t ty = ((int64_t{p.y} - stroke.brush.pos.y) % th + th) % th;
                const auto* trow =
                    reinterpret_cast<const uint8_t*>(pixman_image_get_data(tile.get())) +
                    ty * pixman_image_get_stride(tile.get());
                src = 0;
                std::copy_n(trow + tx * (bpp / 8), bpp / 8, reinterpret_cast<uint8_t*>(&src));
            }
            const uint32_t old = dest.pixel(uint32_t(p.x), uint32_t(p.y));
            dest.set_pixel(uint32_t(p.x), uint32_t(p.y), apply_rop(rop, src, old) & depth_mask);
        }
    }
    return region.damage();
}

}  // namespace spicetap::canvas
