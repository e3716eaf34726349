// A drawing surface as spice-gtk keeps it (channel-display.c create_canvas): zero-filled pixels
// of one SpiceSurfaceFmt, held in a pixman image that only the canvas .cpp files see.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decode/wire/result.h"
#include "replay/canvas/types.h"

namespace spicetap::canvas {

class Surface {
public:
    // SURFACE_CREATE (314): surface_id, width, height, format. Zero-sized or oversized surfaces
    // (against `limits`) and unknown formats are refused.
    static Result<Surface> create(uint32_t id, uint32_t width, uint32_t height,
                                  SurfaceFormat format, const CanvasLimits& limits = {});

    // A copy with its own pixels (a frame to draw a cursor on, a checkpoint).
    Surface clone() const;

    Surface(Surface&&) noexcept;
    Surface& operator=(Surface&&) noexcept;
    ~Surface();

    uint32_t id() const;
    uint32_t width() const;
    uint32_t height() const;
    SurfaceFormat format() const;

    Rect bounds() const { return Rect{0, 0, int32_t(width()), int32_t(height())}; }

    // Raw pixel value at (x, y) in the surface's own depth (32, 16, 8 or 1 bit).
    uint32_t pixel(uint32_t x, uint32_t y) const;
    void set_pixel(uint32_t x, uint32_t y, uint32_t value);

    // Every pixel as 0xAARRGGBB, row-major (16-bit formats expanded by bit replication; A8/A1
    // give the alpha in the top byte and black colour; xRGB gives alpha 0xff).
    void read_argb32(std::vector<uint32_t>& out) const;

    // Raw pixels of row y (bytes_per_row() long).
    const uint8_t* row(uint32_t y) const;
    uint8_t* row(uint32_t y);
    size_t stride() const;
    size_t bytes_per_row() const;

    struct Impl;

    Impl& impl() const { return *impl_; }

private:
    explicit Surface(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Writes the surface as an 8-bit RGB (xRGB, 16-bit formats) or RGBA (ARGB, A8, A1) PNG.
Result<void> write_png(const Surface& surface, const std::string& path);

}  // namespace spicetap::canvas
