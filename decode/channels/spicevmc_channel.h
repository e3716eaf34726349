// The spicevmc family (usbredir 9, port 10, webdav 11): DATA and COMPRESSED_DATA carry a byte
// stream between the client and a guest character device. This file parses the two messages;
// the payload protocols live in usbredir_packets.h, webdav_mux.h (and port_channel.h for the
// port's own messages).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/result.h"

namespace spicetap::channels::spicevmc {

inline constexpr uint8_t kCompressionNone = 0;
inline constexpr uint8_t kCompressionLz4 = 1;

// "none", "lz4" or "unknown".
std::string_view compression_name(uint8_t type);

struct Data {
    ByteView data;
};

struct CompressedData {
    uint8_t type = 0;
    std::optional<uint32_t> uncompressed_size;  // present unless type is NONE
    ByteView data;
};

using ServerMessage = std::variant<Data, CompressedData>;
using ClientMessage = std::variant<Data, CompressedData>;

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps);
Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps);

// Parsers for the two shared messages, for channels built on spicevmc.
Result<Data> parse_data(ByteView body);
Result<CompressedData> parse_compressed_data(ByteView body);

// The stream bytes a COMPRESSED_DATA message stands for (one independent LZ4 block).
// `max_size` bounds the claimed uncompressed size (Errc::LimitExceeded above it).
Result<std::vector<uint8_t>> decompress(const CompressedData& msg, uint32_t max_size = 64u << 20);

void write_fields(const Data& m, JsonWriter& w);
void write_fields(const CompressedData& m, JsonWriter& w);

void write_json(const ServerMessage& msg, JsonWriter& w);

}  // namespace spicetap::channels::spicevmc
