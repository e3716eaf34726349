// LZ4 images (SpiceImage type LZ4 = 109, display cap LZ4_COMPRESSION) and LZ4-compressed
// spicevmc data (SPICEVMC COMPRESSED_DATA, cap DATA_COMPRESS_LZ4).
//
// Image stream layout (spice-server lz4-encoder.c): byte 0 top_down (non-zero = first row is
// the top row), byte 1 SpiceBitmapFmt (16BIT, 24BIT, 32BIT or RGBA), then blocks of
// { compressed size u32 BIG-endian, LZ4 block } that form one LZ4 streaming sequence (a block
// may refer back into the output of earlier blocks). The server compresses the bitmap rows at
// their stride; the reference client assumes packed rows (width * bytes per pixel), which is
// what servers produce in practice. We accept both: the row length is the decompressed size
// divided by the height, and must be at least a packed row.
#pragma once

#include <cstdint>
#include <vector>

#include "decode/codec/image_types.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::codec {

// `payload` is the LZ4 image data (the data_size bytes after LZ4Data.data_size); width and
// height come from the image descriptor. Reports Xrgb32 (16/24/32-bit) or Argb32 (RGBA).
Result<ImageInfo> probe_lz4(ByteView payload, uint32_t width, uint32_t height,
                            const Limits& limits = {}, uint64_t base_offset = 0);

// Decompresses into `out` (row 0 = top). `base_offset` is where `payload` starts in the
// message, for error offsets.
Result<void> decode_lz4(ByteView payload, const PixelView& out, const Limits& limits = {},
                        uint64_t base_offset = 0);

// Data compression types of SpiceMsgCompressedData (SpiceDataCompressionType).
enum class DataCompression : uint8_t { None = 0, Lz4 = 1 };

// One plain LZ4 block of `uncompressed_size` bytes (spicevmc COMPRESSED_DATA). `max_size`
// bounds the allocation a hostile size could ask for.
Result<std::vector<uint8_t>> decompress_lz4_block(ByteView compressed, uint32_t uncompressed_size,
                                                  uint32_t max_size = 64u << 20,
                                                  uint64_t base_offset = 0);

// A whole COMPRESSED_DATA message body: type u8; unless NONE, uncompressed_size u32; then the
// data. Returns the uncompressed bytes.
Result<std::vector<uint8_t>> decode_spicevmc_compressed(ByteView body,
                                                        uint32_t max_size = 64u << 20,
                                                        uint64_t base_offset = 0);

}  // namespace spicetap::codec
