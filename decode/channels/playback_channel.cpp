#include "decode/channels/playback_channel.h"

#include <spice/enums.h>

#include "decode/channels/message_parse.h"

namespace spicetap::channels::playback {

namespace {

using detail::finish;
using detail::lift;

constexpr std::string_view kModes[] = {"invalid", "raw", "celt_0_5_1", "opus"};
constexpr std::string_view kFormats[] = {"invalid", "s16"};

struct Writer {
    JsonWriter& w;

    void operator()(const Data& m) {
        w.field("time", m.time).field("data_size", uint64_t{m.data.size()});
    }

    void operator()(const Mode& m) { write_fields(m, w); }

    void operator()(const Start& m) {
        w.field("channels", m.channels)
            .field("format", m.format)
            .field("format_name", audio_format_name(m.format))
            .field("frequency", m.frequency)
            .field("time", m.time);
    }

    void operator()(const Stop&) {}

    void operator()(const Volume& m) { write_fields(m, w); }

    void operator()(const Mute& m) { write_fields(m, w); }

    void operator()(const Latency& m) { w.field("latency_ms", m.latency_ms); }

    void operator()(const NoClientMessage&) {}
};

}  // namespace

std::string_view audio_mode_name(uint16_t mode) {
    return detail::enum_name(kModes, mode);
}

std::string_view audio_format_name(uint16_t format) {
    return detail::enum_name(kFormats, format);
}

Result<Volume> parse_volume(ByteView body) {
    ByteReader r(body);
    const uint8_t n = r.u8();
    if (!r.ok()) {
        return r.error("volume");
    }
    if (size_t{n} * 2 > r.remaining()) {
        return make_error(Errc::BadValue, 0,
                          "volume nchannels " + std::to_string(n) + " needs " +
                              std::to_string(n * 2) + " bytes, " + std::to_string(r.remaining()) +
                              " left");
    }
    Volume m;
    for (uint8_t i = 0; i < n; ++i) {
        m.volume.push_back(r.u16());
    }
    return m;
}

Result<Mute> parse_mute(ByteView body) {
    ByteReader r(body);
    Mute m;
    m.mute = r.u8();
    return finish(r, m, "mute");
}

void write_fields(const Volume& m, JsonWriter& w) {
    w.field("nchannels", uint64_t{m.volume.size()}).key("volume").begin_array();
    for (uint16_t v : m.volume) {
        w.value(v);
    }
    w.end_array();
}

void write_fields(const Mute& m, JsonWriter& w) {
    w.field("mute", m.mute);
}

void write_fields(const Mode& m, JsonWriter& w) {
    w.field("time", m.time)
        .field("mode", m.mode)
        .field("mode_name", audio_mode_name(m.mode))
        .field("data_size", uint64_t{m.data.size()});
}

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    ByteReader r(body);
    switch (type) {
        case SPICE_MSG_PLAYBACK_DATA: {
            Data m;
            m.time = r.u32();
            m.data = r.rest();
            return lift<ServerMessage>(finish(r, m, "playback data"));
        }
        case SPICE_MSG_PLAYBACK_MODE: {
            Mode m;
            m.time = r.u32();
            m.mode = r.u16();
            m.data = r.rest();
            return lift<ServerMessage>(finish(r, m, "playback mode"));
        }
        case SPICE_MSG_PLAYBACK_START: {
            Start m;
            m.channels = r.u32();
            m.format = r.u16();
            m.frequency = r.u32();
            m.time = r.u32();
            return lift<ServerMessage>(finish(r, m, "playback start"));
        }
        case SPICE_MSG_PLAYBACK_STOP:
            return ServerMessage{Stop{}};
        case SPICE_MSG_PLAYBACK_VOLUME:
            return lift<ServerMessage>(parse_volume(body));
        case SPICE_MSG_PLAYBACK_MUTE:
            return lift<ServerMessage>(parse_mute(body));
        case SPICE_MSG_PLAYBACK_LATENCY: {
            Latency m;
            m.latency_ms = r.u32();
            return lift<ServerMessage>(finish(r, m, "playback latency"));
        }
        default:
            return detail::unknown_type("playback", type);
    }
}

Result<ClientMessage> parse_client(uint16_t type, ByteView, const wire::ChannelCaps&) {
    return detail::unknown_type("playback", type);
}

void write_json(const ServerMessage& msg, JsonWriter& w) {
    std::visit(Writer{w}, msg);
}

void write_json(const ClientMessage& msg, JsonWriter& w) {
    std::visit(Writer{w}, msg);
}

}  // namespace spicetap::channels::playback
