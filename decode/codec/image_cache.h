// The client image (pixmap) cache: decoded images the server asked us to keep (image flag
// CACHE_ME), looked up by later FROM_CACHE / FROM_CACHE_LOSSLESS images and emptied by
// INVAL_LIST / INVAL_ALL_PIXMAPS. One per session (spice-gtk shares it between the display
// channels of a session, pixmap_cache_id 1).
//
// Semantics follow spice-gtk: entries carry a lossy flag (JPEG, JPEG_ALPHA); storing an id that
// is already present replaces the pixels and bumps a reference count, and an invalidation only
// drops the entry once that count returns to zero (multi-monitor servers cache and invalidate
// the same id once per display channel).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "decode/codec/image_types.h"
#include "decode/wire/result.h"

namespace spicetap::codec {

// SpiceImageType values this module cares about.
namespace image_type {
inline constexpr uint8_t kBitmap = 0;
inline constexpr uint8_t kQuic = 1;
inline constexpr uint8_t kLzPlt = 100;
inline constexpr uint8_t kLzRgb = 101;
inline constexpr uint8_t kGlzRgb = 102;
inline constexpr uint8_t kFromCache = 103;
inline constexpr uint8_t kSurface = 104;
inline constexpr uint8_t kJpeg = 105;
inline constexpr uint8_t kFromCacheLossless = 106;
inline constexpr uint8_t kZlibGlzRgb = 107;
inline constexpr uint8_t kJpegAlpha = 108;
inline constexpr uint8_t kLz4 = 109;
}  // namespace image_type

// SpiceImageFlags (SpiceImageDescriptor.flags).
namespace image_flags {
inline constexpr uint8_t kCacheMe = 1;
inline constexpr uint8_t kHighBitsSet = 2;
inline constexpr uint8_t kCacheReplaceMe = 4;
}  // namespace image_flags

// JPEG and JPEG_ALPHA are the lossy image types (spice_image_descriptor_is_lossy).
inline bool image_type_is_lossy(uint8_t type) {
    return type == image_type::kJpeg || type == image_type::kJpegAlpha;
}

// A decoded image that owns its pixels. Shared (via ImageHandle) between the cache, the
// canvas and whoever else holds on to it; never modified once shared.
struct DecodedImage {
    uint32_t width = 0;
    uint32_t height = 0;
    PixelFormat format = PixelFormat::Xrgb32;
    size_t stride = 0;
    std::vector<uint8_t> pixels;

    static DecodedImage allocate(uint32_t width, uint32_t height, PixelFormat format);

    PixelView view() { return PixelView{pixels.data(), width, height, stride, format}; }

    const uint8_t* row(uint32_t y) const { return pixels.data() + size_t{y} * stride; }
};

using ImageHandle = std::shared_ptr<const DecodedImage>;

// HIGH_BITS_SET on a 32-bit xRGB result: force the top byte of every pixel to 0xff.
void apply_high_bits(const PixelView& view);

class ImageCache {
public:
    // spice-gtk's default cache-size is 80 MiB and it advertises cache-size / 4 pixels in
    // DISPLAY_INIT.pixmap_cache_size; the server accounts width * height per entry against it.
    static constexpr uint64_t kDefaultCapacityPixels = uint64_t{80} * 1024 * 1024 / 4;

    struct Entry {
        ImageHandle image;
        bool lossy = false;
        uint32_t refs = 1;
        uint64_t pixels = 0;
        std::list<uint64_t>::iterator lru;
    };

    struct Stats {
        uint64_t puts = 0;
        uint64_t hits = 0;
        uint64_t misses = 0;
        uint64_t evictions = 0;  // entries dropped to stay within capacity
    };

    explicit ImageCache(uint64_t capacity_pixels = kDefaultCapacityPixels)
        : capacity_(capacity_pixels) {}

    // The client's DISPLAY_INIT.pixmap_cache_size (pixels). Shrinking evicts at once.
    void set_capacity(uint64_t pixels);

    uint64_t capacity() const { return capacity_; }

    // CACHE_ME. The server mirrors the cache and invalidates before it would overflow, so
    // eviction only happens when a capture missed invalidations (counted in stats()): the
    // least recently used entries go. An image larger than the whole cache is refused.
    Result<void> put(uint64_t id, ImageHandle image, bool lossy);

    // CACHE_REPLACE_ME: a lossless image takes the place of a lossy entry, keeping its count.
    Result<void> replace(uint64_t id, ImageHandle image);

    // FROM_CACHE: any entry, lossy or not.
    Result<ImageHandle> get(uint64_t id);
    // FROM_CACHE_LOSSLESS: the entry must be lossless (a lossy one means the replacement has
    // not arrived yet, which a multi-connection decoder may wait for).
    Result<ImageHandle> get_lossless(uint64_t id);

    // After decoding an image of `type` with descriptor `flags`: CACHE_ME stores it (lossy for
    // JPEG/JPEG_ALPHA), CACHE_REPLACE_ME replaces (refused for lossy types), FROM_CACHE* never
    // store.
    Result<void> store_decoded(uint64_t id, uint8_t type, uint8_t flags, ImageHandle image);

    // The image a FROM_CACHE (103) or FROM_CACHE_LOSSLESS (106) image refers to.
    Result<ImageHandle> lookup(uint8_t type, uint64_t id);

    const Entry* find(uint64_t id) const;
    bool remove(uint64_t id);  // one INVAL_LIST resource; false when absent
    void clear();              // INVAL_ALL_PIXMAPS

    size_t size() const { return map_.size(); }

    uint64_t used_pixels() const { return used_; }

    const Stats& stats() const { return stats_; }

    // Everything the cache holds, most recently used first, and putting it back exactly
    // (replay checkpoints).
    struct Saved {
        struct Item {
            uint64_t id = 0;
            ImageHandle image;
            bool lossy = false;
            uint32_t refs = 1;
        };

        uint64_t capacity = 0;
        std::vector<Item> items;
        Stats stats;
    };

    Saved save() const;
    void restore(const Saved& saved);

private:
    void erase(std::unordered_map<uint64_t, Entry>::iterator it);
    bool make_room(uint64_t pixels, std::optional<uint64_t> keep_id);

    uint64_t capacity_;
    uint64_t used_ = 0;
    std::unordered_map<uint64_t, Entry> map_;
    std::list<uint64_t> lru_;  // front = most recently used
    Stats stats_;
};

}  // namespace spicetap::codec
