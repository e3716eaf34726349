#include "decode/codec/quic_decoder.h"

#include <fmt/core.h>

#include <bit>
#include <cstddef>
#include <cstring>

namespace spicetap::codec {

const char* quic_image_type_name(QuicImageType type) {
    switch (type) {
        case QuicImageType::Invalid:
            return "INVALID";
        case QuicImageType::Gray:
            return "GRAY";
        case QuicImageType::Rgb16:
            return "RGB16";
        case QuicImageType::Rgb24:
            return "RGB24";
        case QuicImageType::Rgb32:
            return "RGB32";
        case QuicImageType::Rgba:
            return "RGBA";
    }
    return "UNKNOWN";
}

PixelFormat quic_output_format(QuicImageType type) {
    switch (type) {
        case QuicImageType::Rgba:
            return PixelFormat::Argb32;
        case QuicImageType::Gray:
            return PixelFormat::A8;
        default:
            return PixelFormat::Xrgb32;
    }
}

namespace {

using quic::Family;
using quic::ModelState;

constexpr uint32_t kVersion = 0;
// spice-common refuses images of more pixels than this (integer overflow guard).
constexpr uint64_t kMaxImagePixels = uint64_t{512} * 1024 * 1024 - 1;

DecodeError quic_error(Errc code, uint64_t offset, std::string_view what) {
    return make_error(code, offset, fmt::format("QUIC: {}", what));
}

uint32_t load_le32(const uint8_t* p) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// The bit stream after the header: little-endian words, most significant bit first. peek()
// is the next 32 bits. Past the last word it reads zeros; overrun() tells when the decoder has
// looked beyond the data (checked once per row: zeros decode to short codes, so a row ends).
class BitReader {
public:
    BitReader(const uint8_t* words, size_t count) : words_(words), count_(count) { refill(); }

    uint32_t peek() const { return static_cast<uint32_t>(acc_ >> 32); }

    // n < 32
    void skip(unsigned n) {
        acc_ <<= n;
        avail_ -= n;
        if (avail_ < 32) {
            refill();
        }
    }

    uint64_t consumed_bits() const { return uint64_t{next_} * 32 - avail_; }

    // The reference decoder needs the whole 32-bit window inside the data.
    bool overrun() const { return consumed_bits() + 32 > uint64_t{count_} * 32; }

private:
    void refill() {
        const uint64_t w = next_ < count_ ? load_le32(words_ + 4 * next_) : 0;
        ++next_;
        acc_ |= w << (32 - avail_);
        avail_ += 32;
    }

    const uint8_t* words_;
    size_t count_;
    size_t next_ = 0;
    uint64_t acc_ = 0;
    unsigned avail_ = 0;  // valid bits at the top of acc_; >= 32 between calls
};

uint32_t load32(const uint8_t* row, ptrdiff_t x) {
    uint32_t v;
    std::memcpy(&v, row + 4 * x, 4);
    return v;
}

void store32(uint8_t* row, ptrdiff_t x, uint32_t v) {
    std::memcpy(row + 4 * x, &v, 4);
}

// Pixel layouts the row kernels work on. Channel order is the stream's: R, G, B (or the single
// alpha / gray value). get() returns a channel's value at the family's depth.

// RGB32 / RGB24 streams into 32-bit pixels (bytes B, G, R, X).
struct Rgb8Px {
    static constexpr unsigned kChannels = 3;
    static constexpr unsigned kBpc = 8;

    static const Family& family() { return quic::kFamily8; }

    static unsigned get(const uint8_t* row, ptrdiff_t x, unsigned c) {
        return (load32(row, x) >> (16 - 8 * c)) & 0xff;
    }

    static void put(uint8_t* row, ptrdiff_t x, const unsigned* v) {
        store32(row, x, 0xff000000u | v[0] << 16 | v[1] << 8 | v[2]);
    }

    static bool same(const uint8_t* a, ptrdiff_t xa, const uint8_t* b, ptrdiff_t xb) {
        return ((load32(a, xa) ^ load32(b, xb)) & 0x00ffffffu) == 0;
    }

