#include "decode/codec/image_cache.h"

#include <fmt/core.h>

#include <iterator>

namespace spicetap::codec {

DecodedImage DecodedImage::allocate(uint32_t width, uint32_t height, PixelFormat format) {
    DecodedImage img;
    img.width = width;
    img.height = height;
    img.format = format;
    // 4-byte aligned rows, like pixman, so views can be handed to pixman unchanged.
    img.stride = (bytes_per_row(format, width) + 3) & ~size_t{3};
    img.pixels.assign(img.stride * height, 0);
    return img;
}

void apply_high_bits(const PixelView& view) {
    if (view.format != PixelFormat::Xrgb32) {
        return;
    }
    for (uint32_t y = 0; y < view.height; ++y) {
        uint8_t* row = view.row(y);
        for (uint32_t x = 0; x < view.width; ++x) {
            row[4 * x + 3] = 0xff;
        }
    }
}

void ImageCache::set_capacity(uint64_t pixels) {
    capacity_ = pixels;
    make_room(0, std::nullopt);
}

void ImageCache::erase(std::unordered_map<uint64_t, Entry>::iterator it) {
    used_ -= it->second.pixels;
    lru_.erase(it->second.lru);
    map_.erase(it);
}

bool ImageCache::make_room(uint64_t pixels, std::optional<uint64_t> keep_id) {
    if (pixels > capacity_) {
        return false;
    }
    // Walk from the least recently used end, sparing the entry being replaced.
    auto victim = lru_.end();
    while (used_ + pixels > capacity_ && !lru_.empty()) {
        victim = std::prev(lru_.end());
        if (*victim == keep_id) {
            if (victim == lru_.begin()) {
                return false;
            }
            victim = std::prev(victim);
        }
        erase(map_.find(*victim));
        ++stats_.evictions;
    }
    return used_ + pixels <= capacity_;
}

Result<void> ImageCache::put(uint64_t id, ImageHandle image, bool lossy) {
    if (!image) {
        return make_error(Errc::BadValue, 0, "image cache: no image to store");
    }
    const uint64_t pixels = uint64_t{image->width} * image->height;
    auto it = map_.find(id);
    const uint64_t old_pixels = it != map_.end() ? it->second.pixels : 0;
    if (pixels > capacity_) {
        return make_error(Errc::LimitExceeded, 0,
                          fmt::format("image cache: image {:#x} ({} pixels) is larger than the "
                                      "whole cache ({} pixels)",
                                      id, pixels, capacity_));
    }
    used_ -= old_pixels;
    if (!make_room(pixels, id)) {
        used_ += old_pixels;
        return make_error(Errc::LimitExceeded, 0,
                          fmt::format("image cache: no room for image {:#x}", id));
    }
    used_ += pixels;
    ++stats_.puts;
    if (it != map_.end()) {
        Entry& e = it->second;
        e.image = std::move(image);
        e.lossy = lossy;
        e.pixels = pixels;
        ++e.refs;
        lru_.splice(lru_.begin(), lru_, e.lru);
        return {};
    }
    lru_.push_front(id);
    map_.emplace(id, Entry{std::move(image), lossy, 1, pixels, lru_.begin()});
    return {};
}

Result<void> ImageCache::replace(uint64_t id, ImageHandle image) {
    auto it = map_.find(id);
    if (it == map_.end()) {
        // spice-gtk inserts in this case too; the server only replaces what it cached.
        return put(id, std::move(image), false);
    }
    const uint32_t refs = it->second.refs;
    auto stored = put(id, std::move(image), false);
    if (stored) {
        map_.at(id).refs = refs;
    }
    return stored;
}

Result<ImageHandle> ImageCache::get(uint64_t id) {
    auto it = map_.find(id);
    if (it == map_.end()) {
        ++stats_.misses;
        return make_error(Errc::BadValue, 0,
                          fmt::format("image cache: image {:#x} is not cached", id));
    }
    ++stats_.hits;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second.image;
}

Result<ImageHandle> ImageCache::get_lossless(uint64_t id) {
    auto it = map_.find(id);
    if (it != map_.end() && it->second.lossy) {
        ++stats_.misses;
        return make_error(Errc::BadValue, 0,
                          fmt::format("image cache: image {:#x} is cached only lossy, "
                                      "FROM_CACHE_LOSSLESS needs the lossless replacement",
                                      id));
    }
    return get(id);
}

Result<void> ImageCache::store_decoded(uint64_t id, uint8_t type, uint8_t flags,
                                       ImageHandle image) {
    if (type == image_type::kFromCache || type == image_type::kFromCacheLossless) {
        return {};
    }
    const bool lossy = image_type_is_lossy(type);
    if (flags & image_flags::kCacheMe) {
        return put(id, std::move(image), lossy);
    }
    if (flags & image_flags::kCacheReplaceMe) {
        if (lossy) {
            return make_error(Errc::BadValue, 0,
                              fmt::format("image cache: CACHE_REPLACE_ME on lossy image {:#x} "
                                          "(type {})",
                                          id, type));
        }
        return replace(id, std::move(image));
    }
    return {};
}

Result<ImageHandle> ImageCache::lookup(uint8_t type, uint64_t id) {
    if (type == image_type::kFromCache) {
        return get(id);
    }
    if (type == image_type::kFromCacheLossless) {
        return get_lossless(id);
    }
    return make_error(Errc::BadValue, 0,
                      fmt::format("image cache: image type {} is not a cache reference", type));
}

const ImageCache::Entry* ImageCache::find(uint64_t id) const {
    auto it = map_.find(id);
    return it == map_.end() ? nullptr : &it->second;
}

bool ImageCache::remove(uint64_t id) {
    auto it = map_.find(id);
    if (it == map_.end()) {
        return false;
    }
    if (--it->second.refs == 0) {
        erase(it);
    }
    return true;
}

void ImageCache::clear() {
    map_.clear();
    lru_.clear();
    used_ = 0;
}

ImageCache::Saved ImageCache::save() const {
    Saved out;
    out.capacity = capacity_;
    out.stats = stats_;
    out.items.reserve(map_.size());
    for (uint64_t id : lru_) {
        const Entry& e = map_.at(id);
        out.items.push_back(Saved::Item{id, e.image, e.lossy, e.refs});
    }
    return out;
}

void ImageCache::restore(const Saved& saved) {
    clear();
    capacity_ = saved.capacity;
    stats_ = saved.stats;
    for (const Saved::Item& item : saved.items) {
        const uint64_t pixels = item.image ? uint64_t{item.image->width} * item.image->height : 0;
        lru_.push_back(item.id);
        map_.insert_or_assign(
            item.id, Entry{item.image, item.lossy, item.refs, pixels, std::prev(lru_.end())});
        used_ += pixels;
    }
}

}  // namespace spicetap::codec
