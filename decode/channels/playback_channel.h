// Playback channel (type 5, server -> client only): audio format, mm-time stamped packets,
// volume, mute and latency. The record channel reuses Volume, Mute and the mode names.
#pragma once

#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/result.h"

namespace spicetap::channels::playback {

// SpiceAudioDataMode: "invalid", "raw", "celt_0_5_1", "opus" or "unknown".
std::string_view audio_mode_name(uint16_t mode);
// SpiceAudioFmt: "invalid", "s16" or "unknown".
std::string_view audio_format_name(uint16_t format);

struct Data {
    uint32_t time = 0;  // mm_time
    ByteView data;      // one encoded packet (PCM, Opus, ...) in the stream's mode
};

struct Mode {
    uint32_t time = 0;
    uint16_t mode = 0;
    ByteView data;
};

struct Start {
    uint32_t channels = 0;
    uint16_t format = 0;
    uint32_t frequency = 0;
    uint32_t time = 0;
};

struct Stop {};

struct Volume {
    std::vector<uint16_t> volume;  // one level per channel
};

struct Mute {
    uint8_t mute = 0;
};

struct Latency {
    uint32_t latency_ms = 0;
};

using ServerMessage = std::variant<Data, Mode, Start, Stop, Volume, Mute, Latency>;

struct NoClientMessage {};

using ClientMessage = std::variant<NoClientMessage>;

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps);
// Always Errc::Unsupported (no playback client messages exist).
Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps);

// Shared with the record channel.
Result<Volume> parse_volume(ByteView body);
Result<Mute> parse_mute(ByteView body);
void write_fields(const Volume& m, JsonWriter& w);
void write_fields(const Mute& m, JsonWriter& w);
void write_fields(const Mode& m, JsonWriter& w);

void write_json(const ServerMessage& msg, JsonWriter& w);
void write_json(const ClientMessage& msg, JsonWriter& w);

}  // namespace spicetap::channels::playback