    static void repeat(uint8_t* row, ptrdiff_t x) { store32(row, x, load32(row, x - 1)); }
};

// RGB16 streams (5 bits per channel) widened into 32-bit pixels; the top 5 bits of each byte
// are the stream's value.
struct Rgb5Px {
    static constexpr unsigned kChannels = 3;
    static constexpr unsigned kBpc = 5;

    static const Family& family() { return quic::kFamily5; }

    static unsigned get(const uint8_t* row, ptrdiff_t x, unsigned c) {
        return (load32(row, x) >> (19 - 8 * c)) & 0x1f;
    }

    static unsigned widen(unsigned v) { return (v << 3) | (v >> 2); }

    static void put(uint8_t* row, ptrdiff_t x, const unsigned* v) {
        store32(row, x, 0xff000000u | widen(v[0]) << 16 | widen(v[1]) << 8 | widen(v[2]));
    }

    static bool same(const uint8_t* a, ptrdiff_t xa, const uint8_t* b, ptrdiff_t xb) {
        return ((load32(a, xa) ^ load32(b, xb)) & 0x00f8f8f8u) == 0;
    }

    static void repeat(uint8_t* row, ptrdiff_t x) { store32(row, x, load32(row, x - 1)); }
};

// One byte per pixel at a fixed stride and offset: the alpha byte of 32-bit pixels, or gray.
template <ptrdiff_t Stride, ptrdiff_t Offset>
struct BytePx {
    static constexpr unsigned kChannels = 1;
    static constexpr unsigned kBpc = 8;

    static const Family& family() { return quic::kFamily8; }

    static unsigned get(const uint8_t* row, ptrdiff_t x, unsigned) {
        return row[Stride * x + Offset];
    }

    static void put(uint8_t* row, ptrdiff_t x, const unsigned* v) {
        row[Stride * x + Offset] = static_cast<uint8_t>(v[0]);
    }

    static bool same(const uint8_t* a, ptrdiff_t xa, const uint8_t* b, ptrdiff_t xb) {
        return a[Stride * xa + Offset] == b[Stride * xb + Offset];
    }

    static void repeat(uint8_t* row, ptrdiff_t x) {
        row[Stride * x + Offset] = row[Stride * (x - 1) + Offset];
    }
};

using AlphaPx = BytePx<4, 3>;
using GrayPx = BytePx<1, 0>;

// One channel's model and its row of residuals (the context of the next pixel and of the same
// pixel in the next row). residual[-1] is valid.
struct Lane {
    quic::ChannelModel* model = nullptr;
    uint8_t* residual = nullptr;
};

// One coding pass over rows: the channels of a pixel layout sharing one ModelState.
template <typename Px>
struct Pass {
    static constexpr unsigned kMask = (1u << Px::kBpc) - 1;

    BitReader& bits;
    ModelState& state;
    Lane lanes[Px::kChannels];
    bool bad_symbol = false;    // an escape code decoded past the channel's range
    ptrdiff_t bad_run_at = -1;  // a run went past the end of its row

    // The next residual of channel c, coded with the code its context's bucket prefers.
    unsigned symbol(unsigned c, uint8_t context) {
        return symbol(lanes[c].model->bucket_for(Px::family(), context).best);
    }

    // The next residual, coded with Golomb-Rice code l.
    unsigned symbol(unsigned l) {
        const Family& f = Px::family();
        const uint32_t window = bits.peek();
        unsigned len;
        unsigned v;
        if (window > f.not_gr_prefix_mask[l]) {
            const unsigned zeros = static_cast<unsigned>(std::countl_zero(window));
            len = zeros + 1 + l;
            v = (zeros << l) | ((window >> (32 - len)) & ((1u << l) - 1));
        } else {
            len = f.not_gr_len[l];
            v = f.n_gr[l] + ((window >> (32 - len)) & f.not_gr_suffix_mask[l]);
            if (v > kMask) {
                bad_symbol = true;
                v &= kMask;
            }
        }
        bits.skip(len);
        return v;
    }

    // Lets the model learn the residuals at x (context: the residuals at x - 1).
    void learn(ptrdiff_t x) {
        const Family& f = Px::family();
        for (unsigned c = 0; c < Px::kChannels; ++c) {
            lanes[c].model->update(f, lanes[c].residual[x - 1], lanes[c].residual[x],
                                   state.wm_trigger);
        }
    }

