// Real payloads of known content: images the libspice-server test peer sent spice-gtk
// (tests/peers, scenarios lossless-off/-lz/-glz/-lz4 and lossy-jpeg), cut with
// `spicetap images --payloads`. The server drew pictures we can rebuild
// (tests/support/known_pictures.h), so every lossless decode must give them exactly and the JPEG
// must stay within 40 dB of its source. LZ_PLT (palette pictures, lossless-lz) and JPEG_ALPHA
// (an RGBA photo, lossy-jpeg) come from the extra pictures the server draws there.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "decode/codec/bitmap_decoder.h"
#include "decode/codec/glz_decoder.h"
#include "decode/codec/glz_window.h"
#include "decode/codec/image_cache.h"
#include "decode/codec/jpeg_decoder.h"
#include "decode/codec/lz4_decoder.h"
#include "decode/codec/lz_decoder.h"
#include "tests/decode/codec/codec_test_util.h"
#include "tests/decode/codec/lz_test_vectors.h"
#include "tests/support/known_pictures.h"

using namespace spicetap;
using namespace spicetap::codec;

namespace {

// Compares the RGB of an Xrgb32 image with 0x00RRGGBB pixels; counts the differing ones.
size_t differing(const DecodedImage& img, const std::vector<uint32_t>& want) {
    REQUIRE(want.size() == size_t{img.width} * img.height);
    size_t n = 0;
    for (uint32_t y = 0; y < img.height; ++y) {
        for (uint32_t x = 0; x < img.width; ++x) {
            n += (test::pixel32(img, x, y) & 0xffffff) != want[size_t{y} * img.width + x];
        }
    }
    return n;
}

std::vector<uint8_t> bgr_of(const std::vector<uint32_t>& px) {
    std::vector<uint8_t> out;
    for (uint32_t p : px) {
        out.push_back(uint8_t(p));
        out.push_back(uint8_t(p >> 8));
        out.push_back(uint8_t(p >> 16));
    }
    return out;
}

}  // namespace

TEST_CASE("real BITMAP payload (32BIT, top-down) is the server's 16x16 tile",
          "[codec][bitmap][real]") {
    const auto data = test::read_codec_vector("bitmap/peer_tile_16x16.rgb32");
    BitmapDescriptor b;
    b.format = uint8_t(BitmapFormat::Rgb32);
    b.flags = bitmap_flags::kTopDown;  // as the session sent it (bitmap_flags 4)
    b.width = b.height = 16;
    b.stride = 64;
    b.data = ByteView(data);
    auto info = probe_bitmap(b);
    REQUIRE(info);
    auto img = DecodedImage::allocate(16, 16, info->format);
    REQUIRE(decode_bitmap(b, nullptr, img.view()));
    CHECK(differing(img, test::pattern_flat(16, 16, 3)) == 0);
}

TEST_CASE("real LZ_RGB payloads are the server's pictures", "[codec][lz][real]") {
    LzDecoder dec;
    for (const auto& [name, want] :
         {std::pair{"lz/peer_tile_16x16.lz", test::pattern_flat(16, 16, 3)},
          std::pair{"lz/peer_flat_64x48.lz", test::pattern_flat(64, 48, 5)}}) {
        INFO(name);
        const auto s = test::read_codec_vector(name);
        auto info = dec.probe(s);
        REQUIRE(info);
        auto img = DecodedImage::allocate(info->width, info->height, info->format);
        REQUIRE(dec.decode(s, img.view()));
        CHECK(differing(img, want) == 0);
    }
}

