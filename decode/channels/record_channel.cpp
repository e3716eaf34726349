#include "decode/channels/record_channel.h"

#include <spice/enums.h>

#include "decode/channels/message_parse.h"

namespace spicetap::channels::record {

namespace {

using detail::finish;
using detail::lift;

struct Writer {
    JsonWriter& w;

    void operator()(const Start& m) {
        w.field("channels", m.channels)
            .field("format", m.format)
            .field("format_name", playback::audio_format_name(m.format))
            .field("frequency", m.frequency);
    }

    void operator()(const Stop&) {}

    void operator()(const Volume& m) { playback::write_fields(m, w); }

    void operator()(const Mute& m) { playback::write_fields(m, w); }

    void operator()(const Data& m) {
        w.field("time", m.time).field("data_size", uint64_t{m.data.size()});
    }

    void operator()(const Mode& m) { playback::write_fields(m, w); }

    void operator()(const StartMark& m) { w.field("time", m.time); }
};

}  // namespace

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    ByteReader r(body);
    switch (type) {
        case SPICE_MSG_RECORD_START: {
            Start m;
            m.channels = r.u32();
            m.format = r.u16();
            m.frequency = r.u32();
            return lift<ServerMessage>(finish(r, m, "record start"));
        }
        case SPICE_MSG_RECORD_STOP:
            return ServerMessage{Stop{}};
        case SPICE_MSG_RECORD_VOLUME:
            return lift<ServerMessage>(playback::parse_volume(body));
        case SPICE_MSG_RECORD_MUTE:
            return lift<ServerMessage>(playback::parse_mute(body));
        default:
            return detail::unknown_type("record", type);
    }
}

Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    ByteReader r(body);
    switch (type) {
        case SPICE_MSGC_RECORD_DATA: {
            Data m;
            m.time = r.u32();
            m.data = r.rest();
            return lift<ClientMessage>(finish(r, m, "record data"));
        }
        case SPICE_MSGC_RECORD_MODE: {
            Mode m;
            m.time = r.u32();
            m.mode = r.u16();
            m.data = r.rest();
            return lift<ClientMessage>(finish(r, m, "record mode"));
        }
        case SPICE_MSGC_RECORD_START_MARK: {
            StartMark m;
            m.time = r.u32();
            return lift<ClientMessage>(finish(r, m, "record start_mark"));
        }
        default:
            return detail::unknown_type("record", type);
    }
}

void write_json(const ServerMessage& msg, JsonWriter& w) {
    std::visit(Writer{w}, msg);
}

void write_json(const ClientMessage& msg, JsonWriter& w) {
    std::visit(Writer{w}, msg);
}

}  // namespace spicetap::channels::record
