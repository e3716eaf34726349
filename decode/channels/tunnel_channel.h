// Tunnel channel (type 7): obsolete. It was removed from spice.proto in 2019 and no released
// spice-gtk implemented it; layouts follow the last spice.proto that defined it. Its message ids
// are not in today's spice-protocol headers, so this file also names them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/protocol_names.h"
#include "decode/wire/result.h"

namespace spicetap::channels::tunnel {

// "init", "socket_open", ... (ids 101..); empty for ids the old protocol did not define.
std::string_view message_name(wire::Direction dir, uint16_t type);

// TunnelIpInfo: type u16 (0 invalid, 1 IPv4), then 4 address bytes for IPv4.
struct IpInfo {
    uint16_t type = 0;
    std::optional<std::array<uint8_t, 4>> ipv4;
};

// --- server -> client ---------------------------------------------------------------------

struct Init {
    uint16_t max_num_of_sockets = 0;
    uint32_t max_socket_data_size = 0;
};

struct ServiceIpMap {
    uint32_t service_id = 0;
    IpInfo virtual_ip;
};

struct SocketOpen {
    uint16_t connection_id = 0;
    uint32_t service_id = 0;
    uint32_t tokens = 0;
};

struct SocketFin {
    uint16_t connection_id = 0;
};

struct SocketClose {
    uint16_t connection_id = 0;
};

struct SocketData {
    uint16_t connection_id = 0;
    ByteView data;
};

struct SocketClosedAck {
    uint16_t connection_id = 0;
};

struct SocketToken {
    uint16_t connection_id = 0;
    uint32_t num_tokens = 0;
};

using ServerMessage = std::variant<Init, ServiceIpMap, SocketOpen, SocketFin, SocketClose,
                                   SocketData, SocketClosedAck, SocketToken>;

// --- client -> server ---------------------------------------------------------------------

struct ServiceAdd {
    uint16_t type = 0;  // 0 invalid, 1 generic, 2 ipp
    uint32_t id = 0;
    uint32_t group = 0;
    uint32_t port = 0;
    std::string name;
    std::string description;
    std::optional<IpInfo> ip;  // IPP services only
};

struct ServiceRemove {
    uint32_t id = 0;
};

struct SocketOpenAck {
    uint16_t connection_id = 0;
    uint32_t tokens = 0;
};

struct SocketOpenNack {
    uint16_t connection_id = 0;
};

struct SocketClosed {
    uint16_t connection_id = 0;
};

using ClientMessage =
    std::variant<ServiceAdd, ServiceRemove, SocketOpenAck, SocketOpenNack, SocketFin, SocketClosed,
                 SocketClosedAck, SocketData, SocketToken>;

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps);
Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps);

void write_json(const ServerMessage& msg, JsonWriter& w);
void write_json(const ClientMessage& msg, JsonWriter& w);

}  // namespace spicetap::channels::tunnel
