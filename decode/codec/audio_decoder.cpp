#include "decode/codec/audio_decoder.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/samplefmt.h>
}

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "decode/codec/ffmpeg_calls.h"  // last: routes the FFmpeg calls above

namespace spicetap::codec {

namespace {

// spice-common snd_codec: Opus always runs with two channels.
constexpr int kOpusChannels = 2;
constexpr uint32_t kMaxRawChannels = 32;

bool opus_rate_ok(uint32_t hz) {
    return hz == 48000 || hz == 24000 || hz == 16000 || hz == 12000 || hz == 8000;
}

int16_t float_to_s16(float v) {
    const float scaled = std::nearbyint(v * 32768.0f);
    return static_cast<int16_t>(std::clamp(scaled, -32768.0f, 32767.0f));
}

}  // namespace

const char* audio_mode_name(uint8_t mode) {
    switch (static_cast<AudioMode>(mode)) {
        case AudioMode::Invalid:
            return "INVALID";
        case AudioMode::Raw:
            return "RAW";
        case AudioMode::Celt051:
            return "CELT_0_5_1";
        case AudioMode::Opus:
            return "OPUS";
    }
    return "unknown";
}

struct AudioDecoder::Impl {
    AudioMode mode = AudioMode::Raw;
    uint32_t channels = 0;
    uint32_t frequency = 0;
    FfmpegPtr<AVCodecContext> ctx;
    FfmpegPtr<AVFrame> frame;
    FfmpegPtr<AVPacket> packet;
    std::vector<uint8_t> padded;

    Result<AudioChunk> decode_raw(ByteView data, uint32_t time, uint64_t base) const {
        const size_t frame_bytes = size_t{channels} * 2;
        if (data.size() % frame_bytes != 0) {
            return make_error(Errc::Truncated, base + data.size() - data.size() % frame_bytes,
                              fmt::format("pcm: {} bytes is not a whole number of {}-channel "
                                          "S16 frames",
                                          data.size(), channels));
        }
        AudioChunk chunk{time, frequency, static_cast<uint8_t>(channels), {}};
        chunk.samples.resize(data.size() / 2);
        for (size_t i = 0; i < chunk.samples.size(); ++i) {
            chunk.samples[i] = static_cast<int16_t>(data[2 * i] | data[2 * i + 1] << 8);
        }
        return chunk;
    }

    // Appends the current decoded frame as interleaved S16.
    Result<void> append_frame(AudioChunk& chunk, uint64_t base) const {
        const AVFrame* f = frame.get();
        const int ch = f->ch_layout.nb_channels;
        if (ch != kOpusChannels) {
            return make_error(
                Errc::Corrupt, base,
                fmt::format("opus: decoder produced {} channels, expected {}", ch, kOpusChannels));
        }
        const size_t n = static_cast<size_t>(f->nb_samples);
        const size_t start = chunk.samples.size();
        chunk.samples.resize(start + n * ch);
        int16_t* out = chunk.samples.data() + start;
        const auto fmt = static_cast<AVSampleFormat>(f->format);
        for (size_t i = 0; i < n; ++i) {
            for (int c = 0; c < ch; ++c) {
                int16_t v = 0;
                switch (fmt) {
                    case AV_SAMPLE_FMT_S16:
                        v = reinterpret_cast<const int16_t*>(f->data[0])[i * ch + c];
                        break;
                    case AV_SAMPLE_FMT_S16P:
                        v = reinterpret_cast<const int16_t*>(f->data[c])[i];
                        break;
                    case AV_SAMPLE_FMT_FLT:
                        v = float_to_s16(reinterpret_cast<const float*>(f->data[0])[i * ch + c]);
                        break;
                    case AV_SAMPLE_FMT_FLTP:
                        v = float_to_s16(reinterpret_cast<const float*>(f->data[c])[i]);
                        break;
                    default:
                        return make_error(Errc::Unsupported, base,
                                          fmt::format("opus: decoder sample format {}",
                                                      av_get_sample_fmt_name(fmt)));
                }
                out[i * ch + c] = v;
            }
        }
        return {};
    }

