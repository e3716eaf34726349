// Port channel (type 10; the WebDAV channel 11 is a port too): a named guest character device.
// DATA/COMPRESSED_DATA as in spicevmc, plus the port's INIT (name, opened) and EVENT messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "decode/channels/spicevmc_channel.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/result.h"

namespace spicetap::channels::port {

// SPICE_PORT_EVENT_*: "opened", "closed", "break" or "unknown".
std::string_view event_name(uint8_t event);

using Data = spicevmc::Data;
using CompressedData = spicevmc::CompressedData;

struct Init {
    uint32_t name_size = 0;
    std::string name;  // e.g. "org.spice-space.webdav.0", "org.qemu.monitor.qmp.0"
    uint8_t opened = 0;
};

struct Event {
    uint8_t event = 0;
};

using ServerMessage = std::variant<Data, CompressedData, Init, Event>;
using ClientMessage = std::variant<Data, CompressedData, Event>;

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps);
Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps);

void write_json(const ServerMessage& msg, JsonWriter& w);
void write_json(const ClientMessage& msg, JsonWriter& w);

}  // namespace spicetap::channels::port
