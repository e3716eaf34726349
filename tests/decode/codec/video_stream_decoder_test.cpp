#include <catch2/catch.hpp>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/dict.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "decode/codec/video_stream_decoder.h"
#include "tests/decode/codec/codec_test_util.h"

using namespace spicetap;
using namespace spicetap::codec;

// The encoders and the corrupt-input cases make libav chatty; the assertions say what matters.
static const bool kQuietLibav = [] {
    av_log_set_level(AV_LOG_FATAL);
    return true;
}();
using namespace spicetap::test;

namespace {

constexpr uint32_t kW = 128;
constexpr uint32_t kH = 96;
constexpr int kFrames = 8;

uint32_t mm_time_of(int frame) {
    return 5000 + 33 * static_cast<uint32_t>(frame);
}

struct Clip {
    std::vector<std::vector<uint8_t>> packets;
    std::vector<uint32_t> packet_times;
};

// Encodes kFrames test pictures with a libavcodec encoder, the way a SPICE server's
// low-latency stream encoder would: no frame reordering, one packet per frame, Annex-B for
// H.264/H.265 (no global header). nullopt when this libavcodec lacks the encoder.
std::optional<Clip> encode_clip(const char* encoder, const std::map<std::string, std::string>& opts,
                                int64_t bit_rate = 0) {
    const AVCodec* codec = avcodec_find_encoder_by_name(encoder);
    if (codec == nullptr) {
        return std::nullopt;
    }
    AVCodecContext* ctx = avcodec_alloc_context3(codec);
    ctx->width = kW;
    ctx->height = kH;
    ctx->pix_fmt = AV_PIX_FMT_YUV420P;
    ctx->time_base = AVRational{1, 1000};
    ctx->framerate = AVRational{30, 1};
    ctx->gop_size = 30;
    ctx->max_b_frames = 0;
    ctx->thread_count = 1;
    if (bit_rate > 0) {
        ctx->bit_rate = bit_rate;
        ctx->qmin = 0;
        ctx->qmax = 10;
    }
    AVDictionary* dict = nullptr;
    for (const auto& [k, v] : opts) {
        av_dict_set(&dict, k.c_str(), v.c_str(), 0);
    }
    const int rc = avcodec_open2(ctx, codec, &dict);
    av_dict_free(&dict);
    REQUIRE(rc >= 0);

    SwsContext* sws = sws_getContext(kW, kH, AV_PIX_FMT_BGR24, kW, kH, AV_PIX_FMT_YUV420P,
                                     SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nullptr,
                                     nullptr, nullptr);
    AVFrame* frame = av_frame_alloc();
    frame->format = AV_PIX_FMT_YUV420P;
    frame->width = kW;
    frame->height = kH;
    REQUIRE(av_frame_get_buffer(frame, 0) >= 0);
    AVPacket* pkt = av_packet_alloc();
    Clip clip;
    auto drain = [&] {
        while (avcodec_receive_packet(ctx, pkt) >= 0) {
            clip.packets.emplace_back(pkt->data, pkt->data + pkt->size);
            clip.packet_times.push_back(static_cast<uint32_t>(pkt->pts));
            av_packet_unref(pkt);
        }
    };
    for (int i = 0; i < kFrames; ++i) {
        const auto bgr = test_picture_bgr(kW, kH, i);
        REQUIRE(av_frame_make_writable(frame) >= 0);
        const uint8_t* src[1] = {bgr.data()};
        const int src_stride[1] = {static_cast<int>(kW * 3)};
        sws_scale(sws, src, src_stride, 0, kH, frame->data, frame->linesize);
        frame->pts = mm_time_of(i);
        REQUIRE(avcodec_send_frame(ctx, frame) >= 0);
        drain();
    }
    avcodec_send_frame(ctx, nullptr);
    drain();
    av_packet_free(&pkt);
    av_frame_free(&frame);
    sws_freeContext(sws);
    avcodec_free_context(&ctx);
    return clip;
}

int frame_index(uint32_t mm_time) {
    return static_cast<int>((mm_time - 5000) / 33);
}

// Feeds the clip frame by frame and checks every decoded frame against its source picture.
void check_round_trip(uint8_t codec, const Clip& clip) {
    auto dec = VideoStreamDecoder::create(codec, kW, kH);
    REQUIRE(dec);
    std::vector<VideoFrame> frames;
    for (size_t i = 0; i < clip.packets.size(); ++i) {
        auto out = (*dec)->push(clip.packets[i], clip.packet_times[i], 0);
        INFO((out ? std::string() : out.error().message()));
        REQUIRE(out);
        // Low-latency streams: each frame in gives its frame out at once.
        CHECK(out->size() == 1);
        for (auto& f : *out) {
            frames.push_back(std::move(f));
        }
    }
    auto rest = (*dec)->flush();
    REQUIRE(rest);
    CHECK(rest->empty());
    REQUIRE(frames.size() == kFrames);
    double worst = 99;
    for (const auto& f : frames) {
        REQUIRE(f.image.width == kW);
        REQUIRE(f.image.height == kH);
        CHECK((pixel32(f.image, 7, 9) >> 24) == 0xff);
        worst =
            std::min(worst, psnr_vs_bgr(f.image, test_picture_bgr(kW, kH, frame_index(f.mm_time))));
    }
    CHECK(frame_index(frames.back().mm_time) == kFrames - 1);
    INFO(video_codec_name(codec) << " worst PSNR " << worst);
    CHECK(worst >= 40.0);
}

}  // namespace