    // Decodes pixel x; predict(c) is the channel's prediction.
    template <typename Predict>
    void pixel(uint8_t* cur, ptrdiff_t x, Predict predict) {
        const Family& f = Px::family();
        unsigned v[Px::kChannels];
        for (unsigned c = 0; c < Px::kChannels; ++c) {
            const unsigned r = symbol(c, lanes[c].residual[x - 1]);
            lanes[c].residual[x] = static_cast<uint8_t>(r);
            v[c] = (f.l2u[r] + predict(c)) & kMask;
        }
        Px::put(cur, x, v);
    }

    // Decodes pixel x and lets the model learn it at once, as learn(x) after pixel(x) would:
    // each channel has its own model, so channel c may learn before c + 1 decodes, and the
    // bucket that chose the code is the one that learns.
    template <typename Predict>
    void pixel_learn(uint8_t* cur, ptrdiff_t x, Predict predict) {
        const Family& f = Px::family();
        unsigned v[Px::kChannels];
        for (unsigned c = 0; c < Px::kChannels; ++c) {
            quic::Bucket& b = lanes[c].model->bucket_for(f, lanes[c].residual[x - 1]);
            const unsigned r = symbol(b.best);
            lanes[c].residual[x] = static_cast<uint8_t>(r);
            quic::ChannelModel::learn(f, b, static_cast<uint8_t>(r), state.wm_trigger);
            v[c] = (f.l2u[r] + predict(c)) & kMask;
        }
        Px::put(cur, x, v);
    }

    // The first pixel of a segment that starts a row, then the wait counter decides whether
    // the model learns from it. Returns the next learning point.
    template <typename Predict>
    ptrdiff_t first_pixel(uint8_t* cur, uint32_t waitmask, Predict predict) {
        pixel(cur, 0, predict);
        if (state.waitcnt) {
            --state.waitcnt;
        } else {
            state.waitcnt = state.tabrand() & waitmask;
            learn(0);
        }
        return 1 + ptrdiff_t{state.waitcnt};
    }

    // Row 0 from x to end: each value predicted by its left neighbour, no runs.
    void first_row_segment(uint8_t* cur, ptrdiff_t x, ptrdiff_t end, uint32_t waitmask) {
        const auto left = [&](unsigned c) { return Px::get(cur, x - 1, c); };
        ptrdiff_t stop;
        if (x == 0) {
            stop = first_pixel(cur, waitmask, [](unsigned) { return 0u; });
            x = 1;
        } else {
            stop = x + state.waitcnt;
        }
        while (stop < end) {
            for (; x <= stop; ++x) {
                pixel(cur, x, left);
            }
            learn(stop);
            stop = x + (state.tabrand() & waitmask);
        }
        for (; x < end; ++x) {
            pixel(cur, x, left);
        }
        state.waitcnt = static_cast<uint32_t>(stop - end);
    }

    // Wait mask 0 (an image's first 2048 pixels: all of a glyph cell or a small tile) with no
    // countdown left: every pixel teaches the model and draws one random number, so the
    // segments below need no learning schedule. Same results as the general ones.
    void first_row_segment_each(uint8_t* cur, ptrdiff_t x, ptrdiff_t end) {
        if (x == 0 && x < end) {
            pixel_learn(cur, 0, [](unsigned) { return 0u; });
            ++state.tabrand_seed;
            x = 1;
        }
        for (; x < end; ++x) {
            pixel_learn(cur, x, [&](unsigned c) { return Px::get(cur, x - 1, c); });
            ++state.tabrand_seed;
        }
    }

    bool row_segment_each(const uint8_t* prev, uint8_t* cur, ptrdiff_t x, ptrdiff_t end) {
        if (x == 0 && x < end) {
            pixel_learn(cur, 0, [&](unsigned c) { return Px::get(prev, 0, c); });
            ++state.tabrand_seed;
            x = 1;
        }
        ptrdiff_t run_at = 0;
        while (x < end) {
            // The comparisons at once: which way they go is data, not worth a branch each.
            if (x > 2 && (int(x != run_at) & int(Px::same(prev, x - 1, prev, x)) &
                          int(Px::same(cur, x - 1, cur, x - 2)))) {
                run_at = x;
                if (!repeat_run(cur, x, end)) {
                    return false;
                }
                continue;
            }
            pixel_learn(cur, x, [&](unsigned c) {
                return (Px::get(cur, x - 1, c) + Px::get(prev, x, c)) >> 1;
            });
            ++state.tabrand_seed;
            ++x;
        }
        return true;
    }

