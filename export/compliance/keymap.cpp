#include "export/compliance/keymap.h"

#include <fmt/core.h>

#include <array>
#include <cstring>

namespace spicetap::compliance {

namespace {

constexpr uint16_t kExtended = 0x100;

// Keys that type nothing, by set-1 code (extended keys with 0x100).
struct NamedKey {
    uint16_t code;
    const char* name;
};

constexpr NamedKey kNamed[] = {
    {0x01, "Esc"},         {0x0e, "Backspace"},    {0x0f, "Tab"},         {0x1c, "Enter"},
    {0x1d, "LeftCtrl"},    {0x2a, "LeftShift"},    {0x36, "RightShift"},  {0x38, "LeftAlt"},
    {0x3a, "CapsLock"},    {0x3b, "F1"},           {0x3c, "F2"},          {0x3d, "F3"},
    {0x3e, "F4"},          {0x3f, "F5"},           {0x40, "F6"},          {0x41, "F7"},
    {0x42, "F8"},          {0x43, "F9"},           {0x44, "F10"},         {0x45, "NumLock"},
    {0x46, "ScrollLock"},  {0x57, "F11"},          {0x58, "F12"},         {0x54, "SysRq"},
    {0x11c, "KP_Enter"},   {0x11d, "RightCtrl"},   {0x135, "KP_Divide"},  {0x137, "PrintScreen"},
    {0x138, "AltGr"},      {0x146, "Break"},       {0x147, "Home"},       {0x148, "Up"},
    {0x149, "PageUp"},     {0x14b, "Left"},        {0x14d, "Right"},      {0x14f, "End"},
    {0x150, "Down"},       {0x151, "PageDown"},    {0x152, "Insert"},     {0x153, "Delete"},
    {0x15b, "LeftMeta"},   {0x15c, "RightMeta"},   {0x15d, "Menu"},       {0x15e, "Power"},
    {0x15f, "Sleep"},      {0x163, "Wake"},
};

// Keypad keys type their digit/operator (NumLock is assumed on, as it usually is).
constexpr std::pair<uint16_t, const char*> kKeypad[] = {
    {0x37, "*"}, {0x47, "7"}, {0x48, "8"}, {0x49, "9"}, {0x4a, "-"}, {0x4b, "4"},
    {0x4c, "5"}, {0x4d, "6"}, {0x4e, "+"}, {0x4f, "1"}, {0x50, "2"}, {0x51, "3"},
    {0x52, "0"}, {0x53, "."}, {0x135, "/"},
};

// A layout: for codes 0x02..0x39 (and 0x56), what the key types plain, with Shift and with
// AltGr. UTF-8; empty = nothing.
struct Layout {
    const char* name;
    // Each row: first code, then plain and shifted strings, one UTF-8 character per key,
    // separated by spaces (so multi-byte characters are easy to write).
    struct Row {
        uint16_t first;
        const char* plain;
        const char* shifted;
    };
    std::array<Row, 6> rows;
    // AltGr: pairs "code:char" separated by spaces.
    const char* altgr;
};

constexpr Layout kLayouts[] = {
    {"us",
     {{{0x02, "1 2 3 4 5 6 7 8 9 0 - =", "! @ # $ % ^ & * ( ) _ +"},
       {0x10, "q w e r t y u i o p [ ]", "Q W E R T Y U I O P { }"},
       {0x1e, "a s d f g h j k l ; ' `", "A S D F G H J K L : \" ~"},
       {0x2b, "\\ z x c v b n m , . /", "| Z X C V B N M < > ?"},
       {0x39, "space", "space"},
       {0x56, "\\", "|"}}},
     ""},
    {"uk",
     {{{0x02, "1 2 3 4 5 6 7 8 9 0 - =", "! \" £ $ % ^ & * ( ) _ +"},
       {0x10, "q w e r t y u i o p [ ]", "Q W E R T Y U I O P { }"},
       {0x1e, "a s d f g h j k l ; ' `", "A S D F G H J K L : @ ¬"},
       {0x2b, "# z x c v b n m , . /", "~ Z X C V B N M < > ?"},
       {0x39, "space", "space"},
       {0x56, "\\", "|"}}},
     "05:€"},
    {"de",
     {{{0x02, "1 2 3 4 5 6 7 8 9 0 ß ´", "! \" § $ % & / ( ) = ? `"},
       {0x10, "q w e r t z u i o p ü +", "Q W E R T Z U I O P Ü *"},
       {0x1e, "a s d f g h j k l ö ä ^", "A S D F G H J K L Ö Ä °"},
       {0x2b, "# y x c v b n m , . -", "' Y X C V B N M ; : _"},
       {0x39, "space", "space"},
       {0x56, "<", ">"}}},
     "03:² 04:³ 08:{ 09:[ 0a:] 0b:} 0c:\\ 10:@ 12:€ 1b:~ 32:µ 56:|"},
    {"fr",
     {{{0x02, "& é \" ' ( - è _ ç à ) =", "1 2 3 4 5 6 7 8 9 0 ° +"},
       {0x10, "a z e r t y u i o p ^ $", "A Z E R T Y U I O P ¨ £"},
       {0x1e, "q s d f g h j k l m ù ²", "Q S D F G H J K L M % ²"},
       {0x2b, "* w x c v b n , ; : !", "µ W X C V B N ? . / §"},
       {0x39, "space", "space"},
       {0x56, "<", ">"}}},
     "03:~ 04:# 05:{ 06:[ 07:| 08:` 09:\\ 0a:^ 0b:@ 0c:] 0d:} 12:€"},
};

// The n-th space-separated token of `list` ("space" means a blank).
std::string token(const char* list, size_t n) {
    std::string_view s(list);
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
        start = s.find(' ', start);
        if (start == std::string_view::npos) {
            return {};
        }
        ++start;
    }
    const size_t end = s.find(' ', start);
    std::string t(s.substr(start, end == std::string_view::npos ? s.size() - start : end - start));
    return t == "space" ? std::string(" ") : t;
}

std::string layout_text(const Layout& l, uint16_t code, bool shifted) {
    for (const auto& row : l.rows) {
        if (code >= row.first) {
            const std::string t = token(shifted ? row.shifted : row.plain, code - row.first);
            if (!t.empty() && code - row.first < 16) {
                // The row's tokens must reach this code.
                return t;
            }
        }
    }
    return {};
}

std::string altgr_text(const Layout& l, uint16_t code) {
    const std::string key = fmt::format("{:02x}:", code);
    std::string_view s(l.altgr);
    const size_t p = s.find(key);
    if (p == std::string_view::npos || (p > 0 && s[p - 1] != ' ')) {
        return {};
    }
    const size_t start = p + key.size();
    const size_t end = s.find(' ', start);
    return std::string(s.substr(start, end == std::string_view::npos ? s.size() - start : end - start));
}

bool is_letter(const std::string& t) {
    if (t.size() == 1) {
        return (t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z');
    }
    static const char* const kAccented[] = {"ä", "ö", "ü", "Ä", "Ö", "Ü", "é", "è", "à", "ç", "ù"};
    for (const char* a : kAccented) {
        if (t == a) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::optional<KeyEvent> key_event_from_code(uint32_t code) {
    const uint8_t b0 = code & 0xff;
    const uint8_t b1 = (code >> 8) & 0xff;
    if (b0 == 0xe0) {
        if (b1 == 0 || (code >> 16) != 0) {
            return std::nullopt;
        }
        return KeyEvent{static_cast<uint16_t>(kExtended | (b1 & 0x7f)), (b1 & 0x80) == 0};
    }
    if (b0 == 0 || b1 != 0 || (code >> 16) != 0) {
        return std::nullopt;
    }
    return KeyEvent{static_cast<uint16_t>(b0 & 0x7f), (b0 & 0x80) == 0};
}

std::vector<KeyEvent> key_events_from_bytes(std::string_view bytes) {
    std::vector<KeyEvent> out;
    for (size_t i = 0; i < bytes.size(); ++i) {
        const auto b = static_cast<uint8_t>(bytes[i]);
        if (b == 0xe1) {
            // Pause: e1 1d 45 e1 9d c5, reported as one press.
            out.push_back({0x146, true});
            i += 5;
            continue;
        }
        if (b == 0xe0 && i + 1 < bytes.size()) {
            const auto c = static_cast<uint8_t>(bytes[++i]);
            out.push_back({static_cast<uint16_t>(kExtended | (c & 0x7f)), (c & 0x80) == 0});
            continue;
        }
        if (b != 0 && b != 0xe0) {
            out.push_back({static_cast<uint16_t>(b & 0x7f), (b & 0x80) == 0});
        }
    }
    return out;
}

Result<int> layout_index(std::string_view name) {
    for (size_t i = 0; i < std::size(kLayouts); ++i) {
        if (name == kLayouts[i].name) {
            return static_cast<int>(i);
        }
    }
    return make_error(Errc::Unsupported, 0,
                      fmt::format("unknown keyboard layout \"{}\" (known: us, uk, de, fr)", name));
}

bool is_modifier(uint16_t sc) {
    switch (sc) {
        case 0x1d: case 0x2a: case 0x36: case 0x38: case 0x3a:
        case 0x11d: case 0x138: case 0x15b: case 0x15c: return true;
        default: return false;
    }
}

std::string key_name(uint16_t sc) {
    for (const auto& n : kNamed) {
        if (n.code == sc) {
            return n.name;
        }
    }
    for (const auto& [code, text] : kKeypad) {
        if (code == sc) {
            return fmt::format("KP_{}", text);
        }
    }
    const std::string t = layout_text(kLayouts[0], sc, false);
    if (!t.empty()) {
        return t == " " ? "Space" : t;
    }
    return fmt::format("Key_0x{:02x}{}", sc & 0xff, sc & kExtended ? "_ext" : "");
}

std::string key_text(uint16_t sc, const Modifiers& m, int layout) {
    const Layout& l = kLayouts[layout >= 0 && static_cast<size_t>(layout) < std::size(kLayouts)
                                   ? static_cast<size_t>(layout) : 0];
    if (is_modifier(sc)) {
        return {};
    }
    std::string text;
    if (m.altgr || (m.ctrl && m.alt && l.altgr[0] != '\0')) {
        text = altgr_text(l, sc);
    }
    const bool altgr_used = !text.empty();
    if (text.empty()) {
        for (const auto& [code, t] : kKeypad) {
            if (code == sc) {
                text = t;
            }
        }
    }
    if (text.empty()) {
        const std::string plain = layout_text(l, sc, false);
        bool shifted = m.shift;
        if (m.caps_lock && is_letter(plain)) {
            shifted = !shifted;
        }
        text = layout_text(l, sc, shifted);
    }
    const bool chord = (m.ctrl || m.alt || m.meta) && !altgr_used;
    if (!chord && !text.empty()) {
        return text;
    }
    std::string prefix;
    if (m.ctrl && !altgr_used) {
        prefix += "Ctrl+";
    }
    if (m.alt && !altgr_used) {
        prefix += "Alt+";
    }
    if (m.meta) {
        prefix += "Meta+";
    }
    if (m.shift && (text.empty() || chord)) {
        prefix += "Shift+";
    }
    const std::string base = layout_text(l, sc, false);
    return fmt::format("<{}{}>", prefix, chord && !base.empty() ? base : key_name(sc));
}

std::string KeyTextBuilder::feed(const KeyEvent& e) {
    switch (e.scancode) {
        case 0x2a: lshift_ = e.down; break;
        case 0x36: rshift_ = e.down; break;
        case 0x1d: lctrl_ = e.down; break;
        case 0x11d: rctrl_ = e.down; break;
        case 0x38: mods_.alt = e.down; break;
        case 0x138: mods_.altgr = e.down; break;
        case 0x15b:
        case 0x15c: mods_.meta = e.down; break;
        case 0x3a:
            if (e.down) {
                mods_.caps_lock = !mods_.caps_lock;
            }
            break;
        default: break;
    }
    mods_.shift = lshift_ || rshift_;
    mods_.ctrl = lctrl_ || rctrl_;
    if (!e.down || is_modifier(e.scancode)) {
        return {};
    }
    return key_text(e.scancode, mods_, layout_);
}

}  // namespace spicetap::compliance
