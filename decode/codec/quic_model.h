// The adaptive model of SPICE's QUIC image codec (SFALIC-style): Golomb-Rice code families for
// 8 and 5 bits per channel value, buckets of context counters that pick the best code, the
// wait-mask schedule that decides how often the model learns, and the MELCODE run-length state.
// Everything fixed is computed at compile time (quic_model.cpp); the per-image state is small
// and reset in place, so one QuicDecoder serves every image without allocating.
//
// Numbers below are format facts from spice-common (quic.c): code length limit 26, model
// evolution 3 (buckets of 1, 2, 4, 8 ... contexts), wait mask index 0..6 advanced every 2048
// symbols, the trigger table for evolution 3, the 32 MELCODE states, the 256-entry random table.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace spicetap::codec::quic {

inline constexpr unsigned kMaxCodes = 8;         // Golomb codes per family (one per bit of depth)
inline constexpr unsigned kWaitMaskMax = 6;      // wait mask index stops growing here
inline constexpr unsigned kWaitMaskNext = 2048;  // symbols per wait mask index step
inline constexpr unsigned kMelcStates = 32;

// Eight 32-bit code lengths or counters, laid out so a bucket update is two vector adds (GCC
// and clang vector extensions; plain SSE2 on x86-64).
using U32x4 = uint32_t __attribute__((vector_size(16)));
using I32x4 = int32_t __attribute__((vector_size(16)));

struct alignas(16) CodeLengths {
    U32x4 half[2];
};

// One family of Golomb-Rice codes for channel values of `bpc` bits (levels = 1 << bpc). Code l
// sends value v < n_gr[l] as (v >> l) zeros, a one and the l low bits; larger values as an
// escape of not_gr_len[l] bits (a run of zeros, then v - n_gr[l]).
struct Family {
    unsigned bpc = 0;
    unsigned levels = 0;
    std::array<uint32_t, kMaxCodes> n_gr{};
    std::array<uint32_t, kMaxCodes> not_gr_len{};
    std::array<uint32_t, kMaxCodes> not_gr_prefix_mask{};  // window <= this: escape code
    std::array<uint32_t, kMaxCodes> not_gr_suffix_mask{};
    // [value][code]; 0 for codes >= bpc.
    alignas(16) std::array<std::array<uint32_t, kMaxCodes>, 256> code_len{};
    std::array<uint8_t, 256> l2u{};     // zig-zag residual back to a signed-as-unsigned delta
    std::array<uint8_t, 256> bucket{};  // context value -> bucket index
    unsigned buckets = 0;
};

extern const Family kFamily8;
extern const Family kFamily5;

// The encoder's pseudo-random wait counts (tabrand): the seed starts at 0xff and is
// pre-incremented, so the first draw is entry 0.
extern const std::array<uint32_t, 256> kTabrand;

// MELCODE run-length states: state s expects runs of 1 << kMelcLen[s].
extern const std::array<uint8_t, kMelcStates> kMelcLen;

// Counter halving threshold for each wait mask index (evolution 3; indices above 10 use 10).
uint32_t wait_mask_trigger(unsigned wmidx);

// The learning schedule and run-length coder state. RGB images share one for the three colour
// channels; GRAY and the alpha plane of RGBA have their own.
struct ModelState {
    uint32_t waitcnt = 0;
    uint32_t tabrand_seed = 0xff;
    uint32_t wm_trigger = 0;
    uint32_t wmidx = 0;
    uint32_t wmileft = kWaitMaskNext;
    uint32_t melcstate = 0;
    uint32_t melclen = 0;
    uint32_t melcorder = 1;

    void reset() {
        waitcnt = 0;
        tabrand_seed = 0xff;
        wmidx = 0;
        wmileft = kWaitMaskNext;
        wm_trigger = wait_mask_trigger(0);
        melcstate = 0;
        melclen = kMelcLen[0];
        melcorder = 1u << melclen;
    }

    uint32_t tabrand() { return kTabrand[++tabrand_seed & 0xff]; }
};

// Counters of one bucket: the total code length each code would have spent on the values seen.
struct Bucket {
    CodeLengths counters{};
    uint32_t best = 0;
};

// The model of one channel (R, G, B, alpha or gray): its buckets. Up to 8 (8 bpc) are used.
struct ChannelModel {
    std::array<Bucket, 8> buckets{};

    void reset(const Family& f) {
        for (unsigned b = 0; b < f.buckets; ++b) {
            buckets[b].counters = CodeLengths{};
            buckets[b].best = f.bpc - 1;
        }
    }

    Bucket& bucket_for(const Family& f, uint8_t context) { return buckets[f.bucket[context]]; }

    // Learns `value` in the bucket of `context`: adds each code's length for it, picks the
    // shortest total (ties keep the longer code), halves the counters past the trigger.
    template <unsigned Bpc>
    void update(const Family& f, uint8_t context, uint8_t value, uint32_t trigger) {
        Bucket& b = bucket_for(f, context);
        CodeLengths len;
        std::memcpy(&len, f.code_len[value].data(), sizeof len);
        b.counters.half[0] += len.half[0];
        b.counters.half[1] += len.half[1];
        // Minimum of (total << 3 | 7 - code) over the family's codes: the shortest total, ties
        // to the longer code. Totals stay far below 2^28 (the minimum is halved past the
        // trigger, <= 900, and an update adds at most 26), so keys compare as signed.
        constexpr I32x4 kLow = {7, 6, 5, 4};
        constexpr I32x4 kHigh =
            Bpc == 8 ? I32x4{3, 2, 1, 0} : I32x4{3, 0x7fffffff, 0x7fffffff, 0x7fffffff};
        const I32x4 k0 = reinterpret_cast<I32x4>(b.counters.half[0] << 3) | kLow;
        const I32x4 k1 = reinterpret_cast<I32x4>(b.counters.half[1] << 3) | kHigh;
        const I32x4 lower = k0 < k1;
        const I32x4 m = (k0 & lower) | (k1 & ~lower);
        const uint32_t key =
            static_cast<uint32_t>(std::min(std::min(m[0], m[1]), std::min(m[2], m[3])));
        b.best = 7 - (key & 7);
        if ((key >> 3) > trigger) {
            b.counters.half[0] >>= 1;
            b.counters.half[1] >>= 1;
        }
    }
};

}  // namespace spicetap::codec::quic
