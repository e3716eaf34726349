// SpiceImage descriptors to pixels: runs the codec for the image type, applies the image and
// palette cache side effects the reference client applies (CACHE_ME, CACHE_REPLACE_ME,
// PAL_CACHE_ME), and keeps per-codec statistics. One ImageSource per session: the image cache
// and the GLZ window are shared by every display channel of a session.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "decode/channels/display_types.h"
#include "decode/codec/glz_decoder.h"
#include "decode/codec/glz_window.h"
#include "decode/codec/image_cache.h"
#include "decode/codec/lz_decoder.h"
#include "decode/codec/palette_cache.h"
#include "decode/codec/quic_decoder.h"
#include "decode/codec/zlib_glz_decoder.h"
#include "decode/wire/result.h"
#include "replay/canvas/surface.h"
#include "replay/canvas/types.h"
#include "replay/checkpoint.h"
#include "replay/replay_report.h"

namespace spicetap::replay {

// A decoded image operand: pixels, or a live surface (SpiceImage type SURFACE).
struct ResolvedImage {
    codec::ImageHandle image;
    const canvas::Surface* surface = nullptr;
    uint32_t surface_id = 0;

    canvas::Source source() const;
};

// Why an image could not be had, as a ReplayIssue kind plus text.
struct ImageFailure {
    std::string kind;  // missing_cache_image, missing_glz_image, unknown_surface,
                       // unsupported_image, undecodable_image
    std::string text;
};

// One image operand as the replay met it (every SpiceImage of a draw: source, brush pattern,
// mask), after its cache and GLZ side effects: the decoded pixels, or why there are none.
struct ImageEvent {
    const channels::display::Image& image;
    bool mask = false;                            // met as a QMask bitmap
    const codec::DecodedImage* pixels = nullptr;  // null: failed, or a SURFACE image
    const canvas::Surface* surface = nullptr;     // SURFACE images that resolved
    const ImageFailure* failure = nullptr;        // set when it could not be had
};

using ImageObserver = std::function<void(const ImageEvent&)>;

class ImageSource {
public:
    ImageSource();
    ImageSource(const ImageSource&) = delete;
    ImageSource& operator=(const ImageSource&) = delete;

    // DISPLAY_INIT from the client: cache and GLZ window sizes in pixels.
    void configure(uint64_t cache_pixels, uint32_t glz_window_pixels);
    // A new display session: empty image cache and GLZ window (statistics are kept).
    void restart();

    using SurfaceLookup = std::function<const canvas::Surface*(uint32_t)>;

    // An image operand (source, brush pattern). Errors leave caches as the client would.
    std::optional<ResolvedImage> resolve(const channels::display::Image& img,
                                         codec::PaletteCache& palettes,
                                         const SurfaceLookup& surfaces, ImageFailure& failure);

    // A QMask bitmap as a 1-bit mask image (BITMAP 1BIT_LE/BE, or a cached A1 image).
    std::optional<ResolvedImage> resolve_mask(const channels::display::Image& img,
                                              const SurfaceLookup& surfaces, ImageFailure& failure);

    // For a GLZ image (GLZ_RGB): its id, and an image within its reach (the window the server
    // encoded it against) that has not arrived, if any, leaving out `arriving` (the GLZ images
    // before it in the same message). With several display channels such an image is in
    // flight on another channel, and spice-gtk's GLZ window makes the decode wait for it.
    // ZLIB_GLZ images are not looked into (their header is deflated).
    struct GlzNeed {
        uint64_t id = 0;
        std::optional<uint64_t> missing;
    };

    std::optional<GlzNeed> glz_need(const channels::display::Image& img,
                                    const std::vector<uint64_t>& arriving) const;

    // Called once per resolve/resolve_mask, after the image's side effects (image dumps).
    void set_observer(ImageObserver observer) { observer_ = std::move(observer); }

    codec::ImageCache& cache() { return cache_; }

    codec::GlzWindow& glz_window() { return window_; }

    const std::map<std::string, CodecStats>& stats() const { return stats_; }

    // Checkpoints: image cache, GLZ window, lost-image notes and codec statistics.
    void save(StateWriter& w) const;
    Result<void> load(ByteReader& r);

private:
    std::optional<ResolvedImage> resolve_operand(const channels::display::Image& img,
                                                 codec::PaletteCache& palettes,
                                                 const SurfaceLookup& surfaces,
                                                 ImageFailure& failure);
    std::optional<ResolvedImage> resolve_mask_operand(const channels::display::Image& img,
                                                      const SurfaceLookup& surfaces,
                                                      ImageFailure& failure);
    void notify(const channels::display::Image& img, bool mask,
                const std::optional<ResolvedImage>& r, const ImageFailure& failure) const;

    Result<codec::ImageHandle> decode(const channels::display::Image& img,
                                      codec::PaletteCache& palettes, ImageFailure& failure);

    codec::ImageCache cache_;
    codec::GlzWindow window_;
    codec::GlzDecoder glz_;
    codec::ZlibGlzDecoder zlib_glz_;
    codec::LzDecoder lz_;
    codec::QuicDecoder quic_;
    std::vector<uint8_t> scratch_;
    std::map<std::string, CodecStats> stats_;
    // Images the server asked us to cache that could not be decoded, and why: a later
    // FROM_CACHE miss names the original cause.
    std::map<uint64_t, std::string> lost_;
    ImageObserver observer_;
};

}  // namespace spicetap::replay
