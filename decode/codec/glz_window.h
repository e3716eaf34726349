// GlzWindow: the GLZ dictionary as the client side keeps it. GLZ images copy pixels from earlier
// GLZ images by image id, and the ids run across all display channels of a session that share
// one dictionary (spice-gtk: glz_dictionary_id 1), so one window belongs to the session, not to
// a channel. Images are kept decoded, in stream order (the order the encoder saw the rows), as
// 32-bit B,G,R,pad pixels exactly as spice-gtk keeps them: pad 0 for RGB images, alpha for RGBA.
//
// Images leave the window as the stream says: once the images up to id T have all arrived, every
// image older than T - win_head_dist(T) can no longer be referenced and is released (spice-gtk's
// rule). The server's dictionary never holds more than glz_dictionary_window_size pixels (from
// the client's DISPLAY_INIT), so set_window_size() also bounds memory at twice that; a hard cap
// (Config::max_pixels) bounds it when the size is unknown. Images dropped by a cap are reported
// as such when something refers to them.
//
// Not thread-safe: the session's decode loop owns it. Out-of-order arrival across display
// connections is allowed; a reference to an image that has not arrived yet is an error the
// caller may retry after feeding the missing image (a failed decode leaves the window as it was).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "decode/codec/lz_common.h"

namespace spicetap::codec {

// Allocates pixels without zeroing them first: a GLZ decode writes every pixel of its image
// (a failed one is never stored), so value-initialisation would be a wasted pass over memory.
template <typename T>
struct UninitializedAllocator : std::allocator<T> {
    template <typename U>
    struct rebind {
        using other = UninitializedAllocator<U>;
    };

    UninitializedAllocator() = default;

    template <typename U>
    UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}

    template <typename U>
    void construct(U* p) noexcept {
        ::new (static_cast<void*>(p)) U;
    }

    template <typename U, typename... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

struct GlzImage {
    uint64_t id = 0;
    uint32_t win_head_dist = 0;
    LzImageType type = LzImageType::Invalid;
    uint32_t width = 0;
    uint32_t height = 0;
    bool top_down = true;
    std::vector<uint32_t, UninitializedAllocator<uint32_t>> pixels;  // gross pixels, stream order
};

enum class GlzAbsence : uint8_t {
    NotSeen,       // never arrived (yet): out of order, or the capture started later
    Released,      // the stream said it can no longer be referenced
    EvictedByCap,  // dropped by our memory cap
};

const char* glz_absence_name(GlzAbsence why);

class GlzWindow {
public:
    struct Config {
        uint64_t max_pixels = uint64_t{1} << 26;  // hard cap: 256 MiB of 32-bit pixels
    };

    GlzWindow() : GlzWindow(Config{}) {}

    explicit GlzWindow(Config config) : config_(config) {}

    // glz_dictionary_window_size (pixels) from the client's DISPLAY_INIT; 0 = unknown.
    void set_window_size(uint32_t pixels) { window_size_ = pixels; }

    uint32_t window_size() const { return window_size_; }

    // Pixels the window keeps at most before evicting the oldest images on its own.
    uint64_t capacity_pixels() const;

    const GlzImage* find(uint64_t id) const;
    GlzAbsence why_missing(uint64_t id) const;

    // Adds a decoded image, then releases what the stream allows and enforces the cap. An image
    // with an id already present replaces it.
    void insert(std::unique_ptr<GlzImage> image);

    // A buffer for the next image, recycled from released images when possible.
    std::unique_ptr<GlzImage> make_image();

    void clear();

    size_t image_count() const { return images_.size(); }

    uint64_t stored_pixels() const { return stored_pixels_; }

    std::optional<uint64_t> oldest_id() const;
    std::optional<uint64_t> newest_id() const;

    // The whole window, for replay checkpoints: images (borrowed, ascending id) and the release
    // bookkeeping; restore() puts such a state back exactly.
    struct Saved {
        uint32_t window_size = 0;
        std::vector<const GlzImage*> images;
        std::optional<uint64_t> tail;
        uint64_t released_below = 0;
        uint64_t capped_below = 0;
    };

    Saved save() const;
    void restore(uint32_t window_size, std::vector<std::unique_ptr<GlzImage>> images,
                 std::optional<uint64_t> tail, uint64_t released_below, uint64_t capped_below);

private:
    void drop(std::map<uint64_t, std::unique_ptr<GlzImage>>::iterator it);

    Config config_;
    uint32_t window_size_ = 0;
    std::map<uint64_t, std::unique_ptr<GlzImage>> images_;
    uint64_t stored_pixels_ = 0;
    std::optional<uint64_t> tail_;  // smallest id not yet arrived since the first image
    uint64_t released_below_ = 0;   // ids below were released by the stream
    uint64_t capped_below_ = 0;     // ids below were evicted by the cap
    std::unique_ptr<GlzImage> spare_;
};

}  // namespace spicetap::codec
