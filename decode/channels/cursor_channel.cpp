#include "decode/channels/cursor_channel.h"

#include <spice/enums.h>

#include "decode/channels/message_parse.h"

namespace spicetap::channels::cursor {

namespace {

using detail::finish;
using detail::lift;

constexpr std::string_view kTypes[] = {"alpha",   "mono",    "color4", "color8",
                                       "color16", "color24", "color32"};
constexpr std::string_view kFlags[] = {"none", "cache_me", "from_cache"};

Point16 read_point(ByteReader& r) {
    Point16 p;
    p.x = r.i16();
    p.y = r.i16();
    return p;
}

void write_point(const Point16& p, JsonWriter& w) {
    w.key("position").begin_object().field("x", p.x).field("y", p.y).end_object();
}

void write_cursor(const Cursor& c, JsonWriter& w) {
    w.key("cursor").begin_object();
    w.field("flags", c.flags);
    detail::write_flag_names(w, "flag_names", kFlags, c.flags);
    if (c.header) {
        const auto& h = *c.header;
        w.field("unique", h.unique)
            .field("type", h.type)
            .field("type_name", cursor_type_name(h.type))
            .field("width", h.width)
            .field("height", h.height)
            .field("hot_spot_x", h.hot_spot_x)
            .field("hot_spot_y", h.hot_spot_y);
    }
    w.field("data_size", uint64_t{c.data.size()});
    w.end_object();
}

struct Writer {
    JsonWriter& w;

    void operator()(const Init& m) {
        write_point(m.position, w);
        w.field("trail_length", m.trail_length)
            .field("trail_frequency", m.trail_frequency)
            .field("visible", m.visible);
        write_cursor(m.cursor, w);
    }

    void operator()(const Reset&) {}

    void operator()(const Set& m) {
        write_point(m.position, w);
        w.field("visible", m.visible);
        write_cursor(m.cursor, w);
    }

    void operator()(const Move& m) { write_point(m.position, w); }

    void operator()(const Hide&) {}

    void operator()(const Trail& m) { w.field("length", m.length).field("frequency", m.frequency); }

    void operator()(const InvalOne& m) { w.field("id", m.id); }

    void operator()(const InvalAll&) {}

    void operator()(const NoClientMessage&) {}
};

}  // namespace

std::string_view cursor_type_name(uint8_t type) {
    return detail::enum_name(kTypes, type);
}

Result<Cursor> parse_cursor(ByteReader& r) {
    Cursor c;
    c.flags = r.u16();
    if (!(c.flags & kCursorFlagNone)) {
        CursorHeader h;
        h.unique = r.u64();
        h.type = r.u8();
        h.width = r.u16();
        h.height = r.u16();
        h.hot_spot_x = r.u16();
        h.hot_spot_y = r.u16();
        c.header = h;
    }
    if (!r.ok()) {
        return r.error("cursor header");
    }
    c.data = r.rest();
    return c;
}

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    ByteReader r(body);
    switch (type) {
        case SPICE_MSG_CURSOR_INIT: {
            Init m;
            m.position = read_point(r);
            m.trail_length = r.u16();
            m.trail_frequency = r.u16();
            m.visible = r.u8();
            if (!r.ok()) {
                return r.error("cursor init");
            }
            auto c = parse_cursor(r);
            if (!c) {
                return c.error();
            }
            m.cursor = *c;
            return ServerMessage{m};
        }
        case SPICE_MSG_CURSOR_RESET:
            return ServerMessage{Reset{}};
        case SPICE_MSG_CURSOR_SET: {
            Set m;
            m.position = read_point(r);
            m.visible = r.u8();
            if (!r.ok()) {
                return r.error("cursor set");
            }
            auto c = parse_cursor(r);
            if (!c) {
                return c.error();
            }
            m.cursor = *c;
            return ServerMessage{m};
        }
        case SPICE_MSG_CURSOR_MOVE: {
            Move m;
            m.position = read_point(r);
            return lift<ServerMessage>(finish(r, m, "cursor move"));
        }
        case SPICE_MSG_CURSOR_HIDE:
            return ServerMessage{Hide{}};
        case SPICE_MSG_CURSOR_TRAIL: {
            Trail m;
            m.length = r.u16();
            m.frequency = r.u16();
            return lift<ServerMessage>(finish(r, m, "cursor trail"));
        }
        case SPICE_MSG_CURSOR_INVAL_ONE: {
            InvalOne m;
            m.id = r.u64();
            return lift<ServerMessage>(finish(r, m, "cursor inval_one"));
        }
        case SPICE_MSG_CURSOR_INVAL_ALL:
            return ServerMessage{InvalAll{}};
        default:
            return detail::unknown_type("cursor", type);
    }
}

Result<ClientMessage> parse_client(uint16_t type, ByteView, const wire::ChannelCaps&) {
    return detail::unknown_type("cursor", type);
}

void write_json(const ServerMessage& msg, JsonWriter& w) {
    std::visit(Writer{w}, msg);
}

void write_json(const ClientMessage& msg, JsonWriter& w) {
    std::visit(Writer{w}, msg);
}

}  // namespace spicetap::channels::cursor
