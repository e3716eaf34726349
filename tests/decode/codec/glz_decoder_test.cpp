#include "decode/codec/glz_decoder.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "decode/codec/lz_decoder.h"
#include "tests/decode/codec/lz_test_encoder.h"
#include "tests/decode/codec/lz_test_vectors.h"

using namespace spicetap;
using namespace spicetap::codec;
using test::GlzRefImage;
using test::GlzSource;

namespace {

struct Frame {
    uint32_t width = 0, height = 0;
    std::vector<uint32_t> px;

    PixelView view(PixelFormat f = PixelFormat::Xrgb32) {
        return {reinterpret_cast<uint8_t*>(px.data()), width, height, size_t{width} * 4, f};
    }
};

Frame glz_frame(GlzDecoder& dec, const std::vector<uint8_t>& stream) {
    auto info = dec.probe(stream);
    REQUIRE(info);
    Frame f{info->width, info->height, std::vector<uint32_t>(size_t{info->width} * info->height)};
    auto r = dec.decode(stream, f.view(info->format));
    INFO((r ? std::string() : r.error().message()));
    REQUIRE(r);
    return f;
}

std::vector<uint32_t> lz_pixels(const std::string& name) {
    LzDecoder dec;
    const auto stream = test::read_codec_vector(name);
    auto info = dec.probe(stream);
    REQUIRE(info);
    std::vector<uint32_t> px(size_t{info->width} * info->height);
    REQUIRE(dec.decode(stream, PixelView{reinterpret_cast<uint8_t*>(px.data()), info->width,
                                         info->height, size_t{info->width} * 4, info->format}));
    return px;
}

std::vector<uint32_t> make_pixels(uint32_t w, uint32_t h, uint32_t seed, uint32_t mask) {
    std::mt19937 rng(seed);
    std::vector<uint32_t> px(size_t{w} * h);
    for (size_t i = 0; i < px.size(); ++i) {
        const uint32_t r = rng() % 3;
        px[i] = (r == 0 || i == 0) ? rng() : r == 1 ? px[i - 1] : uint32_t(i / 5) * 0x010203u;
        px[i] &= mask;
    }
    return px;
}

// Units the test encoder compares (what a GLZ pass codes) for a source image.
std::vector<uint32_t> rgb_units(const GlzSource& s) {
    std::vector<uint32_t> u;
    for (uint32_t p : s.px) {
        u.push_back(s.type == LzImageType::Rgb16 ? (p & 0xffff) : (p & 0xffffff));
    }
    return u;
}

std::vector<uint32_t> alpha_units(const GlzSource& s) {
    std::vector<uint32_t> u;
    for (uint32_t p : s.px) {
        u.push_back(p >> 24);
    }
    return u;
}

uint32_t expand5(uint32_t c) {
    return (c << 3) | (c >> 2);
}

uint32_t expected_pixel(LzImageType type, uint32_t p) {
    switch (type) {
        case LzImageType::Rgb16:
            return 0xff000000u | (expand5((p >> 10) & 31) << 16) | (expand5((p >> 5) & 31) << 8) |
                   expand5(p & 31);
        case LzImageType::Rgba:
            return p;
        default:
            return 0xff000000u | (p & 0xffffff);
    }
}

GlzSource source(LzImageType type, uint32_t w, uint32_t h, uint64_t id, uint32_t whd,
                 std::vector<uint32_t> px, bool top_down = true) {
    GlzSource s;
    s.type = type;
    s.width = w;
    s.height = h;
    s.id = id;
    s.win_head_dist = whd;
    s.top_down = top_down;
    s.px = std::move(px);
    return s;
}

}  // namespace

