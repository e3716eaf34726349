#include "decode/channels/message_fields.h"

#include <spice/enums.h>

#include <string>
#include <variant>

#include "decode/channels/base_channel.h"
#include "decode/channels/cursor_channel.h"
#include "decode/channels/display_channel.h"
#include "decode/channels/inputs_channel.h"
#include "decode/channels/main_channel.h"
#include "decode/channels/playback_channel.h"
#include "decode/channels/port_channel.h"
#include "decode/channels/record_channel.h"
#include "decode/channels/smartcard_channel.h"
#include "decode/channels/spicevmc_channel.h"
#include "decode/channels/tunnel_channel.h"
#include "decode/wire/json_writer.h"

namespace spicetap::channels {

namespace {

// Parses with the channel's parse_server/parse_client and writes with its write_json into a
// scratch object, so a failed parse leaves `w` untouched.
template <typename Channel>
struct Decoder {
    static Result<void> write(wire::Direction dir, uint16_t type, ByteView body,
                              const wire::ChannelCaps& caps, JsonWriter& w) {
        std::string fields;
        JsonWriter scratch(fields);
        scratch.begin_object();
        if (dir == wire::Direction::ServerToClient) {
            auto msg = Channel::parse_server(type, body, caps);
            if (!msg) {
                return msg.error();
            }
            Channel::write_json(*msg, scratch);
        } else {
            auto msg = Channel::parse_client(type, body, caps);
            if (!msg) {
                return msg.error();
            }
            Channel::write_json(*msg, scratch);
        }
        scratch.end_object();
        if (fields.size() > 2) {
            w.raw_fields(std::string_view(fields).substr(1, fields.size() - 2));
        }
        return {};
    }
};

// Adapters giving each channel namespace the same static interface.
#define SPICETAP_CHANNEL_ADAPTER(name)                                                   \
    struct name##_adapter {                                                              \
        static auto parse_server(uint16_t t, ByteView b, const wire::ChannelCaps& c) {   \
            return name::parse_server(t, b, c);                                          \
        }                                                                                \
        static auto parse_client(uint16_t t, ByteView b, const wire::ChannelCaps& c) {   \
            return name::parse_client(t, b, c);                                          \
        }                                                                                \
        template <typename M>                                                            \
        static void write_json(const M& m, JsonWriter& w) {                              \
            if constexpr (requires { name::write_json(m, w); }) {                       \
                name::write_json(m, w);                                                  \
            } else {                                                                     \
                std::visit([&](const auto& x) { name::write_json(x, w); }, m);           \
            }                                                                            \
        }                                                                                \
    };

SPICETAP_CHANNEL_ADAPTER(base)
SPICETAP_CHANNEL_ADAPTER(main)
SPICETAP_CHANNEL_ADAPTER(display)
SPICETAP_CHANNEL_ADAPTER(inputs)
SPICETAP_CHANNEL_ADAPTER(cursor)
SPICETAP_CHANNEL_ADAPTER(playback)
SPICETAP_CHANNEL_ADAPTER(record)
SPICETAP_CHANNEL_ADAPTER(smartcard)
SPICETAP_CHANNEL_ADAPTER(spicevmc)
SPICETAP_CHANNEL_ADAPTER(port)
SPICETAP_CHANNEL_ADAPTER(tunnel)

#undef SPICETAP_CHANNEL_ADAPTER

using WriteFn = Result<void> (*)(wire::Direction, uint16_t, ByteView, const wire::ChannelCaps&,
                                 JsonWriter&);

// Which demarshaller owns a message: base ids for every channel, then the channel's own.
WriteFn decoder_for(uint8_t channel_type, uint16_t type) {
    if (type < SPICE_MSG_BASE_LAST) {
        return &Decoder<base_adapter>::write;
    }
    switch (channel_type) {
        case SPICE_CHANNEL_MAIN: return &Decoder<main_adapter>::write;
        case SPICE_CHANNEL_DISPLAY: return &Decoder<display_adapter>::write;
        case SPICE_CHANNEL_INPUTS: return &Decoder<inputs_adapter>::write;
        case SPICE_CHANNEL_CURSOR: return &Decoder<cursor_adapter>::write;
        case SPICE_CHANNEL_PLAYBACK: return &Decoder<playback_adapter>::write;
        case SPICE_CHANNEL_RECORD: return &Decoder<record_adapter>::write;
        case SPICE_CHANNEL_TUNNEL: return &Decoder<tunnel_adapter>::write;
        case SPICE_CHANNEL_SMARTCARD: return &Decoder<smartcard_adapter>::write;
        case SPICE_CHANNEL_USBREDIR: return &Decoder<spicevmc_adapter>::write;
        case SPICE_CHANNEL_PORT:
        case SPICE_CHANNEL_WEBDAV: return &Decoder<port_adapter>::write;
        default: return nullptr;
    }
}

}  // namespace

bool has_decoder(uint8_t channel_type, uint16_t type) {
    return decoder_for(channel_type, type) != nullptr;
}

Result<void> write_message_fields(uint8_t channel_type, wire::Direction dir, uint16_t type,
                                  ByteView body, const wire::ChannelCaps& caps, JsonWriter& w) {
    const WriteFn fn = decoder_for(channel_type, type);
    if (fn == nullptr) {
        return make_error(Errc::Unsupported, 0, "unknown channel type: no demarshaller");
    }
    return fn(dir, type, body, caps, w);
}

}  // namespace spicetap::channels
