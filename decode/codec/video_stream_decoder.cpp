#include "decode/codec/video_stream_decoder.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include <fmt/core.h>

#include <cstring>
#include <string>

#include "decode/codec/ffmpeg_calls.h"  // last: routes the FFmpeg calls above
#include "decode/codec/jpeg_decoder.h"

namespace spicetap::codec {

namespace {

AVCodecID codec_id(VideoCodec c) {
    switch (c) {
        case VideoCodec::Vp8:
            return AV_CODEC_ID_VP8;
        case VideoCodec::H264:
            return AV_CODEC_ID_H264;
        case VideoCodec::Vp9:
            return AV_CODEC_ID_VP9;
        case VideoCodec::H265:
            return AV_CODEC_ID_HEVC;
        case VideoCodec::Mjpeg:
            return AV_CODEC_ID_MJPEG;
    }
    return AV_CODEC_ID_NONE;
}

}  // namespace

const char* video_codec_name(uint8_t codec) {
    switch (static_cast<VideoCodec>(codec)) {
        case VideoCodec::Mjpeg:
            return "MJPEG";
        case VideoCodec::Vp8:
            return "VP8";
        case VideoCodec::H264:
            return "H264";
        case VideoCodec::Vp9:
            return "VP9";
        case VideoCodec::H265:
            return "H265";
    }
    return "unknown";
}

struct VideoStreamDecoder::Impl {
    VideoCodec codec = VideoCodec::Mjpeg;
    uint32_t width = 0;
    uint32_t height = 0;
    Limits limits;
    FfmpegPtr<AVCodecContext> ctx;
    FfmpegPtr<AVFrame> frame;
    FfmpegPtr<AVPacket> packet;
    FfmpegPtr<SwsContext> sws;
    std::vector<uint8_t> padded;

    const char* name() const { return video_codec_name(static_cast<uint8_t>(codec)); }

    Result<std::vector<VideoFrame>> push_mjpeg(ByteView data, uint32_t mm_time, uint64_t base) {
        auto info = probe_jpeg(data, limits, base);
        if (!info) {
            return info.error();
        }
        VideoFrame f;
        f.mm_time = mm_time;
        f.image = DecodedImage::allocate(info->width, info->height, PixelFormat::Xrgb32);
        JpegOptions fast;
        fast.fast = true;
        if (auto ok = decode_jpeg(data, f.image.view(), fast, limits, base); !ok) {
            return ok.error();
        }
        std::vector<VideoFrame> frames;
        frames.push_back(std::move(f));
        return frames;
    }

    // Converts the decoder's current frame to Xrgb32.
    Result<VideoFrame> convert(uint64_t base) {
        AVFrame* src = frame.get();
        if (src->width <= 0 || src->height <= 0 ||
            static_cast<uint32_t>(src->width) > limits.max_width ||
            static_cast<uint32_t>(src->height) > limits.max_height) {
            return make_error(Errc::LimitExceeded, base,
                              fmt::format("{}: decoded frame {}x{} is empty or exceeds the limits",
                                          name(), src->width, src->height));
        }
        // Accurate rounding keeps the YUV->RGB step from costing PSNR; BGRA in memory is
        // native-endian 0xAARRGGBB on little-endian, our Xrgb32.
        sws.reset(sws_getCachedContext(
            sws.release(), src->width, src->height, static_cast<AVPixelFormat>(src->format),
            src->width, src->height, AV_PIX_FMT_BGRA,
            SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr));
        if (sws == nullptr) {
            return make_error(
                Errc::Unsupported, base,
                fmt::format("{}: cannot convert pixel format {} to BGRA", name(), src->format));
        }
        VideoFrame out;
        out.mm_time = static_cast<uint32_t>(src->pts == AV_NOPTS_VALUE ? 0 : src->pts);
        out.image = DecodedImage::allocate(static_cast<uint32_t>(src->width),
                                           static_cast<uint32_t>(src->height), PixelFormat::Xrgb32);
        uint8_t* dst_planes[4] = {out.image.pixels.data(), nullptr, nullptr, nullptr};
        int dst_strides[4] = {static_cast<int>(out.image.stride), 0, 0, 0};
        sws_scale(sws.get(), src->data, src->linesize, 0, src->height, dst_planes, dst_strides);
        apply_high_bits(out.image.view());
        return out;
    }

    Result<std::vector<VideoFrame>> receive_all(uint64_t base) {
        std::vector<VideoFrame> frames;
        for (;;) {
            const int rc = avcodec_receive_frame(ctx.get(), frame.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) {
                return frames;
            }
            if (rc < 0) {
                return make_error(
                    Errc::Corrupt, base,
                    fmt::format("{}: decoding failed: {}", name(), ffmpeg_error_text(rc)));
            }
            auto converted = convert(base);
            av_frame_unref(frame.get());
            if (!converted) {
                return converted.error();
            }
            frames.push_back(std::move(converted.value()));
        }
    }

