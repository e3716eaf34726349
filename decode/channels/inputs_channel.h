// Inputs channel (type 3): keyboard scancodes, mouse motion/position/buttons, lock LEDs.
#pragma once

#include <cstdint>
#include <variant>

#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/result.h"

namespace spicetap::channels::inputs {

// --- server -> client ---------------------------------------------------------------------

struct Init {
    uint16_t keyboard_modifiers = 0;  // 1 scroll_lock, 2 num_lock, 4 caps_lock
};

struct KeyModifiers {
    uint16_t modifiers = 0;
};

struct MouseMotionAck {};

using ServerMessage = std::variant<Init, KeyModifiers, MouseMotionAck>;

// --- client -> server ---------------------------------------------------------------------

// PC scancode set 1 bytes packed little-endian into `code`, up to the first zero byte.
struct KeyDown {
    uint32_t code = 0;
};

struct KeyUp {
    uint32_t code = 0;
};

// KeyModifiers (above) is also the client's KEY_MODIFIERS.
struct KeyScancode {
    ByteView codes;  // raw set-1 byte stream
};

struct MouseMotion {
    int32_t dx = 0;
    int32_t dy = 0;
    uint16_t buttons_state = 0;
};

struct MousePosition {
    uint32_t x = 0;
    uint32_t y = 0;
    uint16_t buttons_state = 0;
    uint8_t display_id = 0;
};

struct MousePress {
    uint8_t button = 0;
    uint16_t buttons_state = 0;
};

struct MouseRelease {
    uint8_t button = 0;
    uint16_t buttons_state = 0;
};

using ClientMessage = std::variant<KeyDown, KeyUp, KeyModifiers, KeyScancode, MouseMotion,
                                   MousePosition, MousePress, MouseRelease>;

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps);
Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps);

void write_json(const ServerMessage& msg, JsonWriter& w);
void write_json(const ClientMessage& msg, JsonWriter& w);

}  // namespace spicetap::channels::inputs
