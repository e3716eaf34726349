// Names of SPICE channels and messages, taken from the spice-protocol headers' identifiers
// (never retyped): SPICE_MSG_DISPLAY_DRAW_COPY -> channel "display", message "draw_copy".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace spicetap::wire {

enum class Direction : uint8_t { ClientToServer = 0, ServerToClient = 1 };

inline const char* direction_name(Direction d) {
    return d == Direction::ClientToServer ? "c2s" : "s2c";
}

// Lower-case channel type name as in spice-protocol ("main", "display", "usbredir", ...);
// "unknown" for a type spice-protocol does not define.
std::string_view channel_type_name(uint8_t channel_type);

// The channel type for a name accepted by channel_type_name (case-insensitive).
std::optional<uint8_t> channel_type_from_name(std::string_view name);

// Lower-case message name ("draw_copy", "set_ack", "agent_data"); empty when the type is
// not defined for that channel and direction. Base messages (1..99) are valid on every channel.
std::string_view message_name(uint8_t channel_type, Direction dir, uint16_t type);

// Channel capability name ("lz4_compression"), or empty.
std::string_view channel_cap_name(uint8_t channel_type, unsigned bit);

// Common capability name ("mini_header"), or empty.
std::string_view common_cap_name(unsigned bit);

// SpiceLinkErr value name ("permission_denied"), or empty.
std::string_view link_error_name(uint32_t error);

}  // namespace spicetap::wire