TEST_CASE("GLZ decodes a real GLZ sequence with cross-image references", "[codec][glz]") {
    GlzWindow window;
    GlzDecoder dec(window);
    const auto screen_a = lz_pixels("lz/screen_a_1024x768.lz");
    const auto screen_b = lz_pixels("lz/screen_b_1024x768.lz");

    // The capture of this sequence starts at id 23, as a recording that starts mid-session would.
    const auto s23 = test::read_codec_vector("glz/id23_1024x768.glz");
    auto h = dec.read_header(s23);
    REQUIRE(h);
    CHECK(h->id == 23);
    CHECK(h->win_head_dist == 23);
    CHECK(h->type == LzImageType::Rgb32);
    CHECK(h->top_down);
    CHECK(h->width == 1024);
    CHECK(h->height == 768);
    CHECK(glz_frame(dec, s23).px == screen_a);  // same scene, decoded from the LZ capture
    CHECK(dec.stats().cross_image_refs == 0);

    CHECK(glz_frame(dec, test::read_codec_vector("glz/id24_1024x768.glz")).px == screen_b);
    CHECK(glz_frame(dec, test::read_codec_vector("glz/id25_1024x768.glz")).px == screen_b);
    CHECK(dec.stats().cross_image_refs == 2);
    CHECK(dec.stats().oldest_referenced == uint64_t{24});
    CHECK(glz_frame(dec, test::read_codec_vector("glz/id26_1024x768.glz")).px == screen_b);
    CHECK(dec.stats().cross_image_refs > 0);
    CHECK(dec.stats().oldest_referenced == uint64_t{25});
    CHECK(window.image_count() == 4);
    CHECK(window.oldest_id() == uint64_t{23});
    CHECK(window.newest_id() == uint64_t{26});
    CHECK(window.stored_pixels() == 4 * 1024 * 768);
}

TEST_CASE("GLZ window is shared by display channels, out-of-order refs fail, then retry",
          "[codec][glz]") {
    GlzWindow window;
    GlzDecoder display0(window);
    GlzDecoder display1(window);
    const auto screen_b = lz_pixels("lz/screen_b_1024x768.lz");
    const auto s25 = test::read_codec_vector("glz/id25_1024x768.glz");

    REQUIRE(display0.decode(test::read_codec_vector("glz/id23_1024x768.glz")));
    // id 25 arrives on display 1 before id 24 on display 0.
    auto early = display1.decode(s25);
    REQUIRE_FALSE(early);
    CHECK(early.error().code == Errc::Corrupt);
    CHECK(display1.missing_image() == uint64_t{24});
    CHECK(early.error().what.find("GLZ image 25: refers to image 24") != std::string::npos);
    CHECK(early.error().what.find("not seen") != std::string::npos);
    CHECK(early.error().offset > kGlzHeaderSize);
    CHECK(window.image_count() == 1);  // the failed decode left the window alone

    REQUIRE(display0.decode(test::read_codec_vector("glz/id24_1024x768.glz")));
    CHECK(glz_frame(display1, s25).px == screen_b);
    CHECK_FALSE(display1.missing_image());
    CHECK(glz_frame(display0, test::read_codec_vector("glz/id26_1024x768.glz")).px == screen_b);
    CHECK(window.image_count() == 4);
}

