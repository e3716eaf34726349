#include "decode/channels/inputs_channel.h"

#include <spice/enums.h>

#include <vector>

#include "decode/channels/message_parse.h"

namespace spicetap::channels::inputs {

namespace {

using detail::finish;
using detail::lift;

constexpr std::string_view kModifiers[] = {"scroll_lock", "num_lock", "caps_lock"};
constexpr std::string_view kButtons[] = {"invalid", "left", "middle", "right",
                                         "up",      "down", "side",   "extra"};
constexpr std::string_view kButtonMask[] = {"left", "middle", "right", "up",
                                            "down", "side",   "extra"};

// The scancode bytes of a KEY_DOWN/KEY_UP code, in the order the guest receives them.
std::vector<uint8_t> code_bytes(uint32_t code) {
    std::vector<uint8_t> out;
    for (int i = 0; i < 4; ++i) {
        const auto b = static_cast<uint8_t>(code >> (8 * i));
        if (b == 0) {
            break;
        }
        out.push_back(b);
    }
    return out;
}

void write_key(uint32_t code, JsonWriter& w) {
    w.field("code", code);
    const auto bytes = code_bytes(code);
    w.key("scancode").hex(bytes);
}

void write_buttons(uint16_t state, JsonWriter& w) {
    w.field("buttons_state", state);
    detail::write_flag_names(w, "buttons_state_names", kButtonMask, state);
}

struct Writer {
    JsonWriter& w;

    void operator()(const Init& m) {
        w.field("keyboard_modifiers", m.keyboard_modifiers);
        detail::write_flag_names(w, "keyboard_modifier_names", kModifiers, m.keyboard_modifiers);
    }

    void operator()(const KeyModifiers& m) {
        w.field("modifiers", m.modifiers);
        detail::write_flag_names(w, "modifier_names", kModifiers, m.modifiers);
    }

    void operator()(const MouseMotionAck&) {}

    void operator()(const KeyDown& m) { write_key(m.code, w); }

    void operator()(const KeyUp& m) { write_key(m.code, w); }

    void operator()(const KeyScancode& m) {
        w.field("scancode_size", uint64_t{m.codes.size()}).key("scancode").hex(m.codes);
    }

    void operator()(const MouseMotion& m) {
        w.field("dx", m.dx).field("dy", m.dy);
        write_buttons(m.buttons_state, w);
    }

    void operator()(const MousePosition& m) {
        w.field("x", m.x).field("y", m.y);
        write_buttons(m.buttons_state, w);
        w.field("display_id", m.display_id);
    }

    void operator()(const MousePress& m) {
        w.field("button", m.button).field("button_name", detail::enum_name(kButtons, m.button));
        write_buttons(m.buttons_state, w);
    }

    void operator()(const MouseRelease& m) {
        w.field("button", m.button).field("button_name", detail::enum_name(kButtons, m.button));
        write_buttons(m.buttons_state, w);
    }
};

}  // namespace

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    ByteReader r(body);
    switch (type) {
        case SPICE_MSG_INPUTS_INIT: {
            Init m;
            m.keyboard_modifiers = r.u16();
            return lift<ServerMessage>(finish(r, m, "inputs init"));
        }
        case SPICE_MSG_INPUTS_KEY_MODIFIERS: {
            KeyModifiers m;
            m.modifiers = r.u16();
            return lift<ServerMessage>(finish(r, m, "key_modifiers"));
        }
        case SPICE_MSG_INPUTS_MOUSE_MOTION_ACK:
            return ServerMessage{MouseMotionAck{}};
        default:
            return detail::unknown_type("inputs", type);
    }
}

Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    ByteReader r(body);
    switch (type) {
        case SPICE_MSGC_INPUTS_KEY_DOWN: {
            KeyDown m;
            m.code = r.u32();
            return lift<ClientMessage>(finish(r, m, "key_down"));
        }
        case SPICE_MSGC_INPUTS_KEY_UP: {
            KeyUp m;
            m.code = r.u32();
            return lift<ClientMessage>(finish(r, m, "key_up"));
        }
        case SPICE_MSGC_INPUTS_KEY_MODIFIERS: {
            KeyModifiers m;
            m.modifiers = r.u16();
            return lift<ClientMessage>(finish(r, m, "key_modifiers"));
        }
        case SPICE_MSGC_INPUTS_KEY_SCANCODE:
            return ClientMessage{KeyScancode{body}};
        case SPICE_MSGC_INPUTS_MOUSE_MOTION: {
            MouseMotion m;
            m.dx = r.i32();
            m.dy = r.i32();
            m.buttons_state = r.u16();
            return lift<ClientMessage>(finish(r, m, "mouse_motion"));
        }
        case SPICE_MSGC_INPUTS_MOUSE_POSITION: {
            MousePosition m;
            m.x = r.u32();
            m.y = r.u32();
            m.buttons_state = r.u16();
            m.display_id = r.u8();
            return lift<ClientMessage>(finish(r, m, "mouse_position"));
        }
        case SPICE_MSGC_INPUTS_MOUSE_PRESS: {
            MousePress m;
            m.button = r.u8();
            m.buttons_state = r.u16();
            return lift<ClientMessage>(finish(r, m, "mouse_press"));
        }
        case SPICE_MSGC_INPUTS_MOUSE_RELEASE: {
            MouseRelease m;
            m.button = r.u8();
            m.buttons_state = r.u16();
            return lift<ClientMessage>(finish(r, m, "mouse_release"));
        }
        default:
            return detail::unknown_type("inputs", type);
    }
}

void write_json(const ServerMessage& msg, JsonWriter& w) {
    std::visit(Writer{w}, msg);
}

void write_json(const ClientMessage& msg, JsonWriter& w) {
    std::visit(Writer{w}, msg);
}

}  // namespace spicetap::channels::inputs
