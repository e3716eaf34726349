// Internal to replay/canvas: the pixman side of Surface and the helpers every draw op shares.
// Not for other modules (they must not see pixman).
#pragma once

#include <pixman.h>

#include <memory>
#include <vector>

#include "decode/wire/result.h"
#include "replay/canvas/surface.h"
#include "replay/canvas/types.h"

namespace spicetap::canvas {

struct Surface::Impl {
    uint32_t id = 0;
    SurfaceFormat format = SurfaceFormat::Rgb32;
    std::vector<uint32_t> storage;  // 4-byte aligned rows, as pixman wants
    pixman_image_t* image = nullptr;

    ~Impl();
};

namespace detail {

struct ImageDeleter {
    void operator()(pixman_image_t* image) const {
        if (image)
            pixman_image_unref(image);
    }
};

using PixmanImage = std::unique_ptr<pixman_image_t, ImageDeleter>;

// A pixman_region32_t with RAII.
class Region {
public:
    Region() { pixman_region32_init(&r_); }

    explicit Region(const Rect& rect);
    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;

    ~Region() { pixman_region32_fini(&r_); }

    pixman_region32_t* get() { return &r_; }

    const pixman_region32_t* get() const { return &r_; }

    bool empty() const;
    void intersect(const Rect& rect);
    void intersect(Region& other);

    void translate(int dx, int dy) { pixman_region32_translate(&r_, dx, dy); }

    std::vector<pixman_box32_t> boxes() const;
    Damage damage() const;

private:
    pixman_region32_t r_;
};

pixman_format_code_t pixman_format_of(SurfaceFormat f);
int bits_per_pixel(SurfaceFormat f);

// A pixman view of `source` in the depth of a `dest`-format surface, the way canvas_get_image
// (want_original = false) converts images to the target format. Surfaces come back as they are.
Result<PixmanImage> source_for(const Source& source, SurfaceFormat dest);

// A pixman view of `source` in its own format (canvas_get_image want_original = true). With
// `surface_has_alpha`, an xRGB surface is read as ARGB (canvas_get_as_surface).
Result<PixmanImage> source_original(const Source& source, bool surface_has_alpha);

uint32_t source_width(const Source& source);
uint32_t source_height(const Source& source);

}  // namespace detail
}  // namespace spicetap::canvas
