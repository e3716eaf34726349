#include "decode/channels/main_channel.h"

#include <spice/enums.h>

#include <algorithm>

#include "decode/channels/message_parse.h"
#include "decode/wire/protocol_names.h"

namespace spicetap::channels::main {

namespace {

using detail::finish;
using detail::lift;

constexpr std::string_view kMouseModes[] = {"server", "client"};
// Quality-indicator bytes are shown as text only up to this size.
constexpr size_t kMaxQualityText = 1024;

// DstInfo fields read at the reader's position; pointers resolve against the whole body.
Result<DstInfo> parse_dst_info(ByteReader& r, ByteView body, bool host_required,
                               std::string_view what) {
    DstInfo d;
    d.port = r.u16();
    d.sport = r.u16();
    d.host_size = r.u32();
    const uint32_t host_ptr = r.u32();
    d.cert_subject_size = r.u32();
    const uint32_t cert_ptr = r.u32();
    if (!r.ok()) {
        return r.error(std::string(what));
    }
    auto host = detail::pointed_bytes(body, host_ptr, d.host_size, std::string(what) + " host");
    if (!host) {
        return host.error();
    }
    if (!*host && host_required) {
        return make_error(Errc::BadValue, 4, std::string(what) + ": host pointer is NULL");
    }
    if (*host) {
        d.host = detail::text_until_nul(**host);
    }
    auto cert = detail::pointed_bytes(body, cert_ptr, d.cert_subject_size,
                                      std::string(what) + " cert_subject");
    if (!cert) {
        return cert.error();
    }
    if (*cert) {
        d.cert_subject = detail::text_until_nul(**cert);
    }
    return d;
}

Result<ChannelsList> parse_channels_list(ByteView body) {
    ByteReader r(body);
    const uint32_t count = r.u32();
    if (!r.ok()) {
        return r.error("channels_list");
    }
    if (count > r.remaining() / 2) {
        return make_error(Errc::BadValue, 0,
                          "channels_list num_of_channels " + std::to_string(count) +
                              " needs more than the " + std::to_string(r.remaining()) +
                              " bytes left");
    }
    ChannelsList m;
    for (uint32_t i = 0; i < count; ++i) {
        ChannelId c;
        c.type = r.u8();
        c.id = r.u8();
        m.channels.push_back(c);
    }
    return m;
}

Result<Name> parse_name(ByteView body) {
    ByteReader r(body);
    Name m;
    m.name_len = r.u32();
    if (!r.ok()) {
        return r.error("name");
    }
    if (m.name_len > r.remaining()) {
        return make_error(Errc::BadValue, 0,
                          "name name_len " + std::to_string(m.name_len) + " exceeds the " +
                              std::to_string(r.remaining()) + " bytes left");
    }
    m.name = detail::text_until_nul(r.bytes(m.name_len));
    return m;
}

template <typename T>
Result<T> parse_u32_message(ByteView body, uint32_t T::*field, std::string_view what) {
    ByteReader r(body);
    T m;
    m.*field = r.u32();
    return finish(r, m, what);
}

void write_dst_info(const DstInfo& d, JsonWriter& w) {
    w.key("dst_info").begin_object();
    w.field("port", d.port).field("sport", d.sport).field("host_size", d.host_size);
    w.field("host", d.host).field("cert_subject_size", d.cert_subject_size);
    if (d.cert_subject) {
        w.field("cert_subject", *d.cert_subject);
    } else {
        w.field_null("cert_subject");
    }
    w.end_object();
}

struct Writer {
    JsonWriter& w;

    void operator()(const MigrateBegin& m) { write_dst_info(m.dst_info, w); }

    void operator()(const MigrateCancel&) {}

    void operator()(const Init& m) {
        w.field("session_id", m.session_id)
            .field("display_channels_hint", m.display_channels_hint)
            .field("supported_mouse_modes", m.supported_mouse_modes);
        detail::write_flag_names(w, "supported_mouse_mode_names", kMouseModes,
                                 m.supported_mouse_modes);
        w.field("current_mouse_mode", m.current_mouse_mode);
        detail::write_flag_names(w, "current_mouse_mode_names", kMouseModes, m.current_mouse_mode);
        w.field("agent_connected", m.agent_connected)
            .field("agent_tokens", m.agent_tokens)
            .field("multi_media_time", m.multi_media_time)
            .field("ram_hint", m.ram_hint);
    }

    void operator()(const ChannelsList& m) {
        w.key("channels").begin_array();
        for (const auto& c : m.channels) {
            w.begin_object()
                .field("type", c.type)
                .field("type_name", wire::channel_type_name(c.type))
                .field("id", c.id)
                .end_object();
        }
        w.end_array();
    }