    Result<std::vector<VideoFrame>> push_av(ByteView data, uint32_t mm_time, uint64_t base) {
        if (data.empty()) {
            return make_error(Errc::Truncated, base, fmt::format("{}: empty frame", name()));
        }
        // libavcodec may read a little past the end of a packet.
        padded.assign(data.size() + AV_INPUT_BUFFER_PADDING_SIZE, 0);
        std::memcpy(padded.data(), data.data(), data.size());
        packet->data = padded.data();
        packet->size = static_cast<int>(data.size());
        packet->pts = mm_time;
        packet->dts = mm_time;
        const int rc = avcodec_send_packet(ctx.get(), packet.get());
        packet->data = nullptr;
        packet->size = 0;
        if (rc < 0 && rc != AVERROR(EAGAIN)) {
            return make_error(Errc::Corrupt, base,
                              fmt::format("{}: frame of {} bytes rejected: {}", name(), data.size(),
                                          ffmpeg_error_text(rc)));
        }
        return receive_all(base);
    }
};

VideoStreamDecoder::VideoStreamDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

VideoStreamDecoder::~VideoStreamDecoder() = default;

VideoCodec VideoStreamDecoder::codec() const {
    return impl_->codec;
}

Result<std::unique_ptr<VideoStreamDecoder>> VideoStreamDecoder::create(uint8_t codec,
                                                                       uint32_t width,
                                                                       uint32_t height,
                                                                       const Limits& limits) {
    if (auto loaded = ffmpeg_load(); !loaded) {
        return loaded.error();
    }
    if (codec < 1 || codec > 5) {
        return make_error(Errc::Unsupported, 0,
                          fmt::format("video stream: unknown codec type {}", codec));
    }
    if (width > limits.max_width || height > limits.max_height ||
        uint64_t{width} * height > limits.max_pixels) {
        return make_error(
            Errc::LimitExceeded, 0,
            fmt::format("video stream: {}x{} exceeds the configured limits", width, height));
    }
    auto impl = std::make_unique<Impl>();
    impl->codec = static_cast<VideoCodec>(codec);
    impl->width = width;
    impl->height = height;
    impl->limits = limits;
    if (impl->codec != VideoCodec::Mjpeg) {
        const AVCodec* dec = avcodec_find_decoder(codec_id(impl->codec));
        if (dec == nullptr) {
            return make_error(
                Errc::Unsupported, 0,
                fmt::format("video stream: this libavcodec has no {} decoder", impl->name()));
        }
        impl->ctx.reset(avcodec_alloc_context3(dec));
        impl->frame.reset(av_frame_alloc());
        impl->packet.reset(av_packet_alloc());
        if (!impl->ctx || !impl->frame || !impl->packet) {
            return make_error(Errc::Io, 0, "video stream: out of memory");
        }
        // One thread and low delay: a frame comes out for every frame that goes in, as a
        // client presenting frames at their mm_time expects.
        impl->ctx->thread_count = 1;
        impl->ctx->flags |= AV_CODEC_FLAG_LOW_DELAY;
        if (width > 0 && height > 0) {
            impl->ctx->width = static_cast<int>(width);
            impl->ctx->height = static_cast<int>(height);
        }
        const int rc = avcodec_open2(impl->ctx.get(), dec, nullptr);
        if (rc < 0) {
            return make_error(Errc::Unsupported, 0,
                              fmt::format("video stream: cannot open the {} decoder: {}",
                                          impl->name(), ffmpeg_error_text(rc)));
        }
    }
    return std::unique_ptr<VideoStreamDecoder>(new VideoStreamDecoder(std::move(impl)));
}

Result<std::vector<VideoFrame>> VideoStreamDecoder::push(ByteView frame, uint32_t mm_time,
                                                         uint64_t base_offset) {
    if (impl_->codec == VideoCodec::Mjpeg) {
        return impl_->push_mjpeg(frame, mm_time, base_offset);
    }
    return impl_->push_av(frame, mm_time, base_offset);
}

Result<std::vector<VideoFrame>> VideoStreamDecoder::flush() {
    if (impl_->codec == VideoCodec::Mjpeg) {
        return std::vector<VideoFrame>{};
    }
    const int rc = avcodec_send_packet(impl_->ctx.get(), nullptr);
    if (rc < 0 && rc != AVERROR_EOF) {
        return make_error(
            Errc::Corrupt, 0,
            fmt::format("{}: flush failed: {}", impl_->name(), ffmpeg_error_text(rc)));
    }
    auto frames = impl_->receive_all(0);
    avcodec_flush_buffers(impl_->ctx.get());
    return frames;
}

}  // namespace spicetap::codec
