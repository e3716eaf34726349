#include "decode/channels/tunnel_channel.h"

#include <fmt/core.h>

#include "decode/channels/message_parse.h"

namespace spicetap::channels::tunnel {

namespace {

using detail::finish;
using detail::lift;

// Ids from the last spice-protocol enums that had the tunnel channel (both start at 101).
constexpr std::string_view kServerNames[] = {
    "init",         "service_ip_map", "socket_open",       "socket_fin",
    "socket_close", "socket_data",    "socket_closed_ack", "socket_token",
};
constexpr std::string_view kClientNames[] = {
    "service_add",   "service_remove",    "socket_open_ack", "socket_open_nack", "socket_fin",
    "socket_closed", "socket_closed_ack", "socket_data",     "socket_token",
};
constexpr uint16_t kFirst = 101;

constexpr std::string_view kServiceTypes[] = {"invalid", "generic", "ipp"};
constexpr std::string_view kIpTypes[] = {"invalid", "ipv4"};
constexpr uint16_t kIpTypeIpv4 = 1;
constexpr uint16_t kServiceTypeIpp = 2;

IpInfo read_ip(ByteReader& r) {
    IpInfo ip;
    ip.type = r.u16();
    if (ip.type == kIpTypeIpv4) {
        std::array<uint8_t, 4> a{};
        for (auto& b : a) {
            b = r.u8();
        }
        ip.ipv4 = a;
    }
    return ip;
}

// A NUL-terminated string at a body offset (spice.proto `cstring()` pointer).
Result<std::string> pointed_cstring(ByteView body, uint32_t offset, std::string_view what) {
    if (offset == 0) {
        return std::string();
    }
    if (offset >= body.size()) {
        return make_error(Errc::BadValue, offset,
                          std::string(what) + ": pointer outside the " +
                              std::to_string(body.size()) + "-byte body");
    }
    const ByteView tail = body.subspan(offset);
    for (size_t i = 0; i < tail.size(); ++i) {
        if (tail[i] == 0) {
            return std::string(reinterpret_cast<const char*>(tail.data()), i);
        }
    }
    return make_error(Errc::Truncated, body.size(), std::string(what) + ": no terminating NUL");
}

Result<ServiceAdd> parse_service_add(ByteView body) {
    ByteReader r(body);
    ServiceAdd m;
    m.type = r.u16();
    m.id = r.u32();
    m.group = r.u32();
    m.port = r.u32();
    const uint32_t name_ptr = r.u32();
    const uint32_t description_ptr = r.u32();
    if (m.type == kServiceTypeIpp) {
        m.ip = read_ip(r);
    }
    if (!r.ok()) {
        return r.error("tunnel service_add");
    }
    auto name = pointed_cstring(body, name_ptr, "tunnel service_add name");
    if (!name) {
        return name.error();
    }
    auto description = pointed_cstring(body, description_ptr, "tunnel service_add description");
    if (!description) {
        return description.error();
    }
    m.name = std::move(*name);
    m.description = std::move(*description);
    return m;
}

template <typename T>
Result<T> parse_connection_only(ByteView body, std::string_view what) {
    ByteReader r(body);
    T m;
    m.connection_id = r.u16();
    return finish(r, m, what);
}

Result<SocketData> parse_socket_data(ByteView body) {
    ByteReader r(body);
    SocketData m;
    m.connection_id = r.u16();
    m.data = r.rest();
    return finish(r, m, "tunnel socket_data");
}

Result<SocketToken> parse_socket_token(ByteView body) {
    ByteReader r(body);
    SocketToken m;
    m.connection_id = r.u16();
    m.num_tokens = r.u32();
    return finish(r, m, "tunnel socket_token");
}

void write_ip(std::string_view key, const IpInfo& ip, JsonWriter& w) {
    w.key(key).begin_object();
    w.field("type", ip.type).field("type_name", detail::enum_name(kIpTypes, ip.type));
    if (ip.ipv4) {
        const auto& a = *ip.ipv4;
        w.field("ipv4", fmt::format("{}.{}.{}.{}", a[0], a[1], a[2], a[3]));
    }
    w.end_object();
}

struct Writer {
    JsonWriter& w;

    void operator()(const Init& m) {
        w.field("max_num_of_sockets", m.max_num_of_sockets)
            .field("max_socket_data_size", m.max_socket_data_size);
    }

    void operator()(const ServiceIpMap& m) {
        w.field("service_id", m.service_id);
        write_ip("virtual_ip", m.virtual_ip, w);
    }

    void operator()(const SocketOpen& m) {
        w.field("connection_id", m.connection_id)
            .field("service_id", m.service_id)
            .field("tokens", m.tokens);
    }