    // Later rows from x to end: predicted by the mean of left and up; where the row above is
    // flat and the last two pixels are equal, a run of copies of the left pixel is coded.
    // Returns false when a run overruns the row.
    bool row_segment(const uint8_t* prev, uint8_t* cur, ptrdiff_t x, ptrdiff_t end,
                     uint32_t waitmask) {
        const auto mean = [&](unsigned c) {
            return (Px::get(cur, x - 1, c) + Px::get(prev, x, c)) >> 1;
        };
        ptrdiff_t stop;
        ptrdiff_t run_at = 0;
        if (x == 0) {
            stop = first_pixel(cur, waitmask, [&](unsigned c) { return Px::get(prev, 0, c); });
            x = 1;
        } else {
            stop = x + state.waitcnt;
        }
        const auto run_starts = [&]() {
            return x > 2 && x != run_at && Px::same(prev, x - 1, prev, x) &&
                   Px::same(cur, x - 1, cur, x - 2);
        };
        for (;;) {
            bool run = false;
            while (!run && stop < end) {
                for (; x <= stop; ++x) {
                    if (run_starts()) {
                        run = true;
                        break;
                    }
                    pixel(cur, x, mean);
                }
                if (!run) {
                    learn(stop);
                    stop = x + (state.tabrand() & waitmask);
                }
            }
            if (!run) {
                for (; x < end; ++x) {
                    if (run_starts()) {
                        run = true;
                        break;
                    }
                    pixel(cur, x, mean);
                }
                if (!run) {
                    state.waitcnt = static_cast<uint32_t>(stop - end);
                    return true;
                }
            }
            state.waitcnt = static_cast<uint32_t>(stop - x);
            run_at = x;
            if (!repeat_run(cur, x, end)) {
                return false;
            }
            if (x == end) {
                return true;
            }
            stop = x + state.waitcnt;
        }
    }

    // A run at `x`: its length from the stream, then the pixel before it repeated that often;
    // `x` ends after it. False (and bad_run_at set) when it would leave the row.
    bool repeat_run(uint8_t* cur, ptrdiff_t& x, ptrdiff_t end) {
        const ptrdiff_t len = run_length(end - x);
        if (len < 0) {
            bad_run_at = x;
            return false;
        }
        for (const ptrdiff_t run_end = x + len; x < run_end; ++x) {
            Px::repeat(cur, x);
        }
        return true;
    }

    // MELCODE: each leading one is a run of the current expected length (which then grows),
    // a zero ends the hits, and melclen bits give the remainder. -1 when longer than `limit`.
    ptrdiff_t run_length(ptrdiff_t limit) {
        ptrdiff_t run = 0;
        for (;;) {
            const unsigned ones =
                static_cast<unsigned>(std::countl_one(static_cast<uint8_t>(bits.peek() >> 24)));
            for (unsigned h = 0; h < ones; ++h) {
                run += state.melcorder;
                if (state.melcstate < quic::kMelcStates - 1) {
                    state.melclen = quic::kMelcLen[++state.melcstate];
                    state.melcorder = 1u << state.melclen;
                }
            }
            if (ones != 8) {
                bits.skip(ones + 1);
                break;
            }
            bits.skip(8);
            if (run > limit) {
                return -1;
            }
        }
        if (state.melclen) {
            run += bits.peek() >> (32 - state.melclen);
            bits.skip(state.melclen);
        }
        if (state.melcstate) {
            state.melclen = quic::kMelcLen[--state.melcstate];
            state.melcorder = 1u << state.melclen;
        }
        return run > limit ? -1 : run;
    }

