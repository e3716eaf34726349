// Edge cases every image codec must get right: 1x1 images, odd widths, and sizes past the limits
// refused cleanly (an error naming the limit, before any pixel buffer is sized from the header).
#include <lz4.h>
#include <zlib.h>

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
#include "decode/codec/zlib_glz_decoder.h"
#include "tests/decode/codec/codec_test_util.h"
#include "tests/decode/codec/lz_test_encoder.h"
#include "tests/decode/codec/lz_test_vectors.h"

using namespace spicetap;
using namespace spicetap::codec;
using test::pixel32;

namespace {

void put_le32(std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(uint8_t(v >> (8 * i)));
    }
}

void set_be32(std::vector<uint8_t>& s, size_t at, uint32_t v) {
    s[at] = uint8_t(v >> 24);
    s[at + 1] = uint8_t(v >> 16);
    s[at + 2] = uint8_t(v >> 8);
    s[at + 3] = uint8_t(v);
}

std::vector<uint8_t> zlib_glz_wrap(const std::vector<uint8_t>& glz) {
    uLongf n = compressBound(uLong(glz.size()));
    std::vector<uint8_t> z(n);
    REQUIRE(compress2(z.data(), &n, glz.data(), uLong(glz.size()), 6) == Z_OK);
    z.resize(n);
    std::vector<uint8_t> out;
    put_le32(out, uint32_t(glz.size()));
    put_le32(out, uint32_t(z.size()));
    out.insert(out.end(), z.begin(), z.end());
    return out;
}

// spice-server's LZ4 image layout, one block: top_down u8, SpiceBitmapFmt u8, then each block's
// compressed size (u32 big-endian) and the block.
std::vector<uint8_t> lz4_image(const std::vector<uint8_t>& stored, BitmapFormat format) {
    std::vector<uint8_t> out{1, uint8_t(format)};
    std::vector<char> buf(size_t(LZ4_compressBound(int(stored.size()))));
    const int n = LZ4_compress_default(reinterpret_cast<const char*>(stored.data()), buf.data(),
                                       int(stored.size()), int(buf.size()));
    REQUIRE(n > 0);
    out.resize(out.size() + 4);
    set_be32(out, 2, uint32_t(n));
    out.insert(out.end(), buf.begin(), buf.begin() + n);
    return out;
}

BitmapDescriptor bitmap(BitmapFormat f, uint32_t w, uint32_t h, uint32_t stride,
                        const std::vector<uint8_t>& data) {
    BitmapDescriptor b;
    b.format = uint8_t(f);
    b.flags = bitmap_flags::kTopDown;
    b.width = w;
    b.height = h;
    b.stride = stride;
    b.data = ByteView(data);
    return b;
}

Palette ramp(size_t n) {
    Palette p{7, {}};
    for (size_t i = 0; i < n; ++i) {
        p.entries.push_back(uint32_t(i * 0x010101u) ^ 0x00400000u);
    }
    return p;
}

}  // namespace

