// Video export: screen states and audio packets in, one MP4/WebM/MKV file out.
//
// The container follows the file extension: .mp4 -> H.264 + AAC, .webm -> VP9 + Opus,
// .mkv -> H.264 + Opus. The time axis is capture time: by default only changed states are
// encoded, each at its real time (variable frame rate), so idle stretches cost nothing; `cfr`
// repeats the previous state on a fixed grid instead. Conversion and encoding run on a thread
// of their own behind a bounded queue, so the producer (replay) and the encoder each get a core.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "export/video/frame_sink.h"

namespace spicetap::video {

enum class VideoCodec : uint8_t { Auto, H264, Vp9, H265, Vp8 };

const char* video_codec_name(VideoCodec c);                   // "h264", "vp9", ...
Result<VideoCodec> parse_video_codec(std::string_view name);  // "h264"|"vp9"|"h265"|"vp8"|"auto"

// How colour is sampled. 4:2:0 (one colour sample per 2x2 pixels) is what every player and
// browser decodes; it smears single-pixel colour detail (noise, coloured text, checkers) to
// ~30 dB PSNR on such screens whatever the quality. 4:4:4 keeps every pixel's colour (H.264
// High 4:4:4 Predictive, VP9 profile 1, H.265 Main 4:4:4; not VP8) and reaches 35+ dB there,
// but few hardware decoders and no browser's H.264 decoder take it.
enum class Chroma : uint8_t { Yuv420, Yuv444 };

const char* chroma_name(Chroma c);                   // "420", "444"
Result<Chroma> parse_chroma(std::string_view name);  // "420"|"444"

struct Size {
    uint32_t width = 0;
    uint32_t height = 0;
};

Result<Size> parse_size(std::string_view text);  // "1280x720"

// x264/x265 preset names (libvpx gets them mapped onto its speeds; "placebo" has no VP match).
bool is_known_preset(const std::string& preset, VideoCodec codec);

struct VideoOptions {
    VideoCodec codec = VideoCodec::Auto;  // Auto: by container
    int crf = -1;                         // -1: 23 for H.264/H.265, 32 for VP9, 10 for VP8
    std::string preset;  // x264/x265 preset names; mapped onto libvpx speeds. "": "medium"
    Chroma chroma = Chroma::Yuv420;
    Size size;                // 0x0: the first frame's size (rounded up to even). Frames of other
                              // sizes are scaled to fit, keeping aspect, with black bars.
    double fps = 30;          // the frame-rate cap (VFR) or the grid (CFR); 1..240
    bool cfr = false;         // constant frame rate: repeat the previous state to fill the grid
    bool fragmented = false;  // MP4 only: fragments at keyframes, playable after a kill
    bool audio = false;       // the session had playback: an audio track from start to end
    double max_idle_s = 0;    // > 0: stretches with no frame and no audio longer than this are
                              // shortened to it (all later times shift)
    double keyframe_interval_s = 2;
    std::optional<int64_t> start_us;        // capture time of t=0; default: the first push
    size_t queue_bytes = size_t{64} << 20;  // bound on pictures waiting for the encoder
};

class VideoWriter final : public FrameSink {
public:
    // Checks the container, the codecs and the output path; with options.size set it also
    // opens the encoders, so a bad combination fails here rather than at the first frame.
    static Result<std::unique_ptr<VideoWriter>> open(const std::string& path,
                                                     const VideoOptions& options);

    ~VideoWriter() override;  // finishes if finish() was not called
    VideoWriter(const VideoWriter&) = delete;
    VideoWriter& operator=(const VideoWriter&) = delete;

    using FrameSink::push_frame;
    Result<void> push_frame(const codec::PixelView& frame, int64_t t_us) override;
    // Ignored (returns success) when the writer was opened without audio.
    Result<void> push_audio(std::span<const int16_t> interleaved, int channels, int sample_rate,
                            int64_t t_us) override;
    // May be called from another thread than the producer's (a signal path): it waits for a
    // push in progress, then flushes the encoders and writes the trailer.
    Result<SinkStats> finish(std::optional<int64_t> end_us) override;

    const std::string& path() const;
    VideoCodec codec() const;  // resolved (never Auto)

    struct Impl;

private:
    explicit VideoWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace spicetap::video
