#include "replay/canvas/surface.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "replay/canvas/pixman_internal.h"

namespace spicetap::canvas {

const char* surface_format_name(SurfaceFormat f) {
    switch (f) {
        case SurfaceFormat::A1:
            return "1_A";
        case SurfaceFormat::A8:
            return "8_A";
        case SurfaceFormat::Rgb16_555:
            return "16_555";
        case SurfaceFormat::Rgb32:
            return "32_xRGB";
        case SurfaceFormat::Rgb16_565:
            return "16_565";
        case SurfaceFormat::Argb32:
            return "32_ARGB";
    }
    return "unknown";
}

Rect Damage::extents() const {
    if (rects.empty())
        return {};
    Rect e = rects.front();
    for (const Rect& r : rects) {
        e.left = std::min(e.left, r.left);
        e.top = std::min(e.top, r.top);
        e.right = std::max(e.right, r.right);
        e.bottom = std::max(e.bottom, r.bottom);
    }
    return e;
}

Surface::Impl::~Impl() {
    if (image)
        pixman_image_unref(image);
}

namespace detail {

pixman_format_code_t pixman_format_of(SurfaceFormat f) {
    switch (f) {
        case SurfaceFormat::A1:
            return PIXMAN_a1;
        case SurfaceFormat::A8:
            return PIXMAN_a8;
        case SurfaceFormat::Rgb16_555:
            return PIXMAN_x1r5g5b5;
        case SurfaceFormat::Rgb16_565:
            return PIXMAN_r5g6b5;
        case SurfaceFormat::Rgb32:
            return PIXMAN_x8r8g8b8;
        case SurfaceFormat::Argb32:
            return PIXMAN_a8r8g8b8;
    }
    return PIXMAN_x8r8g8b8;
}

int bits_per_pixel(SurfaceFormat f) {
    switch (f) {
        case SurfaceFormat::A1:
            return 1;
        case SurfaceFormat::A8:
            return 8;
        case SurfaceFormat::Rgb16_555:
        case SurfaceFormat::Rgb16_565:
            return 16;
        case SurfaceFormat::Rgb32:
        case SurfaceFormat::Argb32:
            return 32;
    }
    return 32;
}

}  // namespace detail

Result<Surface> Surface::create(uint32_t id, uint32_t width, uint32_t height, SurfaceFormat format,
                                const CanvasLimits& limits) {
    switch (format) {
        case SurfaceFormat::A1:
        case SurfaceFormat::A8:
        case SurfaceFormat::Rgb16_555:
        case SurfaceFormat::Rgb16_565:
        case SurfaceFormat::Rgb32:
        case SurfaceFormat::Argb32:
            break;
        default:
            return make_error(Errc::Unsupported, 0,
                              "surface format " + std::to_string(uint32_t(format)));
    }
    if (width == 0 || height == 0) {
        return make_error(Errc::BadValue, 0,
                          "surface " + std::to_string(id) + " has zero width or height");
    }
    if (width > limits.max_width || height > limits.max_height ||
        uint64_t{width} * height > limits.max_pixels) {
        return make_error(Errc::LimitExceeded, 0,
                          "surface " + std::to_string(id) + " of " + std::to_string(width) + "x" +
                              std::to_string(height) + " exceeds the canvas limits");
    }
    auto impl = std::make_unique<Impl>();
    impl->id = id;
    impl->format = format;
    const int bpp = detail::bits_per_pixel(format);
    const size_t stride = ((size_t{width} * bpp + 31) / 32) * 4;
    impl->storage.assign(stride / 4 * height, 0);
    impl->image = pixman_image_create_bits(detail::pixman_format_of(format), int(width),
                                           int(height), impl->storage.data(), int(stride));
    if (!impl->image) {
        return make_error(Errc::LimitExceeded, 0, "pixman refused a surface this large");
    }
    return Surface(std::move(impl));
}

Surface::Surface(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Surface Surface::clone() const {
    auto impl = std::make_unique<Impl>();
    impl->id = impl_->id;
    impl->format = impl_->format;
    impl->storage = impl_->storage;
    impl->image = pixman_image_create_bits(detail::pixman_format_of(impl->format), int(width()),
                                           int(height()), impl->storage.data(), int(stride()));
    return Surface(std::move(impl));
}

Surface::Surface(Surface&&) noexcept = default;
Surface& Surface::operator=(Surface&&) noexcept = default;
Surface::~Surface() = default;

uint32_t Surface::id() const {
    return impl_->id;
}

uint32_t Surface::width() const {
    return uint32_t(pixman_image_get_width(impl_->image));
}

uint32_t Surface::height() const {
    return uint32_t(pixman_image_get_height(impl_->image));
}

SurfaceFormat Surface::format() const {
    return impl_->format;
}

size_t Surface::stride() const {
    return size_t(pixman_image_get_stride(impl_->image));
}

size_t Surface::bytes_per_row() const {
    return (size_t{width()} * detail::bits_per_pixel(format()) + 7) / 8;
}

const uint8_t* Surface::row(uint32_t y) const {
    return reinterpret_cast<const uint8_t*>(impl_->storage.data()) + y * stride();
}

uint8_t* Surface::row(uint32_t y) {
    return reinterpret_cast<uint8_t*>(impl_->storage.data()) + y * stride();
}

uint32_t Surface::pixel(uint32_t x, uint32_t y) const {
    if (x >= width() || y >= height())
        return 0;
    const uint8_t* r = row(y);
    switch (detail::bits_per_pixel(format())) {
        case 1:
            return (r[x / 8] >> (x % 8)) & 1;
        case 8:
            return r[x];
        case 16: {
            uint16_t v;
            std::memcpy(&v, r + 2 * size_t{x}, 2);
            return v;
        }
        default: {
            uint32_t v;
            std::memcpy(&v, r + 4 * size_t{x}, 4);
            return v;
        }
    }
}

void Surface::set_pixel(uint32_t x, uint32_t y, uint32_t value) {
    if (x >= width() || y >= height())
        return;
    uint8_t* r = row(y);
    switch (detail::bits_per_pixel(format())) {
        case 1:
            r[x / 8] = uint8_t((r[x / 8] & ~(1u << (x % 8))) | ((value & 1) << (x % 8)));
            break;
        case 8:
            r[x] = uint8_t(value);
            break;
        case 16: {
            const uint16_t v = uint16_t(value);
            std::memcpy(r + 2 * size_t{x}, &v, 2);
            break;
        }
        default:
            std::memcpy(r + 4 * size_t{x}, &value, 4);
            break;
    }
}

namespace {

uint32_t expand(uint32_t v, int bits) {
    // bit replication, as pixman expands narrow channels
    uint32_t out = v << (8 - bits);
    out |= out >> bits;
    if (bits < 4)
        out |= out >> (2 * bits);
    return out & 0xff;
}

}  // namespace

void Surface::read_argb32(std::vector<uint32_t>& out) const {
    const uint32_t w = width();
    const uint32_t h = height();
    out.resize(size_t{w} * h);
    for (uint32_t y = 0; y < h; ++y) {
        for (uint32_t x = 0; x < w; ++x) {
            const uint32_t p = pixel(x, y);
            uint32_t argb = 0;
            switch (format()) {
                case SurfaceFormat::Rgb32:
                    argb = 0xff000000u | (p & 0xffffff);
                    break;
                case SurfaceFormat::Argb32:
                    argb = p;
                    break;
                case SurfaceFormat::Rgb16_555:
                    argb = 0xff000000u | expand((p >> 10) & 0x1f, 5) << 16 |
                           expand((p >> 5) & 0x1f, 5) << 8 | expand(p & 0x1f, 5);
                    break;
                case SurfaceFormat::Rgb16_565:
                    argb = 0xff000000u | expand((p >> 11) & 0x1f, 5) << 16 |
                           expand((p >> 5) & 0x3f, 6) << 8 | expand(p & 0x1f, 5);
                    break;
                case SurfaceFormat::A8:
                    argb = p << 24;
                    break;
                case SurfaceFormat::A1:
                    argb = p ? 0xff000000u : 0;
                    break;
            }
            out[size_t{y} * w + x] = argb;
        }
    }
}

}  // namespace spicetap::canvas