    Result<AudioChunk> decode_opus(ByteView data, uint32_t time, uint64_t base) {
        if (data.empty()) {
            return make_error(Errc::Truncated, base, "opus: empty packet");
        }
        padded.assign(data.size() + AV_INPUT_BUFFER_PADDING_SIZE, 0);
        std::memcpy(padded.data(), data.data(), data.size());
        packet->data = padded.data();
        packet->size = static_cast<int>(data.size());
        int rc = avcodec_send_packet(ctx.get(), packet.get());
        packet->data = nullptr;
        packet->size = 0;
        if (rc < 0) {
            return make_error(Errc::Corrupt, base,
                              fmt::format("opus: packet of {} bytes rejected: {}", data.size(),
                                          ffmpeg_error_text(rc)));
        }
        AudioChunk chunk{
            time, static_cast<uint32_t>(ctx->sample_rate), static_cast<uint8_t>(kOpusChannels), {}};
        for (;;) {
            rc = avcodec_receive_frame(ctx.get(), frame.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) {
                break;
            }
            if (rc < 0) {
                return make_error(Errc::Corrupt, base,
                                  fmt::format("opus: decoding failed: {}", ffmpeg_error_text(rc)));
            }
            chunk.frequency = static_cast<uint32_t>(frame->sample_rate);
            auto ok = append_frame(chunk, base);
            av_frame_unref(frame.get());
            if (!ok) {
                return ok.error();
            }
        }
        return chunk;
    }

    Result<void> open_opus() {
        // Prefer libopus: it decodes at any Opus rate straight to S16 like spice-common does.
        // libavcodec's own decoder always gives 48 kHz float.
        const AVCodec* dec = avcodec_find_decoder_by_name("libopus");
        if (dec == nullptr) {
            dec = avcodec_find_decoder(AV_CODEC_ID_OPUS);
        }
        if (dec == nullptr) {
            return make_error(Errc::Unsupported, 0, "opus: this libavcodec has no Opus decoder");
        }
        ctx.reset(avcodec_alloc_context3(dec));
        frame.reset(av_frame_alloc());
        packet.reset(av_packet_alloc());
        if (!ctx || !frame || !packet) {
            return make_error(Errc::Io, 0, "opus: out of memory");
        }
        ctx->sample_rate = static_cast<int>(frequency);
        av_channel_layout_default(&ctx->ch_layout, kOpusChannels);
        ctx->request_sample_fmt = AV_SAMPLE_FMT_S16;
        const int rc = avcodec_open2(ctx.get(), dec, nullptr);
        if (rc < 0) {
            return make_error(
                Errc::Unsupported, 0,
                fmt::format("opus: cannot open the decoder: {}", ffmpeg_error_text(rc)));
        }
        return {};
    }
};

AudioDecoder::AudioDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AudioDecoder::~AudioDecoder() = default;

AudioMode AudioDecoder::mode() const {
    return impl_->mode;
}

Result<std::unique_ptr<AudioDecoder>> AudioDecoder::create(uint8_t mode, uint32_t channels,
                                                           uint32_t frequency,
                                                           uint8_t audio_format) {
    if (audio_format != 1) {
        return make_error(
            Errc::Unsupported, 0,
            fmt::format("audio: sample format {} (only 1 = S16 exists)", audio_format));
    }
    auto impl = std::make_unique<Impl>();
    impl->mode = static_cast<AudioMode>(mode);
    impl->channels = channels;
    impl->frequency = frequency;
    switch (impl->mode) {
        case AudioMode::Raw:
            if (channels == 0 || channels > kMaxRawChannels || frequency == 0) {
                return make_error(Errc::BadValue, 0,
                                  fmt::format("pcm: {} channels at {} Hz", channels, frequency));
            }
            break;
        case AudioMode::Opus:
            if (!opus_rate_ok(frequency)) {
                return make_error(Errc::BadValue, 0,
                                  fmt::format("opus: {} Hz is not an Opus rate (48000, 24000, "
                                              "16000, 12000, 8000)",
                                              frequency));
            }
            if (auto loaded = ffmpeg_load(); !loaded) {
                return loaded.error();
            }
            if (auto ok = impl->open_opus(); !ok) {
                return ok.error();
            }
            break;
        case AudioMode::Celt051:
            return make_error(Errc::Unsupported, 0,
                              "audio: CELT 0.5.1 (data mode 2) is not supported: its bit-stream "
                              "is incompatible with Opus and later CELT, and spice-common "
                              "dropped it");
        case AudioMode::Invalid:
        default:
            return make_error(
                Errc::BadValue, 0,
                fmt::format("audio: data mode {} is not RAW, CELT_0_5_1 or OPUS", mode));
    }
    return std::unique_ptr<AudioDecoder>(new AudioDecoder(std::move(impl)));
}

Result<AudioChunk> AudioDecoder::decode(ByteView data, uint32_t time, uint64_t base_offset) {
    if (impl_->mode == AudioMode::Raw) {
        return impl_->decode_raw(data, time, base_offset);
    }
    return impl_->decode_opus(data, time, base_offset);
}

void AudioDecoder::reset() {
    if (impl_->ctx) {
        avcodec_flush_buffers(impl_->ctx.get());
    }
}

}  // namespace spicetap::codec
