// QUIC image decoder (SpiceImage type QUIC = 1): SPICE's lossless SFALIC-derived codec that
// spice-server picks for photo-like bitmaps. No state across images; one QuicDecoder is reused
// for every image so its model and row buffers are set up once.
//
// Input is the QUIC stream (the `data_size` bytes after SpiceQUICData.data_size): a sequence of
// little-endian 32-bit words read most significant bit first. The first five words are the
// header: magic "QUIC", version 0, image type, width, height. Trailing bytes that do not fill a
// word are ignored, as the reference client does; a stream that ends before the image does is
// Truncated (the encoder always ends with a zero word, so a whole stream never runs short).
//
// Every row is predicted from its left and upper neighbours and the residuals Golomb-Rice
// coded with codes an adaptive per-channel model chooses (quic_model.h); rows after the first
// switch to run-length mode where the row above is flat.
//
// Output, by stream type:
//   RGB32, RGB24, RGB16 -> Xrgb32 (top byte 0xff; an Argb32 view is accepted too). RGB16's 5-bit
//                          channels are widened as (v << 3) | (v >> 2), like the client does
//                          on a 32-bit canvas.
//   RGBA                -> Argb32 (alpha as sent)
//   GRAY                -> A8 (spice-server never sends it; spice-gtk's canvas refuses it)
// Rows come out top row first (QUIC images are always stored top-down).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "decode/codec/image_types.h"
#include "decode/codec/quic_model.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::codec {

// The type word of a QUIC stream (QuicImageType).
enum class QuicImageType : uint8_t {
    Invalid = 0,
    Gray = 1,
    Rgb16 = 2,
    Rgb24 = 3,
    Rgb32 = 4,
    Rgba = 5,
};

const char* quic_image_type_name(QuicImageType type);

struct QuicHeader {
    QuicImageType type = QuicImageType::Invalid;
    uint32_t width = 0;
    uint32_t height = 0;
};

inline constexpr size_t kQuicHeaderSize = 20;
inline constexpr uint32_t kQuicMagic = 0x43495551;  // little-endian u32, bytes "QUIC"

// What decode() writes for each type.
PixelFormat quic_output_format(QuicImageType type);

class QuicDecoder {
public:
    explicit QuicDecoder(Limits limits = {}) : limits_(limits) {}

    // Parses and validates the header (magic, version, type, sizes, limits).
    Result<QuicHeader> read_header(ByteView stream) const;

    Result<ImageInfo> probe(ByteView stream) const;

    // Decodes into `out`, which must have the header's width and height and a format listed
    // above. On error the view holds a partly decoded image.
    Result<void> decode(ByteView stream, const PixelView& out);

private:
    Limits limits_;
    std::array<quic::ChannelModel, 4> channels_{};   // R, G, B, alpha (or gray in 0)
    std::array<std::vector<uint8_t>, 4> correlate_;  // per channel: the last residuals, width + 1
};

}  // namespace spicetap::codec
