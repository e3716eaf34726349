// PNG frame dumps and contact sheets, read back with libpng.
#include "export/video/png_frames.h"

#include <png.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>

#include "export/video/contact_sheet.h"
#include "export/video/tiny_font.h"
#include "tests/export/video/video_test_util.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using namespace spicetap::video;

namespace {

struct Rgb {
    uint32_t width = 0, height = 0;
    std::vector<uint8_t> px;  // R, G, B

    const uint8_t* at(uint32_t x, uint32_t y) const { return &px[(size_t{y} * width + x) * 3]; }
};

Rgb read_png(const std::string& path) {
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    Rgb out;
    if (!png_image_begin_read_from_file(&image, path.c_str())) {
        return out;
    }
    image.format = PNG_FORMAT_RGB;
    out.width = image.width;
    out.height = image.height;
    out.px.resize(PNG_IMAGE_SIZE(image));
    if (!png_image_finish_read(&image, nullptr, out.px.data(), 0, nullptr)) {
        return Rgb{};
    }
    return out;
}

std::vector<std::string> listing(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

TEST_CASE("PNG frames: one lossless file per state, named by index and time", "[video][png]") {
    test::TempDir dir;
    auto sink = write_png_frames((dir / "frames").string());
    REQUIRE(sink);
    const int64_t base = 1'000'000'000;
    auto a = test::gradient_picture(64, 48, 0);
    auto b = test::gradient_picture(64, 48, 7);
    auto c = test::gradient_picture(30, 20, 3);
    REQUIRE((*sink)->push_frame(a, base));
    REQUIRE((*sink)->push_frame(b, base + 1'234'000));
    REQUIRE((*sink)->push_frame(c, base + 61'000'500));
    auto pcm = test::tone(440, 48000, 2, 960, 0);
    REQUIRE((*sink)->push_audio(pcm, 2, 48000, base));
    auto stats = (*sink)->finish(base + 70'000'000);
    REQUIRE(stats);
    CHECK(stats->frames_in == 3);
    CHECK(stats->frames_out == 3);
    CHECK(stats->audio_samples_in == 960);
    CHECK(stats->duration_us == 70'000'000);
    CHECK(listing(dir / "frames") == std::vector<std::string>{"frame-000001-0000000000ms.png",
                                                              "frame-000002-0000001234ms.png",
                                                              "frame-000003-0000061000ms.png"});
    const Rgb png = read_png((dir / "frames" / "frame-000002-0000001234ms.png").string());
    REQUIRE(png.width == 64);
    REQUIRE(png.height == 48);
    for (uint32_t y = 0; y < 48; y += 5) {
        for (uint32_t x = 0; x < 64; x += 3) {
            const uint8_t* p = png.at(x, y);
            const uint8_t* q = b.row(y) + size_t{x} * 4;  // B, G, R, X
            CHECK((p[0] == q[2] && p[1] == q[1] && p[2] == q[0]));
        }
    }
    CHECK(read_png((dir / "frames" / "frame-000003-0000061000ms.png").string()).width == 30);
    CHECK_FALSE((*sink)->push_frame(a, base + 80'000'000));
}

TEST_CASE("PNG frames with a rate cap keep the last state of each burst", "[video][png]") {
    test::TempDir dir;
    PngFramesOptions opt;
    opt.max_fps = 2;  // at most one file per 500 ms
    auto sink = PngFrameWriter::open((dir / "f").string(), opt);
    REQUIRE(sink);
    for (int i = 0; i < 10; ++i) {  // 0..900 ms, 100 ms apart
        REQUIRE((*sink)->push_frame(test::gradient_picture(16, 16, i), int64_t{i} * 100'000));
    }
    auto stats = (*sink)->finish(std::nullopt);
    REQUIRE(stats);
    // 0 ms shown at 0; states 1..5 merge into state 5 at 500 ms; 6..9 into 9 at 1000 ms.
    CHECK(stats->frames_out == 3);
    CHECK(stats->frames_merged == 7);
    CHECK(listing(dir / "f") == std::vector<std::string>{"frame-000001-0000000000ms.png",
                                                         "frame-000002-0000000500ms.png",
                                                         "frame-000003-0000001000ms.png"});
    const Rgb last = read_png((dir / "f" / "frame-000003-0000001000ms.png").string());
    REQUIRE(last.width == 16);
    auto nine = test::gradient_picture(16, 16, 9);
    CHECK(last.at(5, 5)[0] == nine.row(5)[5 * 4 + 2]);
}

TEST_CASE("PNG frames: bad directory", "[video][png]") {
    auto sink = write_png_frames("/proc/version/frames");
    REQUIRE_FALSE(sink);
    CHECK(sink.error().code == Errc::Io);
    CHECK_THAT(sink.error().what, Catch::Contains("/proc/version/frames"));
}

TEST_CASE("contact sheet: grid, thumbnails, time labels", "[video][png]") {
    CHECK(format_sheet_time(0) == "0:00.0");
    CHECK(format_sheet_time(12'345'678) == "0:12.3");
    CHECK(format_sheet_time(754'900'000) == "12:34.9");
    CHECK(format_sheet_time(int64_t{3723} * 1'000'000) == "1:02:03");
    CHECK(text_width("0:12.3", 2) == (6 * 6 - 1) * 2);

    // Six flat colours (easy to find in the thumbnails); the last one square (letterboxed).
    std::vector<codec::DecodedImage> pictures;
    const uint32_t colours[6] = {0xff0000, 0x00ff00, 0x0000ff, 0xffff00, 0x00ffff, 0xff00ff};
    for (int i = 0; i < 6; ++i) {
        const uint32_t w = i == 5 ? 240 : 320, h = 240;
        auto img = codec::DecodedImage::allocate(w, h, codec::PixelFormat::Xrgb32);
        for (uint32_t y = 0; y < h; ++y) {
            for (uint32_t x = 0; x < w; ++x) {
                const uint32_t px = 0xff000000u | colours[i];
                std::memcpy(img.pixels.data() + y * img.stride + x * 4, &px, 4);
            }
        }
        pictures.push_back(std::move(img));
    }
    std::vector<SheetFrame> frames;
    for (int i = 0; i < 6; ++i) {
        frames.push_back(SheetFrame{pictures[size_t(i)].view(), int64_t{i} * 10'000'000});
    }
    ContactSheetOptions opt;
    opt.columns = 4;
    opt.thumb_width = 160;
    opt.gap = 8;
    opt.label_scale = 2;
    test::TempDir dir;
    const std::string path = (dir / "sheet.png").string();
    REQUIRE(write_contact_sheet(path, frames, opt));
    const Rgb sheet = read_png(path);
    // 4 columns of 160 + gaps; 2 rows of 120 (4:3) + label band (14 + 8) + gaps.
    const uint32_t cell_h = 120 + 14 + 8;
    REQUIRE(sheet.width == 4 * (160 + 8) + 8);
    REQUIRE(sheet.height == 2 * (cell_h + 8) + 8);
    auto centre = [&](int i) {
        const uint32_t cx = 8 + uint32_t(i % 4) * 168 + 80;
        const uint32_t cy = 8 + uint32_t(i / 4) * (cell_h + 8) + 60;
        return sheet.at(cx, cy);
    };
    for (int i = 0; i < 6; ++i) {
        const uint8_t* p = centre(i);
        INFO("thumbnail " << i);
        CHECK(p[0] == uint8_t(colours[i] >> 16));
        CHECK(p[1] == uint8_t(colours[i] >> 8));
        CHECK(p[2] == uint8_t(colours[i]));
    }
    // The square picture is letterboxed: black bars left and right inside its cell.
    const uint8_t* bar = sheet.at(8 + 168 + 4, 8 + cell_h + 8 + 60);
    CHECK((bar[0] == 0 && bar[1] == 0 && bar[2] == 0));
    // Labels: white pixels under each thumbnail, none in the gap above the first row.
    auto white_in = [&](uint32_t x0, uint32_t y0, uint32_t w, uint32_t h) {
        int n = 0;
        for (uint32_t y = y0; y < y0 + h; ++y) {
            for (uint32_t x = x0; x < x0 + w; ++x) {
                const uint8_t* p = sheet.at(x, y);
                n += p[0] == 255 && p[1] == 255 && p[2] == 255;
            }
        }
        return n;
    };
    CHECK(white_in(8, 8 + 120, 160, 14 + 8) > 40);
    CHECK(white_in(0, 0, sheet.width, 8) == 0);
    // "0:10.0" and "0:00.0" differ: the labels carry the times.
    std::vector<uint8_t> first, second;
    for (uint32_t y = 8 + 120; y < 8 + 120 + 22; ++y) {
        for (uint32_t x = 0; x < 160; ++x) {
            first.push_back(sheet.at(8 + x, y)[0]);
            second.push_back(sheet.at(8 + 168 + x, y)[0]);
        }
    }
    CHECK(first != second);

    CHECK_FALSE(build_contact_sheet({}, opt));
    opt.columns = 0;
    CHECK_FALSE(build_contact_sheet(frames, opt));
}
