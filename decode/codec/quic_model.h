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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace spicetap::codec::quic {

inline constexpr unsigned kMaxCodes = 8;         // Golomb codes per family (one per bit of depth)
inline constexpr unsigned kWaitMaskMax = 6;      // wait mask index stops growing here
inline constexpr unsigned kWaitMaskNext = 2048;  // symbols per wait mask index step
inline constexpr unsigned kMelcStates = 32;

// Eight code-length totals, one per code, in one 128-bit vector (GCC and clang vector
// extensions; plain SSE2 on x86-64). 16 bits are enough: a code's total is at most 26 times the
// best one's plus 26 (no value costs more than 26 bits under any code nor less than 1), and
// the best total never passes the largest trigger (900) by more than two updates before the
// counters are halved: 26 * 952 + 26 < 32767.
using I16x8 = int16_t __attribute__((vector_size(16)));

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
    alignas(16) std::array<std::array<int16_t, kMaxCodes>, 256> code_len{};
    // Counters of a fresh bucket: 0, and the largest value for codes >= bpc so they never win.
    alignas(16) std::array<int16_t, kMaxCodes> unused_codes{};
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
struct alignas(32) Bucket {
    I16x8 counters{};
    uint32_t best = 0;
};

// The model of one channel (R, G, B, alpha or gray): its buckets. Up to 8 (8 bpc) are used.
struct ChannelModel {
    std::array<Bucket, 8> buckets{};

    void reset(const Family& f) {
        I16x8 fresh;
        std::memcpy(&fresh, f.unused_codes.data(), sizeof fresh);
        for (unsigned b = 0; b < f.buckets; ++b) {
            buckets[b].counters = fresh;
            buckets[b].best = f.bpc - 1;
        }
    }

    Bucket& bucket_for(const Family& f, uint8_t context) { return buckets[f.bucket[context]]; }

    // Learns `value` in the bucket of `context`: adds each code's length for it, picks the
    // shortest total (ties keep the longer code), halves the counters past the trigger.
    void update(const Family& f, uint8_t context, uint8_t value, uint32_t trigger) {
        learn(f, bucket_for(f, context), value, trigger);
    }

    // update() on the bucket already looked up (the one that chose the value's code).
    static void learn(const Family& f, Bucket& b, uint8_t value, uint32_t trigger) {
        I16x8 len;
        std::memcpy(&len, f.code_len[value].data(), sizeof len);
        const I16x8 c = b.counters + len;
        // The minimum in every lane (three pairwise minimums), then the highest code holding it.
        I16x8 m = min16(c, swap_halves(c));
        m = min16(m, swap_pairs(m));
        m = min16(m, swap_neighbours(m));
        const unsigned lanes = equal_lanes(c, m);  // two bits per code, code 0 lowest
        b.best = static_cast<unsigned>(31 - __builtin_clz(lanes)) / 2;
        const uint32_t least = static_cast<uint16_t>(m[0]);
        if (least > trigger) {
            I16x8 unused;
            std::memcpy(&unused, f.unused_codes.data(), sizeof unused);
            b.counters = (c >> 1) | unused;
        } else {
            b.counters = c;
        }
    }

private:
#if defined(__SSE2__)
    static I16x8 min16(I16x8 a, I16x8 b) {
        return reinterpret_cast<I16x8>(
            _mm_min_epi16(reinterpret_cast<__m128i>(a), reinterpret_cast<__m128i>(b)));
    }

    static I16x8 swap_halves(I16x8 v) {
        return reinterpret_cast<I16x8>(_mm_shuffle_epi32(reinterpret_cast<__m128i>(v), 0x4e));
    }

    static I16x8 swap_pairs(I16x8 v) {
        return reinterpret_cast<I16x8>(_mm_shuffle_epi32(reinterpret_cast<__m128i>(v), 0xb1));
    }

    static I16x8 swap_neighbours(I16x8 v) {
        const __m128i lo = _mm_shufflelo_epi16(reinterpret_cast<__m128i>(v), 0xb1);
        return reinterpret_cast<I16x8>(_mm_shufflehi_epi16(lo, 0xb1));
    }

    static unsigned equal_lanes(I16x8 a, I16x8 b) {
        return static_cast<unsigned>(_mm_movemask_epi8(
            _mm_cmpeq_epi16(reinterpret_cast<__m128i>(a), reinterpret_cast<__m128i>(b))));
    }
#else
    static I16x8 min16(I16x8 a, I16x8 b) {
        return a < b ? a : b;
    }

    static I16x8 swap_halves(I16x8 v) {
        return I16x8{v[4], v[5], v[6], v[7], v[0], v[1], v[2], v[3]};
    }

    static I16x8 swap_pairs(I16x8 v) {
        return I16x8{v[2], v[3], v[0], v[1], v[6], v[7], v[4], v[5]};
    }

    static I16x8 swap_neighbours(I16x8 v) {
        return I16x8{v[1], v[0], v[3], v[2], v[5], v[4], v[7], v[6]};
    }

    static unsigned equal_lanes(I16x8 a, I16x8 b) {
        unsigned bits = 0;
        for (unsigned i = 0; i < 8; ++i) {
            bits |= a[i] == b[i] ? 3u << (2 * i) : 0u;
        }
        return bits;
    }
#endif
};

}  // namespace spicetap::codec::quic
