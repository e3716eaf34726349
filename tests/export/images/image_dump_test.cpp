// The image dump's own pieces: file names and PNG writing of every decoded pixel format (read
// back through the ffmpeg tool, a PNG reader that is not ours). The whole command runs on real
// sessions in tests/cli/images_cli_test.cpp.
#include "export/images/image_dump.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <iterator>
#include <string>
#include <vector>

#include "decode/codec/image_cache.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using namespace spicetap::codec;

namespace {

// The PNG as RGBA bytes, or empty.
std::string read_rgba(const std::filesystem::path& png) {
    const auto r = test::run_command("ffmpeg -v error -i " + test::shell_quote(png.string()) +
                                     " -f rawvideo -pix_fmt rgba -");
    return r.exit_code == 0 ? r.out : std::string();
}

}  // namespace

TEST_CASE("image file names sort by time and say where the image came from", "[export][images]") {
    images::ImageRecord r;
    r.ts_us = 1'000'000 + 123'456;
    r.display = 1;
    r.serial = 4567;
    r.id = 0x1a2b;
    r.type_name = "glz_rgb";
    r.width = 1024;
    r.height = 768;
    CHECK(images::image_file_name(r, 1'000'000) == "000123-d1-s4567-id0x1a2b-glz_rgb-1024x768.png");
    r.mask = true;
    r.type_name = "bitmap";
    r.width = 7;
    r.height = 1;
    CHECK(images::image_file_name(r, 1'000'000) == "000123-d1-s4567-id0x1a2b-bitmap-7x1-mask.png");
    const auto types = images::image_type_names();
    CHECK(types.front() == "bitmap");
    CHECK(std::find(types.begin(), types.end(), "zlib_glz_rgb") != types.end());
    CHECK(std::find(types.begin(), types.end(), "jpeg_alpha") != types.end());
}

TEST_CASE("PNGs of xRGB, premultiplied ARGB, A8 and A1 pixels", "[export][images]") {
    REQUIRE(test::have_program("ffmpeg"));
    test::TempDir tmp;
    SECTION("xRGB: the top byte is ignored") {
        auto img = DecodedImage::allocate(3, 1, PixelFormat::Xrgb32);
        const uint8_t px[] = {0x10, 0x20, 0x30, 0x00, 0xff, 0xfe, 0xfd, 0x12, 0, 0, 0, 0xff};
        std::copy(std::begin(px), std::end(px), img.pixels.begin());
        REQUIRE(images::write_image_png(img.view(), (tmp / "x.png").string()));
        CHECK(read_rgba(tmp / "x.png") ==
              std::string("\x30\x20\x10\xff\xfd\xfe\xff\xff\x00\x00\x00\xff", 12));
    }
    SECTION("ARGB: alpha kept, colour un-premultiplied") {
        auto img = DecodedImage::allocate(2, 1, PixelFormat::Argb32);
        const uint8_t px[] = {0x40, 0x20, 0x10, 0x80, 0x00, 0x00, 0x00, 0x00};
        std::copy(std::begin(px), std::end(px), img.pixels.begin());
        REQUIRE(images::write_image_png(img.view(), (tmp / "a.png").string()));
        CHECK(read_rgba(tmp / "a.png") == std::string("\x20\x40\x80\x80\x00\x00\x00\x00", 8));
    }
    SECTION("A8 as grey, A1 bit 0 first as black/white") {
        auto a8 = DecodedImage::allocate(2, 1, PixelFormat::A8);
        a8.pixels[0] = 0x00;
        a8.pixels[1] = 0x7f;
        REQUIRE(images::write_image_png(a8.view(), (tmp / "a8.png").string()));
        CHECK(read_rgba(tmp / "a8.png") == std::string("\x00\x00\x00\xff\x7f\x7f\x7f\xff", 8));
        auto a1 = DecodedImage::allocate(3, 1, PixelFormat::A1);
        a1.pixels[0] = 0x05;  // pixels 0 and 2 set
        REQUIRE(images::write_image_png(a1.view(), (tmp / "a1.png").string()));
        CHECK(read_rgba(tmp / "a1.png") ==
              std::string("\xff\xff\xff\xff\x00\x00\x00\xff\xff\xff\xff\xff", 12));
    }
    SECTION("an unwritable path is an I/O error") {
        auto img = DecodedImage::allocate(1, 1, PixelFormat::Xrgb32);
        auto r = images::write_image_png(img.view(), (tmp / "no/such/dir/x.png").string());
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::Io);
    }
}
