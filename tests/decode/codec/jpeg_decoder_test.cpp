#include "decode/codec/jpeg_decoder.h"

#include <catch2/catch.hpp>
#include <vector>

#include "decode/codec/image_cache.h"
#include "tests/decode/codec/codec_test_util.h"

using namespace spicetap;
using namespace spicetap::codec;
using namespace spicetap::test;

TEST_CASE("JPEG images decode to Xrgb32 within 40 dB of the source", "[codec][jpeg]") {
    const uint32_t w = 96, h = 64;
    const auto src = test_picture_bgr(w, h);
    const auto jpeg = encode_jpeg_bgr(src, w, h, 95);

    auto info = probe_jpeg(jpeg);
    REQUIRE(info);
    CHECK(info->width == w);
    CHECK(info->height == h);
    CHECK(info->format == PixelFormat::Xrgb32);

    auto img = DecodedImage::allocate(w, h, PixelFormat::Xrgb32);
    REQUIRE(decode_jpeg(jpeg, img.view()));
    const double psnr = psnr_vs_bgr(img, src);
    INFO("PSNR " << psnr);
    CHECK(psnr >= 40.0);
    CHECK((pixel32(img, 5, 5) >> 24) == 0xff);

    // Stream (MJPEG) settings: spice-gtk's fast IDCT without fancy upsampling.
    auto fast = DecodedImage::allocate(w, h, PixelFormat::Xrgb32);
    JpegOptions opts;
    opts.fast = true;
    REQUIRE(decode_jpeg(jpeg, fast.view(), opts));
    const double psnr_fast = psnr_vs_bgr(fast, src);
    INFO("PSNR fast " << psnr_fast);
    CHECK(psnr_fast >= 40.0);

    // A channel swap would be far off; check it is not hiding behind a smooth image.
    auto swapped = src;
    for (size_t i = 0; i < swapped.size(); i += 3) {
        std::swap(swapped[i], swapped[i + 2]);
    }
    CHECK(psnr_vs_bgr(img, swapped) < 25.0);
}

TEST_CASE("JPEG errors: wrong size, truncation, garbage", "[codec][jpeg]") {
    const uint32_t w = 32, h = 24;
    const auto jpeg = encode_jpeg_bgr(test_picture_bgr(w, h), w, h, 90);

    auto other = DecodedImage::allocate(w + 1, h, PixelFormat::Xrgb32);
    auto e1 = decode_jpeg(jpeg, other.view(), {}, {}, 40);
    REQUIRE_FALSE(e1);
    CHECK(e1.error().code == Errc::BadValue);
    CHECK_THAT(e1.error().what, Catch::Contains("32x24") && Catch::Contains("33x24"));

    auto img = DecodedImage::allocate(w, h, PixelFormat::Xrgb32);
    const std::vector<uint8_t> cut(jpeg.begin(), jpeg.begin() + jpeg.size() / 2);
    auto e2 = decode_jpeg(cut, img.view(), {}, {}, 40);
    REQUIRE_FALSE(e2);
    CHECK(e2.error().code == Errc::Truncated);
    CHECK(e2.error().offset == 40 + cut.size());
    CHECK_THAT(e2.error().what, Catch::StartsWith("jpeg:"));

    const std::vector<uint8_t> garbage{0x12, 0x34, 0x56, 0x78, 0x9a};
    auto e3 = probe_jpeg(garbage, {}, 7);
    REQUIRE_FALSE(e3);
    CHECK(e3.error().code == Errc::Corrupt);
    CHECK(e3.error().offset >= 7);
    CHECK_THAT(e3.error().what, Catch::StartsWith("jpeg:"));

    Limits small;
    small.max_width = 16;
    CHECK(probe_jpeg(jpeg, small).error().code == Errc::LimitExceeded);
    CHECK(probe_jpeg(std::vector<uint8_t>{}).error().code == Errc::Truncated);
}

TEST_CASE("JPEG_ALPHA: split the payload, then combine colour and alpha", "[codec][jpeg]") {
    const uint32_t w = 16, h = 8;
    const auto src = test_picture_bgr(w, h);
    const auto jpeg = encode_jpeg_bgr(src, w, h, 95);
    const std::vector<uint8_t> lz_alpha{0xde, 0xad, 0xbe, 0xef};  // opaque to this module

    std::vector<uint8_t> payload{1};
    const auto put32 = [&](uint32_t v) {
        for (int i = 0; i < 4; ++i) {
            payload.push_back(static_cast<uint8_t>(v >> (8 * i)));
        }
    };
    put32(static_cast<uint32_t>(jpeg.size()));
    put32(static_cast<uint32_t>(jpeg.size() + lz_alpha.size()));
    payload.insert(payload.end(), jpeg.begin(), jpeg.end());
    payload.insert(payload.end(), lz_alpha.begin(), lz_alpha.end());

    auto parts = parse_jpeg_alpha(payload, 100);
    REQUIRE(parts);
    CHECK(parts->top_down());
    CHECK(parts->jpeg.size() == jpeg.size());
    CHECK(parts->jpeg_offset == 109);
    CHECK(parts->alpha_offset == 109 + jpeg.size());
    CHECK(std::vector<uint8_t>(parts->alpha.begin(), parts->alpha.end()) == lz_alpha);

    auto img = DecodedImage::allocate(w, h, PixelFormat::Argb32);
    REQUIRE(decode_jpeg(parts->jpeg, img.view()));
    auto alpha = DecodedImage::allocate(w, h, PixelFormat::A8);
    for (uint32_t y = 0; y < h; ++y) {
        for (uint32_t x = 0; x < w; ++x) {
            alpha.view().row(y)[x] = static_cast<uint8_t>(x * 16 + y);
        }
    }
    const uint32_t before = pixel32(img, 3, 5);
    REQUIRE(combine_alpha(img.view(), alpha.view()));
    CHECK(pixel32(img, 3, 5) == ((before & 0x00ffffffu) | (uint32_t{3 * 16 + 5} << 24)));
    CHECK((pixel32(img, 15, 7) >> 24) == 15 * 16 + 7);
    CHECK(psnr_vs_bgr(img, src) >= 40.0);

    auto wrong = DecodedImage::allocate(w, h - 1, PixelFormat::A8);
    CHECK_FALSE(combine_alpha(img.view(), wrong.view()));

    auto bad_sizes = payload;
    bad_sizes[4] = 0x7f;  // jpeg_size > data_size
    CHECK(parse_jpeg_alpha(bad_sizes).error().code == Errc::BadValue);
    const std::vector<uint8_t> short_payload(payload.begin(), payload.end() - 1);
    auto cut = parse_jpeg_alpha(short_payload, 100);
    REQUIRE_FALSE(cut);
    CHECK(cut.error().code == Errc::Truncated);
    CHECK_THAT(cut.error().what, Catch::StartsWith("jpeg_alpha:"));
}
