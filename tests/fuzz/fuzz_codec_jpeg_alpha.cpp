// Fuzzes the JPEG_ALPHA path as the replay takes it: split the payload (flags, jpeg_size, data),
// decode the JPEG into an ARGB image, then the LZ alpha stream (XXXA) into its alpha bytes, and
// the A8 + combine_alpha route as well.
#include <cstddef>
#include <cstdint>

#include "decode/codec/image_cache.h"
#include "decode/codec/jpeg_decoder.h"
#include "decode/codec/lz_decoder.h"

using namespace spicetap;
using namespace spicetap::codec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto parts = parse_jpeg_alpha(ByteView(data, size));
    if (!parts) {
        return 0;
    }
    // Small limits keep progressive JPEGs from spending the fuzzer's time and memory.
    const Limits limits{2048, 512, 128 * 1024};
    auto info = probe_jpeg(parts->jpeg, limits);
    if (!info) {
        return 0;
    }
    auto argb = DecodedImage::allocate(info->width, info->height, PixelFormat::Argb32);
    (void)decode_jpeg(parts->jpeg, argb.view(), JpegOptions{}, limits);
    LzDecoder lz(limits);
    if (auto alpha_info = lz.probe(parts->alpha); alpha_info) {
        (void)lz.decode(parts->alpha, argb.view());
        auto a8 = DecodedImage::allocate(info->width, info->height, PixelFormat::A8);
        if (lz.decode(parts->alpha, a8.view())) {
            (void)combine_alpha(argb.view(), a8.view());
        }
    }
    return 0;
}
