// Internal to the display channel decoder: the parse context that owns the first error, and
// readers for the shared structures. Not part of the public API.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "decode/channels/display_types.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::channels::display::detail {

// One message body being parsed. Pointers are offsets from the body's first byte; every
// structure a pointer leads to is read through a fresh reader over the same body, so a
// pointer can never escape it. Only the first error is kept: it is the cause, later ones are
// consequences.
class Ctx {
public:
    Ctx(ByteView body, std::string_view message, bool lz4_allowed)
        : body_(body), message_(message), lz4_allowed_(lz4_allowed) {}

    ByteView body() const { return body_; }

    std::string_view message() const { return message_; }

    bool lz4_allowed() const { return lz4_allowed_; }

    bool failed() const { return error_.has_value(); }

    const DecodeError& error() const { return *error_; }

    // Records an error "<message>: <what>" (unless one is already recorded); returns false.
    bool fail(Errc code, uint64_t offset, std::string_view what);

    // Records a truncation naming `what` if `r` has run out of bytes; returns r.ok().
    bool check(const ByteReader& r, std::string_view what);

    // A reader at `pointer` (read from the field at `field_pos`) when at least `min_size`
    // bytes follow it inside the body; records an error otherwise.
    std::optional<ByteReader> follow(uint32_t pointer, size_t field_pos, size_t min_size,
                                     std::string_view what);

    // Checks that `count` elements of `elem_size` bytes fit in what `r` has left, before
    // anything is allocated for them.
    bool fits(const ByteReader& r, uint64_t count, uint64_t elem_size, std::string_view what);

private:
    ByteView body_;
    std::string_view message_;
    bool lz4_allowed_ = true;
    std::optional<DecodeError> error_;
};

Point read_point(ByteReader& r);
Point16 read_point16(ByteReader& r);
PointFix read_point_fix(ByteReader& r);
Rect read_rect(ByteReader& r);
Transform read_transform(ByteReader& r);

bool read_clip(Ctx& ctx, ByteReader& r, Clip& out, std::string_view what);
bool read_base(Ctx& ctx, ByteReader& r, DisplayBase& out);
// An `Image *` field: reads the pointer at r's position and the image it leads to.
bool read_image_ptr(Ctx& ctx, ByteReader& r, std::optional<Image>& out, std::string_view what,
                    bool nonnull);
bool read_brush(Ctx& ctx, ByteReader& r, Brush& out, std::string_view what);
bool read_qmask(Ctx& ctx, ByteReader& r, QMask& out, std::string_view what);
bool read_line_attr(Ctx& ctx, ByteReader& r, LineAttr& out, std::string_view what);
// `Path *` and `String *` fields (both non-null in spice.proto).
bool read_path_ptr(Ctx& ctx, ByteReader& r, Path& out, std::string_view what);
bool read_string_ptr(Ctx& ctx, ByteReader& r, GlyphString& out, std::string_view what);

}  // namespace spicetap::channels::display::detail
