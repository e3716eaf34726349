// PNG snapshots of a surface through libpng's simplified API.
#include <png.h>

#include <cstring>
#include <vector>

#include "replay/canvas/surface.h"

namespace spicetap::canvas {

Result<void> write_png(const Surface& surface, const std::string& path) {
    std::vector<uint32_t> argb;
    surface.read_argb32(argb);
    const bool alpha = surface.format() == SurfaceFormat::Argb32 ||
                       surface.format() == SurfaceFormat::A8 ||
                       surface.format() == SurfaceFormat::A1;
    const size_t channels = alpha ? 4 : 3;
    std::vector<uint8_t> bytes(argb.size() * channels);
    for (size_t i = 0; i < argb.size(); ++i) {
        const uint32_t p = argb[i];
        uint8_t* o = bytes.data() + i * channels;
        o[0] = uint8_t(p >> 16);
        o[1] = uint8_t(p >> 8);
        o[2] = uint8_t(p);
        if (alpha)
            o[3] = uint8_t(p >> 24);
    }
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = surface.width();
    image.height = surface.height();
    image.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    if (!png_image_write_to_file(&image, path.c_str(), 0, bytes.data(),
                                 png_int_32(surface.width() * channels), nullptr)) {
        std::string why = image.message;
        png_image_free(&image);
        return make_error(Errc::Io, 0, "cannot write PNG " + path + ": " + why);
    }
    return {};
}

}  // namespace spicetap::canvas