TEST_CASE("MJPEG stream frames are plain JPEGs", "[codec][video]") {
    auto dec = VideoStreamDecoder::create(1, kW, kH);
    REQUIRE(dec);
    CHECK((*dec)->codec() == VideoCodec::Mjpeg);
    for (int i = 0; i < 3; ++i) {
        const auto src = test_picture_bgr(kW, kH, i);
        // spice-server's MJPEG encoder uses libjpeg defaults: 4:2:0 chroma.
        const auto jpeg = encode_jpeg_bgr(src, kW, kH, 95, false);
        auto out = (*dec)->push(jpeg, mm_time_of(i));
        REQUIRE(out);
        REQUIRE(out->size() == 1);
        CHECK(out->front().mm_time == mm_time_of(i));
        const double psnr = psnr_vs_bgr(out->front().image, src);
        INFO("PSNR " << psnr);
        CHECK(psnr >= 40.0);
    }
    auto bad = (*dec)->push(std::vector<uint8_t>{0xff, 0xd8, 0xff}, 1, 64);
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().what, Catch::StartsWith("jpeg:"));
    CHECK(bad.error().offset >= 64);
}

TEST_CASE("VP8 stream round trip (libvpx encoder)", "[codec][video]") {
    auto clip = encode_clip(
        "libvpx", {{"deadline", "good"}, {"lag-in-frames", "0"}, {"cpu-used", "4"}}, 40'000'000);
    if (!clip) {
        WARN("libavcodec has no libvpx (VP8) encoder: VP8 round trip not tested");
        return;
    }
    check_round_trip(2, *clip);
}

TEST_CASE("VP9 stream round trip (libvpx-vp9 encoder)", "[codec][video]") {
    auto clip = encode_clip("libvpx-vp9", {{"deadline", "realtime"},
                                           {"lag-in-frames", "0"},
                                           {"cpu-used", "8"},
                                           {"crf", "4"},
                                           {"b", "0"}});
    if (!clip) {
        WARN("libavcodec has no libvpx-vp9 encoder: VP9 round trip not tested");
        return;
    }
    check_round_trip(4, *clip);
}

TEST_CASE("H.264 stream round trip (libx264 encoder, Annex-B)", "[codec][video]") {
    auto clip =
        encode_clip("libx264", {{"preset", "veryfast"}, {"tune", "zerolatency"}, {"crf", "8"}});
    if (!clip) {
        WARN("libavcodec has no libx264 encoder: H.264 round trip not tested");
        return;
    }
    REQUIRE_FALSE(clip->packets.empty());
    const auto& first = clip->packets.front();
    CHECK((first[0] == 0 && first[1] == 0 && (first[2] == 1 || first[3] == 1)));  // start code
    check_round_trip(3, *clip);
}

TEST_CASE("H.265 stream round trip (libx265 encoder, Annex-B)", "[codec][video]") {
    auto clip = encode_clip("libx265", {{"preset", "ultrafast"},
                                        {"tune", "zerolatency"},
                                        {"crf", "8"},
                                        {"x265-params", "log-level=none"}});
    if (!clip) {
        WARN("libavcodec has no libx265 encoder: H.265 round trip not tested");
        return;
    }
    check_round_trip(5, *clip);
}

TEST_CASE("video stream errors", "[codec][video]") {
    auto unknown = VideoStreamDecoder::create(9, kW, kH);
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code == Errc::Unsupported);
    CHECK_THAT(unknown.error().what, Catch::Contains("codec type 9"));

    Limits small;
    small.max_width = 64;
    CHECK(VideoStreamDecoder::create(3, kW, kH, small).error().code == Errc::LimitExceeded);

    auto vp8 = VideoStreamDecoder::create(2, kW, kH);
    REQUIRE(vp8);
    auto empty = (*vp8)->push(ByteView{}, 1, 12);
    REQUIRE_FALSE(empty);
    CHECK(empty.error().offset == 12);
    CHECK_THAT(empty.error().what, Catch::StartsWith("VP8:"));

    // A frame too short to be a VP8 frame header is rejected, not decoded.
    const std::vector<uint8_t> garbage{0x01, 0x02, 0x03};
    auto bad = (*vp8)->push(garbage, 2, 40);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::Corrupt);
    CHECK(bad.error().offset == 40);
    CHECK_THAT(bad.error().what, Catch::StartsWith("VP8:"));
}