TEST_CASE("1x1 images in every codec", "[codec][edges]") {
    SECTION("BITMAP: 32-bit, and 1-, 4-, 8-bit indexed with 2-, 16-, 256-entry palettes") {
        const std::vector<uint8_t> rgb32{0x11, 0x22, 0x33, 0x00};
        auto img = DecodedImage::allocate(1, 1, PixelFormat::Xrgb32);
        REQUIRE(decode_bitmap(bitmap(BitmapFormat::Rgb32, 1, 1, 4, rgb32), nullptr, img.view()));
        CHECK(pixel32(img, 0, 0) == 0xff332211u);

        struct Indexed {
            BitmapFormat format;
            uint8_t byte;
            size_t palette_size;
            uint32_t index;
        };

        for (const Indexed& c : {Indexed{BitmapFormat::OneBitLe, 0x01, 2, 1},
                                 Indexed{BitmapFormat::OneBitBe, 0x80, 2, 1},
                                 Indexed{BitmapFormat::FourBitLe, 0x0b, 16, 11},
                                 Indexed{BitmapFormat::FourBitBe, 0xb0, 16, 11},
                                 Indexed{BitmapFormat::EightBit, 200, 256, 200}}) {
            INFO(bitmap_format_name(uint8_t(c.format)));
            const std::vector<uint8_t> data{c.byte};
            const Palette pal = ramp(c.palette_size);
            const auto desc = bitmap(c.format, 1, 1, 1, data);
            auto info = probe_bitmap(desc);
            REQUIRE(info);
            CHECK(info->width == 1);
            auto out = DecodedImage::allocate(1, 1, info->format);
            REQUIRE(decode_bitmap(desc, &pal, out.view()));
            CHECK((pixel32(out, 0, 0) & 0xffffff) == (pal.entries[c.index] & 0xffffff));
        }
    }
    SECTION("LZ_RGB and LZ_PLT") {
        test::LzSource s;
        s.type = LzImageType::Rgb32;
        s.width = s.height = 1;
        s.stride = 4;
        s.px = {0x00abcdefu};
        LzDecoder dec;
        const auto stream = test::lz_encode(s);
        auto img = DecodedImage::allocate(1, 1, PixelFormat::Xrgb32);
        REQUIRE(dec.decode(stream, img.view()));
        CHECK(pixel32(img, 0, 0) == 0xffabcdefu);

        test::LzSource p;
        p.type = LzImageType::Plt8;
        p.width = p.height = 1;
        p.stride = 1;
        p.bytes = {3};
        const Palette pal = ramp(4);
        auto out = DecodedImage::allocate(1, 1, PixelFormat::Xrgb32);
        REQUIRE(dec.decode(test::lz_encode(p), out.view(), pal.entries));
        CHECK((pixel32(out, 0, 0) & 0xffffff) == (pal.entries[3] & 0xffffff));
    }
    SECTION("GLZ and ZLIB_GLZ") {
        test::GlzSource s;
        s.width = s.height = 1;
        s.id = 5;
        s.px = {0x00123456u};
        GlzWindow window;
        GlzDecoder glz(window);
        ZlibGlzDecoder zglz(window);
        auto img = DecodedImage::allocate(1, 1, PixelFormat::Xrgb32);
        REQUIRE(glz.decode(test::glz_encode(s), img.view()));
        CHECK(pixel32(img, 0, 0) == 0xff123456u);
        s.id = 6;
        s.px = {0x00654321u};
        REQUIRE(zglz.decode(zlib_glz_wrap(test::glz_encode(s)), img.view()));
        CHECK(pixel32(img, 0, 0) == 0xff654321u);
    }
    SECTION("LZ4") {
        const auto payload = lz4_image({0x01, 0x02, 0x03, 0x00}, BitmapFormat::Rgb32);
        auto info = probe_lz4(payload, 1, 1);
        REQUIRE(info);
        auto img = DecodedImage::allocate(1, 1, info->format);
        REQUIRE(decode_lz4(payload, img.view()));
        CHECK((pixel32(img, 0, 0) & 0xffffff) == 0x030201u);
    }
    SECTION("JPEG") {
        const std::vector<uint8_t> bgr{60, 120, 180};
        const auto jpeg = test::encode_jpeg_bgr(bgr, 1, 1, 95);
        auto info = probe_jpeg(jpeg);
        REQUIRE(info);
        CHECK(info->width == 1);
        CHECK(info->height == 1);
        auto img = DecodedImage::allocate(1, 1, PixelFormat::Xrgb32);
        REQUIRE(decode_jpeg(jpeg, img.view()));
        CHECK(test::psnr_vs_bgr(img, bgr) >= 40.0);
    }
}

TEST_CASE("odd widths: rows are not padded to what the codec likes", "[codec][edges]") {
    SECTION("LZ RGB24 13x3 and GLZ RGB16 7x5") {
        test::LzSource s;
        s.type = LzImageType::Rgb24;
        s.width = 13;
        s.height = 3;
        s.stride = 13 * 3;
        for (uint32_t i = 0; i < 13 * 3; ++i) {
            s.px.push_back((i * 0x0a0b0cu) & 0xffffff);
        }
        LzDecoder dec;
        auto img = DecodedImage::allocate(13, 3, PixelFormat::Xrgb32);
        REQUIRE(dec.decode(test::lz_encode(s), img.view()));
        for (uint32_t i = 0; i < 13 * 3; ++i) {
            REQUIRE(pixel32(img, i % 13, i / 13) == (0xff000000u | s.px[i]));
        }

        test::GlzSource g;
        g.type = LzImageType::Rgb16;
        g.width = 7;
        g.height = 5;
        for (uint32_t i = 0; i < 35; ++i) {
            g.px.push_back((i * 0x0421u) & 0x7fff);
        }
        GlzWindow window;
        GlzDecoder glz(window);
        auto out = DecodedImage::allocate(7, 5, PixelFormat::Xrgb32);
        REQUIRE(glz.decode(test::glz_encode(g), out.view()));
        for (uint32_t i = 0; i < 35; ++i) {
            REQUIRE(pixel32(out, i % 7, i / 7) == rgb555_to_xrgb(uint16_t(g.px[i])));
        }
    }
    SECTION("LZ4 24-bit, 5 wide with rows padded to 16 bytes") {
        std::vector<uint8_t> stored(16 * 3, 0xee);
        for (uint32_t y = 0; y < 3; ++y) {
            for (uint32_t x = 0; x < 5 * 3; ++x) {
                stored[y * 16 + x] = uint8_t(y * 40 + x);
            }
        }
        const auto payload = lz4_image(stored, BitmapFormat::Rgb24);
        auto info = probe_lz4(payload, 5, 3);
        REQUIRE(info);
        auto img = DecodedImage::allocate(5, 3, info->format);
        auto ok = decode_lz4(payload, img.view());
        INFO((ok ? std::string() : ok.error().message()));
        REQUIRE(ok);
        for (uint32_t y = 0; y < 3; ++y) {
            for (uint32_t x = 0; x < 5; ++x) {
                const uint8_t* s = &stored[y * 16 + x * 3];
                CHECK((pixel32(img, x, y) & 0xffffff) ==
                      (uint32_t(s[2]) << 16 | uint32_t(s[1]) << 8 | s[0]));
            }
        }
    }
    SECTION("JPEG 17x9 keeps 40 dB") {
        const auto bgr = test::test_picture_bgr(17, 9);
        const auto jpeg = test::encode_jpeg_bgr(bgr, 17, 9, 95);
        auto img = DecodedImage::allocate(17, 9, PixelFormat::Xrgb32);
        REQUIRE(decode_jpeg(jpeg, img.view()));
        CHECK(test::psnr_vs_bgr(img, bgr) >= 40.0);
    }
    SECTION("BITMAP 24-bit 3 wide, stride 12") {
        std::vector<uint8_t> data(12 * 2, 0);
        for (size_t i = 0; i < 9; ++i) {
            data[i] = uint8_t(i + 1);
            data[12 + i] = uint8_t(100 + i);
        }
        auto img = DecodedImage::allocate(3, 2, PixelFormat::Xrgb32);
        REQUIRE(decode_bitmap(bitmap(BitmapFormat::Rgb24, 3, 2, 12, data), nullptr, img.view()));
        CHECK(pixel32(img, 2, 0) == 0xff090807u);
        CHECK(pixel32(img, 0, 1) == 0xff666564u);
    }
}

