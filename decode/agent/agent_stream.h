// Reassembly of VDAgent messages from main-channel AGENT_DATA bodies.
//
// On the SPICE network each direction's AGENT_DATA bodies (at most 2048 bytes each) form one
// byte stream of VDAgentMessage headers and payloads: a message, or even its 20-byte header,
// may be split across bodies, and one body may end one message and start the next.
// spice-server strips the VDIChunkHeader {port, size} that frames the same stream on the
// guest's virtio port; Framing::VirtioChunks accepts that chunked form (e.g. bytes captured
// on the virtio port), Framing::Wire is what a SPICE capture holds.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "decode/agent/agent_messages.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/protocol_names.h"
#include "decode/wire/result.h"

namespace spicetap::agent {

enum class Framing : uint8_t { Wire, VirtioChunks };

// A complete message as framed by its header, payload not yet decoded.
struct RawMessage {
    MessageHeader header;
    uint64_t stream_offset = 0;
    std::vector<uint8_t> payload;
};

struct StreamFeed {
    std::vector<RawMessage> messages;
    std::optional<DecodeError> error;  // framing error; the stream restarts at the next feed
};

// A message whose header arrived but whose payload is still incomplete.
struct PartialMessage {
    MessageHeader header;
    uint64_t stream_offset = 0;
    ByteView payload;  // the bytes so far; valid until the next feed
};

// One direction's reassembler: bytes in, framed messages out.
class AgentStream {
public:
    explicit AgentStream(Framing framing = Framing::Wire, uint32_t max_message = 256u << 20)
        : framing_(framing), max_message_(max_message) {}

    // Appends one AGENT_DATA body. After a framing error (protocol != 1, oversized message,
    // bad chunk header) the partial message is dropped and the next feed is taken to start at
    // a message boundary, which is how senders split messages.
    StreamFeed feed(ByteView bytes);

    // True while a message (or its header) is only partly received.
    bool mid_message() const { return !header_buf_.empty() || header_.has_value(); }

    // The message being received once its header is complete (e.g. to keep what a recording
    // that ends mid-message did carry).
    std::optional<PartialMessage> partial() const {
        if (!header_) {
            return std::nullopt;
        }
        return PartialMessage{*header_, header_offset_, payload_};
    }

    uint64_t stream_offset() const { return offset_; }

    // Drops a partly received message, e.g. when a body is missing from the recording; the next
    // feed is taken to start at a message boundary.
    void restart() { reset_partial(); }

private:
    void reset_partial();
    // Consumes message-stream bytes (after any chunk framing); false on a framing error.
    bool take(ByteView bytes, StreamFeed& out);

    Framing framing_;
    uint32_t max_message_;
    uint64_t offset_ = 0;  // message-stream bytes consumed so far
    std::vector<uint8_t> header_buf_;
    std::optional<MessageHeader> header_;
    uint64_t header_offset_ = 0;
    std::vector<uint8_t> payload_;
    // VirtioChunks framing state.
    std::vector<uint8_t> chunk_header_buf_;
    uint32_t chunk_left_ = 0;
};

// Capabilities each side announced (ANNOUNCE_CAPABILITIES), which change clipboard layouts.
struct AgentCaps {
    std::optional<std::vector<uint32_t>> client;
    std::optional<std::vector<uint32_t>> agent;

    bool both(unsigned bit) const;
    ParseCaps parse_caps() const;
};

struct SessionFeed {
    std::vector<AgentMessage> messages;
    std::optional<DecodeError> error;
};

// Both directions of one session's agent traffic. Direction is the main channel's:
// ClientToServer = client -> agent, ServerToClient = agent (or server) -> client.
class AgentSession {
public:
    explicit AgentSession(Framing framing = Framing::Wire)
        : streams_{AgentStream(framing), AgentStream(framing)} {}

    // Feeds one AGENT_DATA body and decodes every message it completes, tracking announced
    // capabilities so later clipboard messages parse with the right layout.
    SessionFeed feed(wire::Direction dir, ByteView agent_data);

    // For captures that start after the capability exchange.
    void assume_caps(std::vector<uint32_t> client, std::vector<uint32_t> agent);

    const AgentCaps& caps() const { return caps_; }

    // Forgets the partly received message of one direction (see AgentStream::restart).
    void restart(wire::Direction dir) { streams_[static_cast<int>(dir)].restart(); }

    const AgentStream& stream(wire::Direction dir) const { return streams_[static_cast<int>(dir)]; }

private:
    AgentStream streams_[2];
    AgentCaps caps_;
};

// Convenience for dumps: feeds one AGENT_DATA body and writes what it completed into an open
// JSON object as "agent": [{message}, ...] and, after a framing error, "agent_error".
void feed_and_write_json(AgentSession& session, wire::Direction dir, ByteView agent_data,
                         JsonWriter& w);

}  // namespace spicetap::agent
