#include "decode/codec/bitmap_decoder.h"

#include <array>
#include <catch2/catch.hpp>
#include <vector>

#include "decode/codec/image_cache.h"
#include "decode/codec/palette_cache.h"
#include "tests/decode/codec/codec_test_util.h"

using namespace spicetap;
using namespace spicetap::codec;
using spicetap::test::pixel32;

namespace {

constexpr uint32_t kBack = 0xff112233;  // palette entry 0 as decoded (top byte forced)
constexpr uint32_t kFore = 0xffaabbcc;  // palette entry 1

Palette two_colour_palette() {
    return Palette{7, {0x00112233, 0x00aabbcc}};
}

BitmapDescriptor make(BitmapFormat f, uint32_t w, uint32_t h, uint32_t stride,
                      const std::vector<uint8_t>& data, bool top_down = true) {
    BitmapDescriptor b;
    b.format = static_cast<uint8_t>(f);
    b.flags = top_down ? bitmap_flags::kTopDown : 0;
    b.width = w;
    b.height = h;
    b.stride = stride;
    b.data = data;
    b.data_offset = 1000;
    return b;
}

DecodedImage decode(const BitmapDescriptor& b, const Palette* pal = nullptr) {
    auto info = probe_bitmap(b);
    REQUIRE(info);
    DecodedImage img = DecodedImage::allocate(info->width, info->height, info->format);
    auto ok = decode_bitmap(b, pal, img.view());
    INFO((ok ? std::string() : ok.error().message()));
    REQUIRE(ok);
    return img;
}

std::vector<uint32_t> row_pixels(const DecodedImage& img, uint32_t y) {
    std::vector<uint32_t> v;
    for (uint32_t x = 0; x < img.width; ++x) {
        v.push_back(pixel32(img, x, y));
    }
    return v;
}

}  // namespace

TEST_CASE("1-bit bitmaps: LE takes bit 0 first, BE bit 7 first", "[codec][bitmap]") {
    // Row 0: 0x05 0x02 + 2 padding bytes; row 1: all ones.
    const std::vector<uint8_t> data{0x05, 0x02, 0xee, 0xee, 0xff, 0xff, 0xee, 0xee};
    const Palette pal = two_colour_palette();
    const auto F = kFore, B = kBack;

    auto le = decode(make(BitmapFormat::OneBitLe, 10, 2, 4, data), &pal);
    CHECK(le.format == PixelFormat::Xrgb32);
    CHECK(row_pixels(le, 0) == std::vector<uint32_t>{F, B, F, B, B, B, B, B, B, F});
    CHECK(row_pixels(le, 1) == std::vector<uint32_t>(10, F));

    auto be = decode(make(BitmapFormat::OneBitBe, 10, 2, 4, data), &pal);
    CHECK(row_pixels(be, 0) == std::vector<uint32_t>{B, B, B, B, B, F, B, F, B, B});
}

TEST_CASE("4-bit bitmaps: LE low nibble first, BE high nibble first, odd width",
          "[codec][bitmap]") {
    Palette pal{1, {}};
    for (uint32_t i = 0; i < 16; ++i) {
        pal.entries.push_back(0x00010101u * i);
    }
    const std::vector<uint8_t> data{0x1f, 0x2e};
    auto le = decode(make(BitmapFormat::FourBitLe, 3, 1, 2, data), &pal);
    CHECK(row_pixels(le, 0) == std::vector<uint32_t>{0xff0f0f0f, 0xff010101, 0xff0e0e0e});
    auto be = decode(make(BitmapFormat::FourBitBe, 3, 1, 2, data), &pal);
    CHECK(row_pixels(be, 0) == std::vector<uint32_t>{0xff010101, 0xff0f0f0f, 0xff020202});
}

TEST_CASE("8-bit bitmaps index the palette, indices past its end read black", "[codec][bitmap]") {
    const Palette pal{3, {0x00ff0000, 0x0000ff00, 0x000000ff}};
    const std::vector<uint8_t> data{2, 1, 0, 7};
    auto img = decode(make(BitmapFormat::EightBit, 4, 1, 4, data), &pal);
    CHECK(row_pixels(img, 0) ==
          std::vector<uint32_t>{0xff0000ff, 0xff00ff00, 0xffff0000, 0xff000000});
}

TEST_CASE("16-bit x1r5g5b5 widens each channel as (c << 3) | (c >> 2)", "[codec][bitmap]") {
    // 0x7fff white, 0x0001 b=1, 0x7c00 red, 0x03e0 green, 0x4210 r=g=b=16, 0x8000 top bit only.
    const std::vector<uint8_t> data{0xff, 0x7f, 0x01, 0x00, 0x00, 0x7c,
                                    0xe0, 0x03, 0x10, 0x42, 0x00, 0x80};
    auto img = decode(make(BitmapFormat::Rgb16, 6, 1, 12, data));
    CHECK(row_pixels(img, 0) == std::vector<uint32_t>{0xffffffff, 0xff000008, 0xffff0000,
                                                      0xff00ff00, 0xff848484, 0xff000000});
    CHECK(rgb555_to_xrgb(0x5294) == 0xffa5a5a5);  // 20 -> 0xa5
}

