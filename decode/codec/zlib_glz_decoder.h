// ZLIB_GLZ_RGB decoder (SpiceImage type 107): a GLZ stream squeezed once more with zlib, which
// the server uses on links it judges slow (zlib-glz-wan-compression). The result joins the GLZ
// window like any GLZ_RGB image.
//
// Input is the SpiceZlibGlzRGBData bytes exactly: glz_data_size u32 LE (inflated size),
// data_size u32 LE, then data_size bytes of a zlib (RFC 1950) stream, each image on its own.
// Errors inside the inflated GLZ stream carry offsets into that inflated stream and say so.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "decode/codec/glz_decoder.h"
#include "decode/codec/glz_window.h"
#include "decode/codec/image_types.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::codec {

struct ZlibGlzHeader {
    uint32_t glz_data_size = 0;  // bytes of the inflated GLZ stream
    uint32_t data_size = 0;      // bytes of zlib data that follow
};

inline constexpr size_t kZlibGlzHeaderSize = 8;

class ZlibGlzDecoder {
public:
    explicit ZlibGlzDecoder(GlzWindow& window, Limits limits = {});
    ~ZlibGlzDecoder();
    ZlibGlzDecoder(const ZlibGlzDecoder&) = delete;
    ZlibGlzDecoder& operator=(const ZlibGlzDecoder&) = delete;

    static Result<ZlibGlzHeader> read_header(ByteView payload);

    // Inflates only as far as the GLZ header.
    Result<ImageInfo> probe(ByteView payload);

    Result<void> decode(ByteView payload, const PixelView& out);
    Result<GlzHeader> decode(ByteView payload);  // into the window only

    std::optional<uint64_t> missing_image() const { return glz_.missing_image(); }

    const GlzDecodeStats& stats() const { return glz_.stats(); }

    // The GLZ stream inflated by the last decode (valid until the next call).
    ByteView inflated() const { return {buffer_.data(), inflated_size_}; }

private:
    struct Inflater;

    // Inflates the payload's GLZ stream into buffer_; header_only stops after the GLZ header.
    Result<void> inflate(ByteView payload, bool header_only);

    std::unique_ptr<Inflater> z_;
    GlzDecoder glz_;
    Limits limits_;
    std::vector<uint8_t> buffer_;
    size_t inflated_size_ = 0;
};

}  // namespace spicetap::codec