TEST_CASE("GLZ reference to an image the stream released is a clean error", "[codec][glz]") {
    GlzWindow window;
    GlzDecoder dec(window);
    REQUIRE(dec.decode(test::read_codec_vector("glz/id23_1024x768.glz")));
    REQUIRE(dec.decode(test::read_codec_vector("glz/id24_1024x768.glz")));
    // A real 9x2 GLZ image renumbered as id 25 with win_head_dist 0: the encoder's window now
    // starts at 25, so 23 and 24 are released.
    auto small = test::read_codec_vector("glz/id00_9x2.glz");
    small[28] = 25;                                     // id (u64 BE at 21), low byte
    small[29] = small[30] = small[31] = small[32] = 0;  // win_head_dist
    auto h = dec.decode(small);
    REQUIRE(h);
    CHECK(h->id == 25);
    CHECK(window.image_count() == 1);
    CHECK(window.why_missing(24) == GlzAbsence::Released);

    auto r = dec.decode(test::read_codec_vector("glz/id25_1024x768.glz"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::Corrupt);
    CHECK(dec.missing_image() == uint64_t{24});
    CHECK(r.error().what.find("refers to image 24 (distance 1)") != std::string::npos);
    CHECK(r.error().what.find("released") != std::string::npos);
    CHECK(r.error().message().find("GLZ image 25") != std::string::npos);
}

TEST_CASE("GLZ round-trips RGB16, RGB24, RGB32 and RGBA with cross-image matches", "[codec][glz]") {
    for (LzImageType type :
         {LzImageType::Rgb16, LzImageType::Rgb24, LzImageType::Rgb32, LzImageType::Rgba}) {
        for (bool top_down : {true, false}) {
            CAPTURE(lz_image_type_name(type), top_down);
            GlzWindow window;
            GlzDecoder dec(window);
            const uint32_t mask = type == LzImageType::Rgb16  ? 0x7fff
                                  : type == LzImageType::Rgba ? 0xffffffff
                                                              : 0xffffff;
            const uint32_t w = 37, h = 11;
            std::vector<GlzSource> sources;
            for (uint64_t id = 0; id < 4; ++id) {
                auto px = make_pixels(w, h, uint32_t(id + 10), mask);
                if (id > 0) {  // half of each image repeats the previous or the one before
                    const auto& prev = sources[id % 2 == 0 ? id - 2 : id - 1].px;
                    std::copy(prev.begin(), prev.begin() + px.size() / 2, px.begin());
                }
                sources.push_back(source(type, w, h, id, uint32_t(id), px, top_down));
            }
            std::vector<std::vector<uint32_t>> rgb, alpha;
            for (auto& s : sources) {
                rgb.push_back(rgb_units(s));
                alpha.push_back(alpha_units(s));
            }
            for (uint64_t id = 0; id < 4; ++id) {
                std::vector<GlzRefImage> rr, ar;
                for (uint32_t d = 1; d <= id; ++d) {
                    rr.push_back({d, &rgb[id - d]});
                    ar.push_back({d, &alpha[id - d]});
                }
                const auto stream = test::glz_encode(sources[id], rr, ar);
                const Frame f = glz_frame(dec, stream);
                for (uint32_t r = 0; r < h; ++r) {
                    const uint32_t y = top_down ? r : h - 1 - r;
                    for (uint32_t x = 0; x < w; ++x) {
                        REQUIRE(f.px[size_t{y} * w + x] ==
                                expected_pixel(type, sources[id].px[size_t{r} * w + x]));
                    }
                }
                if (id > 0) {
                    CHECK(dec.stats().cross_image_refs > 0);
                }
            }
        }
    }
}

TEST_CASE("GLZ codes long pixel offsets and far image distances", "[codec][glz]") {
    GlzWindow window;
    GlzDecoder dec(window);
    // 600x300 = 180000 pixels: references at offsets >= 4096 and >= 2^17 use the long forms.
    const uint32_t w = 600, h = 300;
    const auto base_px = make_pixels(w, h, 77, 0xffffff);
    for (uint64_t dist : {1ull, 70ull, 300ull, 20000ull, 70000ull}) {
        CAPTURE(dist);
        window.clear();
        const uint64_t base_id = 1000000;
        auto base = source(LzImageType::Rgb32, w, h, base_id, 0, base_px);
        REQUIRE(dec.decode(test::glz_encode(base)));
        auto next_px = make_pixels(w, h, 78, 0xffffff);
        for (size_t i = 0; i < next_px.size(); i += 2000) {  // islands of copied pixels
            std::copy_n(base_px.begin() + i, 1000, next_px.begin() + i);
        }
        auto next = source(LzImageType::Rgb32, w, h, base_id + dist, uint32_t(dist), next_px);
        const auto units = rgb_units(base);
        const Frame f = glz_frame(dec, test::glz_encode(next, {{uint32_t(dist), &units}}));
        CHECK(dec.stats().oldest_referenced == base_id);
        CHECK(dec.stats().cross_image_pixels >= 90 * 1000);
        for (size_t i = 0; i < next_px.size(); ++i) {
            REQUIRE(f.px[i] == (0xff000000u | next_px[i]));
        }
    }
}

TEST_CASE("GLZ window memory cap evicts the oldest and says so", "[codec][glz]") {
    GlzWindow window(GlzWindow::Config{2 * 20 * 10});
    GlzDecoder dec(window);
    std::vector<GlzSource> src;
    std::vector<std::vector<uint32_t>> units;
    for (uint64_t id = 0; id < 3; ++id) {
        src.push_back(source(LzImageType::Rgb32, 20, 10, id, uint32_t(id),
                             make_pixels(20, 10, uint32_t(id), 0xffffff)));
        units.push_back(rgb_units(src.back()));
        REQUIRE(dec.decode(test::glz_encode(src.back())));
    }
    CHECK(window.image_count() == 2);
    CHECK(window.stored_pixels() <= 400);
    CHECK(window.why_missing(0) == GlzAbsence::EvictedByCap);
    auto img3 = source(LzImageType::Rgb32, 20, 10, 3, 3, src[0].px);
    auto r = dec.decode(test::glz_encode(img3, {{3, &units[0]}}));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::LimitExceeded);
    CHECK(dec.missing_image() == uint64_t{0});
    CHECK(r.error().what.find("memory cap") != std::string::npos);

    SECTION("the window size from DISPLAY_INIT bounds the cap") {
        GlzWindow w2;
        CHECK(w2.capacity_pixels() == uint64_t{1} << 26);
        w2.set_window_size(1000);
        CHECK(w2.capacity_pixels() == 2000);
        w2.set_window_size(1u << 30);
        CHECK(w2.capacity_pixels() == uint64_t{1} << 26);
    }
}

