// ConnectionFramer: splits the two byte streams of one SPICE channel connection into the link
// stage and data messages. One object per TCP connection, Zeek-style: two flows (one per
// direction), each with its own stage, buffer and serial counter. Knows the SPICE framing rules
// (link stage, authentication, full vs mini data header) but nothing of message contents.
//
// Gaps (bytes the capture lost) are explicit: the flow drops the message that was cut and
// searches for the next plausible header (a chain of headers whose types exist for this
// channel and direction), then resumes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/link.h"
#include "decode/wire/protocol_names.h"
#include "decode/wire/result.h"

namespace spicetap::wire {

inline constexpr uint16_t kFullHeaderSize = 18;
inline constexpr uint16_t kMiniHeaderSize = 6;

struct FramedMessage {
    Direction dir = Direction::ServerToClient;
    uint64_t offset = 0;          // stream offset of the data header
    uint16_t header_size = 0;     // 18 (full) or 6 (mini)
    std::optional<uint64_t> serial;  // from the full header; nullopt under the mini header
    // Position in the direction's message sequence (1-based), as a mini-header peer counts it;
    // nullopt once a gap made it unknowable.
    std::optional<uint64_t> sequence;
    uint16_t type = 0;
    uint32_t size = 0;            // body bytes
    uint32_t sub_list = 0;        // full header only: offset of the sub-message list, 0 = none
    ByteView body;                // valid only during the callback
    // The body was larger than FramerOptions::max_buffered_body and was passed over without
    // being kept: `body` is empty (the bytes are still in the caller's stream).
    bool body_elided = false;
};

enum class AuthEvent : uint8_t { Mechanism, Ticket };

class FramerCallbacks {
public:
    virtual ~FramerCallbacks() = default;
    virtual void on_link_mess(const LinkMess& /*mess*/, uint64_t /*offset*/) {}
    virtual void on_link_reply(const LinkReply& /*reply*/, uint64_t /*offset*/) {}
    virtual void on_auth(AuthEvent /*event*/, uint64_t /*offset*/, ByteView /*bytes*/) {}
    virtual void on_link_result(uint32_t /*error*/, uint64_t /*offset*/) {}
    virtual void on_message(const FramedMessage& message) = 0;
    // Something in this direction could not be framed; `error.offset` is a stream offset.
    virtual void on_error(Direction /*dir*/, const DecodeError& /*error*/) {}
    // Bytes [from, to) were skipped while searching for the next message after a gap or error.
    virtual void on_resync(Direction /*dir*/, uint64_t /*from*/, uint64_t /*to*/) {}
};

struct FramerOptions {
    // A data header announcing more than this is treated as corrupt.
    uint32_t max_message_size = 128u << 20;
    // While resynchronising, how many consecutive plausible headers make a match.
    int resync_chain = 3;
    // Bodies larger than this that arrive in pieces are not buffered, only counted through
    // (a consumer that keeps the raw bytes elsewhere needs only the framing).
    uint32_t max_buffered_body = 128u << 20;
};

class ConnectionFramer {
public:
    explicit ConnectionFramer(FramerCallbacks& callbacks, FramerOptions options = {});

    // Bytes of one direction starting at `stream_offset`. Offsets must not go backwards;
    // bytes already seen are ignored, a jump forward is treated as a gap.
    void feed(Direction dir, uint64_t stream_offset, ByteView data);

    // [stream_offset, stream_offset + length) of `dir` was lost.
    void gap(Direction dir, uint64_t stream_offset, uint64_t length);

    // End of the connection: reports a message left incomplete.
    void finish();

    const std::optional<LinkMess>& link_mess() const { return link_mess_; }
    const std::optional<LinkReply>& link_reply() const { return link_reply_; }
    std::optional<uint32_t> link_result() const { return link_result_; }
    ChannelCaps caps() const;
    bool mini_header() const;
    // -1 until the client's link message was seen.
    int channel_type() const { return link_mess_ ? link_mess_->channel_type : -1; }
    bool in_data_phase(Direction dir) const;
    // Bytes of a direction that could not be framed (skipped, or after a fatal error).
    uint64_t unframed_bytes(Direction dir) const { return flows_[index(dir)].unframed; }

private:
    enum class Stage : uint8_t {
        LinkHeader,
        LinkBody,
        AuthWait,       // c2s: waiting for the server's reply to know how auth goes on
        AuthMechanism,  // c2s: SpiceLinkAuthMechanism
        Ticket,         // c2s: the RSA-encrypted ticket
        ResultWait,     // s2c: waiting for the client's auth choice
        LinkResult,     // s2c: the 4-byte link result
        Data,
        Resync,
        Dead,           // nothing more can be framed in this direction
    };

    struct Flow {
        Direction dir = Direction::ClientToServer;
        Stage stage = Stage::LinkHeader;
        std::vector<uint8_t> buf;  // bytes not yet consumed
        uint64_t buf_offset = 0;   // stream offset of buf[0]
        uint32_t link_size = 0;
        uint64_t sequence = 0;     // messages framed so far
        bool sequence_known = true;
        std::optional<uint64_t> last_serial;
        uint64_t unframed = 0;
        // A large message whose body is being passed over: bytes still to skip.
        uint64_t skipping = 0;
        FramedMessage elided;
        bool blocked = false;      // waiting on the other direction
    };

    static size_t index(Direction d) { return d == Direction::ClientToServer ? 0 : 1; }

    void pump();
    // Consumes from `data` (which starts at stream offset `offset`) as much as the stage allows.
    size_t process(Flow& flow, ByteView data, uint64_t offset, bool at_end);
    size_t process_data(Flow& flow, ByteView data, uint64_t offset);
    size_t process_resync(Flow& flow, ByteView data, uint64_t offset, bool at_end);
    bool plausible_header(const Flow& flow, ByteView data, size_t pos, uint32_t* size) const;
    void kill(Flow& flow, DecodeError error);
    void consume_into(Flow& flow, ByteView data, uint64_t offset);
    uint16_t header_size() const { return mini_header() ? kMiniHeaderSize : kFullHeaderSize; }
    bool auth_selection() const;

    FramerCallbacks& cb_;
    FramerOptions opt_;
    Flow flows_[2];
    std::optional<LinkMess> link_mess_;
    std::optional<LinkReply> link_reply_;
    std::optional<uint32_t> auth_mechanism_;
    std::optional<uint32_t> link_result_;
    bool finished_ = false;
};

}  // namespace spicetap::wire