    void operator()(const SocketFin& m) { w.field("connection_id", m.connection_id); }

    void operator()(const SocketClose& m) { w.field("connection_id", m.connection_id); }

    void operator()(const SocketData& m) {
        w.field("connection_id", m.connection_id).field("data_size", uint64_t{m.data.size()});
    }

    void operator()(const SocketClosedAck& m) { w.field("connection_id", m.connection_id); }

    void operator()(const SocketToken& m) {
        w.field("connection_id", m.connection_id).field("num_tokens", m.num_tokens);
    }

    void operator()(const ServiceAdd& m) {
        w.field("service_type", m.type)
            .field("service_type_name", detail::enum_name(kServiceTypes, m.type))
            .field("id", m.id)
            .field("group", m.group)
            .field("port", m.port)
            .field("service_name", m.name)
            .field("description", m.description);
        if (m.ip) {
            write_ip("ip", *m.ip, w);
        }
    }

    void operator()(const ServiceRemove& m) { w.field("id", m.id); }

    void operator()(const SocketOpenAck& m) {
        w.field("connection_id", m.connection_id).field("tokens", m.tokens);
    }

    void operator()(const SocketOpenNack& m) { w.field("connection_id", m.connection_id); }

    void operator()(const SocketClosed& m) { w.field("connection_id", m.connection_id); }
};

}  // namespace

std::string_view message_name(wire::Direction dir, uint16_t type) {
    if (type < kFirst) {
        return {};
    }
    const size_t i = type - kFirst;
    if (dir == wire::Direction::ServerToClient) {
        return i < std::size(kServerNames) ? kServerNames[i] : std::string_view();
    }
    return i < std::size(kClientNames) ? kClientNames[i] : std::string_view();
}

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    ByteReader r(body);
    switch (type) {
        case 101: {
            Init m;
            m.max_num_of_sockets = r.u16();
            m.max_socket_data_size = r.u32();
            return lift<ServerMessage>(finish(r, m, "tunnel init"));
        }
        case 102: {
            ServiceIpMap m;
            m.service_id = r.u32();
            m.virtual_ip = read_ip(r);
            return lift<ServerMessage>(finish(r, m, "tunnel service_ip_map"));
        }
        case 103: {
            SocketOpen m;
            m.connection_id = r.u16();
            m.service_id = r.u32();
            m.tokens = r.u32();
            return lift<ServerMessage>(finish(r, m, "tunnel socket_open"));
        }
        case 104:
            return lift<ServerMessage>(parse_connection_only<SocketFin>(body, "tunnel socket_fin"));
        case 105:
            return lift<ServerMessage>(
                parse_connection_only<SocketClose>(body, "tunnel socket_close"));
        case 106:
            return lift<ServerMessage>(parse_socket_data(body));
        case 107:
            return lift<ServerMessage>(
                parse_connection_only<SocketClosedAck>(body, "tunnel socket_closed_ack"));
        case 108:
            return lift<ServerMessage>(parse_socket_token(body));
        default:
            return detail::unknown_type("tunnel", type);
    }
}

Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    ByteReader r(body);
    switch (type) {
        case 101:
            return lift<ClientMessage>(parse_service_add(body));
        case 102: {
            ServiceRemove m;
            m.id = r.u32();
            return lift<ClientMessage>(finish(r, m, "tunnel service_remove"));
        }
        case 103: {
            SocketOpenAck m;
            m.connection_id = r.u16();
            m.tokens = r.u32();
            return lift<ClientMessage>(finish(r, m, "tunnel socket_open_ack"));
        }
        case 104:
            return lift<ClientMessage>(
                parse_connection_only<SocketOpenNack>(body, "tunnel socket_open_nack"));
        case 105:
            return lift<ClientMessage>(parse_connection_only<SocketFin>(body, "tunnel socket_fin"));
        case 106:
            return lift<ClientMessage>(
                parse_connection_only<SocketClosed>(body, "tunnel socket_closed"));
        case 107:
            return lift<ClientMessage>(
                parse_connection_only<SocketClosedAck>(body, "tunnel socket_closed_ack"));
        case 108:
            return lift<ClientMessage>(parse_socket_data(body));
        case 109:
            return lift<ClientMessage>(parse_socket_token(body));
        default:
            return detail::unknown_type("tunnel", type);
    }
}

void write_json(const ServerMessage& msg, JsonWriter& w) {
    std::visit(Writer{w}, msg);
}

void write_json(const ClientMessage& msg, JsonWriter& w) {
    std::visit(Writer{w}, msg);
}

}  // namespace spicetap::channels::tunnel
