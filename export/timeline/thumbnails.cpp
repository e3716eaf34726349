#include "export/timeline/thumbnails.h"

#include <png.h>

#include <algorithm>
#include <cstring>

#include "replay/session_replay.h"

namespace spicetap::timeline {

namespace {

// Box-filtered downscale of 0xAARRGGBB pixels to RGB bytes.
std::vector<uint8_t> shrink_rgb(const std::vector<uint32_t>& argb, uint32_t w, uint32_t h,
                                uint32_t tw, uint32_t th) {
    std::vector<uint8_t> out(size_t{tw} * th * 3);
    for (uint32_t ty = 0; ty < th; ++ty) {
        const uint32_t y0 = uint32_t(uint64_t{ty} * h / th);
        const uint32_t y1 = std::max(y0 + 1, uint32_t(uint64_t{ty + 1} * h / th));
        for (uint32_t tx = 0; tx < tw; ++tx) {
            const uint32_t x0 = uint32_t(uint64_t{tx} * w / tw);
            const uint32_t x1 = std::max(x0 + 1, uint32_t(uint64_t{tx + 1} * w / tw));
            uint64_t r = 0, g = 0, b = 0, n = 0;
            for (uint32_t y = y0; y < y1 && y < h; ++y) {
                const uint32_t* row = argb.data() + size_t{y} * w;
                for (uint32_t x = x0; x < x1 && x < w; ++x) {
                    r += (row[x] >> 16) & 0xff;
                    g += (row[x] >> 8) & 0xff;
                    b += row[x] & 0xff;
                    ++n;
                }
            }
            uint8_t* d = out.data() + (size_t{ty} * tw + tx) * 3;
            n = std::max<uint64_t>(n, 1);
            d[0] = uint8_t(r / n);
            d[1] = uint8_t(g / n);
            d[2] = uint8_t(b / n);
        }
    }
    return out;
}

std::vector<uint8_t> encode_png(const std::vector<uint8_t>& rgb, uint32_t w, uint32_t h) {
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = w;
    image.height = h;
    image.format = PNG_FORMAT_RGB;
    png_alloc_size_t size = 0;
    const auto stride = static_cast<png_int_32>(w * 3);
    if (!png_image_write_to_memory(&image, nullptr, &size, 0, rgb.data(), stride, nullptr)) {
        png_image_free(&image);
        return {};
    }
    std::vector<uint8_t> out(size);
    if (!png_image_write_to_memory(&image, out.data(), &size, 0, rgb.data(), stride, nullptr)) {
        png_image_free(&image);
        return {};
    }
    out.resize(size);
    return out;
}

}  // namespace

Result<std::vector<Thumbnail>> render_thumbnails(const log::SessionLogReader& reader,
                                                 const ThumbnailOptions& options) {
    std::vector<Thumbnail> out;
    if (options.count <= 0 || options.to_us < options.from_us) {
        return out;
    }
    auto replay = replay::SessionReplay::open(reader);
    if (!replay) {
        return replay.error();
    }
    std::vector<uint32_t> argb;
    const int64_t span = options.to_us - options.from_us;
    for (int i = 0; i < options.count; ++i) {
        // The last picture is at the end of the range, the first one step in from its start.
        const int64_t t = options.from_us + span * (i + 1) / options.count;
        if (auto ok = (*replay)->run_until(t); !ok) {
            return ok.error();
        }
        for (int display : (*replay)->displays()) {
            const canvas::Surface* s = (*replay)->primary(display);
            if (s == nullptr || s->width() == 0 || s->height() == 0) {
                continue;
            }
            Thumbnail th;
            th.ts_us = t;
            th.display = display;
            th.screen_width = s->width();
            th.screen_height = s->height();
            th.width = std::min(options.max_width, s->width());
            th.height =
                std::max<uint32_t>(1, uint32_t(uint64_t{s->height()} * th.width / s->width()));
            th.exact = (*replay)->primary_unsure(display).empty();
            s->read_argb32(argb);
            th.png = encode_png(shrink_rgb(argb, s->width(), s->height(), th.width, th.height),
                                th.width, th.height);
            if (!th.png.empty()) {
                out.push_back(std::move(th));
            }
        }
    }
    return out;
}

std::string base64(const std::vector<uint8_t>& bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const uint32_t v = uint32_t(bytes[i]) << 16 | uint32_t(bytes[i + 1]) << 8 | bytes[i + 2];
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i < bytes.size()) {
        uint32_t v = uint32_t(bytes[i]) << 16;
        if (i + 1 < bytes.size()) {
            v |= uint32_t(bytes[i + 1]) << 8;
        }
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

}  // namespace spicetap::timeline
