// Test-only LZ and GLZ encoders: literal runs plus matches found by a few simple candidates
// (run, row above, last occurrence of the same three units, same spot in an earlier image).
// Written from the format description, independently of the decoders, to round-trip every
// image type and to build GLZ streams with references and window rules of our choosing.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "decode/codec/lz_common.h"

namespace spicetap::test {

using codec::LzImageType;

inline void put_be32(std::vector<uint8_t>& out, uint32_t v) {
    out.push_back(uint8_t(v >> 24));
    out.push_back(uint8_t(v >> 16));
    out.push_back(uint8_t(v >> 8));
    out.push_back(uint8_t(v));
}

// How one pass codes its units: bytes per literal unit and the match length bias.
struct LzPassKind {
    int unit_bytes;     // 1 (palette bytes, alpha, A8), 2 (RGB16), 3 (RGB24/32)
    uint32_t lz_bias;   // LZ: 3, 2, 1
    uint32_t glz_bias;  // GLZ: 2, 1, 0
};

inline LzPassKind pass_kind(int unit_bytes) {
    switch (unit_bytes) {
        case 2:
            return {2, 2, 1};
        case 3:
            return {3, 1, 0};
        default:
            return {1, 3, 2};
    }
}

inline void put_unit(std::vector<uint8_t>& out, uint32_t u, int unit_bytes) {
    if (unit_bytes == 3) {  // B, G, R from 0x00RRGGBB
        out.push_back(uint8_t(u));
        out.push_back(uint8_t(u >> 8));
        out.push_back(uint8_t(u >> 16));
    } else if (unit_bytes == 2) {  // high byte first
        out.push_back(uint8_t(u >> 8));
        out.push_back(uint8_t(u));
    } else {
        out.push_back(uint8_t(u));
    }
}

inline void put_length_tail(std::vector<uint8_t>& out, uint32_t rest) {
    for (; rest >= 255; rest -= 255) {
        out.push_back(255);
    }
    out.push_back(uint8_t(rest));
}

// A reference candidate for GLZ: `dist` images back, unit offset inside that image.
struct GlzRefImage {
    uint32_t dist;
    const std::vector<uint32_t>* units;
};

// Encodes one pass over `units`. lz = true for LZ tokens, false for GLZ tokens (then `refs`
// offers earlier images, matched at the same unit position).
inline void encode_pass(std::vector<uint8_t>& out, const std::vector<uint32_t>& units,
                        int unit_bytes, uint32_t row_units, bool lz,
                        const std::vector<GlzRefImage>& refs = {}) {
    const LzPassKind kind = pass_kind(unit_bytes);
    const uint32_t bias = lz ? kind.lz_bias : kind.glz_bias;
    const uint32_t min_len = lz ? bias : bias + 1;  // GLZ needs len - bias >= 1
    const size_t n = units.size();
    std::unordered_map<uint64_t, size_t> last;
    std::vector<uint32_t> literal;
    const auto flush = [&]() {
        size_t i = 0;
        while (i < literal.size()) {
            const size_t run = std::min<size_t>(32, literal.size() - i);
            out.push_back(uint8_t(run - 1));
            for (size_t k = 0; k < run; ++k) {
                put_unit(out, literal[i + k], unit_bytes);
            }
            i += run;
        }
        literal.clear();
    };
    const auto key = [&](size_t p) {
        return (uint64_t(units[p]) * 1000003u) ^ (uint64_t(units[p + 1]) << 21) ^
               (uint64_t(units[p + 2]) << 42);
    };
    const size_t max_dist = lz ? 65535 + 8191 : (size_t{1} << 25) - 1;
    size_t pos = 0;
    while (pos < n) {
        size_t best_len = 0, best_dist = 0, best_ofs = 0;
        uint32_t best_img = 0;
        const auto consider_intra = [&](size_t dist) {
            if (dist == 0 || dist > pos || dist > max_dist) {
                return;
            }
            size_t len = 0;
            while (pos + len < n && units[pos + len] == units[pos + len - dist]) {
                ++len;
            }
            if (len > best_len) {
                best_len = len, best_dist = dist, best_img = 0;
            }
        };
        consider_intra(1);
        consider_intra(row_units);
        if (pos + 2 < n) {
            if (auto it = last.find(key(pos)); it != last.end()) {
                consider_intra(pos - it->second);
            }
        }
        for (const GlzRefImage& r : refs) {
            const auto& ref = *r.units;
            size_t len = 0;
            while (pos + len < n && pos + len < ref.size() && ref[pos + len] == units[pos + len]) {
                ++len;
            }
            if (len > best_len && pos < (size_t{1} << 25)) {
                best_len = len, best_img = r.dist, best_ofs = pos;
            }
        }
        if (pos + 2 < n) {
            last[key(pos)] = pos;
        }
        if (best_len < min_len) {
            literal.push_back(units[pos++]);
            continue;
        }
        flush();
        const uint32_t code = uint32_t(best_len - bias);
        if (lz) {
            const size_t d = best_dist - 1;
            const bool far = d >= 8191;
            const uint32_t low5 = far ? 31 : uint32_t(d >> 8);
            if (code < 6) {
                out.push_back(uint8_t(((code + 1) << 5) | low5));
            } else {
                out.push_back(uint8_t((7 << 5) | low5));
                put_length_tail(out, code - 6);
            }
            if (far) {
                out.push_back(255);
                out.push_back(uint8_t((d - 8191) >> 8));
                out.push_back(uint8_t(d - 8191));
            } else {
                out.push_back(uint8_t(d));
            }
        } else {
            const uint32_t img = best_img;
            const size_t pofs = img == 0 ? best_dist - 1 : best_ofs;
            const bool short_ofs = pofs < 4096;
            const uint32_t head = std::min<uint32_t>(code, 7);
            out.push_back(uint8_t((head << 5) | (short_ofs ? 0 : 16) | (pofs & 0x0f)));
            if (code >= 7) {
                put_length_tail(out, code - 7);
            }
            out.push_back(uint8_t(pofs >> 4));
            if (short_ofs) {
                const uint32_t extra = img < 64           ? 0
                                       : img < (1u << 14) ? 1
                                       : img < (1u << 22) ? 2
                                                          : 3;
                out.push_back(uint8_t((extra << 6) | (img & 0x3f)));
                for (uint32_t i = 0; i < extra; ++i) {
                    out.push_back(uint8_t(img >> (6 + 8 * i)));
                }
            } else {
                const bool very_long = pofs >= (1u << 17);
                const uint32_t extra = img == 0 ? 0 : img < 256 ? 1 : img < 65536 ? 2 : 3;
                out.push_back(uint8_t((extra << 6) | (very_long ? 32 : 0) | ((pofs >> 12) & 31)));
                for (uint32_t i = 0; i < extra; ++i) {
                    out.push_back(uint8_t(img >> (8 * i)));
                }
                if (very_long) {
                    out.push_back(uint8_t(pofs >> 17));
                }
            }
        }
        pos += best_len;
    }
    flush();
}

// Units of each pass for an image given as encoder input.
//   palette types: `bytes` holds the packed rows (stride bytes each)
//   RGB16: `px` holds x1r5g5b5 values; RGB24/RGB32/RGBA/XXXA: 0xAARRGGBB; A8: alpha values
struct LzSource {
    LzImageType type = LzImageType::Rgb32;
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t stride = 0;
    bool top_down = true;
    std::vector<uint8_t> bytes;
    std::vector<uint32_t> px;  // stream order
};

inline std::vector<uint8_t> lz_encode(const LzSource& s) {
    std::vector<uint8_t> out;
    put_be32(out, codec::lz::kMagic);
    put_be32(out, codec::lz::kVersion);
    put_be32(out, uint32_t(s.type));
    put_be32(out, s.width);
    put_be32(out, s.height);
    put_be32(out, s.stride);
    put_be32(out, s.top_down ? 1 : 0);
    std::vector<uint32_t> units;
    if (codec::lz::is_palette(s.type)) {
        units.assign(s.bytes.begin(), s.bytes.end());
        encode_pass(out, units, 1, s.stride, true);
        return out;
    }
    const auto plane = [&](uint32_t shift, uint32_t mask) {
        std::vector<uint32_t> u;
        for (uint32_t p : s.px) {
            u.push_back((p >> shift) & mask);
        }
        return u;
    };
    switch (s.type) {
        case LzImageType::Rgb16:
            encode_pass(out, plane(0, 0xffff), 2, s.width, true);
            break;
        case LzImageType::Rgb24:
        case LzImageType::Rgb32:
            encode_pass(out, plane(0, 0xffffff), 3, s.width, true);
            break;
        case LzImageType::Rgba:
            encode_pass(out, plane(0, 0xffffff), 3, s.width, true);
            encode_pass(out, plane(24, 0xff), 1, s.width, true);
            break;
        case LzImageType::Xxxa:
            encode_pass(out, plane(24, 0xff), 1, s.width, true);
            break;
        case LzImageType::A8:
            encode_pass(out, plane(0, 0xff), 1, s.width, true);
            break;
        default:
            break;
    }
    return out;
}

// A GLZ stream for an RGB image (RGB16 px as x1r5g5b5, others 0xAARRGGBB) with matches into
// the given earlier images' units.
struct GlzSource {
    LzImageType type = LzImageType::Rgb32;
    uint32_t width = 0;
    uint32_t height = 0;
    bool top_down = true;
    uint64_t id = 0;
    uint32_t win_head_dist = 0;
    std::vector<uint32_t> px;  // stream order
};

inline std::vector<uint8_t> glz_encode(const GlzSource& s,
                                       const std::vector<GlzRefImage>& rgb_refs = {},
                                       const std::vector<GlzRefImage>& alpha_refs = {}) {
    std::vector<uint8_t> out;
    put_be32(out, codec::lz::kMagic);
    put_be32(out, codec::lz::kVersion);
    out.push_back(uint8_t(uint32_t(s.type) | (s.top_down ? 0x10 : 0)));
    put_be32(out, s.width);
    put_be32(out, s.height);
    put_be32(out, s.width * codec::lz::bytes_per_pixel(s.type));
    put_be32(out, uint32_t(s.id >> 32));
    put_be32(out, uint32_t(s.id));
    put_be32(out, s.win_head_dist);
    std::vector<uint32_t> rgb, alpha;
    for (uint32_t p : s.px) {
        rgb.push_back(s.type == LzImageType::Rgb16 ? (p & 0xffff) : (p & 0xffffff));
        alpha.push_back(p >> 24);
    }
    encode_pass(out, rgb, s.type == LzImageType::Rgb16 ? 2 : 3, s.width, false, rgb_refs);
    if (s.type == LzImageType::Rgba) {
        encode_pass(out, alpha, 1, s.width, false, alpha_refs);
    }
    return out;
}

}  // namespace spicetap::test