TEST_CASE("GLZ window releases by win_head_dist once the id run has no gaps", "[codec][glz]") {
    GlzWindow window;
    GlzDecoder dec(window);
    const auto px = make_pixels(8, 4, 1, 0xffffff);
    // ids 10, 12 (gap at 11), then 11 closes the gap; 12 says the encoder reaches back 1.
    REQUIRE(dec.decode(test::glz_encode(source(LzImageType::Rgb32, 8, 4, 10, 10, px))));
    REQUIRE(dec.decode(test::glz_encode(source(LzImageType::Rgb32, 8, 4, 12, 1, px))));
    CHECK(window.image_count() == 2);  // 12 is not the newest of a gap-free run yet
    REQUIRE(dec.decode(test::glz_encode(source(LzImageType::Rgb32, 8, 4, 11, 1, px))));
    CHECK(window.image_count() == 2);  // 12 - 1 = 11: id 10 released
    CHECK(window.oldest_id() == uint64_t{11});
    CHECK(window.why_missing(10) == GlzAbsence::Released);
    CHECK(window.why_missing(13) == GlzAbsence::NotSeen);
    // A repeated id replaces the earlier image.
    REQUIRE(dec.decode(test::glz_encode(source(LzImageType::Rgb32, 8, 4, 12, 1, px))));
    CHECK(window.image_count() == 2);
    CHECK(window.stored_pixels() == 64);
}

