// Smartcard channel (type 8): each DATA message (both directions) carries one VSCard message,
// a VSCMsgHeader (little-endian on the SPICE wire) plus `length` payload bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/result.h"

namespace spicetap::channels::smartcard {

// SpiceVscMessageType: "init", "error", "reader_add", "reader_remove", "atr", "card_remove",
// "apdu", "flush", "flush_complete" or "unknown".
std::string_view vsc_type_name(uint32_t type);

struct VscHeader {
    uint32_t type = 0;
    uint32_t reader_id = 0;
    uint32_t length = 0;
};

// One VSCard message with the fields its type defines.
struct Data {
    VscHeader header;
    ByteView payload;                        // `length` bytes
    std::optional<std::string> reader_name;  // reader_add
    std::optional<uint32_t> error_code;      // error
    uint32_t trailing_size = 0;              // bytes after the payload (none in practice)
};

using ServerMessage = std::variant<Data>;
using ClientMessage = std::variant<Data>;

// The VSC message at the start of `bytes` (a DATA body).
Result<Data> parse_vsc(ByteView bytes);

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps);
Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps);

void write_json(const Data& msg, JsonWriter& w);
// ServerMessage and ClientMessage are the same type; one overload serves both directions.
void write_json(const ServerMessage& msg, JsonWriter& w);

}  // namespace spicetap::channels::smartcard
