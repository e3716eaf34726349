// GLZ image decoder (SpiceImage GLZ_RGB, 102; also the inflated stream of ZLIB_GLZ_RGB, 107).
// GLZ is LZ whose matches may copy pixels of earlier images, named by image id distance, so
// every GLZ image goes into the session's GlzWindow, drawn or not.
//
// Input is the GLZ stream (the `data_size` bytes after the SpiceImage field): a 33-byte
// big-endian header (magic "  ZL", version 1.1, one byte with the LZ image type in the low
// nibble and top_down in the high one, width, height, stride, image id u64, win_head_dist)
// then the tokens; the whole span must be consumed. The server sends GLZ only for RGB16, RGB24,
// RGB32 and RGBA; palette, XXXA and A8 streams are rejected as unsupported (GLZ_RGB carries no
// palette; spice-gtk has no decoder for them either).
//
// Output: Xrgb32 (Argb32 views accepted, written opaque), or Argb32 for RGBA; top row first.
// A reference to an image that is not in the window fails with the id in the message and in
// missing_image(): Errc::LimitExceeded if our memory cap evicted it, Errc::Corrupt otherwise
// (never seen - possibly still to arrive on another display connection - or released by the
// stream). A failed decode changes nothing in the window, so the caller may retry it later.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "decode/codec/glz_window.h"
#include "decode/codec/image_types.h"
#include "decode/codec/lz_common.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::codec {

struct GlzHeader {
    LzImageType type = LzImageType::Invalid;
    bool top_down = true;
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t stride = 0;
    uint64_t id = 0;
    uint32_t win_head_dist = 0;  // images older than id - win_head_dist are out of reach

    uint64_t gross_pixels() const;
};

inline constexpr size_t kGlzHeaderSize = 33;

struct GlzDecodeStats {
    uint64_t cross_image_refs = 0;              // matches that copied from an earlier image
    uint64_t cross_image_pixels = 0;            // pixels they copied
    std::optional<uint64_t> oldest_referenced;  // smallest image id referenced
};

class GlzDecoder {
public:
    // The window must outlive the decoder; several decoders (one per display channel) may share
    // one window.
    explicit GlzDecoder(GlzWindow& window, Limits limits = {});
    ~GlzDecoder();
    GlzDecoder(const GlzDecoder&) = delete;
    GlzDecoder& operator=(const GlzDecoder&) = delete;

    Result<GlzHeader> read_header(ByteView stream) const;
    Result<ImageInfo> probe(ByteView stream) const;

    // Decodes, adds the image to the window, and writes it to `out` (header width and height).
    Result<void> decode(ByteView stream, const PixelView& out);

    // Decodes and adds the image to the window only (for images that are not drawn).
    Result<GlzHeader> decode(ByteView stream);

    // After a failed decode: the id of the image a reference needed and did not find.
    std::optional<uint64_t> missing_image() const { return missing_; }

    // Statistics of the last successful decode.
    const GlzDecodeStats& stats() const { return stats_; }

    GlzWindow& window() { return window_; }

    // Writes an image kept by the window to a view of its size, top row first.
    static Result<void> copy_out(const GlzImage& image, const PixelView& out);

private:
    Result<GlzHeader> decode_into_window(ByteView stream);

    GlzWindow& window_;
    Limits limits_;
    std::unique_ptr<GlzImage> work_;
    std::optional<uint64_t> missing_;
    GlzDecodeStats stats_;
};

}  // namespace spicetap::codec
