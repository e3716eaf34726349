// Palettes of indexed images (BITMAP with 1/4/8-bit formats, LZ_PLT) and the per-display-channel
// palette cache the server fills with PAL_CACHE_ME and empties with INVAL_PALETTE /
// INVAL_ALL_PALETTES.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::codec {

// SpiceBitmapFlags, shared by BITMAP and LZ_PLT.
namespace bitmap_flags {
inline constexpr uint8_t kPalCacheMe = 1;    // store the inline palette under its unique id
inline constexpr uint8_t kPalFromCache = 2;  // the palette field is a u64 cache id
inline constexpr uint8_t kTopDown = 4;       // first stored row is the top row
}  // namespace bitmap_flags

struct Palette {
    uint64_t unique = 0;            // cache key chosen by the server
    std::vector<uint32_t> entries;  // 0x00RRGGBB as sent (top byte not meaningful)
};

using PaletteHandle = std::shared_ptr<const Palette>;

// Parses a wire Palette: unique u64, num_ents u16, ents u32[num_ents]. `base_offset` is where
// `bytes` starts in the message, so errors name the absolute offset.
Result<Palette> parse_palette(ByteView bytes, uint64_t base_offset = 0);

class PaletteCache {
public:
    // spice-server mirrors a 128-entry client cache and invalidates explicitly; the cap only
    // bounds memory when a capture misses those invalidations. Oldest entries go first.
    static constexpr size_t kDefaultMaxEntries = 1024;

    explicit PaletteCache(size_t max_entries = kDefaultMaxEntries) : max_entries_(max_entries) {}

    void put(PaletteHandle palette);
    Result<PaletteHandle> get(uint64_t id) const;

    bool contains(uint64_t id) const { return map_.contains(id); }

    bool remove(uint64_t id);  // INVAL_PALETTE; false when absent
    void clear();              // INVAL_ALL_PALETTES (and display RESET)

    size_t size() const { return map_.size(); }

    // Every palette in insertion order (replay checkpoints); restore() puts them back.
    std::vector<PaletteHandle> save() const;
    void restore(const std::vector<PaletteHandle>& palettes);

    // The palette an indexed image uses, with the cache side effects the reference client
    // applies: PAL_FROM_CACHE looks `palette_id` up; otherwise the inline palette is used (and
    // stored when PAL_CACHE_ME is set). Returns a null handle when the image carries no palette
    // (pointer 0); decoders that need one report it. Call this even for images that end up fully
    // clipped, since PAL_CACHE_ME changes state.
    Result<PaletteHandle> resolve(uint8_t bitmap_flags,
                                  const std::optional<Palette>& inline_palette,
                                  uint64_t palette_id);

private:
    size_t max_entries_;
    std::unordered_map<uint64_t, PaletteHandle> map_;
    std::deque<uint64_t> order_;  // insertion order, for the safety cap
};

}  // namespace spicetap::codec
