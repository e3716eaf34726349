// Real JPEG payloads cut from QEMU 7.2 <-> spicy captures (see tests/data/codec/README.md):
// a JPEG image (type 105) and MJPEG STREAM_DATA frames. No source pixels exist for them, so
// the reference is libavcodec's MJPEG decoder, an implementation independent of libjpeg.
#include <catch2/catch.hpp>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
}

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "decode/codec/jpeg_decoder.h"
#include "decode/codec/video_stream_decoder.h"
#include "tests/decode/codec/codec_test_util.h"
#include "tests/support/paths.h"

using namespace spicetap;
using namespace spicetap::codec;
using namespace spicetap::test;

namespace {

std::vector<uint8_t> read_fixture(const std::string& name) {
    const auto path = source_dir() / "tests" / "data" / "codec" / name;
    std::ifstream f(path, std::ios::binary);
    INFO(path.string());
    REQUIRE(f.good());
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// Decodes with libavcodec's own MJPEG decoder into packed B,G,R.
std::vector<uint8_t> reference_bgr(const std::vector<uint8_t>& jpeg, uint32_t& w, uint32_t& h) {
    av_log_set_level(AV_LOG_FATAL);
    const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
    REQUIRE(codec != nullptr);
    AVCodecContext* ctx = avcodec_alloc_context3(codec);
    REQUIRE(avcodec_open2(ctx, codec, nullptr) >= 0);
    std::vector<uint8_t> padded(jpeg);
    padded.resize(jpeg.size() + AV_INPUT_BUFFER_PADDING_SIZE, 0);
    AVPacket* pkt = av_packet_alloc();
    pkt->data = padded.data();
    pkt->size = static_cast<int>(jpeg.size());
    REQUIRE(avcodec_send_packet(ctx, pkt) >= 0);
    AVFrame* frame = av_frame_alloc();
    REQUIRE(avcodec_receive_frame(ctx, frame) >= 0);
    w = static_cast<uint32_t>(frame->width);
    h = static_cast<uint32_t>(frame->height);
    std::vector<uint8_t> bgr(size_t{w} * h * 3);
    SwsContext* sws = sws_getContext(
        frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), frame->width,
        frame->height, AV_PIX_FMT_BGR24, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT,
        nullptr, nullptr, nullptr);
    uint8_t* dst[4] = {bgr.data(), nullptr, nullptr, nullptr};
    int dst_stride[4] = {static_cast<int>(w * 3), 0, 0, 0};
    sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst, dst_stride);
    sws_freeContext(sws);
    av_frame_free(&frame);
    pkt->data = nullptr;
    pkt->size = 0;
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    return bgr;
}

}  // namespace

TEST_CASE("real QEMU JPEG image (type 105, 1024x768) decodes like an independent decoder",
          "[codec][jpeg][real]") {
    const auto jpeg = read_fixture("qemu-jpeg-image-1024x768.jpg");
    auto info = probe_jpeg(jpeg);
    REQUIRE(info);
    // The image descriptor in the capture says 1024x768.
    CHECK(info->width == 1024);
    CHECK(info->height == 768);
    auto img = DecodedImage::allocate(1024, 768, PixelFormat::Xrgb32);
    REQUIRE(decode_jpeg(jpeg, img.view()));

    uint32_t w = 0, h = 0;
    const auto ref = reference_bgr(jpeg, w, h);
    REQUIRE(w == 1024);
    REQUIRE(h == 768);
    const double psnr = psnr_vs_bgr(img, ref);
    INFO("PSNR vs libavcodec " << psnr);
    CHECK(psnr >= 40.0);

    // Not a blank screen: the guest drew colour bars and a gradient.
    uint32_t distinct = 0;
    uint32_t last = 0;
    for (uint32_t x = 0; x < 1024; x += 8) {
        const uint32_t p = pixel32(img, x, 100);
        distinct += p != last;
        last = p;
    }
    CHECK(distinct > 4);

    const std::vector<uint8_t> cut(jpeg.begin(), jpeg.begin() + 10000);
    auto truncated = decode_jpeg(cut, img.view(), {}, {}, 1000);
    REQUIRE_FALSE(truncated);
    CHECK(truncated.error().code == Errc::Truncated);
    CHECK(truncated.error().offset == 11000);
}

TEST_CASE("real QEMU MJPEG stream frames decode through VideoStreamDecoder",
          "[codec][video][real]") {
    const std::vector<std::pair<std::string, uint32_t>> frames{
        {"qemu-mjpeg-frame0-mm4099562.jpg", 4099562},
        {"qemu-mjpeg-frame1-mm4099648.jpg", 4099648},
        {"qemu-mjpeg-frame2-mm4099733.jpg", 4099733},
    };
    auto dec = VideoStreamDecoder::create(1, 0, 0);
    REQUIRE(dec);
    for (const auto& [name, mm] : frames) {
        const auto jpeg = read_fixture(name);
        auto out = (*dec)->push(jpeg, mm);
        REQUIRE(out);
        REQUIRE(out->size() == 1);
        const VideoFrame& f = out->front();
        CHECK(f.mm_time == mm);
        uint32_t w = 0, h = 0;
        const auto ref = reference_bgr(jpeg, w, h);
        CHECK(f.image.width == w);
        CHECK(f.image.height == h);
        const double psnr = psnr_vs_bgr(f.image, ref);
        INFO(name << " " << w << "x" << h << " PSNR vs libavcodec " << psnr);
        CHECK(psnr >= 40.0);
    }
}
