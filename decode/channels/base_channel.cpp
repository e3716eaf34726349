#include "decode/channels/base_channel.h"

#include <spice/enums.h>

#include "decode/channels/message_parse.h"
#include "decode/wire/protocol_names.h"

namespace spicetap::channels::base {

namespace {

using detail::finish;
using detail::lift;

constexpr std::string_view kMigrateFlags[] = {"need_flush", "need_data_transfer"};
constexpr std::string_view kSeverity[] = {"info", "warn", "error"};
constexpr std::string_view kVisibility[] = {"low", "medium", "high"};

// Sub-message header: type u16, size u32.
constexpr size_t kSubMessageHeader = 6;

Result<WaitForChannels> parse_wait_for_channels(ByteView body) {
    ByteReader r(body);
    WaitForChannels m;
    const uint8_t count = r.u8();
    for (uint8_t i = 0; i < count && r.ok(); ++i) {
        ChannelWait w;
        w.channel_type = r.u8();
        w.channel_id = r.u8();
        w.message_serial = r.u64();
        m.waits.push_back(w);
    }
    return finish(r, std::move(m), "wait_for_channels wait_list");
}

Result<Notify> parse_notify(ByteView body) {
    ByteReader r(body);
    Notify m;
    m.time_stamp = r.u64();
    m.severity = r.u32();
    m.visibility = r.u32();
    m.what = r.u32();
    m.message_len = r.u32();
    if (!r.ok()) {
        return r.error("notify header");
    }
    if (m.message_len > r.remaining()) {
        return make_error(Errc::BadValue, r.pos() - 4,
                          "notify message_len " + std::to_string(m.message_len) + " exceeds the " +
                              std::to_string(r.remaining()) + " bytes left");
    }
    m.message = detail::text_until_nul(r.bytes(m.message_len));
    return m;
}

Result<ServerMessage> parse_list(ByteView body) {
    auto subs = parse_sub_message_list(body, 0);
    if (!subs) {
        return subs.error();
    }
    return ServerMessage{List{std::move(*subs)}};
}

Result<Disconnecting> parse_disconnecting(ByteView body) {
    ByteReader r(body);
    Disconnecting m;
    m.time_stamp = r.u64();
    m.reason = r.u32();
    return finish(r, m, "disconnecting");
}

void write_disconnecting(const Disconnecting& m, JsonWriter& w) {
    w.field("time_stamp", m.time_stamp).field("reason", m.reason);
    w.field("reason_name", wire::link_error_name(m.reason));
}

struct ServerWriter {
    JsonWriter& w;

    void operator()(const Migrate& m) {
        w.field("flags", m.flags);
        detail::write_flag_names(w, "flag_names", kMigrateFlags, m.flags);
    }

    void operator()(const MigrateData& m) { w.field("data_size", uint64_t{m.data.size()}); }

    void operator()(const SetAck& m) {
        w.field("generation", m.generation).field("window", m.window);
    }

    void operator()(const Ping& m) {
        w.field("id", m.id).field("timestamp", m.timestamp).field("padding_size", m.padding_size);
    }

    void operator()(const WaitForChannels& m) {
        w.key("waits").begin_array();
        for (const auto& c : m.waits) {
            w.begin_object()
                .field("channel_type", c.channel_type)
                .field("channel_type_name", wire::channel_type_name(c.channel_type))
                .field("channel_id", c.channel_id)
                .field("message_serial", c.message_serial)
                .end_object();
        }
        w.end_array();
    }

    void operator()(const Disconnecting& m) { write_disconnecting(m, w); }

    void operator()(const Notify& m) {
        w.field("time_stamp", m.time_stamp)
            .field("severity", m.severity)
            .field("severity_name", detail::enum_name(kSeverity, m.severity))
            .field("visibility", m.visibility)
            .field("visibility_name", detail::enum_name(kVisibility, m.visibility))
            .field("what", m.what)
            .field("message_len", m.message_len)
            .field("message", m.message);
    }

    void operator()(const List& m) {
        w.key("messages").begin_array();
        for (const auto& s : m.messages) {
            w.begin_object()
                .field("type", s.type)
                .field("offset", s.offset)
                .field("size", uint64_t{s.body.size()})
                .end_object();
        }
        w.end_array();
    }
};

struct ClientWriter {
    JsonWriter& w;

    void operator()(const AckSync& m) { w.field("generation", m.generation); }

