#include "decode/channels/smartcard_channel.h"

#include <spice/enums.h>

#include "decode/channels/message_parse.h"

namespace spicetap::channels::smartcard {

namespace {

// Indexed by SpiceVscMessageType (which starts at 1).
constexpr std::string_view kVscTypes[] = {
    "unknown", "init",        "error", "reader_add", "reader_remove",
    "atr",     "card_remove", "apdu",  "flush",      "flush_complete"};

}  // namespace

std::string_view vsc_type_name(uint32_t type) {
    return detail::enum_name(kVscTypes, type);
}

Result<Data> parse_vsc(ByteView bytes) {
    ByteReader r(bytes);
    Data m;
    m.header.type = r.u32();
    m.header.reader_id = r.u32();
    m.header.length = r.u32();
    if (!r.ok()) {
        return r.error("smartcard VSC header");
    }
    if (m.header.length > r.remaining()) {
        return make_error(Errc::BadValue, 8,
                          "smartcard VSC length " + std::to_string(m.header.length) +
                              " exceeds the " + std::to_string(r.remaining()) + " bytes left");
    }
    m.payload = r.bytes(m.header.length);
    m.trailing_size = static_cast<uint32_t>(r.remaining());
    if (m.header.type == SPICE_VSC_MESSAGE_TYPE_ReaderAdd) {
        m.reader_name = detail::text_until_nul(m.payload);
    } else if (m.header.type == SPICE_VSC_MESSAGE_TYPE_Error) {
        ByteReader e(m.payload, 12);
        const uint32_t code = e.u32();
        if (!e.ok()) {
            return e.error("smartcard VSC error code");
        }
        m.error_code = code;
    }
    return m;
}

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    if (type != SPICE_MSG_SMARTCARD_DATA) {
        return detail::unknown_type("smartcard", type);
    }
    return detail::lift<ServerMessage>(parse_vsc(body));
}

Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    if (type != SPICE_MSGC_SMARTCARD_DATA) {
        return detail::unknown_type("smartcard", type);
    }
    return detail::lift<ClientMessage>(parse_vsc(body));
}

void write_json(const Data& m, JsonWriter& w) {
    w.field("vsc_type", m.header.type)
        .field("vsc_type_name", vsc_type_name(m.header.type))
        .field("reader_id", m.header.reader_id)
        .field("length", m.header.length);
    if (m.reader_name) {
        w.field("reader_name", *m.reader_name);
    }
    if (m.error_code) {
        w.field("error_code", *m.error_code);
    }
    if (m.trailing_size != 0) {
        w.field("trailing_size", m.trailing_size);
    }
}

void write_json(const ServerMessage& msg, JsonWriter& w) {
    write_json(std::get<Data>(msg), w);
}

}  // namespace spicetap::channels::smartcard
