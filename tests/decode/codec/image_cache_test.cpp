#include "decode/codec/image_cache.h"

#include <catch2/catch.hpp>

#include "tests/decode/codec/codec_test_util.h"

using namespace spicetap;
using namespace spicetap::codec;

namespace {

ImageHandle solid(uint32_t w, uint32_t h, uint8_t value) {
    auto img = DecodedImage::allocate(w, h, PixelFormat::Xrgb32);
    std::fill(img.pixels.begin(), img.pixels.end(), value);
    return std::make_shared<const DecodedImage>(std::move(img));
}

}  // namespace

TEST_CASE("image cache: CACHE_ME, FROM_CACHE and missing ids", "[codec][image_cache]") {
    ImageCache cache;
    auto a = solid(4, 4, 1);
    REQUIRE(cache.store_decoded(42, image_type::kQuic, image_flags::kCacheMe, a));
    CHECK(cache.size() == 1);
    CHECK(cache.used_pixels() == 16);

    auto hit = cache.lookup(image_type::kFromCache, 42);
    REQUIRE(hit);
    CHECK(hit->get() == a.get());  // shared, not copied
    CHECK(cache.lookup(image_type::kFromCacheLossless, 42));

    auto miss = cache.lookup(image_type::kFromCache, 43);
    REQUIRE_FALSE(miss);
    CHECK(miss.error().code == Errc::BadValue);
    CHECK_THAT(miss.error().what, Catch::Contains("0x2b"));
    CHECK(cache.stats().hits == 2);
    CHECK(cache.stats().misses == 1);

    // Without CACHE_ME nothing is stored; FROM_CACHE images never store themselves.
    REQUIRE(cache.store_decoded(50, image_type::kBitmap, 0, a));
    REQUIRE(cache.store_decoded(51, image_type::kFromCache, image_flags::kCacheMe, a));
    CHECK(cache.size() == 1);
}

TEST_CASE("image cache: JPEG entries are lossy until CACHE_REPLACE_ME", "[codec][image_cache]") {
    ImageCache cache;
    auto lossy = solid(2, 2, 9);
    REQUIRE(cache.store_decoded(7, image_type::kJpeg, image_flags::kCacheMe, lossy));
    REQUIRE(cache.find(7) != nullptr);
    CHECK(cache.find(7)->lossy);
    CHECK(cache.lookup(image_type::kFromCache, 7));
    auto need_lossless = cache.lookup(image_type::kFromCacheLossless, 7);
    REQUIRE_FALSE(need_lossless);
    CHECK_THAT(need_lossless.error().what, Catch::Contains("lossy"));

    // A lossy image cannot replace.
    auto bad = cache.store_decoded(7, image_type::kJpegAlpha, image_flags::kCacheReplaceMe, lossy);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::BadValue);

    auto lossless = solid(2, 2, 3);
    REQUIRE(cache.store_decoded(7, image_type::kLzRgb, image_flags::kCacheReplaceMe, lossless));
    CHECK_FALSE(cache.find(7)->lossy);
    CHECK(cache.find(7)->refs == 1);  // replacing keeps the count
    auto now = cache.lookup(image_type::kFromCacheLossless, 7);
    REQUIRE(now);
    CHECK(now->get() == lossless.get());
    CHECK(image_type_is_lossy(image_type::kJpeg));
    CHECK(image_type_is_lossy(image_type::kJpegAlpha));
    CHECK_FALSE(image_type_is_lossy(image_type::kLz4));
}

TEST_CASE("image cache: ids cached twice need two invalidations", "[codec][image_cache]") {
    ImageCache cache;
    REQUIRE(cache.put(5, solid(1, 1, 1), false));
    REQUIRE(cache.put(5, solid(1, 1, 2), false));
    CHECK(cache.find(5)->refs == 2);
    CHECK(cache.used_pixels() == 1);
    CHECK(cache.remove(5));
    CHECK(cache.find(5) != nullptr);
    CHECK(cache.remove(5));
    CHECK(cache.find(5) == nullptr);
    CHECK_FALSE(cache.remove(5));
    CHECK(cache.used_pixels() == 0);

    REQUIRE(cache.put(1, solid(1, 1, 1), false));
    REQUIRE(cache.put(2, solid(1, 1, 1), true));
    cache.clear();  // INVAL_ALL_PIXMAPS
    CHECK(cache.size() == 0);
    CHECK(cache.used_pixels() == 0);
}

TEST_CASE("image cache: bounded by its pixel capacity, least recently used goes first",
          "[codec][image_cache]") {
    ImageCache cache(100);
    REQUIRE(cache.put(1, solid(10, 4, 1), false));  // 40 pixels each
    REQUIRE(cache.put(2, solid(10, 4, 2), false));
    REQUIRE(cache.get(1));                          // 1 is now more recent than 2
    REQUIRE(cache.put(3, solid(10, 4, 3), false));  // 120 > 100: evict 2
    CHECK(cache.find(1) != nullptr);
    CHECK(cache.find(2) == nullptr);
    CHECK(cache.find(3) != nullptr);
    CHECK(cache.used_pixels() == 80);
    CHECK(cache.stats().evictions == 1);

    auto huge = cache.put(4, solid(11, 10, 0), false);
    REQUIRE_FALSE(huge);
    CHECK(huge.error().code == Errc::LimitExceeded);
    CHECK(cache.size() == 2);

    // Re-storing an id in place does not evict it to make room for itself.
    REQUIRE(cache.put(3, solid(10, 6, 3), false));  // 40 + 60 = 100
    CHECK(cache.size() == 2);
    CHECK(cache.used_pixels() == 100);

    cache.set_capacity(60);
    CHECK(cache.size() == 1);
    CHECK(cache.find(3) != nullptr);
    CHECK(cache.used_pixels() == 60);
}

TEST_CASE("HIGH_BITS_SET forces the top byte of xRGB pixels", "[codec][image_cache]") {
    auto img = DecodedImage::allocate(3, 2, PixelFormat::Xrgb32);
    apply_high_bits(img.view());
    CHECK(spicetap::test::pixel32(img, 2, 1) == 0xff000000u);
    auto a = DecodedImage::allocate(3, 2, PixelFormat::Argb32);
    apply_high_bits(a.view());
    CHECK(spicetap::test::pixel32(a, 2, 1) == 0u);
    CHECK(ImageCache::kDefaultCapacityPixels == 20u * 1024 * 1024);
}