    void operator()(const Ack&) {}

    void operator()(const Pong& m) { w.field("id", m.id).field("timestamp", m.timestamp); }

    void operator()(const MigrateFlushMark&) {}

    void operator()(const MigrateData& m) { w.field("data_size", uint64_t{m.data.size()}); }

    void operator()(const Disconnecting& m) { write_disconnecting(m, w); }
};

}  // namespace

Result<std::vector<SubMessage>> parse_sub_message_list(ByteView body, uint32_t list_offset) {
    ByteReader r(body);
    if (!r.seek(list_offset)) {
        return make_error(
            Errc::BadValue, list_offset,
            "sub-message list offset outside the " + std::to_string(body.size()) + "-byte body");
    }
    const uint16_t count = r.u16();
    std::vector<SubMessage> out;
    for (uint16_t i = 0; i < count && r.ok(); ++i) {
        const size_t at = r.pos();
        const uint32_t offset = r.u32();
        if (!r.ok()) {
            break;
        }
        if (offset > body.size() || body.size() - offset < kSubMessageHeader) {
            return make_error(Errc::BadValue, at,
                              "sub-message " + std::to_string(i) + " offset " +
                                  std::to_string(offset) + " outside the " +
                                  std::to_string(body.size()) + "-byte body");
        }
        ByteReader h(body.subspan(offset), offset);
        SubMessage sub;
        sub.type = h.u16();
        const uint32_t size = h.u32();
        if (size > h.remaining()) {
            return make_error(Errc::BadValue, offset + 2,
                              "sub-message " + std::to_string(i) + " size " + std::to_string(size) +
                                  " exceeds the " + std::to_string(h.remaining()) + " bytes left");
        }
        sub.offset = offset;
        sub.body = h.bytes(size);
        out.push_back(sub);
    }
    if (!r.ok()) {
        return r.error("sub-message list");
    }
    return out;
}

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    ByteReader r(body);
    switch (type) {
        case SPICE_MSG_MIGRATE: {
            Migrate m;
            m.flags = r.u32();
            return lift<ServerMessage>(finish(r, m, "migrate"));
        }
        case SPICE_MSG_MIGRATE_DATA:
            return ServerMessage{MigrateData{body}};
        case SPICE_MSG_SET_ACK: {
            SetAck m;
            m.generation = r.u32();
            m.window = r.u32();
            return lift<ServerMessage>(finish(r, m, "set_ack"));
        }
        case SPICE_MSG_PING: {
            Ping m;
            m.id = r.u32();
            m.timestamp = r.u64();
            m.padding_size = static_cast<uint32_t>(r.remaining());
            return lift<ServerMessage>(finish(r, m, "ping"));
        }
        case SPICE_MSG_WAIT_FOR_CHANNELS:
            return lift<ServerMessage>(parse_wait_for_channels(body));
        case SPICE_MSG_DISCONNECTING:
            return lift<ServerMessage>(parse_disconnecting(body));
        case SPICE_MSG_NOTIFY:
            return lift<ServerMessage>(parse_notify(body));
        case SPICE_MSG_LIST:
            return parse_list(body);
        default:
            return detail::unknown_type("base", type);
    }
}

Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    ByteReader r(body);
    switch (type) {
        case SPICE_MSGC_ACK_SYNC: {
            AckSync m;
            m.generation = r.u32();
            return lift<ClientMessage>(finish(r, m, "ack_sync"));
        }
        case SPICE_MSGC_ACK:
            return ClientMessage{Ack{}};
        case SPICE_MSGC_PONG: {
            Pong m;
            m.id = r.u32();
            m.timestamp = r.u64();
            return lift<ClientMessage>(finish(r, m, "pong"));
        }
        case SPICE_MSGC_MIGRATE_FLUSH_MARK:
            return ClientMessage{MigrateFlushMark{}};
        case SPICE_MSGC_MIGRATE_DATA:
            return ClientMessage{MigrateData{body}};
        case SPICE_MSGC_DISCONNECTING:
            return lift<ClientMessage>(parse_disconnecting(body));
        default:
            return detail::unknown_type("base", type);
    }
}

void write_json(const ServerMessage& msg, JsonWriter& w) {
    std::visit(ServerWriter{w}, msg);
}

void write_json(const ClientMessage& msg, JsonWriter& w) {
    std::visit(ClientWriter{w}, msg);
}

}  // namespace spicetap::channels::base
