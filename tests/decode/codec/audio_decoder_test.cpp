#include <catch2/catch.hpp>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/dict.h>
#include <libavutil/log.h>
}

#include <cmath>
#include <numbers>
#include <optional>
#include <vector>

#include "decode/codec/audio_decoder.h"

using namespace spicetap;
using namespace spicetap::codec;

// The encoders and the corrupt-input cases make libav chatty; the assertions say what matters.
static const bool kQuietLibav = [] {
    av_log_set_level(AV_LOG_FATAL);
    return true;
}();

namespace {

constexpr int kRate = 48000;
constexpr int kFrameSamples = 480;  // spice-server: 10 ms Opus frames

// 1 s of a stereo 440 Hz tone encoded as 10 ms Opus packets (as spice-server sends them).
std::optional<std::vector<std::vector<uint8_t>>> opus_tone_packets() {
    const AVCodec* codec = avcodec_find_encoder_by_name("libopus");
    if (codec == nullptr) {
        return std::nullopt;
    }
    AVCodecContext* ctx = avcodec_alloc_context3(codec);
    ctx->sample_rate = kRate;
    ctx->sample_fmt = AV_SAMPLE_FMT_S16;
    av_channel_layout_default(&ctx->ch_layout, 2);
    ctx->bit_rate = 128000;
    AVDictionary* opts = nullptr;
    av_dict_set(&opts, "frame_duration", "10", 0);
    av_dict_set(&opts, "application", "audio", 0);
    const int rc = avcodec_open2(ctx, codec, &opts);
    av_dict_free(&opts);
    REQUIRE(rc >= 0);
    REQUIRE(ctx->frame_size == kFrameSamples);

    AVFrame* frame = av_frame_alloc();
    frame->format = AV_SAMPLE_FMT_S16;
    frame->nb_samples = kFrameSamples;
    av_channel_layout_default(&frame->ch_layout, 2);
    frame->sample_rate = kRate;
    REQUIRE(av_frame_get_buffer(frame, 0) >= 0);
    AVPacket* pkt = av_packet_alloc();
    std::vector<std::vector<uint8_t>> packets;
    auto drain = [&] {
        while (avcodec_receive_packet(ctx, pkt) >= 0) {
            packets.emplace_back(pkt->data, pkt->data + pkt->size);
            av_packet_unref(pkt);
        }
    };
    int64_t n = 0;
    for (int f = 0; f < kRate / kFrameSamples; ++f) {
        REQUIRE(av_frame_make_writable(frame) >= 0);
        auto* s = reinterpret_cast<int16_t*>(frame->data[0]);
        for (int i = 0; i < kFrameSamples; ++i, ++n) {
            const auto v = static_cast<int16_t>(
                10000 * std::sin(2 * std::numbers::pi * 440.0 * static_cast<double>(n) / kRate));
            s[2 * i] = v;
            s[2 * i + 1] = v;
        }
        frame->pts = n - kFrameSamples;
        REQUIRE(avcodec_send_frame(ctx, frame) >= 0);
        drain();
    }
    avcodec_send_frame(ctx, nullptr);
    drain();
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
    return packets;
}

}  // namespace

TEST_CASE("RAW playback data is little-endian S16", "[codec][audio]") {
    auto dec = AudioDecoder::create(1, 2, 44100);
    REQUIRE(dec);
    CHECK((*dec)->mode() == AudioMode::Raw);
    const std::vector<uint8_t> data{0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f};
    auto chunk = (*dec)->decode(data, 1234);
    REQUIRE(chunk);
    CHECK(chunk->time == 1234);
    CHECK(chunk->frequency == 44100);
    CHECK(chunk->channels == 2);
    CHECK(chunk->frames() == 2);
    CHECK(chunk->samples == std::vector<int16_t>{1, -1, -32768, 32767});

    const std::vector<uint8_t> ragged{1, 2, 3, 4, 5, 6};
    auto bad = (*dec)->decode(ragged, 0, 100);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::Truncated);
    CHECK(bad.error().offset == 104);
    CHECK_THAT(bad.error().what, Catch::StartsWith("pcm:"));
}

TEST_CASE("audio modes: CELT 0.5.1 is refused by name, bad parameters are errors",
          "[codec][audio]") {
    auto celt = AudioDecoder::create(2, 2, 44100);
    REQUIRE_FALSE(celt);
    CHECK(celt.error().code == Errc::Unsupported);
    CHECK_THAT(celt.error().what, Catch::Contains("CELT 0.5.1"));
    CHECK(std::string(audio_mode_name(2)) == "CELT_0_5_1");

    CHECK(AudioDecoder::create(0, 2, 48000).error().code == Errc::BadValue);
    CHECK(AudioDecoder::create(7, 2, 48000).error().code == Errc::BadValue);
    CHECK(AudioDecoder::create(1, 0, 48000).error().code == Errc::BadValue);
    CHECK(AudioDecoder::create(3, 2, 44100).error().code == Errc::BadValue);
    CHECK(AudioDecoder::create(1, 2, 48000, 2).error().code == Errc::Unsupported);
}

TEST_CASE("Opus playback data round trip: a 440 Hz tone comes back at 440 Hz", "[codec][audio]") {
    auto packets = opus_tone_packets();
    if (!packets) {
        WARN("libavcodec has no libopus encoder: Opus round trip not tested");
        return;
    }
    REQUIRE(packets->size() >= 90);
    auto dec = AudioDecoder::create(3, 2, 48000);
    REQUIRE(dec);
    std::vector<int16_t> left;
    uint32_t time = 10000;
    for (const auto& p : *packets) {
        auto chunk = (*dec)->decode(p, time, 0);
        INFO((chunk ? std::string() : chunk.error().message()));
        REQUIRE(chunk);
        CHECK(chunk->time == time);
        CHECK(chunk->channels == 2);
        CHECK(chunk->frequency == 48000);
        CHECK(chunk->frames() == static_cast<size_t>(kFrameSamples));
        for (size_t i = 0; i < chunk->frames(); ++i) {
            left.push_back(chunk->samples[2 * i]);
        }
        time += 10;
    }
    // Skip the codec's start-up (pre-skip and ramp), then count rising zero crossings.
    const size_t start = kRate / 10;
    const size_t end = left.size() - kRate / 20;
    REQUIRE(end > start + kRate / 2);
    int crossings = 0;
    double energy = 0;
    for (size_t i = start + 1; i < end; ++i) {
        if (left[i - 1] < 0 && left[i] >= 0) {
            ++crossings;
        }
        energy += double(left[i]) * left[i];
    }
    const double seconds = static_cast<double>(end - start) / kRate;
    const double hz = crossings / seconds;
    const double rms = std::sqrt(energy / static_cast<double>(end - start - 1));
    INFO("frequency " << hz << " Hz, rms " << rms);
    CHECK(hz == Approx(440.0).margin(4.0));
    CHECK(rms == Approx(10000 / std::sqrt(2.0)).epsilon(0.15));

    // A code-3 packet announcing zero frames is invalid Opus.
    const std::vector<uint8_t> invalid{0x03, 0x00};
    auto bad = (*dec)->decode(invalid, 0, 77);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().offset == 77);
    CHECK_THAT(bad.error().what, Catch::StartsWith("opus:"));
    CHECK((*dec)->decode(ByteView{}, 0).error().code == Errc::Truncated);
}