    void operator()(const MouseMode& m) {
        w.field("supported_modes", m.supported_modes);
        detail::write_flag_names(w, "supported_mode_names", kMouseModes, m.supported_modes);
        w.field("current_mode", m.current_mode);
        detail::write_flag_names(w, "current_mode_names", kMouseModes, m.current_mode);
    }

    void operator()(const MultiMediaTime& m) { w.field("time", m.time); }

    void operator()(const AgentConnected&) {}

    void operator()(const AgentDisconnected& m) {
        w.field("error_code", m.error_code)
            .field("error_name", wire::link_error_name(m.error_code));
    }

    void operator()(const AgentData& m) { w.field("data_size", uint64_t{m.data.size()}); }

    void operator()(const AgentToken& m) { w.field("num_tokens", m.num_tokens); }

    void operator()(const MigrateSwitchHost& m) { write_dst_info(m.dst_info, w); }

    void operator()(const MigrateEnd&) {}

    void operator()(const Name& m) { w.field("name_len", m.name_len).field("vm_name", m.name); }

    void operator()(const Uuid& m) {
        static constexpr char kHex[] = "0123456789abcdef";
        std::string s;
        for (size_t i = 0; i < m.uuid.size(); ++i) {
            if (i == 4 || i == 6 || i == 8 || i == 10) {
                s.push_back('-');
            }
            s.push_back(kHex[m.uuid[i] >> 4]);
            s.push_back(kHex[m.uuid[i] & 15]);
        }
        w.field("uuid", s);
    }

    void operator()(const AgentConnectedTokens& m) { w.field("num_tokens", m.num_tokens); }

    void operator()(const MigrateBeginSeamless& m) {
        write_dst_info(m.dst_info, w);
        w.field("src_mig_version", m.src_mig_version);
    }

    void operator()(const MigrateDstSeamlessAck&) {}

    void operator()(const MigrateDstSeamlessNack&) {}

    // client -> server
    void operator()(const ClientInfo& m) { w.field("cache_size", m.cache_size); }

    void operator()(const MigrateConnected&) {}

    void operator()(const MigrateConnectError&) {}

    void operator()(const AttachChannels&) {}

    void operator()(const MouseModeRequest& m) {
        w.field("mode", m.mode);
        detail::write_flag_names(w, "mode_names", kMouseModes, m.mode);
    }

    void operator()(const AgentStart& m) { w.field("num_tokens", m.num_tokens); }

    void operator()(const MigrateDstDoSeamless& m) { w.field("src_version", m.src_version); }

    void operator()(const MigrateConnectedSeamless&) {}