TEST_CASE("24-bit, 32-bit, RGBA and 8BIT_A bitmaps", "[codec][bitmap]") {
    const std::vector<uint8_t> bgr{0x01, 0x02, 0x03, 0x10, 0x20, 0x30, 0x00, 0x00};  // 2px + pad
    auto rgb24 = decode(make(BitmapFormat::Rgb24, 2, 1, 8, bgr));
    CHECK(row_pixels(rgb24, 0) == std::vector<uint32_t>{0xff030201, 0xff302010});

    const std::vector<uint8_t> bgrx{0x01, 0x02, 0x03, 0x00, 0x10, 0x20, 0x30, 0x7f};
    auto rgb32 = decode(make(BitmapFormat::Rgb32, 2, 1, 8, bgrx));
    CHECK(rgb32.format == PixelFormat::Xrgb32);
    CHECK(row_pixels(rgb32, 0) == std::vector<uint32_t>{0xff030201, 0xff302010});

    auto rgba = decode(make(BitmapFormat::Rgba, 2, 1, 8, bgrx));
    CHECK(rgba.format == PixelFormat::Argb32);
    CHECK(row_pixels(rgba, 0) == std::vector<uint32_t>{0x00030201, 0x7f302010});
    auto opaque = DecodedImage::allocate(2, 1, PixelFormat::Xrgb32);  // RGBA asked as Xrgb32
    REQUIRE(decode_bitmap(make(BitmapFormat::Rgba, 2, 1, 8, bgrx), nullptr, opaque.view()));
    CHECK(row_pixels(opaque, 0) == std::vector<uint32_t>{0xff030201, 0xff302010});

    const std::vector<uint8_t> alpha{0x00, 0x80, 0xff, 0x00, 0x11, 0x22, 0x33, 0x00};
    auto a8 = decode(make(BitmapFormat::Alpha8, 3, 2, 4, alpha));
    CHECK(a8.format == PixelFormat::A8);
    CHECK(a8.row(0)[0] == 0x00);
    CHECK(a8.row(0)[1] == 0x80);
    CHECK(a8.row(0)[2] == 0xff);
    CHECK(a8.row(1)[2] == 0x33);
}

TEST_CASE("bottom-up bitmaps store the bottom row first", "[codec][bitmap]") {
    const std::vector<uint8_t> rows{1, 1, 1, 2, 2, 2, 3, 3, 3};  // 1x3, 24-bit, stride 3
    auto top = decode(make(BitmapFormat::Rgb24, 1, 3, 3, rows, true));
    auto bottom = decode(make(BitmapFormat::Rgb24, 1, 3, 3, rows, false));
    CHECK(pixel32(top, 0, 0) == 0xff010101);
    CHECK(pixel32(top, 0, 2) == 0xff030303);
    CHECK(pixel32(bottom, 0, 0) == 0xff030303);
    CHECK(pixel32(bottom, 0, 1) == 0xff020202);
    CHECK(pixel32(bottom, 0, 2) == 0xff010101);
    auto info = probe_bitmap(make(BitmapFormat::Rgb24, 1, 3, 3, rows, false));
    REQUIRE(info);
    CHECK_FALSE(info->top_down);
}

TEST_CASE("bitmap stride, truncation and format errors", "[codec][bitmap]") {
    const std::vector<uint8_t> data(10, 0);
    // The last row needs no padding: 2 rows of 3 bytes at stride 7 need 10 bytes.
    CHECK(probe_bitmap(make(BitmapFormat::Rgb24, 1, 2, 7, data)));

    auto short_stride = probe_bitmap(make(BitmapFormat::Rgb24, 2, 2, 5, data));
    REQUIRE_FALSE(short_stride);
    CHECK(short_stride.error().code == Errc::BadValue);

    auto truncated = probe_bitmap(make(BitmapFormat::Rgb24, 1, 3, 4, data));
    REQUIRE_FALSE(truncated);
    CHECK(truncated.error().code == Errc::Truncated);
    CHECK(truncated.error().offset == 1010);
    CHECK_THAT(truncated.error().what, Catch::Contains("bitmap") && Catch::Contains("11"));

    auto bad = probe_bitmap(make(static_cast<BitmapFormat>(11), 1, 1, 4, data));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::BadValue);

    auto b = make(BitmapFormat::EightBit, 2, 1, 2, data);
    DecodedImage img = DecodedImage::allocate(2, 1, PixelFormat::Xrgb32);
    auto no_pal = decode_bitmap(b, nullptr, img.view());
    REQUIRE_FALSE(no_pal);
    CHECK_THAT(no_pal.error().what, Catch::Contains("without a palette"));

    DecodedImage wrong = DecodedImage::allocate(3, 1, PixelFormat::Xrgb32);
    Palette pal{1, {0}};
    CHECK_FALSE(decode_bitmap(b, &pal, wrong.view()));

    Limits tight;
    tight.max_width = 1;
    auto limited = probe_bitmap(b, tight);
    REQUIRE_FALSE(limited);
    CHECK(limited.error().code == Errc::LimitExceeded);
}

