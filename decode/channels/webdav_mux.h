// WebDAV channel (type 11): a port channel ("org.spice-space.webdav.0") whose DATA bytes, per
// direction, multiplex many HTTP connections between spice-webdavd in the guest and the
// client's WebDAV server: frames {client_id i64, size u16, size bytes}; size 0 closes that
// client connection.
#pragma once

#include <cstdint>
#include <vector>

#include "decode/channels/port_channel.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/result.h"

namespace spicetap::channels::webdav {

// The SPICE messages are the port channel's.
using ServerMessage = port::ServerMessage;
using ClientMessage = port::ClientMessage;
Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps);
Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps);
void write_json(const ServerMessage& msg, JsonWriter& w);
void write_json(const ClientMessage& msg, JsonWriter& w);

inline constexpr size_t kFrameHeaderSize = 10;

struct Frame {
    int64_t client_id = 0;
    uint64_t stream_offset = 0;  // of the frame header in this direction's stream
    std::vector<uint8_t> data;   // empty: the client connection closed

    bool closed() const { return data.empty(); }
};

// One direction of the mux. Frames may span DATA messages; feed the bytes in order.
class WebdavDemux {
public:
    // Returns the frames completed by `bytes`. Frame sizes are u16, so the buffer never holds
    // more than one partial frame.
    std::vector<Frame> feed(ByteView bytes);

    size_t buffered() const { return buffer_.size(); }

private:
    std::vector<uint8_t> buffer_;
    uint64_t consumed_ = 0;
};

// Writes client_id, size, closed and, when the data starts an HTTP request or response, its
// first line as "http_line".
void write_json(const Frame& f, JsonWriter& w);

}  // namespace spicetap::channels::webdav
