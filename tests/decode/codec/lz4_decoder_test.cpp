#include "decode/codec/lz4_decoder.h"

#include <lz4.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <vector>

#include "decode/codec/bitmap_decoder.h"
#include "decode/codec/image_cache.h"
#include "tests/decode/codec/codec_test_util.h"

using namespace spicetap;
using namespace spicetap::codec;
using spicetap::test::pixel32;

namespace {

// Compresses stored rows the way spice-server's lz4_encode does: a 2-byte header, then
// LZ4_compress_fast_continue over successive groups of rows (one stream, rows left in place),
// each block prefixed by its size as a big-endian u32.
std::vector<uint8_t> server_lz4(const std::vector<uint8_t>& stored, uint32_t stride,
                                uint32_t height, bool top_down, BitmapFormat format,
                                uint32_t rows_per_block) {
    std::vector<uint8_t> out{static_cast<uint8_t>(top_down ? 1 : 0), static_cast<uint8_t>(format)};
    LZ4_stream_t* stream = LZ4_createStream();
    for (uint32_t row = 0; row < height; row += rows_per_block) {
        const uint32_t n = std::min(rows_per_block, height - row);
        const char* in = reinterpret_cast<const char*>(stored.data()) + size_t{row} * stride;
        const int in_size = static_cast<int>(n * stride);
        std::vector<char> buf(static_cast<size_t>(LZ4_compressBound(in_size)));
        const int enc = LZ4_compress_fast_continue(stream, in, buf.data(), in_size,
                                                   static_cast<int>(buf.size()), 1);
        REQUIRE(enc > 0);
        const auto size = static_cast<uint32_t>(enc);
        out.push_back(static_cast<uint8_t>(size >> 24));
        out.push_back(static_cast<uint8_t>(size >> 16));
        out.push_back(static_cast<uint8_t>(size >> 8));
        out.push_back(static_cast<uint8_t>(size));
        out.insert(out.end(), buf.begin(), buf.begin() + enc);
    }
    LZ4_freeStream(stream);
    return out;
}

// Rows that repeat every 3 rows, so later blocks refer back into earlier ones.
uint8_t sample(uint32_t x, uint32_t y, uint32_t c) {
    return static_cast<uint8_t>((x * 7 + (y % 3) * 50 + c * 31) & 0xff);
}

// Logical row y (0 = top) lands at stored row y (top-down) or height-1-y (bottom-up).
std::vector<uint8_t> store_rows(uint32_t w, uint32_t h, uint32_t bpp, uint32_t stride,
                                bool top_down) {
    std::vector<uint8_t> stored(size_t{stride} * h, 0xee);
    for (uint32_t y = 0; y < h; ++y) {
        const uint32_t s = top_down ? y : h - 1 - y;
        for (uint32_t x = 0; x < w; ++x) {
            for (uint32_t c = 0; c < bpp; ++c) {
                stored[size_t{s} * stride + x * bpp + c] = sample(x, y, c);
            }
        }
    }
    return stored;
}

DecodedImage decode(const std::vector<uint8_t>& payload, uint32_t w, uint32_t h) {
    auto info = probe_lz4(payload, w, h);
    REQUIRE(info);
    auto img = DecodedImage::allocate(w, h, info->format);
    auto ok = decode_lz4(payload, img.view());
    INFO((ok ? std::string() : ok.error().message()));
    REQUIRE(ok);
    return img;
}

}  // namespace

TEST_CASE("LZ4 images in spice-server's layout: 32-bit, 24-bit, RGBA, top-down and bottom-up",
          "[codec][lz4]") {
    const uint32_t w = 37, h = 9;
    for (bool top_down : {true, false}) {
        for (uint32_t per_block : {1u, 4u, 9u}) {
            auto s32 = store_rows(w, h, 4, w * 4, top_down);
            auto img32 =
                decode(server_lz4(s32, w * 4, h, top_down, BitmapFormat::Rgb32, per_block), w, h);
            CHECK(img32.format == PixelFormat::Xrgb32);

            auto s24 = store_rows(w, h, 3, w * 3, top_down);
            auto img24 =
                decode(server_lz4(s24, w * 3, h, top_down, BitmapFormat::Rgb24, per_block), w, h);

            auto rgba =
                decode(server_lz4(s32, w * 4, h, top_down, BitmapFormat::Rgba, per_block), w, h);
            CHECK(rgba.format == PixelFormat::Argb32);

            bool all_match = true;
            for (uint32_t y = 0; y < h; ++y) {
                for (uint32_t x = 0; x < w; ++x) {
                    const uint32_t bgr = uint32_t{sample(x, y, 0)} |
                                         uint32_t{sample(x, y, 1)} << 8 |
                                         uint32_t{sample(x, y, 2)} << 16;
                    all_match &= pixel32(img32, x, y) == (0xff000000u | bgr);
                    all_match &= pixel32(img24, x, y) == (0xff000000u | bgr);
                    all_match &= pixel32(rgba, x, y) == (uint32_t{sample(x, y, 3)} << 24 | bgr);
                }
            }
            INFO("top_down " << top_down << " rows per block " << per_block);
            CHECK(all_match);
        }
    }
}

