// Record channel (type 6): the server starts/stops capture; the client sends mm-time stamped
// audio packets.
#pragma once

#include <cstdint>
#include <variant>

#include "decode/channels/playback_channel.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/result.h"

namespace spicetap::channels::record {

// --- server -> client ---------------------------------------------------------------------

struct Start {
    uint32_t channels = 0;
    uint16_t format = 0;
    uint32_t frequency = 0;
};

struct Stop {};

using Volume = playback::Volume;
using Mute = playback::Mute;

using ServerMessage = std::variant<Start, Stop, Volume, Mute>;

// --- client -> server ---------------------------------------------------------------------

struct Data {
    uint32_t time = 0;
    ByteView data;
};

using Mode = playback::Mode;

struct StartMark {
    uint32_t time = 0;
};

using ClientMessage = std::variant<Data, Mode, StartMark>;

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps);
Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps);

void write_json(const ServerMessage& msg, JsonWriter& w);
void write_json(const ClientMessage& msg, JsonWriter& w);

}  // namespace spicetap::channels::record
