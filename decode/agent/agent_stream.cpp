#include "decode/agent/agent_stream.h"

#include <spice/vd_agent.h>

#include <algorithm>
#include <string>

#include "decode/wire/caps.h"

namespace spicetap::agent {

void AgentStream::reset_partial() {
    header_buf_.clear();
    header_.reset();
    payload_.clear();
    chunk_header_buf_.clear();
    chunk_left_ = 0;
}

bool AgentStream::take(ByteView bytes, StreamFeed& out) {
    size_t pos = 0;
    while (pos < bytes.size()) {
        if (!header_) {
            const size_t n = std::min(kMessageHeaderSize - header_buf_.size(), bytes.size() - pos);
            if (header_buf_.empty()) {
                header_offset_ = offset_;
            }
            header_buf_.insert(header_buf_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                               bytes.begin() + static_cast<std::ptrdiff_t>(pos + n));
            pos += n;
            offset_ += n;
            if (header_buf_.size() < kMessageHeaderSize) {
                continue;
            }
            ByteReader r(header_buf_, header_offset_);
            MessageHeader h;
            h.protocol = r.u32();
            h.type = r.u32();
            h.opaque = r.u64();
            h.size = r.u32();
            header_buf_.clear();
            if (h.protocol != kProtocol) {
                out.error = make_error(Errc::BadMagic, header_offset_,
                                       "agent message header: protocol " +
                                           std::to_string(h.protocol) + ", expected 1");
                offset_ += bytes.size() - pos;  // the rest of this body is dropped
                return false;
            }
            if (h.size > max_message_) {
                out.error = make_error(Errc::LimitExceeded, header_offset_ + 16,
                                       "agent message size " + std::to_string(h.size) +
                                           " above the limit " + std::to_string(max_message_));
                offset_ += bytes.size() - pos;
                return false;
            }
            header_ = h;
        }
        const size_t want = header_->size - payload_.size();
        const size_t n = std::min(want, bytes.size() - pos);
        payload_.insert(payload_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                        bytes.begin() + static_cast<std::ptrdiff_t>(pos + n));
        pos += n;
        offset_ += n;
        if (payload_.size() == header_->size) {
            out.messages.push_back(RawMessage{*header_, header_offset_, std::move(payload_)});
            payload_.clear();
            header_.reset();
        }
    }
    return true;
}

StreamFeed AgentStream::feed(ByteView bytes) {
    StreamFeed out;
    bool ok = true;
    if (framing_ == Framing::Wire) {
        ok = take(bytes, out);
    } else {
        size_t pos = 0;
        while (ok && pos < bytes.size()) {
            if (chunk_left_ == 0) {
                const size_t n =
                    std::min(kChunkHeaderSize - chunk_header_buf_.size(), bytes.size() - pos);
                chunk_header_buf_.insert(chunk_header_buf_.end(),
                                         bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                                         bytes.begin() + static_cast<std::ptrdiff_t>(pos + n));
                pos += n;
                if (chunk_header_buf_.size() < kChunkHeaderSize) {
                    break;
                }
                ByteReader r(chunk_header_buf_);
                const uint32_t port = r.u32();
                chunk_left_ = r.u32();
                chunk_header_buf_.clear();
                if (port != VDP_CLIENT_PORT && port != VDP_SERVER_PORT) {
                    out.error = make_error(Errc::BadValue, pos - kChunkHeaderSize,
                                           "agent chunk header: port " + std::to_string(port));
                    ok = false;
                } else if (chunk_left_ > kMaxChunkData) {
                    out.error = make_error(
                        Errc::BadValue, pos - 4,
                        "agent chunk header: size " + std::to_string(chunk_left_) + " above 2048");
                    ok = false;
                }
                continue;
            }
            const size_t n = std::min<size_t>(chunk_left_, bytes.size() - pos);
            ok = take(bytes.subspan(pos, n), out);
            pos += n;
            chunk_left_ -= static_cast<uint32_t>(n);
        }
    }
    if (!ok) {
        reset_partial();
    }
    return out;
}

bool AgentCaps::both(unsigned bit) const {
    return client && agent && wire::cap_bit(*client, bit) && wire::cap_bit(*agent, bit);
}

ParseCaps AgentCaps::parse_caps() const {
    ParseCaps p;
    p.clipboard_selection = both(VD_AGENT_CAP_CLIPBOARD_SELECTION);
    p.clipboard_grab_serial = both(VD_AGENT_CAP_CLIPBOARD_GRAB_SERIAL);
    return p;
}

void AgentSession::assume_caps(std::vector<uint32_t> client, std::vector<uint32_t> agent) {
    caps_.client = std::move(client);
    caps_.agent = std::move(agent);
}

SessionFeed AgentSession::feed(wire::Direction dir, ByteView agent_data) {
    StreamFeed raw = streams_[static_cast<int>(dir)].feed(agent_data);
    SessionFeed out;
    out.error = std::move(raw.error);
    for (auto& m : raw.messages) {
        AgentMessage msg;
        msg.header = m.header;
        msg.stream_offset = m.stream_offset;
        msg.body = parse_body(m.header.type, m.payload, caps_.parse_caps());
        if (msg.body) {
            if (const auto* ann = std::get_if<AnnounceCapabilities>(&*msg.body)) {
                auto& side = dir == wire::Direction::ClientToServer ? caps_.client : caps_.agent;
                side = ann->caps;
            }
        }
        out.messages.push_back(std::move(msg));
    }
    return out;
}

void feed_and_write_json(AgentSession& session, wire::Direction dir, ByteView agent_data,
                         JsonWriter& w) {
    const SessionFeed fed = session.feed(dir, agent_data);
    w.key("agent").begin_array();
    for (const auto& m : fed.messages) {
        w.begin_object();
        write_json(m, w);
        w.end_object();
    }
    w.end_array();
    if (fed.error) {
        w.field("agent_error", fed.error->message());
    }
}

}  // namespace spicetap::agent