TEST_CASE("sizes past the limits are refused with LimitExceeded, not allocated", "[codec][edges]") {
    // 16385 is one past the width/height cap; 16384x16384 is within both, past the pixel cap.
    struct Size {
        uint32_t w, h;
    };

    const Size too_big[] = {{16385, 1}, {1, 16385}, {16384, 16384}, {0xffffffffu, 0xffffffffu}};

    SECTION("BITMAP") {
        const std::vector<uint8_t> data(64);
        for (const Size& s : too_big) {
            auto desc = bitmap(BitmapFormat::Rgb32, s.w, s.h, 4, data);
            auto r = probe_bitmap(desc);
            REQUIRE_FALSE(r);
            CHECK(r.error().code == Errc::LimitExceeded);
        }
    }
    SECTION("LZ and GLZ headers (real streams with their size patched)") {
        auto lz = test::read_codec_vector("lz/small_9x2.lz");
        auto glz = test::read_codec_vector("glz/id00_9x2.glz");
        LzDecoder lz_dec;
        GlzWindow window;
        GlzDecoder glz_dec(window);
        ZlibGlzDecoder zglz_dec(window);
        for (const Size& s : too_big) {
            INFO(s.w << "x" << s.h);
            set_be32(lz, 12, s.w);
            set_be32(lz, 16, s.h);
            set_be32(lz, 20, s.w * 4);
            auto r = lz_dec.probe(lz);
            REQUIRE_FALSE(r);
            CHECK(r.error().code == Errc::LimitExceeded);
            set_be32(glz, 9, s.w);
            set_be32(glz, 13, s.h);
            set_be32(glz, 17, s.w * 4);
            auto g = glz_dec.probe(glz);
            REQUIRE_FALSE(g);
            CHECK(g.error().code == Errc::LimitExceeded);
            auto z = zglz_dec.probe(zlib_glz_wrap(glz));
            REQUIRE_FALSE(z);
            CHECK(z.error().code == Errc::LimitExceeded);
            auto img = DecodedImage::allocate(1, 1, PixelFormat::Xrgb32);
            CHECK_FALSE(glz_dec.decode(glz, img.view()));
        }
        CHECK(window.image_count() == 0);
    }
    SECTION("LZ4 (the size comes from the image descriptor)") {
        const auto payload = lz4_image({1, 2, 3, 0}, BitmapFormat::Rgb32);
        for (const Size& s : too_big) {
            auto r = probe_lz4(payload, s.w, s.h);
            REQUIRE_FALSE(r);
            CHECK(r.error().code == Errc::LimitExceeded);
        }
    }
    SECTION("JPEG (SOF0 patched to 65000x65000)") {
        auto jpeg = test::encode_jpeg_bgr(test::test_picture_bgr(16, 16), 16, 16, 90);
        size_t sof = 0;
        for (size_t i = 0; i + 9 < jpeg.size(); ++i) {
            if (jpeg[i] == 0xff && jpeg[i + 1] == 0xc0) {
                sof = i;
                break;
            }
        }
        REQUIRE(sof > 0);
        jpeg[sof + 5] = 0xfd;  // height 65000, big-endian
        jpeg[sof + 6] = 0xe8;
        jpeg[sof + 7] = 0xfd;  // width
        jpeg[sof + 8] = 0xe8;
        auto r = probe_jpeg(jpeg);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::LimitExceeded);
    }
}
