#include "decode/channels/message_fields.h"

#include <spice/enums.h>

#include <string>

#include "decode/channels/display_channel.h"
#include "decode/wire/json_writer.h"

namespace spicetap::channels {

namespace {

// Parses with `parse`, then writes with the channel's write_json into a scratch buffer, so a
// failed parse leaves `w` untouched.
template <typename ParseFn>
Result<void> parse_and_write(ParseFn&& parse, JsonWriter& w) {
    auto msg = parse();
    if (!msg) {
        return msg.error();
    }
    std::string fields;
    JsonWriter scratch(fields);
    scratch.begin_object();
    display::write_json(*msg, scratch);
    scratch.end_object();
    // Splice the fields (without the braces) into the caller's open object.
    if (fields.size() > 2) {
        w.raw_fields(std::string_view(fields).substr(1, fields.size() - 2));
    }
    return {};
}

}  // namespace

bool has_decoder(uint8_t channel_type, uint16_t type) {
    return channel_type == SPICE_CHANNEL_DISPLAY && type >= 101;
}

Result<void> write_message_fields(uint8_t channel_type, wire::Direction dir, uint16_t type,
                                  ByteView body, const wire::ChannelCaps& caps, JsonWriter& w) {
    if (!has_decoder(channel_type, type)) {
        return make_error(Errc::Unsupported, 0,
                          "no demarshaller for this channel and message in this build");
    }
    if (dir == wire::Direction::ServerToClient) {
        return parse_and_write([&] { return display::parse_server(type, body, caps); }, w);
    }
    return parse_and_write([&] { return display::parse_client(type, body, caps); }, w);
}

}  // namespace spicetap::channels
