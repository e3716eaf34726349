// Cursor channel (type 4, server -> client only): cursor shapes, position, visibility, cache.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/result.h"

namespace spicetap::channels::cursor {

enum class CursorType : uint8_t {
    Alpha = 0,
    Mono = 1,
    Color4 = 2,
    Color8 = 3,
    Color16 = 4,
    Color24 = 5,
    Color32 = 6,
};

// "alpha", "mono", "color4", ... or "unknown".
std::string_view cursor_type_name(uint8_t type);

inline constexpr uint16_t kCursorFlagNone = 1;       // no shape: the header is absent
inline constexpr uint16_t kCursorFlagCacheMe = 2;    // store under header.unique
inline constexpr uint16_t kCursorFlagFromCache = 4;  // shape comes from the cache

struct CursorHeader {
    uint64_t unique = 0;
    uint8_t type = 0;  // CursorType; kept raw so unknown values survive
    uint16_t width = 0;
    uint16_t height = 0;
    uint16_t hot_spot_x = 0;
    uint16_t hot_spot_y = 0;
};

struct Cursor {
    uint16_t flags = 0;
    std::optional<CursorHeader> header;  // absent when the NONE flag is set
    ByteView data;                       // pixel data: the rest of the body
};

struct Point16 {
    int16_t x = 0;
    int16_t y = 0;
};

struct Init {
    Point16 position;
    uint16_t trail_length = 0;
    uint16_t trail_frequency = 0;
    uint8_t visible = 0;
    Cursor cursor;
};

struct Reset {};

struct Set {
    Point16 position;
    uint8_t visible = 0;
    Cursor cursor;
};

struct Move {
    Point16 position;
};

struct Hide {};

struct Trail {
    uint16_t length = 0;
    uint16_t frequency = 0;
};

struct InvalOne {
    uint64_t id = 0;
};

struct InvalAll {};

using ServerMessage = std::variant<Init, Reset, Set, Move, Hide, Trail, InvalOne, InvalAll>;

// The cursor channel defines no client messages beyond the base ones.
struct NoClientMessage {};

using ClientMessage = std::variant<NoClientMessage>;

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps);
// Always Errc::Unsupported (no cursor client messages exist).
Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps);

// A SpiceCursor at the reader's position; its data is everything after the header.
Result<Cursor> parse_cursor(ByteReader& r);

void write_json(const ServerMessage& msg, JsonWriter& w);
void write_json(const ClientMessage& msg, JsonWriter& w);

}  // namespace spicetap::channels::cursor
