// Decoder for one SPICE video stream (STREAM_CREATE .. STREAM_DESTROY): one encoded frame per
// STREAM_DATA / STREAM_DATA_SIZED message in, decoded Xrgb32 frames out. MJPEG frames are plain
// JPEGs (decoded like spice-gtk's built-in MJPEG decoder); VP8/VP9 are raw frames and
// H.264/H.265 Annex-B access units, decoded with libavcodec. The decoder keeps its reference
// frames between push() calls, so use one object per stream id.
//
// Placing the frame is the caller's job: scale it to the stream's dest box, and flip it
// vertically when STREAM_CREATE lacks the TOP_DOWN flag.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "decode/codec/image_cache.h"
#include "decode/codec/image_types.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::codec {

// SpiceVideoCodecType.
enum class VideoCodec : uint8_t { Mjpeg = 1, Vp8 = 2, H264 = 3, Vp9 = 4, H265 = 5 };

const char* video_codec_name(uint8_t codec);

struct VideoFrame {
    uint32_t mm_time = 0;  // multi_media_time of the STREAM_DATA the frame came from
    DecodedImage image;    // Xrgb32, the size the bitstream says (stream_width x stream_height
                           // normally; SIZED frames may differ)
};

class VideoStreamDecoder {
public:
    // `codec` is STREAM_CREATE.codec_type; width/height are stream_width/stream_height (used
    // to check frames; libavcodec learns the real size from the bitstream).
    static Result<std::unique_ptr<VideoStreamDecoder>> create(uint8_t codec, uint32_t width,
                                                              uint32_t height,
                                                              const Limits& limits = {});
    ~VideoStreamDecoder();
    VideoStreamDecoder(const VideoStreamDecoder&) = delete;
    VideoStreamDecoder& operator=(const VideoStreamDecoder&) = delete;

    VideoCodec codec() const;

    // Decodes one encoded frame. Usually yields exactly one frame; codecs with reordering may
    // yield none now and more later. `base_offset` is where `frame` starts in the message.
    Result<std::vector<VideoFrame>> push(ByteView frame, uint32_t mm_time,
                                         uint64_t base_offset = 0);

    // Drains frames the codec still holds (end of stream).
    Result<std::vector<VideoFrame>> flush();

private:
    struct Impl;
    explicit VideoStreamDecoder(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace spicetap::codec
