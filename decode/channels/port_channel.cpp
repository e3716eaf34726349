#include "decode/channels/port_channel.h"

#include <spice/enums.h>

#include "decode/channels/message_parse.h"

namespace spicetap::channels::port {

namespace {

constexpr std::string_view kEvents[] = {"opened", "closed", "break"};

Result<Init> parse_init(ByteView body) {
    ByteReader r(body);
    Init m;
    m.name_size = r.u32();
    const uint32_t name_ptr = r.u32();
    m.opened = r.u8();
    if (!r.ok()) {
        return r.error("port init");
    }
    if (name_ptr == 0) {
        return make_error(Errc::BadValue, 4, "port init: name pointer is NULL");
    }
    auto name = detail::pointed_bytes(body, name_ptr, m.name_size, "port init name");
    if (!name) {
        return name.error();
    }
    m.name = detail::text_until_nul(**name);
    return m;
}

Result<Event> parse_event(ByteView body) {
    ByteReader r(body);
    Event m;
    m.event = r.u8();
    return detail::finish(r, m, "port event");
}

struct Writer {
    JsonWriter& w;

    void operator()(const Data& m) { spicevmc::write_fields(m, w); }

    void operator()(const CompressedData& m) { spicevmc::write_fields(m, w); }

    void operator()(const Init& m) {
        w.field("name_size", m.name_size).field("port_name", m.name).field("opened", m.opened);
    }

    void operator()(const Event& m) {
        w.field("event", m.event).field("event_name", event_name(m.event));
    }
};

}  // namespace

std::string_view event_name(uint8_t event) {
    return detail::enum_name(kEvents, event);
}

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps) {
    switch (type) {
        case SPICE_MSG_SPICEVMC_DATA:
        case SPICE_MSG_SPICEVMC_COMPRESSED_DATA: {
            auto vmc = spicevmc::parse_server(type, body, caps);
            if (!vmc) {
                return vmc.error();
            }
            return std::visit([](auto& m) { return ServerMessage{std::move(m)}; }, *vmc);
        }
        case SPICE_MSG_PORT_INIT:
            return detail::lift<ServerMessage>(parse_init(body));
        case SPICE_MSG_PORT_EVENT:
            return detail::lift<ServerMessage>(parse_event(body));
        default:
            return detail::unknown_type("port", type);
    }
}

Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps) {
    switch (type) {
        case SPICE_MSGC_SPICEVMC_DATA:
        case SPICE_MSGC_SPICEVMC_COMPRESSED_DATA: {
            auto vmc = spicevmc::parse_client(type, body, caps);
            if (!vmc) {
                return vmc.error();
            }
            return std::visit([](auto& m) { return ClientMessage{std::move(m)}; }, *vmc);
        }
        case SPICE_MSGC_PORT_EVENT:
            return detail::lift<ClientMessage>(parse_event(body));
        default:
            return detail::unknown_type("port", type);
    }
}

void write_json(const ServerMessage& msg, JsonWriter& w) {
    std::visit(Writer{w}, msg);
}

void write_json(const ClientMessage& msg, JsonWriter& w) {
    std::visit(Writer{w}, msg);
}

}  // namespace spicetap::channels::port
