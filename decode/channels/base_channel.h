// Base messages (ids 1..99) that every SPICE channel carries: flow control, liveness,
// migration, notifications and sub-message lists. Layouts follow spice.proto's BaseChannel.
// Spans in the messages point into the body given to the parser; keep the body alive.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/result.h"

namespace spicetap::channels::base {

// Message ids at or above this belong to the channel, below it to the base channel.
inline constexpr uint16_t kFirstChannelMessage = 100;

// --- server -> client ---------------------------------------------------------------------

struct Migrate {
    uint32_t flags = 0;  // 1 NEED_FLUSH, 2 NEED_DATA_TRANSFER
};

// The server's opaque migration blob (also forwarded by the client to the destination).
struct MigrateData {
    ByteView data;
};

struct SetAck {
    uint32_t generation = 0;
    uint32_t window = 0;
};

// The padding only measures bandwidth; its size is all that matters.
struct Ping {
    uint32_t id = 0;
    uint64_t timestamp = 0;
    uint32_t padding_size = 0;
};

struct ChannelWait {
    uint8_t channel_type = 0;
    uint8_t channel_id = 0;
    uint64_t message_serial = 0;
};

struct WaitForChannels {
    std::vector<ChannelWait> waits;
};

struct Disconnecting {
    uint64_t time_stamp = 0;
    uint32_t reason = 0;  // SpiceLinkErr
};

struct Notify {
    uint64_t time_stamp = 0;
    uint32_t severity = 0;    // 0 info, 1 warn, 2 error
    uint32_t visibility = 0;  // 0 low, 1 medium, 2 high
    uint32_t what = 0;
    std::string message;  // up to the first NUL
    uint32_t message_len = 0;
};

// One entry of a SpiceSubMessageList: the caller dispatches `body` to the owning channel's
// parser (base ids to base, the rest to the channel).
struct SubMessage {
    uint16_t type = 0;
    uint32_t offset = 0;  // of the SpiceSubMessage header inside the list's body
    ByteView body;
};

struct List {
    std::vector<SubMessage> messages;
};

using ServerMessage =
    std::variant<Migrate, MigrateData, SetAck, Ping, WaitForChannels, Disconnecting, Notify, List>;

// --- client -> server ---------------------------------------------------------------------

struct AckSync {
    uint32_t generation = 0;
};

struct Ack {};

struct Pong {
    uint32_t id = 0;
    uint64_t timestamp = 0;
};

struct MigrateFlushMark {};

using ClientMessage =
    std::variant<AckSync, Ack, Pong, MigrateFlushMark, MigrateData, Disconnecting>;

// Parsers for ids < 100. Any other id -> Errc::Unsupported.
Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps);
Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps);

// A SpiceSubMessageList at `list_offset` of `body`: the body of SPICE_MSG_LIST (offset 0) or
// the `sub_list` field of a full data header. Offsets are relative to `body`.
Result<std::vector<SubMessage>> parse_sub_message_list(ByteView body, uint32_t list_offset);

// Fields as key/value pairs into an already open JSON object.
void write_json(const ServerMessage& msg, JsonWriter& w);
void write_json(const ClientMessage& msg, JsonWriter& w);

}  // namespace spicetap::channels::base
