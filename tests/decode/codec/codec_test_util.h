// Helpers shared by the codec tests: pixel access, test pictures and PSNR.
#pragma once

#include <jpeglib.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "decode/codec/image_cache.h"

namespace spicetap::test {

inline uint32_t pixel32(const codec::DecodedImage& img, uint32_t x, uint32_t y) {
    const uint8_t* p = img.row(y) + 4 * size_t{x};
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// A smooth picture with a moving component, as B,G,R bytes (3 per pixel, packed rows). Smooth
// content keeps lossy codecs well above 40 dB, so a decoder bug (wrong colour order, a shifted
// or flipped plane) shows as a large PSNR drop.
inline std::vector<uint8_t> test_picture_bgr(uint32_t w, uint32_t h, int frame = 0) {
    std::vector<uint8_t> out(size_t{w} * h * 3);
    for (uint32_t y = 0; y < h; ++y) {
        for (uint32_t x = 0; x < w; ++x) {
            uint8_t* p = &out[(size_t{y} * w + x) * 3];
            const double fx = static_cast<double>(x) / w;
            const double fy = static_cast<double>(y) / h;
            p[0] = static_cast<uint8_t>(40 + 170 * fx);                                       // B
            p[1] = static_cast<uint8_t>(40 + 170 * fy);                                       // G
            p[2] = static_cast<uint8_t>(128 + 90 * std::sin(6.0 * (fx + fy) + 0.3 * frame));  // R
        }
    }
    return out;
}

// PSNR of the RGB channels of an Xrgb32 image against packed B,G,R bytes.
inline double psnr_vs_bgr(const codec::DecodedImage& img, const std::vector<uint8_t>& bgr) {
    double sq = 0;
    for (uint32_t y = 0; y < img.height; ++y) {
        for (uint32_t x = 0; x < img.width; ++x) {
            const uint8_t* a = img.row(y) + 4 * size_t{x};
            const uint8_t* b = &bgr[(size_t{y} * img.width + x) * 3];
            for (int c = 0; c < 3; ++c) {
                const double d = static_cast<double>(a[c]) - static_cast<double>(b[c]);
                sq += d * d;
            }
        }
    }
    const double mse = sq / (3.0 * img.width * img.height);
    return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

// Encodes packed B,G,R rows as a baseline JPEG with libjpeg (4:4:4 when `full_chroma`).
inline std::vector<uint8_t> encode_jpeg_bgr(const std::vector<uint8_t>& bgr, uint32_t w, uint32_t h,
                                            int quality, bool full_chroma = true) {
    jpeg_compress_struct cinfo;
    jpeg_error_mgr jerr;
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    unsigned char* buf = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&cinfo, &buf, &size);
    cinfo.image_width = w;
    cinfo.image_height = h;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_EXT_BGR;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (full_chroma) {
        cinfo.comp_info[0].h_samp_factor = 1;
        cinfo.comp_info[0].v_samp_factor = 1;
    }
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < h) {
        JSAMPROW row = const_cast<uint8_t*>(&bgr[size_t{cinfo.next_scanline} * w * 3]);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    std::vector<uint8_t> out(buf, buf + size);
    std::free(buf);
    return out;
}

}  // namespace spicetap::test