TEST_CASE("LZ4 16-bit images widen x1r5g5b5, rows padded to 4 bytes are accepted", "[codec][lz4]") {
    const uint32_t w = 3, h = 4;
    // Packed rows (6 bytes) and 4-byte aligned rows (8 bytes) as a server with a padded
    // bitmap stride would send them.
    for (uint32_t stride : {6u, 8u}) {
        std::vector<uint8_t> stored(size_t{stride} * h, 0);
        for (uint32_t y = 0; y < h; ++y) {
            for (uint32_t x = 0; x < w; ++x) {
                const uint16_t v = static_cast<uint16_t>((y << 10) | (x << 5) | 31);
                stored[y * stride + 2 * x] = static_cast<uint8_t>(v);
                stored[y * stride + 2 * x + 1] = static_cast<uint8_t>(v >> 8);
            }
        }
        auto img = decode(server_lz4(stored, stride, h, true, BitmapFormat::Rgb16, 2), w, h);
        CHECK(pixel32(img, 0, 0) == rgb555_to_xrgb(31));
        CHECK(pixel32(img, 2, 3) == rgb555_to_xrgb((3 << 10) | (2 << 5) | 31));
        CHECK(pixel32(img, 2, 3) == 0xff1810ff);
    }
}

TEST_CASE("LZ4 errors name the codec and the offset", "[codec][lz4]") {
    const uint32_t w = 8, h = 4;
    auto stored = store_rows(w, h, 4, w * 4, true);
    auto good = server_lz4(stored, w * 4, h, true, BitmapFormat::Rgb32, 2);
    auto img = DecodedImage::allocate(w, h, PixelFormat::Xrgb32);

    auto bad_format = good;
    bad_format[1] = static_cast<uint8_t>(BitmapFormat::EightBit);
    auto e1 = decode_lz4(bad_format, img.view(), {}, 300);
    REQUIRE_FALSE(e1);
    CHECK(e1.error().code == Errc::Unsupported);
    CHECK(e1.error().offset == 301);
    CHECK_THAT(e1.error().what, Catch::StartsWith("lz4:") && Catch::Contains("8BIT"));

    auto cut = std::vector<uint8_t>(good.begin(), good.end() - 5);
    auto e2 = decode_lz4(cut, img.view(), {}, 300);
    REQUIRE_FALSE(e2);
    CHECK(e2.error().code == Errc::Truncated);
    CHECK(e2.error().offset > 300);

    CHECK_FALSE(decode_lz4(std::vector<uint8_t>{1}, img.view()));
    CHECK_FALSE(decode_lz4(std::vector<uint8_t>{1, 8}, img.view()));  // no block at all

    // A stream for a taller image decodes past this one.
    auto tall =
        server_lz4(store_rows(w, 8, 4, w * 4, true), w * 4, 8, true, BitmapFormat::Rgb32, 8);
    auto e3 = decode_lz4(tall, img.view());
    REQUIRE_FALSE(e3);
    CHECK(e3.error().code == Errc::Corrupt);

    // A stream for a shorter image leaves rows missing.
    auto small =
        server_lz4(store_rows(w, 2, 4, w * 4, true), w * 4, 2, true, BitmapFormat::Rgb32, 2);
    auto e4 = decode_lz4(small, img.view());
    REQUIRE_FALSE(e4);
    CHECK(e4.error().code == Errc::Corrupt);
    CHECK_THAT(e4.error().what, Catch::Contains("rows"));
}

TEST_CASE("spicevmc COMPRESSED_DATA: LZ4 block, NONE and bad types", "[codec][lz4]") {
    std::vector<uint8_t> plain(5000);
    for (size_t i = 0; i < plain.size(); ++i) {
        plain[i] = static_cast<uint8_t>((i * i) % 251);
    }
    std::vector<char> comp(static_cast<size_t>(LZ4_compressBound(5000)));
    const int n = LZ4_compress_default(reinterpret_cast<const char*>(plain.data()), comp.data(),
                                       5000, static_cast<int>(comp.size()));
    REQUIRE(n > 0);
    std::vector<uint8_t> body{1, 0x88, 0x13, 0x00, 0x00};  // LZ4, 5000
    body.insert(body.end(), comp.begin(), comp.begin() + n);
    auto out = decode_spicevmc_compressed(body);
    REQUIRE(out);
    CHECK(*out == plain);

    auto wrong_size = body;
    wrong_size[1] = 0x89;  // 5001
    auto e = decode_spicevmc_compressed(wrong_size, 64u << 20, 20);
    REQUIRE_FALSE(e);
    CHECK(e.error().code == Errc::Corrupt);
    CHECK(e.error().offset == 25);

    auto huge = body;
    huge[4] = 0x7f;
    CHECK(decode_spicevmc_compressed(huge).error().code == Errc::LimitExceeded);

    auto none = decode_spicevmc_compressed(std::vector<uint8_t>{0, 'h', 'i'});
    REQUIRE(none);
    CHECK(*none == std::vector<uint8_t>{'h', 'i'});
    CHECK(decode_spicevmc_compressed(std::vector<uint8_t>{2, 0, 0, 0, 0}).error().code ==
          Errc::Unsupported);
    CHECK(decode_spicevmc_compressed(std::vector<uint8_t>{1, 0, 0}).error().code ==
          Errc::Truncated);
}
