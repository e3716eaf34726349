// Raster-op semantics: the ROP descriptor mapping of canvas_base.c, the 16 binary ops of
// pixman_utils.c and the ternary ops of rop3.c.
#include "replay/canvas/canvas.h"

namespace spicetap::canvas {

namespace {

uint16_t invert_bit(RopInput input) {
    switch (input) {
        case RopInput::Src:
            return ropd::kInversSrc;
        case RopInput::Brush:
            return ropd::kInversBrush;
        case RopInput::Dest:
            return ropd::kInversDest;
    }
    return 0;
}

// The op `op(a, b)` with a and/or b inverted and the result inverted, as one of the 16 ops.
// Built from the truth table so every combination canvas_base.c lists comes out the same.
Rop fold(uint32_t (*op)(bool, bool), bool inv_src, bool inv_dst, bool inv_res) {
    // index = src << 1 | dst, as in the X11 GX numbering where bit i of the code is f(s, d)
    uint8_t table = 0;
    for (int s = 0; s < 2; ++s) {
        for (int d = 0; d < 2; ++d) {
            bool r = op(bool(s) != inv_src, bool(d) != inv_dst) != 0;
            if (inv_res)
                r = !r;
            if (r)
                table |= uint8_t(1u << (s << 1 | d));
        }
    }
    for (uint8_t g = 0; g < 16; ++g) {
        uint8_t t = 0;
        for (int s = 0; s < 2; ++s) {
            for (int d = 0; d < 2; ++d) {
                if (apply_rop(Rop(g), s ? ~0u : 0u, d ? ~0u : 0u) & 1) {
                    t |= uint8_t(1u << (s << 1 | d));
                }
            }
        }
        if (t == table)
            return Rop(g);
    }
    return Rop::Copy;
}

}  // namespace

Rop rop_from_descriptor(uint16_t descriptor, RopInput src, RopInput dest) {
    // The descriptor's INVERS_* bits name operands; re-aim them at the two operands used.
    const bool inv_src = descriptor & invert_bit(src);
    const bool inv_dst = descriptor & invert_bit(dest);
    const bool inv_res = descriptor & ropd::kInversRes;
    if (descriptor & ropd::kOpPut) {
        return (inv_src != inv_res) ? Rop::CopyInverted : Rop::Copy;
    }
    if (descriptor & ropd::kOpOr) {
        return fold([](bool a, bool b) -> uint32_t { return a || b; }, inv_src, inv_dst, inv_res);
    }
    if (descriptor & ropd::kOpAnd) {
        return fold([](bool a, bool b) -> uint32_t { return a && b; }, inv_src, inv_dst, inv_res);
    }
    if (descriptor & ropd::kOpXor) {
        return fold([](bool a, bool b) -> uint32_t { return a != b; }, inv_src, inv_dst, inv_res);
    }
    if (descriptor & ropd::kOpBlackness)
        return Rop::Clear;
    if (descriptor & ropd::kOpWhiteness)
        return Rop::Set;
    if (descriptor & ropd::kOpInvers)
        return Rop::Invert;
    return Rop::Copy;
}

uint32_t apply_rop(Rop rop, uint32_t src, uint32_t dst) {
    switch (rop) {
        case Rop::Clear:
            return 0;
        case Rop::And:
            return src & dst;
        case Rop::AndReverse:
            return src & ~dst;
        case Rop::Copy:
            return src;
        case Rop::AndInverted:
            return ~src & dst;
        case Rop::Noop:
            return dst;
        case Rop::Xor:
            return src ^ dst;
        case Rop::Or:
            return src | dst;
        case Rop::Nor:
            return ~src & ~dst;
        case Rop::Equiv:
            return ~src ^ dst;
        case Rop::Invert:
            return ~dst;
        case Rop::OrReverse:
            return src | ~dst;
        case Rop::CopyInverted:
            return ~src;
        case Rop::OrInverted:
            return ~src | dst;
        case Rop::Nand:
            return ~src | ~dst;
        case Rop::Set:
            return 0xffffffffu;
    }
    return dst;
}

uint32_t apply_rop3(uint8_t code, uint32_t pattern, uint32_t src, uint32_t dst) {
    uint32_t out = 0;
    for (int i = 0; i < 8; ++i) {
        if (!((code >> i) & 1))
            continue;
        const uint32_t p = (i & 4) ? pattern : ~pattern;
        const uint32_t s = (i & 2) ? src : ~src;
        const uint32_t d = (i & 1) ? dst : ~dst;
        out |= p & s & d;
    }
    return out;
}

bool rop3_missing_in_reference(uint8_t code) {
    // rop3.c has handlers exactly for the codes that depend on all three operands.
    const bool uses_p = (code >> 4) != (code & 0x0f);
    const bool uses_s = ((code & 0xcc) >> 2) != (code & 0x33);
    const bool uses_d = ((code & 0xaa) >> 1) != (code & 0x55);
    return !(uses_p && uses_s && uses_d);
}

}  // namespace spicetap::canvas
