// The draw operations. Structure follows canvas_base.c: build the destination region (box ∩
// surface ∩ clip ∩ mask), turn the ROP descriptor into a binary op, then fill, tile, blit or
// scale through that region. Raw pixel ops (fills, tiles, blits with ROPs, colour keys, rop3)
// run on the surface's bytes; scaling, alpha blending, text and composite go through pixman
// with the same images, transforms and filters sw_canvas.c uses, so the pixels match.
#include "replay/canvas/canvas.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>

#include "replay/canvas/pixman_internal.h"

namespace spicetap::canvas {

using detail::PixmanImage;
using detail::Region;

namespace {

// ---- raw pixel access -----------------------------------------------------------------------

uint32_t load(const uint8_t* row, int64_t x, int bpp) {
    switch (bpp) {
        case 8:
            return row[x];
        case 16: {
            uint16_t v;
            std::memcpy(&v, row + 2 * x, 2);
            return v;
        }
        default: {
            uint32_t v;
            std::memcpy(&v, row + 4 * x, 4);
            return v;
        }
    }
}

void store(uint8_t* row, int64_t x, int bpp, uint32_t v) {
    switch (bpp) {
        case 8:
            row[x] = uint8_t(v);
            break;
        case 16: {
            const uint16_t s = uint16_t(v);
            std::memcpy(row + 2 * x, &s, 2);
            break;
        }
        default:
            std::memcpy(row + 4 * x, &v, 4);
            break;
    }
}

struct Pixels {  // raw view of a pixman image
    uint8_t* data;
    int64_t stride;
    int32_t width;
    int32_t height;
    int bpp;

    explicit Pixels(pixman_image_t* img)
        : data(reinterpret_cast<uint8_t*>(pixman_image_get_data(img))),
          stride(pixman_image_get_stride(img)),
          width(pixman_image_get_width(img)),
          height(pixman_image_get_height(img)),
          bpp(PIXMAN_FORMAT_BPP(pixman_image_get_format(img))) {}

