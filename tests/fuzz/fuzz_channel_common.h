// Shared body of the per-channel fuzz targets. Input: flags byte (bit 0 = direction,
// bit 1 = base id range), type byte, then the message body. Base ids go to channels::base,
// the rest to the channel, as the framer dispatches them; every decoded message is also
// written as JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "decode/channels/base_channel.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"

namespace spicetap::fuzz {

struct Input {
    bool client = false;
    uint16_t type = 0;
    ByteView body;
};

inline bool split_input(const uint8_t* data, size_t size, Input& in) {
    if (size < 2) {
        return false;
    }
    in.client = (data[0] & 1) != 0;
    in.type =
        (data[0] & 2) ? static_cast<uint16_t>(data[1] % 12) : static_cast<uint16_t>(100 + data[1]);
    in.body = ByteView(data + 2, size - 2);
    return true;
}

template <typename Server, typename Client>
void run_channel(const uint8_t* data, size_t size, Server server, Client client) {
    Input in;
    if (!split_input(data, size, in)) {
        return;
    }
    const wire::ChannelCaps caps;
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    if (in.type < channels::base::kFirstChannelMessage) {
        if (in.client) {
            if (auto m = channels::base::parse_client(in.type, in.body, caps)) {
                channels::base::write_json(*m, w);
            }
        } else if (auto m = channels::base::parse_server(in.type, in.body, caps)) {
            channels::base::write_json(*m, w);
            if (const auto* list = std::get_if<channels::base::List>(&*m)) {
                for (const auto& sub : list->messages) {
                    (void)server(sub.type, sub.body, caps, w);
                }
            }
        }
    } else if (in.client) {
        client(in.type, in.body, caps, w);
    } else {
        server(in.type, in.body, caps, w);
    }
    w.end_object();
}

// The usual case: a channel namespace's parse_server and parse_client, each message written
// with that namespace's write_json (found by argument-dependent lookup).
template <typename ParseServer, typename ParseClient>
int run_parsers(const uint8_t* data, size_t size, ParseServer parse_server,
                ParseClient parse_client) {
    run_channel(
        data, size,
        [&](uint16_t type, ByteView body, const auto& caps, JsonWriter& w) {
            if (auto m = parse_server(type, body, caps)) {
                write_json(*m, w);
            }
        },
        [&](uint16_t type, ByteView body, const auto& caps, JsonWriter& w) {
            if (auto m = parse_client(type, body, caps)) {
                write_json(*m, w);
            }
        });
    return 0;
}

}  // namespace spicetap::fuzz
