// PC AT (set 1) scancodes, as SPICE inputs messages carry them, to keys and typed text.
// SPICE encodes a key as its set-1 make code; extended keys as 0xe0 in the low byte and the
// code in the next byte; a release sets 0x80 on the code byte.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "decode/wire/result.h"

namespace spicetap::compliance {

struct KeyEvent {
    uint16_t scancode = 0;  // make code; extended keys as 0x100 | code (0x11c = keypad Enter)
    bool down = true;
};

// Decodes the u32 `code` of SPICE_MSGC_INPUTS_KEY_DOWN / KEY_UP.
std::optional<KeyEvent> key_event_from_code(uint32_t code);

// Decodes the raw bytes of SPICE_MSGC_INPUTS_KEY_SCANCODE (one or more set-1 sequences).
std::vector<KeyEvent> key_events_from_bytes(std::string_view bytes);

// Layouts: "us" (default), "de", "fr", "uk".
Result<int> layout_index(std::string_view name);

// What one key press produces: printable text ("a", "A", "@"), or a name in angle brackets
// for keys that type nothing ("<Enter>", "<F5>", "<Left>"); with modifiers other than Shift
// (and AltGr where the layout uses it), "<Ctrl+c>".
struct Modifiers {
    bool shift = false, ctrl = false, alt = false, altgr = false, meta = false;
    bool caps_lock = false;
};

// Key name for display ("a", "Enter", "LeftShift", "KP_7"), "Key_0xNN" for unknown codes.
std::string key_name(uint16_t scancode);

bool is_modifier(uint16_t scancode);

// Text typed by pressing `scancode` with `mods` on `layout` (see above).
std::string key_text(uint16_t scancode, const Modifiers& mods, int layout);

// Turns a stream of key events into typed text, tracking modifiers and caps lock.
class KeyTextBuilder {
public:
    explicit KeyTextBuilder(int layout = 0) : layout_(layout) {}
    // Returns what this event typed (empty for releases and bare modifiers).
    std::string feed(const KeyEvent& e);
    const Modifiers& modifiers() const { return mods_; }

private:
    int layout_;
    Modifiers mods_;
    bool lshift_ = false, rshift_ = false, lctrl_ = false, rctrl_ = false;
};

}  // namespace spicetap::compliance
