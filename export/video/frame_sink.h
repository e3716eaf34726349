// Where replayed pictures and sound go. The replay engine drives a FrameSink in capture-time
// order: every changed screen state with its capture time, every played audio packet with the
// capture time of its first sample, then finish(). VideoWriter encodes them; PngFrameWriter
// dumps the screen states as PNG files.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "decode/codec/image_cache.h"
#include "decode/codec/image_types.h"
#include "decode/wire/result.h"

namespace spicetap::video {

struct SinkStats {
    uint64_t frames_in = 0;         // push_frame calls
    uint64_t frames_out = 0;        // pictures written, repeats and the initial black one included
    uint64_t frames_merged = 0;     // replaced by a later state before their turn (frame-rate cap)
    uint64_t audio_samples_in = 0;  // per channel, as pushed
    int64_t duration_us = 0;        // of the output (after idle shortening)
    int64_t idle_removed_us = 0;    // cut out by max_idle_s
    uint64_t bytes = 0;             // written to disk
};

class FrameSink {
public:
    virtual ~FrameSink() = default;

    // `frame` is Xrgb32 or Argb32 (alpha ignored), any size; it is copied before the call
    // returns. `t_us` is the capture time; times should not go backwards (a late one is taken as
    // simultaneous with the previous push).
    virtual Result<void> push_frame(const codec::PixelView& frame, int64_t t_us) = 0;

    Result<void> push_frame(const codec::DecodedImage& image, int64_t t_us) {
        return push_frame(codec::PixelView{const_cast<uint8_t*>(image.pixels.data()), image.width,
                                           image.height, image.stride, image.format},
                          t_us);
    }

    // Interleaved signed 16-bit samples; `t_us` is the capture time of the first one.
    virtual Result<void> push_audio(std::span<const int16_t> interleaved, int channels,
                                    int sample_rate, int64_t t_us) = 0;

    // Ends the output. `end_us` (capture time) stretches the last state to the session end;
    // without it the output ends one frame after the last state (or with the audio). Safe after
    // partial input and safe to call twice (the second call returns the first result).
    virtual Result<SinkStats> finish(std::optional<int64_t> end_us) = 0;
};

}  // namespace spicetap::video
