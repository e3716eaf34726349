// Screen states as PNG files, one per state: `frame-000001-0000012345ms.png` (index, then the
// time from the start in milliseconds), so a directory listing sorts in time order.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "export/video/frame_sink.h"

namespace spicetap::video {

// Writes an Xrgb32/Argb32 picture as an 8-bit RGB PNG (alpha dropped).
Result<void> write_png(const codec::PixelView& picture, const std::string& path);

struct PngFramesOptions {
    double max_fps = 0;               // > 0: states closer than 1/max_fps merge (the last wins)
    std::optional<int64_t> start_us;  // capture time of t=0; default: the first frame
};

class PngFrameWriter final : public FrameSink {
public:
    // Creates `dir` if needed.
    static Result<std::unique_ptr<PngFrameWriter>> open(const std::string& dir,
                                                        const PngFramesOptions& options);

    using FrameSink::push_frame;
    Result<void> push_frame(const codec::PixelView& frame, int64_t t_us) override;
    // PNG frames have no sound: counted, then dropped.
    Result<void> push_audio(std::span<const int16_t> interleaved, int channels, int sample_rate,
                            int64_t t_us) override;
    Result<SinkStats> finish(std::optional<int64_t> end_us) override;

private:
    PngFrameWriter(std::string dir, const PngFramesOptions& options);
    Result<void> write_pending();

    std::string dir_;
    PngFramesOptions opt_;
    SinkStats stats_;
    bool started_ = false;
    bool finished_ = false;
    int64_t start_us_ = 0;
    int64_t last_t_ = 0;
    int64_t last_written_ = 0;
    bool any_written_ = false;
    codec::DecodedImage pending_;
    int64_t pending_t_ = 0;
    bool has_pending_ = false;
};

// The same sink, for callers that only want a FrameSink.
Result<std::unique_ptr<FrameSink>> write_png_frames(const std::string& dir,
                                                    const PngFramesOptions& options = {});

}  // namespace spicetap::video
