// Main channel (type 1): session bring-up, mouse mode, migration and the agent transport.
// Agent data is returned as the raw chunk; feed it to agent::AgentSession to reassemble and
// decode VDAgent messages (see decode/agent/agent_stream.h).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/result.h"

namespace spicetap::channels::main {

// Where a migrating client should connect (SpiceMigrationDstInfo).
struct DstInfo {
    uint16_t port = 0;
    uint16_t sport = 0;  // TLS port
    uint32_t host_size = 0;
    std::string host;
    uint32_t cert_subject_size = 0;
    std::optional<std::string> cert_subject;  // absent when the pointer is NULL
};

// --- server -> client ---------------------------------------------------------------------

struct MigrateBegin {
    DstInfo dst_info;
};

struct MigrateCancel {};

struct Init {
    uint32_t session_id = 0;
    uint32_t display_channels_hint = 0;
    uint32_t supported_mouse_modes = 0;
    uint32_t current_mouse_mode = 0;
    uint32_t agent_connected = 0;
    uint32_t agent_tokens = 0;
    uint32_t multi_media_time = 0;
    uint32_t ram_hint = 0;
};

struct ChannelId {
    uint8_t type = 0;
    uint8_t id = 0;
};

struct ChannelsList {
    std::vector<ChannelId> channels;
};

struct MouseMode {
    uint16_t supported_modes = 0;  // flags: 1 server, 2 client
    uint16_t current_mode = 0;
};

struct MultiMediaTime {
    uint32_t time = 0;
};

struct AgentConnected {};

struct AgentDisconnected {
    uint32_t error_code = 0;  // SpiceLinkErr
};

// One chunk of the VDAgent byte stream (both directions).
struct AgentData {
    ByteView data;
};

struct AgentToken {
    uint32_t num_tokens = 0;
};

struct MigrateSwitchHost {
    DstInfo dst_info;  // the same fields as DstInfo, but the host pointer may be NULL
};

struct MigrateEnd {};

struct Name {
    uint32_t name_len = 0;
    std::string name;
};

struct Uuid {
    std::array<uint8_t, 16> uuid{};
};

struct AgentConnectedTokens {
    uint32_t num_tokens = 0;
};

struct MigrateBeginSeamless {
    DstInfo dst_info;
    uint32_t src_mig_version = 0;
};

struct MigrateDstSeamlessAck {};

struct MigrateDstSeamlessNack {};

using ServerMessage =
    std::variant<MigrateBegin, MigrateCancel, Init, ChannelsList, MouseMode, MultiMediaTime,
                 AgentConnected, AgentDisconnected, AgentData, AgentToken, MigrateSwitchHost,
                 MigrateEnd, Name, Uuid, AgentConnectedTokens, MigrateBeginSeamless,
                 MigrateDstSeamlessAck, MigrateDstSeamlessNack>;

// --- client -> server ---------------------------------------------------------------------

struct ClientInfo {
    uint64_t cache_size = 0;
};

struct MigrateConnected {};

struct MigrateConnectError {};

struct AttachChannels {};

struct MouseModeRequest {
    uint16_t mode = 0;
};

struct AgentStart {
    uint32_t num_tokens = 0;
};

struct MigrateDstDoSeamless {
    uint32_t src_version = 0;
};

struct MigrateConnectedSeamless {};

// Format unspecified by spice-protocol: kept as bytes, printed as text when it is text.
struct QualityIndicator {
    ByteView data;
};

using ClientMessage =
    std::variant<ClientInfo, MigrateConnected, MigrateConnectError, AttachChannels,
                 MouseModeRequest, AgentStart, AgentData, AgentToken, MigrateEnd,
                 MigrateDstDoSeamless, MigrateConnectedSeamless, QualityIndicator>;

// Ids >= 101 only; base ids belong to channels::base.
Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps);
Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps);

void write_json(const ServerMessage& msg, JsonWriter& w);
void write_json(const ClientMessage& msg, JsonWriter& w);

}  // namespace spicetap::channels::main