    // Splits a row where the wait mask index steps up (every 2048 symbols until index 6) and
    // runs `segment(from, to, waitmask)` on each part.
    template <typename Segment>
    bool schedule(uint32_t width, Segment segment) {
        uint32_t pos = 0;
        while (state.wmidx < quic::kWaitMaskMax && state.wmileft <= width) {
            if (state.wmileft) {
                if (!segment(pos, pos + state.wmileft, (1u << state.wmidx) - 1)) {
                    return false;
                }
                pos += state.wmileft;
                width -= state.wmileft;
            }
            ++state.wmidx;
            state.wm_trigger = quic::wait_mask_trigger(state.wmidx);
            state.wmileft = quic::kWaitMaskNext;
        }
        if (width) {
            if (!segment(pos, pos + width, (1u << state.wmidx) - 1)) {
                return false;
            }
            if (state.wmidx < quic::kWaitMaskMax) {
                state.wmileft -= width;
            }
        }
        return true;
    }

    bool first_row(uint8_t* cur, uint32_t width) {
        for (auto& lane : lanes) {
            lane.residual[-1] = 0;
        }
        return schedule(width, [&](ptrdiff_t from, ptrdiff_t to, uint32_t waitmask) {
            if (waitmask == 0 && state.waitcnt == 0) {
                first_row_segment_each(cur, from, to);
            } else {
                first_row_segment(cur, from, to, waitmask);
            }
            return true;
        });
    }