TEST_CASE("1-bit bitmaps as A1 masks, plain and inverted", "[codec][bitmap]") {
    const std::vector<uint8_t> data{0x80, 0x01};  // 8x2, BE: row 0 leftmost set, row 1 rightmost
    DecodedImage mask = DecodedImage::allocate(8, 2, PixelFormat::A1);
    REQUIRE(decode_bitmap_mask(make(BitmapFormat::OneBitBe, 8, 2, 1, data), false, mask.view()));
    CHECK(mask.row(0)[0] == 0x01);
    CHECK(mask.row(1)[0] == 0x80);

    REQUIRE(
        decode_bitmap_mask(make(BitmapFormat::OneBitLe, 8, 2, 1, data, false), true, mask.view()));
    CHECK(mask.row(0)[0] == 0xfe);  // bottom-up: row 0 is the stored 0x01, inverted
    CHECK(mask.row(1)[0] == 0x7f);

    auto not_mask =
        decode_bitmap_mask(make(BitmapFormat::EightBit, 2, 1, 2, data), false, mask.view());
    REQUIRE_FALSE(not_mask);
    CHECK(not_mask.error().code == Errc::Unsupported);
}

TEST_CASE("parse_palette reads unique, count and entries", "[codec][bitmap][palette]") {
    const std::vector<uint8_t> wire{0x09, 0,    0,    0,    0,    0,    0,    0x01, 0x02,
                                    0x00, 0x33, 0x22, 0x11, 0x00, 0xcc, 0xbb, 0xaa, 0x00};
    auto p = parse_palette(wire, 50);
    REQUIRE(p);
    CHECK(p->unique == 0x0100000000000009ull);
    CHECK(p->entries == std::vector<uint32_t>{0x112233, 0xaabbcc});

    auto cut = parse_palette(ByteView(wire).first(15), 50);
    REQUIRE_FALSE(cut);
    CHECK(cut.error().code == Errc::Truncated);
    CHECK(cut.error().offset == 65);
}

TEST_CASE("palette cache: PAL_CACHE_ME stores, PAL_FROM_CACHE hits, invalidation removes",
          "[codec][bitmap][palette]") {
    PaletteCache cache;
    const std::vector<uint8_t> data{0x80};
    auto b = make(BitmapFormat::OneBitBe, 2, 1, 1, data);

    // Inline palette without CACHE_ME: used, not stored.
    auto used = cache.resolve(bitmap_flags::kTopDown, two_colour_palette(), 0);
    REQUIRE(used);
    REQUIRE(*used);
    CHECK(cache.size() == 0);

    auto stored = cache.resolve(bitmap_flags::kPalCacheMe, two_colour_palette(), 0);
    REQUIRE(stored);
    CHECK(cache.contains(7));

    auto hit = cache.resolve(bitmap_flags::kPalFromCache, std::nullopt, 7);
    REQUIRE(hit);
    auto img = decode(b, hit->get());
    CHECK(row_pixels(img, 0) == std::vector<uint32_t>{kFore, kBack});

    auto miss = cache.resolve(bitmap_flags::kPalFromCache, std::nullopt, 8);
    REQUIRE_FALSE(miss);
    CHECK_THAT(miss.error().what, Catch::Contains("0x8"));

    auto none = cache.resolve(0, std::nullopt, 0);
    REQUIRE(none);
    CHECK(*none == nullptr);

    CHECK(cache.remove(7));
    CHECK_FALSE(cache.remove(7));
    CHECK_FALSE(cache.resolve(bitmap_flags::kPalFromCache, std::nullopt, 7));

    cache.put(std::make_shared<const Palette>(Palette{1, {}}));
    cache.put(std::make_shared<const Palette>(Palette{2, {}}));
    cache.clear();
    CHECK(cache.size() == 0);

    PaletteCache small(2);
    for (uint64_t id = 1; id <= 3; ++id) {
        small.put(std::make_shared<const Palette>(Palette{id, {}}));
    }
    CHECK(small.size() == 2);
    CHECK_FALSE(small.contains(1));
    CHECK(small.contains(3));
}