TEST_CASE("real GLZ: a 200x100 picture, then tiles that copy from it and from each other",
          "[codec][glz][real]") {
    GlzWindow window;
    GlzDecoder dec(window);
    {
        // GLZ image 1 of the session; tile 1 (image 3) refers back to it.
        const auto s = test::read_codec_vector("glz/peer_flat_200x100.glz");
        auto img = DecodedImage::allocate(200, 100, PixelFormat::Xrgb32);
        auto ok = dec.decode(s, img.view());
        INFO((ok ? std::string() : ok.error().message()));
        REQUIRE(ok);
        CHECK(differing(img, test::pattern_flat(200, 100, 0)) == 0);
    }
    const auto want = test::pattern_flat(16, 16, 3);
    for (int i = 1; i <= 4; ++i) {
        INFO("tile " << i);
        const auto s = test::read_codec_vector("glz/peer_tile" + std::to_string(i) + "_16x16.glz");
        auto img = DecodedImage::allocate(16, 16, PixelFormat::Xrgb32);
        auto ok = dec.decode(s, img.view());
        INFO((ok ? std::string() : ok.error().message()));
        REQUIRE(ok);
        CHECK(differing(img, want) == 0);
    }
    CHECK(window.image_count() >= 1);

    SECTION("without the picture the first tile is a clean missing-image error") {
        GlzWindow fresh;
        GlzDecoder d2(fresh);
        auto img = DecodedImage::allocate(16, 16, PixelFormat::Xrgb32);
        auto r = d2.decode(test::read_codec_vector("glz/peer_tile1_16x16.glz"), img.view());
        REQUIRE_FALSE(r);
        CHECK(d2.missing_image() == uint64_t{1});
        CHECK(r.error().what.find("refers to image 1") != std::string::npos);
    }
}

TEST_CASE("real LZ4 payloads are the server's pictures", "[codec][lz4][real]") {
    for (const auto& [name, w, h, want] :
         {std::tuple{"lz4/peer_tile_16x16.lz4", 16u, 16u, test::pattern_flat(16, 16, 3)},
          std::tuple{"lz4/peer_flat_64x48.lz4", 64u, 48u, test::pattern_flat(64, 48, 5)},
          std::tuple{"lz4/peer_flat_200x100.lz4", 200u, 100u, test::pattern_flat(200, 100, 0)}}) {
        INFO(name);
        const auto s = test::read_codec_vector(name);
        auto info = probe_lz4(s, w, h);
        REQUIRE(info);
        auto img = DecodedImage::allocate(w, h, info->format);
        auto ok = decode_lz4(s, img.view());
        INFO((ok ? std::string() : ok.error().message()));
        REQUIRE(ok);
        CHECK(differing(img, want) == 0);
    }
}

TEST_CASE("real JPEG payload is within 40 dB of the photo the server drew", "[codec][jpeg][real]") {
    const auto s = test::read_codec_vector("jpeg/peer_photo_256x160.jpg");
    auto info = probe_jpeg(s);
    REQUIRE(info);
    REQUIRE(info->width == 256);
    REQUIRE(info->height == 160);
    auto img = DecodedImage::allocate(256, 160, PixelFormat::Xrgb32);
    REQUIRE(decode_jpeg(s, img.view()));
    const double psnr = test::psnr_vs_bgr(img, bgr_of(test::pattern_photo(256, 160, 0)));
    INFO("PSNR " << psnr);
    CHECK(psnr >= 40.0);
}

namespace {

// The palette pictures the test server draws with --palette-bitmaps (draw_palette_pictures in
// tests/peers/server/display.c), rebuilt here: the palette and each pixel's colour.
struct PalettePicture {
    const char* vector;
    LzImageType type;
    uint32_t width, height;
    std::vector<uint32_t> palette;
    std::vector<uint32_t> pixels;
};

std::vector<PalettePicture> palette_pictures() {
    std::vector<PalettePicture> out;
    PalettePicture p8{"lz/peer_plt8_64x48.lz", LzImageType::Plt8, 64, 48, {}, {}};
    for (uint32_t i = 0; i < 256; ++i) {
        p8.palette.push_back((i * 7 & 0xff) << 16 | (i * 13 & 0xff) << 8 | (255 - i));
    }
    for (uint32_t y = 0; y < 48; ++y) {
        for (uint32_t x = 0; x < 64; ++x) {
            p8.pixels.push_back(p8.palette[(x / 4) * 16 + y / 3]);
        }
    }
    PalettePicture p4{"lz/peer_plt4be_32x20.lz", LzImageType::Plt4Be, 32, 20, {}, {}};
    for (uint32_t i = 0; i < 16; ++i) {
        p4.palette.push_back((i * 17) << 16 | (255 - i * 17) << 8 | 0x40);
    }
    for (uint32_t y = 0; y < 20; ++y) {
        for (uint32_t x = 0; x < 32; ++x) {
            p4.pixels.push_back(p4.palette[(x / 4 + 3 * (y / 5)) & 15]);
        }
    }
    PalettePicture p1{
        "lz/peer_plt1be_40x16.lz", LzImageType::Plt1Be, 40, 16, {0x102030, 0xf0e0d0}, {}};
    for (uint32_t y = 0; y < 16; ++y) {
        for (uint32_t x = 0; x < 40; ++x) {
            p1.pixels.push_back(p1.palette[(x / 5 + y / 4) & 1]);
        }
    }
    out.push_back(std::move(p8));
    out.push_back(std::move(p4));
    out.push_back(std::move(p1));
    return out;
}

}  // namespace