    bool row(const uint8_t* prev, uint8_t* cur, uint32_t width) {
        for (auto& lane : lanes) {
            lane.residual[-1] = lane.residual[0];
        }
        return schedule(width, [&](ptrdiff_t from, ptrdiff_t to, uint32_t waitmask) {
            if (waitmask == 0 && state.waitcnt == 0) {
                return row_segment_each(prev, cur, from, to);
            }
            return row_segment(prev, cur, from, to, waitmask);
        });
    }
};

bool format_accepts(QuicImageType type, PixelFormat f) {
    switch (type) {
        case QuicImageType::Gray:
            return f == PixelFormat::A8;
        case QuicImageType::Rgba:
            return f == PixelFormat::Argb32;
        case QuicImageType::Rgb16:
        case QuicImageType::Rgb24:
        case QuicImageType::Rgb32:
            return f == PixelFormat::Xrgb32 || f == PixelFormat::Argb32;
        case QuicImageType::Invalid:
            break;
    }
    return false;
}

}  // namespace

Result<QuicHeader> QuicDecoder::read_header(ByteView stream) const {
    if (stream.size() < kQuicHeaderSize) {
        return quic_error(
            Errc::Truncated, stream.size(),
            fmt::format("header needs {} bytes, have {}", kQuicHeaderSize, stream.size()));
    }
    const uint8_t* p = stream.data();
    if (load_le32(p) != kQuicMagic) {
        return quic_error(Errc::BadMagic, 0, "magic is not \"QUIC\"");
    }
    if (const uint32_t version = load_le32(p + 4); version != kVersion) {
        return quic_error(Errc::Unsupported, 4, fmt::format("version {:#010x}", version));
    }
    const uint32_t type = load_le32(p + 8);
    if (type == 0 || type > static_cast<uint32_t>(QuicImageType::Rgba)) {
        return quic_error(Errc::BadValue, 8, fmt::format("image type {}", type));
    }
    QuicHeader h;
    h.type = static_cast<QuicImageType>(type);
    h.width = load_le32(p + 12);
    h.height = load_le32(p + 16);
    // The reference decoder reads the sizes as int and refuses anything not positive.
    if (h.width == 0 || h.height == 0 || h.width > 0x7fffffffu || h.height > 0x7fffffffu) {
        return quic_error(Errc::BadValue, 12,
                          fmt::format("bad image size {}x{}", h.width, h.height));
    }
    const uint64_t pixels = uint64_t{h.width} * h.height;
    if (h.width > limits_.max_width || h.height > limits_.max_height ||
        pixels > limits_.max_pixels || pixels > kMaxImagePixels) {
        return quic_error(Errc::LimitExceeded, 12,
                          fmt::format("image {}x{} exceeds the limits", h.width, h.height));
    }
    return h;
}

Result<ImageInfo> QuicDecoder::probe(ByteView stream) const {
    auto h = read_header(stream);
    if (!h) {
        return h.error();
    }
    return ImageInfo{h->width, h->height, quic_output_format(h->type), true};
}

Result<void> QuicDecoder::decode(ByteView stream, const PixelView& out) {
    auto parsed = read_header(stream);
    if (!parsed) {
        return parsed.error();
    }
    const QuicHeader& h = *parsed;
    const char* type_name = quic_image_type_name(h.type);
    if (out.data == nullptr || out.width != h.width || out.height != h.height) {
        return quic_error(Errc::BadValue, 0,
                          fmt::format("output view {}x{} does not fit the {}x{} image", out.width,
                                      out.height, h.width, h.height));
    }
    if (!format_accepts(h.type, out.format) || out.stride < bytes_per_row(out.format, h.width)) {
        return quic_error(Errc::BadValue, 0,
                          fmt::format("{} image cannot be written to this output view", type_name));
    }

    // Fresh model for every image; buffers only grow.
    const Family& family = h.type == QuicImageType::Rgb16 ? quic::kFamily5 : quic::kFamily8;
    const unsigned lanes =
        h.type == QuicImageType::Gray ? 1 : (h.type == QuicImageType::Rgba ? 4 : 3);
    for (unsigned c = 0; c < lanes; ++c) {
        channels_[c].reset(family);
        if (correlate_[c].size() < size_t{h.width} + 1) {
            correlate_[c].resize(size_t{h.width} + 1);
        }
    }
    const auto lane = [&](unsigned c) { return Lane{&channels_[c], correlate_[c].data() + 1}; };
    ModelState color_state;  // shared by R, G and B
    ModelState alpha_state;  // GRAY or the alpha plane
    color_state.reset();
    alpha_state.reset();

    const size_t words = (stream.size() - kQuicHeaderSize) / 4;
    BitReader bits(stream.data() + kQuicHeaderSize, words);
    const auto at = [&]() { return kQuicHeaderSize + bits.consumed_bits() / 8; };

    // Runs every row through `passes` (one or two coding passes per row), checking after each
    // row that the passes kept inside the data and the channel ranges.
    const auto decode_rows = [&](auto&... passes) -> Result<void> {
        for (uint32_t y = 0; y < h.height; ++y) {
            uint8_t* cur = out.row(y);
            bool ok = true;
            if (y == 0) {
                ((ok = ok && passes.first_row(cur, h.width)), ...);
            } else {
                const uint8_t* prev = out.row(y - 1);
                ((ok = ok && passes.row(prev, cur, h.width)), ...);
            }
            if (!ok) {
                ptrdiff_t x = 0;
                ((x = passes.bad_run_at >= 0 ? passes.bad_run_at : x), ...);
                return quic_error(Errc::Corrupt, at(),
                                  fmt::format("{} {}x{}: run at row {} column {} overruns the row",
                                              type_name, h.width, h.height, y, x));
            }
            if (bits.overrun()) {
                return quic_error(Errc::Truncated, stream.size(),
                                  fmt::format("{} {}x{}: stream ends inside row {}", type_name,
                                              h.width, h.height, y));
            }
            if ((passes.bad_symbol || ...)) {
                return quic_error(Errc::Corrupt, at(),
                                  fmt::format("{} {}x{}: code out of range in row {}", type_name,
                                              h.width, h.height, y));
            }
        }
        return {};
    };

    switch (h.type) {
        case QuicImageType::Rgb32:
        case QuicImageType::Rgb24: {
            Pass<Rgb8Px> rgb{bits, color_state, {lane(0), lane(1), lane(2)}};
            return decode_rows(rgb);
        }
        case QuicImageType::Rgb16: {
            Pass<Rgb5Px> rgb{bits, color_state, {lane(0), lane(1), lane(2)}};
            return decode_rows(rgb);
        }
        case QuicImageType::Rgba: {
            Pass<Rgb8Px> rgb{bits, color_state, {lane(0), lane(1), lane(2)}};
            Pass<AlphaPx> alpha{bits, alpha_state, {lane(3)}};
            return decode_rows(rgb, alpha);
        }
        case QuicImageType::Gray: {
            Pass<GrayPx> gray{bits, alpha_state, {lane(0)}};
            return decode_rows(gray);
        }
        case QuicImageType::Invalid:
            break;
    }
    return quic_error(Errc::BadValue, 8, "image type");
}

}  // namespace spicetap::codec
