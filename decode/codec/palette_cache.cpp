#include "decode/codec/palette_cache.h"

#include <fmt/core.h>

#include <algorithm>

namespace spicetap::codec {

Result<Palette> parse_palette(ByteView bytes, uint64_t base_offset) {
    ByteReader r(bytes, base_offset);
    Palette p;
    p.unique = r.u64();
    const uint16_t count = r.u16();
    if (!r.ok()) {
        return r.error("palette: header");
    }
    if (r.remaining() < size_t{count} * 4) {
        return make_error(Errc::Truncated, base_offset + bytes.size(),
                          fmt::format("palette: {} entries need {} bytes, {} left", count,
                                      size_t{count} * 4, r.remaining()));
    }
    p.entries.resize(count);
    for (uint32_t& e : p.entries) {
        e = r.u32();
    }
    return p;
}

void PaletteCache::put(PaletteHandle palette) {
    if (!palette) {
        return;
    }
    const uint64_t id = palette->unique;
    if (!map_.contains(id)) {
        order_.push_back(id);
    }
    map_[id] = std::move(palette);
    while (map_.size() > max_entries_ && !order_.empty()) {
        map_.erase(order_.front());
        order_.pop_front();
    }
}

Result<PaletteHandle> PaletteCache::get(uint64_t id) const {
    auto it = map_.find(id);
    if (it == map_.end()) {
        return make_error(Errc::BadValue, 0,
                          fmt::format("palette cache: palette {:#x} is not cached", id));
    }
    return it->second;
}

bool PaletteCache::remove(uint64_t id) {
    if (map_.erase(id) == 0) {
        return false;
    }
    order_.erase(std::find(order_.begin(), order_.end(), id));
    return true;
}

std::vector<PaletteHandle> PaletteCache::save() const {
    std::vector<PaletteHandle> out;
    out.reserve(order_.size());
    for (uint64_t id : order_) {
        out.push_back(map_.at(id));
    }
    return out;
}

void PaletteCache::restore(const std::vector<PaletteHandle>& palettes) {
    clear();
    for (const PaletteHandle& p : palettes) {
        put(p);
    }
}

void PaletteCache::clear() {
    map_.clear();
    order_.clear();
}

Result<PaletteHandle> PaletteCache::resolve(uint8_t flags,
                                            const std::optional<Palette>& inline_palette,
                                            uint64_t palette_id) {
    if (flags & bitmap_flags::kPalFromCache) {
        return get(palette_id);
    }
    if (!inline_palette) {
        return PaletteHandle{};
    }
    auto handle = std::make_shared<const Palette>(*inline_palette);
    if (flags & bitmap_flags::kPalCacheMe) {
        put(handle);
    }
    return PaletteHandle{handle};
}

}  // namespace spicetap::codec