TEST_CASE("GLZ rejects malformed streams with offsets and the image id", "[codec][glz]") {
    GlzWindow window;
    GlzDecoder dec(window);
    const auto real = test::read_codec_vector("glz/id23_1024x768.glz");

    SECTION("header fields") {
        auto b = real;
        b[8] = 0x15;  // PLT8: GLZ_RGB carries no palette
        auto r = dec.probe(b);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::Unsupported);
        CHECK(r.error().offset == 8);
        CHECK(r.error().what == "GLZ image 23: PLT8 images are not carried by GLZ");
        b[8] = 0x1a;  // XXXA
        CHECK(dec.probe(b).error().code == Errc::Unsupported);
        b[8] = 0x10;
        CHECK(dec.probe(b).error().code == Errc::BadValue);
        b = real;
        b[0] = 'L';
        CHECK(dec.probe(b).error().code == Errc::BadMagic);
        CHECK(dec.probe(ByteView(real.data(), 32)).error().code == Errc::Truncated);
        b = real;
        b[9] = 0x7f;  // width
        CHECK(dec.probe(b).error().code == Errc::LimitExceeded);
    }
    SECTION("truncation at any point and trailing bytes") {
        std::vector<uint32_t> px(1024 * 768);
        const PixelView v{reinterpret_cast<uint8_t*>(px.data()), 1024, 768, 4096,
                          PixelFormat::Xrgb32};
        for (size_t cut = 0; cut < real.size(); cut += 11) {
            REQUIRE_FALSE(dec.decode(ByteView(real.data(), cut), v));
        }
        auto r = dec.decode(ByteView(real.data(), real.size() - 1), v);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::Truncated);
        auto b = real;
        b.push_back(0);
        r = dec.decode(b, v);
        REQUIRE_FALSE(r);
        CHECK(r.error().offset == real.size());
        CHECK(window.image_count() == 0);
    }
    SECTION("references outside the referenced image or below id 0") {
        const auto px = make_pixels(4, 2, 5, 0xffffff);
        auto s0 = source(LzImageType::Rgb32, 4, 2, 0, 0, px);
        REQUIRE(dec.decode(test::glz_encode(s0)));
        const auto u0 = rgb_units(s0);
        // Image 1 is larger than image 0: matches at the same spot run past its end.
        auto big_px = make_pixels(6, 2, 5, 0xffffff);
        std::vector<uint32_t> longer(u0.begin(), u0.end());
        longer.insert(longer.end(), big_px.begin() + 8, big_px.end());
        auto s1 = source(LzImageType::Rgb32, 6, 2, 1, 1, longer);
        const auto fake_units = rgb_units(s1);  // claims image 0 has 12 pixels
        auto r = dec.decode(test::glz_encode(s1, {{1, &fake_units}}));
        REQUIRE_FALSE(r);
        CHECK(r.error().what.find("past the end of the referenced image") != std::string::npos);
        auto s2 = source(LzImageType::Rgb32, 4, 2, 0, 0, px);
        s2.id = 0;
        r = dec.decode(test::glz_encode(s2, {{1, &u0}}));  // distance 1 from id 0
        REQUIRE_FALSE(r);
        CHECK(r.error().what.find("below 0") != std::string::npos);
    }
    SECTION("random corruption never crashes") {
        std::mt19937 rng(99);
        auto s0 = source(LzImageType::Rgba, 30, 7, 0, 0, make_pixels(30, 7, 1, 0xffffffff));
        REQUIRE(dec.decode(test::glz_encode(s0)));
        const auto u0 = rgb_units(s0);
        const auto a0 = alpha_units(s0);
        auto s1 = source(LzImageType::Rgba, 30, 7, 1, 1, s0.px);
        const auto good = test::glz_encode(s1, {{1, &u0}}, {{1, &a0}});
        std::vector<uint32_t> px(30 * 7);
        const PixelView v{reinterpret_cast<uint8_t*>(px.data()), 30, 7, 120, PixelFormat::Argb32};
        REQUIRE(dec.decode(good, v));
        for (int iter = 0; iter < 2000; ++iter) {
            auto b = good;
            for (int k = 0; k < 3; ++k) {
                b[kGlzHeaderSize + rng() % (b.size() - kGlzHeaderSize)] = uint8_t(rng());
            }
            (void)dec.decode(b, v);
        }
    }
}

TEST_CASE("GLZ on two display channels after the window cap evicted a real image", "[codec][glz]") {
    // Room for two 1024x768 images: the real ids 23..26 (25 and 26 copy from 24 and 25) push
    // the oldest out as they arrive, alternating between two channels' decoders.
    GlzWindow window(GlzWindow::Config{2 * 1024 * 768});
    GlzDecoder display0(window);
    GlzDecoder display1(window);
    const auto screen_b = lz_pixels("lz/screen_b_1024x768.lz");
    REQUIRE(display0.decode(test::read_codec_vector("glz/id23_1024x768.glz")));
    REQUIRE(display1.decode(test::read_codec_vector("glz/id24_1024x768.glz")));
    CHECK(glz_frame(display0, test::read_codec_vector("glz/id25_1024x768.glz")).px == screen_b);
    CHECK(window.why_missing(23) == GlzAbsence::EvictedByCap);
    CHECK(glz_frame(display1, test::read_codec_vector("glz/id26_1024x768.glz")).px == screen_b);
    CHECK(window.why_missing(24) == GlzAbsence::EvictedByCap);
    CHECK(window.image_count() == 2);

    // Image 25 again (as a resent image would be) now refers to the evicted 24: a clean error
    // naming the cap, the window untouched, and the next image still decodes.
    auto again = display1.decode(test::read_codec_vector("glz/id25_1024x768.glz"));
    REQUIRE_FALSE(again);
    CHECK(again.error().code == Errc::LimitExceeded);
    CHECK(display1.missing_image() == uint64_t{24});
    CHECK(again.error().what.find("memory cap") != std::string::npos);
    CHECK(window.image_count() == 2);
    auto small = test::read_codec_vector("glz/id00_9x2.glz");
    small[28] = 27;  // renumbered as the next id, referring to nothing
    CHECK(display0.decode(small));
    CHECK(window.newest_id() == uint64_t{27});
}