    uint8_t* row(int64_t y) const { return data + y * stride; }
};

int64_t floor_mod(int64_t a, int64_t m) {
    const int64_t r = a % m;
    return r < 0 ? r + m : r;
}

DecodeError unsupported(const std::string& what) {
    return make_error(Errc::Unsupported, 0, what);
}

DecodeError bad(const std::string& what) {
    return make_error(Errc::BadValue, 0, what);
}

// ---- regions --------------------------------------------------------------------------------

Rect clamp_to(const Rect& r, const Surface& s) {
    return Rect{std::max(r.left, 0), std::max(r.top, 0), std::min(r.right, int32_t(s.width())),
                std::min(r.bottom, int32_t(s.height()))};
}

// canvas_clip_pixman: the box, within the surface, within the clip rectangles.
void base_region(Region& region, const Surface& dest, const DrawArea& area) {
    Region box(clamp_to(area.box, dest));
    pixman_region32_copy(region.get(), box.get());
    if (area.clip) {
        std::vector<pixman_box32_t> boxes;
        for (const Rect& r : *area.clip) {
            const Rect c = clamp_to(r, dest);
            if (!c.empty())
                boxes.push_back({c.left, c.top, c.right, c.bottom});
        }
        Region clip;
        if (!boxes.empty()) {
            pixman_region32_fini(clip.get());
            pixman_region32_init_rects(clip.get(), boxes.data(), int(boxes.size()));
        }
        region.intersect(clip);
    }
}

struct MaskBits {
    const uint8_t* data = nullptr;
    int64_t width = 0;
    int64_t height = 0;
    size_t stride = 0;
};

Result<MaskBits> mask_bits(const Source& src) {
    if (const auto* img = std::get_if<ImageRef>(&src)) {
        if (img->format != codec::PixelFormat::A1) {
            return unsupported("mask image that is not 1 bit per pixel");
        }
        if (!img->data || img->stride < codec::bytes_per_row(img->format, img->width)) {
            return bad("mask image without pixels");
        }
        return MaskBits{img->data, img->width, img->height, img->stride};
    }
    const Surface* s = std::get<const Surface*>(src);
    if (!s)
        return bad("mask surface missing");
    if (s->format() != SurfaceFormat::A1) {
        return unsupported(std::string("mask surface of format ") +
                           surface_format_name(s->format()));
    }
    return MaskBits{s->row(0), s->width(), s->height(), s->stride()};
}

// canvas_mask_pixman: keep the destination pixels whose mask bit is set (clear with invert);
// pixels beyond the mask image are dropped either way.
Result<void> apply_mask(Region& region, const Mask& mask, int32_t x, int32_t y) {
    if (!mask.image || region.empty())
        return {};
    auto bits = mask_bits(*mask.image);
    if (!bits)
        return bits.error();
    const pixman_box32_t ext = *pixman_region32_extents(region.get());
    const int64_t off_x = int64_t{mask.pos.x} - x;  // mask coord = dest coord + off
    const int64_t off_y = int64_t{mask.pos.y} - y;
    const int64_t my0 = std::max<int64_t>(ext.y1 + off_y, 0);
    const int64_t my1 = std::min<int64_t>(ext.y2 + off_y, bits->height);
    const int64_t mx0 = std::max<int64_t>(ext.x1 + off_x, 0);
    const int64_t mx1 = std::min<int64_t>(ext.x2 + off_x, bits->width);
    std::vector<pixman_box32_t> runs;
    for (int64_t my = my0; my < my1; ++my) {
        const uint8_t* row = bits->data + size_t(my) * bits->stride;
        int64_t mx = mx0;
        while (mx < mx1) {
            auto on = [&](int64_t px) {
                return bool((row[px / 8] >> (px % 8)) & 1) != mask.invert;
            };
            if (!on(mx)) {
                ++mx;
                continue;
            }
            const int64_t start = mx;
            while (mx < mx1 && on(mx))
                ++mx;
            runs.push_back({int32_t(start - off_x), int32_t(my - off_y), int32_t(mx - off_x),
                            int32_t(my + 1 - off_y)});
        }
    }
    Region kept;
    if (!runs.empty()) {
        pixman_region32_fini(kept.get());
        pixman_region32_init_rects(kept.get(), runs.data(), int(runs.size()));
    }
    region.intersect(kept);
    return {};
}

Result<void> drawable(const Surface& dest) {
    if (dest.format() == SurfaceFormat::A1) {
        return unsupported("drawing on a 1_A surface (spice-gtk cannot either)");
    }
    return {};
}

// ---- raw fills and blits (pixman_utils.c) ----------------------------------------------------

void fill_solid(Surface& dest, const Region& region, uint32_t color, Rop rop) {
    Pixels d(dest.impl().image);
    for (const pixman_box32_t& b : region.boxes()) {
        for (int64_t y = b.y1; y < b.y2; ++y) {
            uint8_t* row = d.row(y);
            for (int64_t x = b.x1; x < b.x2; ++x) {
                store(row, x, d.bpp,
                      rop == Rop::Copy ? color : apply_rop(rop, color, load(row, x, d.bpp)));
            }
        }
    }
}

// spice_pixman_tile_rect(_rop): tile pixel (x - offset) mod size.
Result<void> fill_tiled(Surface& dest, const Region& region, pixman_image_t* tile, Point offset,
                        Rop rop) {
    Pixels d(dest.impl().image);
    Pixels t(tile);
    if (t.bpp != d.bpp)
        return unsupported("pattern of another depth than the surface");
    for (const pixman_box32_t& b : region.boxes()) {
        for (int64_t y = b.y1; y < b.y2; ++y) {
            uint8_t* row = d.row(y);
            const uint8_t* trow = t.row(floor_mod(y - offset.y, t.height));
            for (int64_t x = b.x1; x < b.x2; ++x) {
                const uint32_t s = load(trow, floor_mod(x - offset.x, t.width), t.bpp);
                store(row, x, d.bpp, rop == Rop::Copy ? s : apply_rop(rop, s, load(row, x, d.bpp)));
            }
        }
    }
    return {};
}

// spice_pixman_blit(_rop): dest pixel (x, y) takes source pixel (x - offset); destination
// pixels without a source pixel are left alone.
Result<void> blit(Surface& dest, const Region& region, pixman_image_t* src, int64_t offset_x,
                  int64_t offset_y, Rop rop) {
    Pixels d(dest.impl().image);
    Pixels s(src);
    if (s.bpp != d.bpp)
        return unsupported("source of another depth than the surface");
    // Reading the destination itself (surface source) must see the old pixels.
    std::vector<uint8_t> snapshot;
    const bool self = s.data == d.data;
    for (const pixman_box32_t& b : region.boxes()) {
        const int64_t x0 = std::max<int64_t>(b.x1, offset_x);
        const int64_t x1 = std::min<int64_t>(b.x2, offset_x + s.width);
        const int64_t y0 = std::max<int64_t>(b.y1, offset_y);
        const int64_t y1 = std::min<int64_t>(b.y2, offset_y + s.height);
        if (x0 >= x1 || y0 >= y1)
            continue;
        const size_t bytes = size_t(x1 - x0) * size_t(d.bpp / 8);
        for (int64_t y = y0; y < y1; ++y) {
            uint8_t* row = d.row(y);
            const uint8_t* srow = s.row(y - offset_y);
            if (rop == Rop::Copy) {
                std::memmove(row + x0 * (d.bpp / 8), srow + (x0 - offset_x) * (d.bpp / 8), bytes);
                continue;
            }
            if (self) {
                snapshot.assign(srow + (x0 - offset_x) * (d.bpp / 8),
                                srow + (x0 - offset_x) * (d.bpp / 8) + bytes);
            }
            for (int64_t x = x0; x < x1; ++x) {
                const uint32_t sv =
                    self ? load(snapshot.data(), x - x0, s.bpp) : load(srow, x - offset_x, s.bpp);
                store(row, x, d.bpp, apply_rop(rop, sv, load(row, x, d.bpp)));
            }
        }
    }
    return {};
}

// The 16.16 scale factor sw_canvas.c computes for src -> dest sizes.
pixman_fixed_t scale_factor(int64_t src, int64_t dst) {
    return pixman_fixed_t(int64_t(uint64_t(src) * 65536u) / dst);
}

// __scale_image / __scale_image_rop / __colorkey_scale_image: the source area scaled into a
// box-sized image (pixman SRC with the same transform and filter), then blitted.
Result<PixmanImage> scaled_copy(pixman_image_t* src, const Rect& src_area, const Rect& box,
                                const Region& region, ScaleMode mode) {
    const int64_t dw = box.width();
    const int64_t dh = box.height();
    const pixman_box32_t ext =
        *pixman_region32_extents(const_cast<pixman_region32_t*>(region.get()));
    // Only the part of the box inside the region is materialised; pixels are sampled exactly
    // as for the whole box since the transform is anchored at the box origin.
    const int32_t ew = ext.x2 - ext.x1;
    const int32_t eh = ext.y2 - ext.y1;
    PixmanImage out(pixman_image_create_bits(pixman_image_get_format(src), ew, eh, nullptr, 0));
    if (!out)
        return make_error(Errc::LimitExceeded, 0, "pixman refused a scaled image");
    pixman_transform_t t;
    pixman_transform_init_scale(&t, scale_factor(src_area.width(), dw),
                                scale_factor(src_area.height(), dh));
    pixman_transform_translate(&t, nullptr, pixman_int_to_fixed(src_area.left),
                               pixman_int_to_fixed(src_area.top));
    pixman_image_set_transform(src, &t);
    pixman_image_set_repeat(src, PIXMAN_REPEAT_NONE);
    pixman_image_set_filter(
        src, mode == ScaleMode::Nearest ? PIXMAN_FILTER_NEAREST : PIXMAN_FILTER_GOOD, nullptr, 0);
    pixman_image_composite32(PIXMAN_OP_SRC, src, nullptr, out.get(),
                             int32_t(ext.x1 - int64_t{box.left}),
                             int32_t(ext.y1 - int64_t{box.top}), 0, 0, 0, 0, ew, eh);
    pixman_image_set_transform(src, nullptr);
    return out;
}

bool same_size(const Rect& a, const Rect& b) {
    return a.width() == b.width() && a.height() == b.height();
}

Result<void> check_scalable(const Rect& src_area, const Rect& box) {
    if (src_area.empty())
        return bad("empty src_area scaled to a non-empty box");
    if (box.width() > INT32_MAX || box.height() > INT32_MAX)
        return bad("box too large");
    return {};
}

// Source area -> region of dest, with `rop` (sw_canvas blit_image / scale_image and the _rop
// variants). Scaling without a ROP composites straight into the surface like spice-gtk.
Result<void> put_source(Surface& dest, const Region& region, const Source& source,
                        const Rect& src_area, const Rect& box, ScaleMode mode, Rop rop) {
    auto src = detail::source_for(source, dest.format());
    if (!src)
        return src.error();
    if (same_size(box, src_area)) {
        return blit(dest, region, src->get(), int64_t{box.left} - src_area.left,
                    int64_t{box.top} - src_area.top, rop);
    }
    if (auto ok = check_scalable(src_area, box); !ok)
        return ok;
    const pixman_box32_t ext =
        *pixman_region32_extents(const_cast<pixman_region32_t*>(region.get()));
    if (rop == Rop::Copy) {
        // __scale_image composites straight into the clipped surface
        pixman_image_t* s = src->get();
        pixman_transform_t t;
        pixman_transform_init_scale(&t, scale_factor(src_area.width(), box.width()),
                                    scale_factor(src_area.height(), box.height()));
        pixman_transform_translate(&t, nullptr, pixman_int_to_fixed(src_area.left),
                                   pixman_int_to_fixed(src_area.top));
        pixman_image_set_transform(s, &t);
        pixman_image_set_repeat(s, PIXMAN_REPEAT_NONE);
        pixman_image_set_filter(
            s, mode == ScaleMode::Nearest ? PIXMAN_FILTER_NEAREST : PIXMAN_FILTER_GOOD, nullptr, 0);
        pixman_image_t* d = dest.impl().image;
        pixman_image_set_clip_region32(d, const_cast<pixman_region32_t*>(region.get()));
        pixman_image_composite32(PIXMAN_OP_SRC, s, nullptr, d, int32_t(ext.x1 - int64_t{box.left}),
                                 int32_t(ext.y1 - int64_t{box.top}), 0, 0, ext.x1, ext.y1,
                                 ext.x2 - ext.x1, ext.y2 - ext.y1);
        pixman_image_set_clip_region32(d, nullptr);
        pixman_image_set_transform(s, nullptr);
        return {};
    }
    auto scaled = scaled_copy(src->get(), src_area, box, region, mode);
    if (!scaled)
        return scaled.error();
    return blit(dest, region, scaled->get(), ext.x1, ext.y1, rop);
}

Result<void> draw_brush(Surface& dest, const Region& region, const Brush& brush, Rop rop) {
    switch (brush.type) {
        case Brush::Type::Solid:
            fill_solid(dest, region, brush.color, rop);
            return {};
        case Brush::Type::None:  // still matters: the ROP may invert the destination
            fill_solid(dest, region, 0, rop);
            return {};
        case Brush::Type::Pattern: {
            auto tile = detail::source_for(brush.pattern, dest.format());
            if (!tile)
                return tile.error();
            return fill_tiled(dest, region, tile->get(), brush.pos, rop);
        }
    }
    return bad("brush type");
}

Result<void> check_brush(const Brush& brush) {
    if (brush.type == Brush::Type::Pattern) {
        if (detail::source_width(brush.pattern) == 0 || detail::source_height(brush.pattern) == 0)
            return bad("empty pattern");
    } else if (brush.type != Brush::Type::Solid && brush.type != Brush::Type::None) {
        return bad("brush type " + std::to_string(int(brush.type)));
    }
    return {};
}

// clear_dest_alpha (sw_canvas.c): after OVER on an xRGB surface, if the first pixel of the
// area got alpha 0xff, clear the alpha byte of the whole area.
Rect clear_dest_alpha(Surface& dest, int64_t x, int64_t y, int64_t w, int64_t h) {
    const int64_t x0 = std::max<int64_t>(x, 0);
    const int64_t y0 = std::max<int64_t>(y, 0);
    const int64_t x1 = std::min<int64_t>(x + w, dest.width());
    const int64_t y1 = std::min<int64_t>(y + h, dest.height());
    if (x0 >= x1 || y0 >= y1)
        return {};
    if ((dest.pixel(uint32_t(x0), uint32_t(y0)) & 0xff000000u) != 0xff000000u)
        return {};
    for (int64_t yy = y0; yy < y1; ++yy) {
        uint8_t* row = dest.row(uint32_t(yy));
        for (int64_t xx = x0; xx < x1; ++xx)
            store(row, xx, 32, load(row, xx, 32) & 0x00ffffffu);
    }
    return Rect{int32_t(x0), int32_t(y0), int32_t(x1), int32_t(y1)};
}

Damage with_rect(Damage d, const Rect& r) {
    if (r.empty())
        return d;
    Region all;
    for (const Rect& x : d.rects) {
        Region one(x);
        pixman_region32_union(all.get(), all.get(), one.get());
    }
    Region one(r);
    pixman_region32_union(all.get(), all.get(), one.get());
    return all.damage();
}

Result<Damage> solid_op(Surface& dest, const DrawArea& area, const Mask& mask, uint32_t color,
                        Rop rop) {
    if (auto ok = drawable(dest); !ok)
        return ok.error();
    Region region;
    base_region(region, dest, area);
    if (auto ok = apply_mask(region, mask, area.box.left, area.box.top); !ok)
        return ok.error();
    if (region.empty())
        return Damage{};
    fill_solid(dest, region, color, rop);
    return region.damage();
}

}  // namespace

// ---- the operations ---------------------------------------------------------------------------

Result<Damage> draw_fill(Surface& dest, const DrawArea& area, const Fill& fill) {
    if (auto ok = drawable(dest); !ok)
        return ok.error();
    if (auto ok = check_brush(fill.brush); !ok)
        return ok.error();
    Region region;
    base_region(region, dest, area);
    if (auto ok = apply_mask(region, fill.mask, area.box.left, area.box.top); !ok) {
        return ok.error();
    }
    const Rop rop = rop_from_descriptor(fill.rop_descriptor, RopInput::Brush, RopInput::Dest);
    if (rop == Rop::Noop || region.empty())
        return Damage{};
    if (auto ok = draw_brush(dest, region, fill.brush, rop); !ok)
        return ok.error();
    return region.damage();
}

Result<Damage> draw_copy(Surface& dest, const DrawArea& area, const Copy& copy) {
    if (auto ok = drawable(dest); !ok)
        return ok.error();
    Region region;
    base_region(region, dest, area);
    if (auto ok = apply_mask(region, copy.mask, area.box.left, area.box.top); !ok) {
        return ok.error();
    }
    const Rop rop = rop_from_descriptor(copy.rop_descriptor, RopInput::Src, RopInput::Dest);
    if (rop == Rop::Noop || region.empty())
        return Damage{};
    if (auto ok = put_source(dest, region, copy.src, copy.src_area, area.box, copy.scale_mode, rop);
        !ok) {
        return ok.error();
    }
    return region.damage();
}

Result<Damage> draw_blend(Surface& dest, const DrawArea& area, const Copy& blend) {
    return draw_copy(dest, area, blend);  // canvas_base.c: "copy and blend are the same"
}

Result<Damage> draw_opaque(Surface& dest, const DrawArea& area, const Opaque& opaque) {
    if (auto ok = drawable(dest); !ok)
        return ok.error();
    if (auto ok = check_brush(opaque.brush); !ok)
        return ok.error();
    Region region;
    base_region(region, dest, area);
    if (auto ok = apply_mask(region, opaque.mask, area.box.left, area.box.top); !ok) {
        return ok.error();
    }
    const Rop rop = rop_from_descriptor(opaque.rop_descriptor, RopInput::Brush, RopInput::Src);
    if (rop == Rop::Noop || region.empty())
        return Damage{};
    if (auto ok = put_source(dest, region, opaque.src, opaque.src_area, area.box, opaque.scale_mode,
                             Rop::Copy);
        !ok) {
        return ok.error();
    }
    if (auto ok = draw_brush(dest, region, opaque.brush, rop); !ok)
        return ok.error();
    return region.damage();
}

Result<Damage> draw_blackness(Surface& dest, const DrawArea& area, const Mask& mask) {
    return solid_op(dest, area, mask, 0, Rop::Copy);
}

Result<Damage> draw_whiteness(Surface& dest, const DrawArea& area, const Mask& mask) {
    return solid_op(dest, area, mask, 0xffffffffu, Rop::Copy);
}

Result<Damage> draw_invers(Surface& dest, const DrawArea& area, const Mask& mask) {
    return solid_op(dest, area, mask, 0, Rop::Invert);
}

Result<Damage> draw_rop3(Surface& dest, const DrawArea& area, const Rop3& op,
                         const CanvasOptions& options) {
    if (auto ok = drawable(dest); !ok)
        return ok.error();
    const int bpp = detail::bits_per_pixel(dest.format());
    if (bpp != 32 && bpp != 16)
        return unsupported("rop3 on a surface of 8 bits per pixel");
    if (auto ok = check_brush(op.brush); !ok)
        return ok.error();
    Region region;
    base_region(region, dest, area);
    if (auto ok = apply_mask(region, op.mask, area.box.left, area.box.top); !ok) {
        return ok.error();
    }
    const Rect& box = area.box;
    auto src = detail::source_for(op.src, dest.format());
    if (!src)
        return src.error();
    if (region.empty())
        return Damage{};
    const pixman_box32_t ext = *pixman_region32_extents(region.get());
    // s: the source aligned with the box (scaled like canvas_scale_surface when sizes differ).
    PixmanImage scaled;
    pixman_image_t* s = src->get();
    int64_t sx0 = 0, sy0 = 0;  // source pixel for box (left, top)
    if (!same_size(box, op.src_area)) {
        if (auto ok = check_scalable(op.src_area, box); !ok)
            return ok.error();
        const double fx = double(op.src_area.width()) / double(box.width());
        const double fy = double(op.src_area.height()) / double(box.height());
        const int32_t ew = ext.x2 - ext.x1;
        const int32_t eh = ext.y2 - ext.y1;
        scaled.reset(pixman_image_create_bits(pixman_image_get_format(s), ew, eh, nullptr, 0));
        if (!scaled)
            return make_error(Errc::LimitExceeded, 0, "pixman refused a scaled image");
        pixman_transform_t t;
        pixman_transform_init_scale(&t, pixman_double_to_fixed(fx), pixman_double_to_fixed(fy));
        pixman_image_set_transform(s, &t);
        pixman_image_set_repeat(s, PIXMAN_REPEAT_NONE);
        pixman_image_set_filter(
            s, op.scale_mode == ScaleMode::Nearest ? PIXMAN_FILTER_NEAREST : PIXMAN_FILTER_GOOD,
            nullptr, 0);
        const int32_t ox = int32_t(std::floor(op.src_area.left / fx + 0.5));
        const int32_t oy = int32_t(std::floor(op.src_area.top / fy + 0.5));
        pixman_image_composite32(PIXMAN_OP_SRC, s, nullptr, scaled.get(), ox + (ext.x1 - box.left),
                                 oy + (ext.y1 - box.top), 0, 0, 0, 0, ew, eh);
        pixman_image_set_transform(s, nullptr);
        s = scaled.get();
        sx0 = int64_t{box.left} - ext.x1;  // scaled image starts at the extents
        sy0 = int64_t{box.top} - ext.y1;
    } else {
        if (op.src_area.left < 0 || op.src_area.top < 0)
            return bad("rop3 src_area off the image");
        sx0 = op.src_area.left;
        sy0 = op.src_area.top;
        // canvas_draw_rop3: "bad src bitmap size" -> nothing drawn
        if (pixman_image_get_width(s) - sx0 < box.width() ||
            pixman_image_get_height(s) - sy0 < box.height()) {
            return bad("rop3 source smaller than the box");
        }
    }
    Pixels sp(s);
    if (sp.bpp != bpp)
        return unsupported("rop3 source of another depth than the surface");
    PixmanImage pattern;
    if (op.brush.type == Brush::Type::Pattern) {
        auto p = detail::source_for(op.brush.pattern, dest.format());
        if (!p)
            return p.error();
        pattern = std::move(*p);
        if (Pixels(pattern.get()).bpp != bpp)
            return unsupported("rop3 pattern of another depth");
    }
    if (options.reference_rop3_gaps && rop3_missing_in_reference(op.rop3)) {
        return region.damage();  // spice-gtk: "not implemented", destination kept
    }
    const uint32_t depth_mask = bpp == 32 ? 0xffffffffu : 0xffffu;
    Pixels d(dest.impl().image);
    // The source is read before any destination pixel is written (src may be this surface).
    std::vector<uint32_t> src_vals;
    for (const pixman_box32_t& b : region.boxes()) {
        for (int64_t y = b.y1; y < b.y2; ++y) {
            const uint8_t* srow = sp.row(y - box.top + sy0);
            for (int64_t x = b.x1; x < b.x2; ++x) {
                src_vals.push_back(load(srow, x - box.left + sx0, bpp));
            }
        }
    }
    size_t k = 0;
    const std::optional<Pixels> pp =
        pattern ? std::optional<Pixels>(Pixels(pattern.get())) : std::nullopt;
    for (const pixman_box32_t& b : region.boxes()) {
        for (int64_t y = b.y1; y < b.y2; ++y) {
            uint8_t* row = d.row(y);
            for (int64_t x = b.x1; x < b.x2; ++x) {
                uint32_t p = op.brush.color;
                if (pp) {
                    p = load(pp->row(floor_mod(y - op.brush.pos.y, pp->height)),
                             floor_mod(x - op.brush.pos.x, pp->width), bpp);
                }
                store(row, x, bpp,
                      apply_rop3(op.rop3, p, src_vals[k++], load(row, x, bpp)) & depth_mask);
            }
        }
    }
    return region.damage();
}

Result<Damage> draw_transparent(Surface& dest, const DrawArea& area, const Transparent& t) {
    if (auto ok = drawable(dest); !ok)
        return ok.error();
    Region region;
    base_region(region, dest, area);
    if (region.empty())
        return Damage{};
    uint32_t key = 0;
    const uint32_t c = t.true_color;
    switch (dest.format()) {
        case SurfaceFormat::Rgb32:
        case SurfaceFormat::Argb32:
            key = c & 0xffffff;
            break;
        case SurfaceFormat::Rgb16_555:
            key = ((c >> 3) & 0x1f) | ((c >> 6) & 0x3e0) | ((c >> 9) & 0x7c00);
            break;
        case SurfaceFormat::Rgb16_565:
            key = ((c >> 3) & 0x1f) | ((c >> 5) & 0x7e0) | ((c >> 8) & 0xf800);
            break;
        default:
            key = 0;
            break;
    }
    auto src = detail::source_for(t.src, dest.format());
    if (!src)
        return src.error();
    PixmanImage scaled;
    pixman_image_t* s = src->get();
    int64_t off_x = int64_t{area.box.left} - t.src_area.left;
    int64_t off_y = int64_t{area.box.top} - t.src_area.top;
    if (!same_size(area.box, t.src_area)) {
        if (auto ok = check_scalable(t.src_area, area.box); !ok)
            return ok.error();
        auto sc = scaled_copy(s, t.src_area, area.box, region, ScaleMode::Nearest);
        if (!sc)
            return sc.error();
        scaled = std::move(*sc);
        s = scaled.get();
        const pixman_box32_t ext = *pixman_region32_extents(region.get());
        off_x = ext.x1;
        off_y = ext.y1;
    }
    Pixels d(dest.impl().image);
    Pixels sp(s);
    if (sp.bpp != d.bpp)
        return unsupported("source of another depth than the surface");
    const uint32_t cmp_mask = d.bpp == 32 ? 0xffffffu : d.bpp == 16 ? 0xffffu : 0xffu;
    for (const pixman_box32_t& b : region.boxes()) {
        const int64_t x0 = std::max<int64_t>(b.x1, off_x);
        const int64_t x1 = std::min<int64_t>(b.x2, off_x + sp.width);
        for (int64_t y = std::max<int64_t>(b.y1, off_y);
             y < std::min<int64_t>(b.y2, off_y + sp.height); ++y) {
            uint8_t* row = d.row(y);
            const uint8_t* srow = sp.row(y - off_y);
            for (int64_t x = x0; x < x1; ++x) {
                const uint32_t v = load(srow, x - off_x, sp.bpp);
                if ((v & cmp_mask) != (key & cmp_mask))
                    store(row, x, d.bpp, v);
            }
        }
    }
    return region.damage();
}

Result<Damage> draw_alpha_blend(Surface& dest, const DrawArea& area, const AlphaBlend& ab) {
    if (auto ok = drawable(dest); !ok)
        return ok.error();
    Region region;
    base_region(region, dest, area);
    if (ab.alpha == 0 || region.empty())
        return Damage{};
    const bool dest_alpha = ab.alpha_flags & alpha_flags::kDestHasAlpha;
    auto src = detail::source_original(ab.src, ab.alpha_flags & alpha_flags::kSrcSurfaceHasAlpha);
    if (!src)
        return src.error();
    pixman_format_code_t dfmt = detail::pixman_format_of(dest.format());
    if (dest_alpha && dfmt == PIXMAN_x8r8g8b8)
        dfmt = PIXMAN_a8r8g8b8;
    PixmanImage d(pixman_image_create_bits(dfmt, int(dest.width()), int(dest.height()),
                                           reinterpret_cast<uint32_t*>(dest.row(0)),
                                           int(dest.stride())));
    pixman_image_set_clip_region32(d.get(), region.get());
    PixmanImage mask;
    if (ab.alpha != 0xff) {
        pixman_color_t color{0, 0, 0, uint16_t(ab.alpha * 0x101)};
        mask.reset(pixman_image_create_solid_fill(&color));
    }
    pixman_image_t* s = src->get();
    pixman_image_set_repeat(s, PIXMAN_REPEAT_NONE);
    const Rect& box = area.box;
    const pixman_box32_t ext = *pixman_region32_extents(region.get());
    const int32_t ew = ext.x2 - ext.x1;
    const int32_t eh = ext.y2 - ext.y1;
    if (same_size(box, ab.src_area)) {
        pixman_image_composite32(PIXMAN_OP_OVER, s, mask.get(), d.get(),
                                 int32_t(ab.src_area.left + (ext.x1 - int64_t{box.left})),
                                 int32_t(ab.src_area.top + (ext.y1 - int64_t{box.top})), 0, 0,
                                 ext.x1, ext.y1, ew, eh);
    } else {
        if (auto ok = check_scalable(ab.src_area, box); !ok)
            return ok.error();
        pixman_transform_t t;
        pixman_transform_init_scale(&t, scale_factor(ab.src_area.width(), box.width()),
                                    scale_factor(ab.src_area.height(), box.height()));
        pixman_transform_translate(&t, nullptr, pixman_int_to_fixed(ab.src_area.left),
                                   pixman_int_to_fixed(ab.src_area.top));
        pixman_image_set_transform(s, &t);
        pixman_image_set_filter(s, PIXMAN_FILTER_NEAREST, nullptr, 0);
        pixman_image_composite32(PIXMAN_OP_OVER, s, mask.get(), d.get(),
                                 int32_t(ext.x1 - int64_t{box.left}),
                                 int32_t(ext.y1 - int64_t{box.top}), 0, 0, ext.x1, ext.y1, ew, eh);
        pixman_image_set_transform(s, nullptr);
    }
    Damage damage = region.damage();
    if (dest.format() == SurfaceFormat::Rgb32 && !dest_alpha) {
        damage = with_rect(std::move(damage),
                           clear_dest_alpha(dest, box.left, box.top, box.width(), box.height()));
    }
    return damage;
}

Result<Damage> copy_bits(Surface& dest, const DrawArea& area, Point src_pos) {
    if (auto ok = drawable(dest); !ok)
        return ok.error();
    Region region;
    base_region(region, dest, area);
    const int64_t dx = int64_t{area.box.left} - src_pos.x;
    const int64_t dy = int64_t{area.box.top} - src_pos.y;
    if (dx == 0 && dy == 0)
        return Damage{};
    // source pixel = dest pixel - (dx, dy) must lie on the surface
    const int64_t W = dest.width();
    const int64_t H = dest.height();
    if (dx >= W || dy >= H || dx <= -W || dy <= -H)
        return Damage{};
    region.intersect(Rect{int32_t(std::max<int64_t>(dx, 0)), int32_t(std::max<int64_t>(dy, 0)),
                          int32_t(std::min(W, W + dx)), int32_t(std::min(H, H + dy))});
    if (region.empty())
        return Damage{};
    // Copy from a snapshot of the source rows: the same result as copy_region's ordered
    // per-rectangle copies, for any overlap.
    const pixman_box32_t ext = *pixman_region32_extents(region.get());
    const size_t bpp = size_t(detail::bits_per_pixel(dest.format()) / 8);
    const int64_t sx = ext.x1 - dx;
    const int64_t sy = ext.y1 - dy;
    const size_t row_bytes = size_t(ext.x2 - ext.x1) * bpp;
    std::vector<uint8_t> snap(row_bytes * size_t(ext.y2 - ext.y1));
    for (int64_t y = 0; y < ext.y2 - ext.y1; ++y) {
        std::memcpy(snap.data() + size_t(y) * row_bytes, dest.row(uint32_t(sy + y)) + sx * bpp,
                    row_bytes);
    }
    for (const pixman_box32_t& b : region.boxes()) {
        for (int64_t y = b.y1; y < b.y2; ++y) {
            std::memcpy(dest.row(uint32_t(y)) + b.x1 * bpp,
                        snap.data() + size_t(y - ext.y1) * row_bytes + size_t(b.x1 - ext.x1) * bpp,
                        size_t(b.x2 - b.x1) * bpp);
        }
    }
    return region.damage();
}

Result<Damage> draw_composite(Surface& dest, const DrawArea& area, const Composite& c) {
    if (auto ok = drawable(dest); !ok)
        return ok.error();
    const uint32_t op = c.flags & 0xff;
    const bool op_ok = op <= 0x0d || (op >= 0x10 && op <= 0x1b) || (op >= 0x20 && op <= 0x2b) ||
                       (op >= 0x30 && op <= 0x3e);
    if (!op_ok)
        return bad("composite op " + std::to_string(op));
    const uint32_t src_filter = (c.flags >> 8) & 7;
    const uint32_t mask_filter = (c.flags >> 11) & 7;
    if (src_filter > PIXMAN_FILTER_BILINEAR || mask_filter > PIXMAN_FILTER_BILINEAR) {
        return unsupported("composite filter " + std::to_string(std::max(src_filter, mask_filter)));
    }
    const bool has_mask = c.flags & composite_flags::kHasMask;
    if (has_mask && !c.mask)
        return bad("composite HAS_MASK without a mask image");
    Region region;
    base_region(region, dest, area);
    // Source: images in the target format; a source surface with SOURCE_OPAQUE read without alpha
    Result<PixmanImage> src = [&]() -> Result<PixmanImage> {
        if (const Surface* const* s = std::get_if<const Surface*>(&c.src)) {
            if (!*s)
                return bad("source surface missing");
            pixman_format_code_t f = detail::pixman_format_of((*s)->format());
            if ((c.flags & composite_flags::kSourceOpaque) && f == PIXMAN_a8r8g8b8) {
                f = PIXMAN_x8r8g8b8;
            }
            return PixmanImage(pixman_image_create_bits(
                f, int((*s)->width()), int((*s)->height()),
                reinterpret_cast<uint32_t*>(const_cast<uint8_t*>((*s)->row(0))),
                int((*s)->stride())));
        }
        return detail::source_for(c.src, dest.format());
    }();
    if (!src)
        return src.error();
    Result<PixmanImage> mask = PixmanImage();
    if (has_mask)
        mask = detail::source_original(*c.mask, false);
    if (!mask)
        return mask.error();
    if (region.empty())
        return Damage{};
    auto to_pixman = [](const Transform& t) {
        pixman_transform_t p;
        p.matrix[0][0] = t.t00;
        p.matrix[0][1] = t.t01;
        p.matrix[0][2] = t.t02;
        p.matrix[1][0] = t.t10;
        p.matrix[1][1] = t.t11;
        p.matrix[1][2] = t.t12;
        p.matrix[2][0] = 0;
        p.matrix[2][1] = 0;
        p.matrix[2][2] = pixman_fixed_1;
        return p;
    };
    pixman_image_t* s = src->get();
    if (c.flags & composite_flags::kHasSrcTransform) {
        const pixman_transform_t t = to_pixman(c.src_transform);
        pixman_image_set_transform(s, &t);
    }
    pixman_image_set_filter(s, pixman_filter_t(src_filter), nullptr, 0);
    pixman_image_set_repeat(s, pixman_repeat_t((c.flags >> 14) & 3));
    pixman_image_t* m = mask->get();
    if (m) {
        if (c.flags & composite_flags::kHasMaskTransform) {
            const pixman_transform_t t = to_pixman(c.mask_transform);
            pixman_image_set_transform(m, &t);
        }
        pixman_image_set_repeat(m, pixman_repeat_t((c.flags >> 16) & 3));
        pixman_image_set_filter(m, pixman_filter_t(mask_filter), nullptr, 0);
        pixman_image_set_component_alpha(m, (c.flags >> 18) & 1);
    }
    // d: a copy of the destination under the region's extents (canvas_get_image_from_self
    // copies the whole box; pixels outside the region are never written back).
    const pixman_box32_t ext = *pixman_region32_extents(region.get());
    const int32_t ew = ext.x2 - ext.x1;
    const int32_t eh = ext.y2 - ext.y1;
    PixmanImage d(
        pixman_image_create_bits(detail::pixman_format_of(dest.format()), ew, eh, nullptr, 0));
    if (!d)
        return make_error(Errc::LimitExceeded, 0, "pixman refused a composite buffer");
    Pixels dp(d.get());
    const size_t bpp = size_t(detail::bits_per_pixel(dest.format()) / 8);
    for (int32_t y = 0; y < eh; ++y) {
        std::memcpy(dp.row(y), dest.row(uint32_t(ext.y1 + y)) + size_t(ext.x1) * bpp,
                    size_t(ew) * bpp);
    }
    const int64_t kx = int64_t{ext.x1} - area.box.left;
    const int64_t ky = int64_t{ext.y1} - area.box.top;
    pixman_image_composite32(pixman_op_t(op), s, m, d.get(), int32_t(c.src_origin.x + kx),
                             int32_t(c.src_origin.y + ky), int32_t(c.mask_origin.x + kx),
                             int32_t(c.mask_origin.y + ky), 0, 0, ew, eh);
    if (auto ok = blit(dest, region, d.get(), ext.x1, ext.y1, Rop::Copy); !ok)
        return ok.error();
    return region.damage();
}

// ---- text -------------------------------------------------------------------------------------

Result<Damage> draw_text(Surface& dest, const DrawArea& area, const Text& text,
                         const CanvasLimits& limits) {
    if (auto ok = drawable(dest); !ok)
        return ok.error();
    if (auto ok = check_brush(text.fore_brush); !ok)
        return ok.error();
    if (auto ok = check_brush(text.back_brush); !ok)
        return ok.error();
    int depth = 0;
    if (text.str.flags & string_flags::kRasterA1) {
        depth = 1;
    } else if (text.str.flags & string_flags::kRasterA4) {
        depth = 4;
    } else if (text.str.flags & string_flags::kRasterA8) {
        depth = 8;
    } else {
        return unsupported("vector glyphs (spice-gtk draws only the back area)");
    }
    if (text.str.glyphs.empty())
        return bad("text without glyphs");
    if (text.str.glyphs.size() > limits.max_glyphs) {
        return make_error(Errc::LimitExceeded, 0, "too many glyphs");
    }
    // The string mask spans the union of the glyph boxes (canvas_get_str_mask).
    int64_t bl = INT64_MAX, bt = INT64_MAX, br = INT64_MIN, bb = INT64_MIN;
    for (const Glyph& g : text.str.glyphs) {
        const int64_t l = int64_t{g.render_pos.x} + g.glyph_origin.x;
        const int64_t t = int64_t{g.render_pos.y} + g.glyph_origin.y;
        bl = std::min(bl, l);
        bt = std::min(bt, t);
        br = std::max(br, l + g.width);
        bb = std::max(bb, t + g.height);
        const size_t row = depth == 8 ? g.width : (size_t{g.width} * depth + 7) / 8;
        if (!g.data && g.width && g.height)
            return bad("glyph without data");
        if (g.size < row * g.height)
            return bad("glyph data shorter than its raster");
    }
    const int64_t mw = br - bl;
    const int64_t mh = bb - bt;
    if (mw <= 0 || mh <= 0)
        return bad("text whose glyphs cover no pixels");
    if (mw > limits.max_width || mh > limits.max_height ||
        uint64_t(mw) * uint64_t(mh) > limits.max_pixels || bl < INT32_MIN || br > INT32_MAX ||
        bt < INT32_MIN || bb > INT32_MAX) {
        return make_error(Errc::LimitExceeded, 0, "text mask exceeds the canvas limits");
    }
    Region region;
    base_region(region, dest, area);
    if (region.empty())
        return Damage{};
    Damage damage;
    if (!text.back_area.empty()) {
        // sw_canvas.c: back areas are only drawn for OP_PUT text; otherwise nothing at all.
        if (text.fore_mode != ropd::kOpPut)
            return Damage{};
        Region back(text.back_area);
        back.intersect(region);
        if (!back.empty()) {
            if (auto ok = draw_brush(dest, back, text.back_brush, Rop::Copy); !ok) {
                return ok.error();
            }
        }
    }
    PixmanImage str(
        pixman_image_create_bits(depth == 1 ? PIXMAN_a1 : PIXMAN_a8, int(mw), int(mh), nullptr, 0));
    if (!str)
        return make_error(Errc::LimitExceeded, 0, "pixman refused the text mask");
    Pixels sm(str.get());
    for (const Glyph& g : text.str.glyphs) {
        const int64_t gx = int64_t{g.render_pos.x} + g.glyph_origin.x - bl;
        const int64_t gy = int64_t{g.render_pos.y} + g.glyph_origin.y - bt;
        const size_t src_stride = depth == 8 ? g.width : (size_t{g.width} * depth + 7) / 8;
        for (int64_t r = 0; r < g.height; ++r) {
            // glyph rows are stored bottom-up (RASTER_TOP_DOWN is ignored, as in spice-gtk)
            const uint8_t* src = g.data + size_t(g.height - 1 - r) * src_stride;
            uint8_t* out = sm.row(gy + r);
            for (int64_t i = 0; i < g.width; ++i) {
                const int64_t x = gx + i;
                if (depth == 1) {
                    if ((src[i / 8] >> (7 - i % 8)) & 1)
                        out[x / 8] |= uint8_t(1u << (x % 8));
                } else if (depth == 4) {
                    const uint8_t v = (i % 2 == 0) ? (src[i / 2] & 0xf0) : uint8_t(src[i / 2] << 4);
                    out[x] = std::max(out[x], v);
                } else {
                    out[x] = std::max(out[x], src[i]);
                }
            }
        }
    }
    // The fore brush as a pixman source (canvas_get_pixman_brush).
    PixmanImage brush;
    const Brush& fb = text.fore_brush;
    if (fb.type == Brush::Type::Solid) {
        const int bpp = detail::bits_per_pixel(dest.format());
        const uint32_t shift = bpp == 16 ? 5 : 8;
        const uint32_t cmask = bpp == 16 ? 0x1f : 0xff;
        uint32_t col = fb.color;
        pixman_color_t pc;
        pc.blue = uint16_t(((col & cmask) * 0xffff) / cmask);
        col >>= shift;
        pc.green = uint16_t(((col & cmask) * 0xffff) / cmask);
        col >>= shift;
        pc.red = uint16_t(((col & cmask) * 0xffff) / cmask);
        pc.alpha = 0xffff;
        brush.reset(pixman_image_create_solid_fill(&pc));
    } else if (fb.type == Brush::Type::Pattern) {
        auto p = detail::source_original(fb.pattern, false);
        if (!p)
            return p.error();
        brush = std::move(*p);
        pixman_transform_t t;
        pixman_transform_init_translate(&t, pixman_int_to_fixed(-fb.pos.x),
                                        pixman_int_to_fixed(-fb.pos.y));
        pixman_image_set_transform(brush.get(), &t);
        pixman_image_set_repeat(brush.get(), PIXMAN_REPEAT_NORMAL);
    }
    damage = region.damage();
    if (brush) {
        pixman_image_t* d = dest.impl().image;
        pixman_image_set_clip_region32(d, region.get());
        pixman_image_composite32(PIXMAN_OP_OVER, brush.get(), str.get(), d, 0, 0, 0, 0, int32_t(bl),
                                 int32_t(bt), int32_t(mw), int32_t(mh));
        pixman_image_set_clip_region32(d, nullptr);
        if (dest.format() == SurfaceFormat::Rgb32) {
            damage = with_rect(std::move(damage), clear_dest_alpha(dest, bl, bt, mw, mh));
        }
    }
    return damage;
}

}  // namespace spicetap::canvas
