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

#include <array>
#include <cstdint>

namespace spicetap::codec::quic {

inline constexpr unsigned kMaxCodes = 8;       // Golomb codes per family (one per bit of depth)
inline constexpr unsigned kWaitMaskMax = 6;    // wait mask index stops growing here
inline constexpr unsigned kWaitMaskNext = 2048;  // symbols per wait mask index step
inline constexpr unsigned kMelcStates = 32;

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
    std::array<std::array<uint8_t, kMaxCodes>, 256> code_len{};  // [value][code]
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
    std::array<uint32_t, kMaxCodes> counters{};
    uint32_t best = 0;
};

// The model of one channel (R, G, B, alpha or gray): its buckets. Up to 8 (8 bpc) are used.
struct ChannelModel {
    std::array<Bucket, 8> buckets{};

    void reset(const Family& f) {
        for (unsigned b = 0; b < f.buckets; ++b) {
            buckets[b].counters.fill(0);
            buckets[b].best = f.bpc - 1;
        }
    }

    Bucket& bucket_for(const Family& f, uint8_t context) { return buckets[f.bucket[context]]; }

    // Learns `value` in the bucket of `context`: adds each code's length for it, picks the
    // shortest total (ties keep the longer code), halves the counters past the trigger.
    void update(const Family& f, uint8_t context, uint8_t value, uint32_t trigger) {
        Bucket& b = bucket_for(f, context);
        const auto& len = f.code_len[value];
        for (unsigned l = 0; l < kMaxCodes; ++l) {
            b.counters[l] += len[l];  // codes past bpc have length 0 and are never chosen
        }
        unsigned best = f.bpc - 1;
        uint32_t best_len = b.counters[best];
        for (unsigned l = f.bpc - 1; l-- > 0;) {
            if (b.counters[l] < best_len) {
                best = l;
                best_len = b.counters[l];
            }
        }
        b.best = best;
        if (best_len > trigger) {
            for (unsigned l = 0; l < kMaxCodes; ++l) {
                b.counters[l] >>= 1;
            }
        }
    }
};

}  // namespace spicetap::codec::quic