TEST_CASE("real LZ_PLT payloads (8-, 4- and 1-bit) are the server's palette pictures",
          "[codec][lz][lz_plt][real]") {
    LzDecoder dec;
    for (const auto& p : palette_pictures()) {
        INFO(p.vector);
        const auto s = test::read_codec_vector(p.vector);
        auto header = dec.read_header(s);
        REQUIRE(header);
        CHECK(header->type == p.type);
        auto info = dec.probe(s);
        REQUIRE(info);
        REQUIRE(info->width == p.width);
        REQUIRE(info->height == p.height);
        auto img = DecodedImage::allocate(info->width, info->height, info->format);
        auto ok = dec.decode(s, img.view(), p.palette);
        INFO((ok ? std::string() : ok.error().message()));
        REQUIRE(ok);
        CHECK(differing(img, p.pixels) == 0);

        // the palette really is applied: another palette gives other pixels
        std::vector<uint32_t> shifted(p.palette.size());
        for (size_t i = 0; i < shifted.size(); ++i) {
            shifted[i] = p.palette[(i + 1) % p.palette.size()];
        }
        REQUIRE(dec.decode(s, img.view(), shifted));
        CHECK(differing(img, p.pixels) > 0);
    }
}

TEST_CASE("real JPEG_ALPHA payload: exact alpha plane, colour within 40 dB of the source",
          "[codec][jpeg][jpeg_alpha][real]") {
    // The whole SpiceJPEGAlphaData of the RGBA photo the test server draws with --rgba-photo
    // (draw_rgba_photo): colour pattern_photo(96, 64, 3), alpha (2x + 3y) mod 256.
    const auto payload = test::read_codec_vector("jpeg/peer_rgba_photo_96x64.jpga");
    auto parts = parse_jpeg_alpha(payload);
    REQUIRE(parts);
    CHECK(parts->top_down());
    CHECK(parts->jpeg_offset == 9);
    auto info = probe_jpeg(parts->jpeg);
    REQUIRE(info);
    REQUIRE(info->width == 96);
    REQUIRE(info->height == 64);

    auto img = DecodedImage::allocate(96, 64, PixelFormat::Argb32);
    REQUIRE(decode_jpeg(parts->jpeg, img.view()));
    LzDecoder lz;
    auto alpha_header = lz.read_header(parts->alpha);
    REQUIRE(alpha_header);
    CHECK(alpha_header->type == LzImageType::Xxxa);
    CHECK(alpha_header->top_down == parts->top_down());
    auto alpha = DecodedImage::allocate(96, 64, PixelFormat::A8);
    auto ok = lz.decode(parts->alpha, alpha.view());
    INFO((ok ? std::string() : ok.error().message()));
    REQUIRE(ok);
    REQUIRE(combine_alpha(img.view(), alpha.view()));

    size_t wrong_alpha = 0;
    for (uint32_t y = 0; y < 64; ++y) {
        for (uint32_t x = 0; x < 96; ++x) {
            wrong_alpha += (test::pixel32(img, x, y) >> 24) != ((2 * x + 3 * y) & 0xff);
        }
    }
    CHECK(wrong_alpha == 0);
    const double psnr = test::psnr_vs_bgr(img, bgr_of(test::pattern_photo(96, 64, 3)));
    INFO("PSNR " << psnr);
    CHECK(psnr >= 40.0);
}