    void operator()(const QualityIndicator& m) {
        w.field("data_size", uint64_t{m.data.size()});
        if (m.data.size() <= kMaxQualityText) {
            w.field("text", detail::text_until_nul(m.data));
        }
    }
};

}  // namespace

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    ByteReader r(body);
    switch (type) {
        case SPICE_MSG_MAIN_MIGRATE_BEGIN: {
            auto d = parse_dst_info(r, body, true, "migrate_begin dst_info");
            if (!d) {
                return d.error();
            }
            return ServerMessage{MigrateBegin{std::move(*d)}};
        }
        case SPICE_MSG_MAIN_MIGRATE_CANCEL:
            return ServerMessage{MigrateCancel{}};
        case SPICE_MSG_MAIN_INIT: {
            Init m;
            m.session_id = r.u32();
            m.display_channels_hint = r.u32();
            m.supported_mouse_modes = r.u32();
            m.current_mouse_mode = r.u32();
            m.agent_connected = r.u32();
            m.agent_tokens = r.u32();
            m.multi_media_time = r.u32();
            m.ram_hint = r.u32();
            return lift<ServerMessage>(finish(r, m, "main init"));
        }
        case SPICE_MSG_MAIN_CHANNELS_LIST:
            return lift<ServerMessage>(parse_channels_list(body));
        case SPICE_MSG_MAIN_MOUSE_MODE: {
            MouseMode m;
            m.supported_modes = r.u16();
            m.current_mode = r.u16();
            return lift<ServerMessage>(finish(r, m, "mouse_mode"));
        }
        case SPICE_MSG_MAIN_MULTI_MEDIA_TIME:
            return lift<ServerMessage>(
                parse_u32_message(body, &MultiMediaTime::time, "multi_media_time"));
        case SPICE_MSG_MAIN_AGENT_CONNECTED:
            return ServerMessage{AgentConnected{}};
        case SPICE_MSG_MAIN_AGENT_DISCONNECTED:
            return lift<ServerMessage>(
                parse_u32_message(body, &AgentDisconnected::error_code, "agent_disconnected"));
        case SPICE_MSG_MAIN_AGENT_DATA:
            return ServerMessage{AgentData{body}};
        case SPICE_MSG_MAIN_AGENT_TOKEN:
            return lift<ServerMessage>(
                parse_u32_message(body, &AgentToken::num_tokens, "agent_token"));
        case SPICE_MSG_MAIN_MIGRATE_SWITCH_HOST: {
            auto d = parse_dst_info(r, body, false, "migrate_switch_host");
            if (!d) {
                return d.error();
            }
            return ServerMessage{MigrateSwitchHost{std::move(*d)}};
        }
        case SPICE_MSG_MAIN_MIGRATE_END:
            return ServerMessage{MigrateEnd{}};
        case SPICE_MSG_MAIN_NAME:
            return lift<ServerMessage>(parse_name(body));
        case SPICE_MSG_MAIN_UUID: {
            Uuid m;
            const ByteView b = r.bytes(16);
            if (!r.ok()) {
                return r.error("uuid");
            }
            std::copy(b.begin(), b.end(), m.uuid.begin());
            return ServerMessage{m};
        }
        case SPICE_MSG_MAIN_AGENT_CONNECTED_TOKENS:
            return lift<ServerMessage>(parse_u32_message(body, &AgentConnectedTokens::num_tokens,
                                                         "agent_connected_tokens"));
        case SPICE_MSG_MAIN_MIGRATE_BEGIN_SEAMLESS: {
            auto d = parse_dst_info(r, body, true, "migrate_begin_seamless dst_info");
            if (!d) {
                return d.error();
            }
            MigrateBeginSeamless m{std::move(*d), r.u32()};
            return lift<ServerMessage>(finish(r, std::move(m), "migrate_begin_seamless"));
        }
        case SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_ACK:
            return ServerMessage{MigrateDstSeamlessAck{}};
        case SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_NACK:
            return ServerMessage{MigrateDstSeamlessNack{}};
        default:
            return detail::unknown_type("main", type);
    }
}

Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    ByteReader r(body);
    switch (type) {
        case SPICE_MSGC_MAIN_CLIENT_INFO: {
            ClientInfo m;
            m.cache_size = r.u64();
            return lift<ClientMessage>(finish(r, m, "client_info"));
        }
        case SPICE_MSGC_MAIN_MIGRATE_CONNECTED:
            return ClientMessage{MigrateConnected{}};
        case SPICE_MSGC_MAIN_MIGRATE_CONNECT_ERROR:
            return ClientMessage{MigrateConnectError{}};
        case SPICE_MSGC_MAIN_ATTACH_CHANNELS:
            return ClientMessage{AttachChannels{}};
        case SPICE_MSGC_MAIN_MOUSE_MODE_REQUEST: {
            MouseModeRequest m;
            m.mode = r.u16();
            return lift<ClientMessage>(finish(r, m, "mouse_mode_request"));
        }
        case SPICE_MSGC_MAIN_AGENT_START:
            return lift<ClientMessage>(
                parse_u32_message(body, &AgentStart::num_tokens, "agent_start"));
        case SPICE_MSGC_MAIN_AGENT_DATA:
            return ClientMessage{AgentData{body}};
        case SPICE_MSGC_MAIN_AGENT_TOKEN:
            return lift<ClientMessage>(
                parse_u32_message(body, &AgentToken::num_tokens, "agent_token"));
        case SPICE_MSGC_MAIN_MIGRATE_END:
            return ClientMessage{MigrateEnd{}};
        case SPICE_MSGC_MAIN_MIGRATE_DST_DO_SEAMLESS:
            return lift<ClientMessage>(parse_u32_message(body, &MigrateDstDoSeamless::src_version,
                                                         "migrate_dst_do_seamless"));
        case SPICE_MSGC_MAIN_MIGRATE_CONNECTED_SEAMLESS:
            return ClientMessage{MigrateConnectedSeamless{}};
        case SPICE_MSGC_MAIN_QUALITY_INDICATOR:
            return ClientMessage{QualityIndicator{body}};
        default:
            return detail::unknown_type("main", type);
    }
}

void write_json(const ServerMessage& msg, JsonWriter& w) {
    std::visit(Writer{w}, msg);
}

void write_json(const ClientMessage& msg, JsonWriter& w) {
    std::visit(Writer{w}, msg);
}

}  // namespace spicetap::channels::main
