// `spicetap inputs`: what the user did with keyboard and mouse, for an auditor: every key press
// with the text it typed (PC AT set-1 scancodes -> keys through a keyboard layout), mouse clicks
// with the position last reported, and the reconstructed typed text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "capture/log/session_log.h"

namespace spicetap::compliance {

struct InputEvent {
    int64_t ts_us = 0;
    enum class Kind { Key, Click } kind = Kind::Key;
    std::string key;     // key name ("a", "Enter", "LeftShift"); for clicks the button
    std::string text;    // what the key typed ("A", "<Ctrl+c>"); empty for releases/modifiers
    bool down = true;
    int64_t x = -1, y = -1;  // clicks: last position reported (server or client mouse mode)
    int display = 0;
};

struct InputsOptions {
    std::string layout = "us";
    bool redact_text = false;  // keep timing and key kinds, hide what was typed
    bool include_releases = false;
};

struct InputsReport {
    std::vector<InputEvent> events;
    std::string typed_text;  // printable text with <Special> names
    uint64_t key_presses = 0;
    uint64_t clicks = 0;
    uint64_t undecodable = 0;
};

Result<InputsReport> collect_inputs(const log::SessionLogReader& reader,
                                    const InputsOptions& options);

std::string format_inputs_text(const InputsReport& r, int64_t start_us);
std::string format_inputs_json(const InputsReport& r, int64_t start_us);

}  // namespace spicetap::compliance
