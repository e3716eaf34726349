// Image operands as pixman images, and the region helpers the draw ops share.
#include <algorithm>
#include <cstring>
#include <string>

#include "replay/canvas/pixman_internal.h"

namespace spicetap::canvas::detail {

Region::Region(const Rect& rect) {
    if (rect.empty()) {
        pixman_region32_init(&r_);
    } else {
        pixman_region32_init_rect(&r_, rect.left, rect.top, uint32_t(rect.width()),
                                  uint32_t(rect.height()));
    }
}

bool Region::empty() const {
    return !pixman_region32_not_empty(const_cast<pixman_region32_t*>(&r_));
}

void Region::intersect(const Rect& rect) {
    Region other(rect);
    pixman_region32_intersect(&r_, &r_, other.get());
}

void Region::intersect(Region& other) {
    pixman_region32_intersect(&r_, &r_, other.get());
}

std::vector<pixman_box32_t> Region::boxes() const {
    int n = 0;
    const pixman_box32_t* b = pixman_region32_rectangles(const_cast<pixman_region32_t*>(&r_), &n);
    return std::vector<pixman_box32_t>(b, b + n);
}

Damage Region::damage() const {
    Damage d;
    for (const pixman_box32_t& b : boxes())
        d.rects.push_back(Rect{b.x1, b.y1, b.x2, b.y2});
    return d;
}

namespace {

pixman_format_code_t image_format(codec::PixelFormat f) {
    switch (f) {
        case codec::PixelFormat::Xrgb32:
            return PIXMAN_x8r8g8b8;
        case codec::PixelFormat::Argb32:
            return PIXMAN_a8r8g8b8;
        case codec::PixelFormat::A8:
            return PIXMAN_a8;
        case codec::PixelFormat::A1:
            return PIXMAN_a1;
    }
    return PIXMAN_x8r8g8b8;
}

Result<PixmanImage> wrap_image(const ImageRef& img) {
    if (!img.data || img.width == 0 || img.height == 0) {
        return make_error(Errc::BadValue, 0, "empty source image");
    }
    if (img.width > 65535 * 4 || img.height > 65535 * 4 ||
        img.stride < codec::bytes_per_row(img.format, img.width)) {
        return make_error(Errc::BadValue, 0, "source image stride shorter than its rows");
    }
    const pixman_format_code_t fmt = image_format(img.format);
    const bool aligned = img.stride % 4 == 0 && reinterpret_cast<uintptr_t>(img.data) % 4 == 0;
    if (aligned) {
        // pixman never writes to a source image; the const_cast stays inside this module
        pixman_image_t* p = pixman_image_create_bits(
            fmt, int(img.width), int(img.height),
            reinterpret_cast<uint32_t*>(const_cast<uint8_t*>(img.data)), int(img.stride));
        if (!p)
            return make_error(Errc::LimitExceeded, 0, "pixman refused the source image");
        return PixmanImage(p);
    }
    pixman_image_t* p = pixman_image_create_bits(fmt, int(img.width), int(img.height), nullptr, 0);
    if (!p)
        return make_error(Errc::LimitExceeded, 0, "pixman refused the source image");
    auto* dst = reinterpret_cast<uint8_t*>(pixman_image_get_data(p));
    const size_t dst_stride = size_t(pixman_image_get_stride(p));
    const size_t row = codec::bytes_per_row(img.format, img.width);
    for (uint32_t y = 0; y < img.height; ++y) {
        std::memcpy(dst + y * dst_stride, img.data + y * img.stride, row);
    }
    return PixmanImage(p);
}

PixmanImage wrap_surface(const Surface& s, pixman_format_code_t fmt) {
    return PixmanImage(pixman_image_create_bits(
        fmt, int(s.width()), int(s.height()),
        reinterpret_cast<uint32_t*>(const_cast<uint8_t*>(s.row(0))), int(s.stride())));
}

int pixman_bpp(pixman_format_code_t f) {
    return PIXMAN_FORMAT_BPP(f);
}

}  // namespace

uint32_t source_width(const Source& source) {
    if (const auto* img = std::get_if<ImageRef>(&source))
        return img->width;
    const Surface* s = std::get<const Surface*>(source);
    return s ? s->width() : 0;
}

uint32_t source_height(const Source& source) {
    if (const auto* img = std::get_if<ImageRef>(&source))
        return img->height;
    const Surface* s = std::get<const Surface*>(source);
    return s ? s->height() : 0;
}

Result<PixmanImage> source_for(const Source& source, SurfaceFormat dest) {
    if (const Surface* const* s = std::get_if<const Surface*>(&source)) {
        if (!*s)
            return make_error(Errc::BadValue, 0, "source surface missing");
        return wrap_surface(**s, pixman_format_of((*s)->format()));
    }
    auto wrapped = wrap_image(std::get<ImageRef>(source));
    if (!wrapped)
        return wrapped;
    const pixman_format_code_t have = pixman_image_get_format(wrapped->get());
    pixman_format_code_t want = pixman_format_of(dest);
    // canvas_get_target_format: an image with alpha keeps it on an xRGB target (same bits),
    // one without stays xRGB on an ARGB target.
    if (want == PIXMAN_x8r8g8b8 && have == PIXMAN_a8r8g8b8)
        want = PIXMAN_a8r8g8b8;
    if (want == PIXMAN_a8r8g8b8 && have == PIXMAN_x8r8g8b8)
        want = PIXMAN_x8r8g8b8;
    if (pixman_bpp(have) == pixman_bpp(want) && (have == want || pixman_bpp(have) == 32)) {
        return wrapped;
    }
    if (have == PIXMAN_a1) {
        return make_error(Errc::Unsupported, 0, "a 1-bit image as a colour source");
    }
    const int w = pixman_image_get_width(wrapped->get());
    const int h = pixman_image_get_height(wrapped->get());
    PixmanImage converted(pixman_image_create_bits(want, w, h, nullptr, 0));
    if (!converted)
        return make_error(Errc::LimitExceeded, 0, "pixman refused a conversion");
    pixman_image_composite32(PIXMAN_OP_SRC, wrapped->get(), nullptr, converted.get(), 0, 0, 0, 0, 0,
                             0, w, h);
    return converted;
}

Result<PixmanImage> source_original(const Source& source, bool surface_has_alpha) {
    if (const Surface* const* s = std::get_if<const Surface*>(&source)) {
        if (!*s)
            return make_error(Errc::BadValue, 0, "source surface missing");
        pixman_format_code_t fmt = pixman_format_of((*s)->format());
        if (surface_has_alpha && fmt == PIXMAN_x8r8g8b8)
            fmt = PIXMAN_a8r8g8b8;
        return wrap_surface(**s, fmt);
    }
    return wrap_image(std::get<ImageRef>(source));
}

}  // namespace spicetap::canvas::detail
