// VDAgent messages (spice/vd_agent.h): the guest-agent protocol carried inside main-channel
// AGENT_DATA. This file decodes one complete message; agent_stream.h reassembles them.
// Payload bytes are owned (copied out of the reassembly buffer).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "decode/wire/byte_reader.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/result.h"

namespace spicetap::agent {

inline constexpr uint32_t kProtocol = 1;          // VD_AGENT_PROTOCOL
inline constexpr size_t kMessageHeaderSize = 20;  // VDAgentMessage without data
inline constexpr size_t kChunkHeaderSize = 8;     // VDIChunkHeader
inline constexpr size_t kMaxChunkData = 2048;     // VD_AGENT_MAX_DATA_SIZE

// VD_AGENT_* message type name ("clipboard_grab") or "unknown".
std::string_view message_type_name(uint32_t type);
// VD_AGENT_CLIPBOARD_* type name ("utf8_text", "image_png", "file_list") or "unknown".
std::string_view clipboard_type_name(uint32_t type);
// VD_AGENT_CLIPBOARD_SELECTION_* name ("clipboard", "primary", "secondary") or "unknown".
std::string_view selection_name(uint8_t selection);
// VD_AGENT_FILE_XFER_STATUS_* name ("can_send_data", "success", ...) or "unknown".
std::string_view file_xfer_status_name(uint32_t status);
// VD_AGENT_CAP_* name ("clipboard_selection") or empty.
std::string_view capability_name(unsigned bit);

struct MessageHeader {
    uint32_t protocol = 0;
    uint32_t type = 0;
    uint64_t opaque = 0;
    uint32_t size = 0;
};

// What parsing needs from capability negotiation: the 4-byte selection prefix and the grab
// serial are present only when both sides announced the capability.
struct ParseCaps {
    bool clipboard_selection = false;
    bool clipboard_grab_serial = false;
};

struct MouseState {
    uint32_t x = 0;
    uint32_t y = 0;
    uint32_t buttons = 0;  // agent masks: L=2, M=4, R=8, U=16, D=32, S=64, E=128
    uint8_t display_id = 0;
};

struct MonitorConfig {
    uint32_t height = 0;
    uint32_t width = 0;
    uint32_t depth = 0;
    int32_t x = 0;
    int32_t y = 0;
};

struct MonitorPhysicalSize {
    uint16_t height_mm = 0;
    uint16_t width_mm = 0;
};

struct MonitorsConfig {
    uint32_t flags = 0;  // 1 use_pos, 2 physical_size
    std::vector<MonitorConfig> monitors;
    std::vector<MonitorPhysicalSize> physical_sizes;  // with the physical_size flag
};

struct Reply {
    uint32_t type = 0;   // the message type being answered
    uint32_t error = 0;  // 1 success, 2 error
};

struct Clipboard {
    std::optional<uint8_t> selection;
    uint32_t type = 0;
    std::vector<uint8_t> data;
};

struct DisplayConfig {
    uint32_t flags = 0;
    uint32_t depth = 0;
};

struct AnnounceCapabilities {
    uint32_t request = 0;
    std::vector<uint32_t> caps;
};

struct ClipboardGrab {
    std::optional<uint8_t> selection;
    std::optional<uint32_t> serial;
    std::vector<uint32_t> types;
};

struct ClipboardRequest {
    std::optional<uint8_t> selection;
    uint32_t type = 0;
};

struct ClipboardRelease {
    std::optional<uint8_t> selection;
};

// The GLib key file "[vdagent-file-xfer]\nname=...\nsize=...\n" after the id.
struct FileXferStart {
    uint32_t id = 0;
    std::string text;
    std::optional<std::string> name;
    std::optional<uint64_t> size;
};

struct FileXferStatus {
    uint32_t id = 0;
    uint32_t result = 0;
    // Detail (FILE_XFER_DETAILED_ERRORS): error -> {error_type, error_code};
    // not_enough_space -> disk_free_space.
    std::optional<uint8_t> error_type;  // 0 = GLib GIOError
    std::optional<uint32_t> error_code;
    std::optional<uint64_t> disk_free_space;
    uint32_t detail_size = 0;
};

struct FileXferData {
    uint32_t id = 0;
    uint64_t size = 0;
    std::vector<uint8_t> data;
};

struct ClientDisconnected {};

struct MaxClipboard {
    int32_t max = 0;
};

struct AudioVolumeSync {
    uint8_t is_playback = 0;
    uint8_t mute = 0;
    std::vector<uint16_t> volume;
};

struct DeviceDisplayInfo {
    uint32_t channel_id = 0;
    uint32_t monitor_id = 0;
    uint32_t device_display_id = 0;
    uint32_t device_address_len = 0;
    std::string device_address;
};

struct GraphicsDeviceInfo {
    std::vector<DeviceDisplayInfo> displays;
};

using Body = std::variant<MouseState, MonitorsConfig, Reply, Clipboard, DisplayConfig,
                          AnnounceCapabilities, ClipboardGrab, ClipboardRequest, ClipboardRelease,
                          FileXferStart, FileXferStatus, FileXferData, ClientDisconnected,
                          MaxClipboard, AudioVolumeSync, GraphicsDeviceInfo>;

// A reassembled agent message. A body that does not decode keeps its header and the error.
struct AgentMessage {
    MessageHeader header;
    uint64_t stream_offset = 0;  // of the header in its direction's agent stream
    Result<Body> body = DecodeError{};
};

// Decodes the payload (exactly header.size bytes) of a message of `type`. Error offsets are
// relative to the payload.
Result<Body> parse_body(uint32_t type, ByteView payload, const ParseCaps& caps);

// Writes agent_type, agent_type_name, protocol, opaque, size and the body's fields (or
// "error") into an already open object. Clipboard text up to 64 KiB is included as "text";
// binary payloads appear as sizes only.
void write_json(const AgentMessage& msg, JsonWriter& w);
void write_body_json(const Body& body, JsonWriter& w);

}  // namespace spicetap::agent
