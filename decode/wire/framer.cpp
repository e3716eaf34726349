#include "decode/wire/framer.h"

#include <fmt/core.h>
#include <spice/protocol.h>

#include <algorithm>

namespace spicetap::wire {

namespace {

constexpr uint32_t kAuthSpice = 1;  // SpiceLinkAuthMechanism values (protocol.h)
constexpr uint32_t kAuthSasl = 2;

}  // namespace

ConnectionFramer::ConnectionFramer(FramerCallbacks& callbacks, FramerOptions options)
    : cb_(callbacks), opt_(options) {
    flows_[0].dir = Direction::ClientToServer;
    flows_[1].dir = Direction::ServerToClient;
}

ChannelCaps ConnectionFramer::caps() const {
    ChannelCaps c;
    if (link_mess_) {
        c.client_common = link_mess_->common_caps;
        c.client_channel = link_mess_->channel_caps;
    }
    if (link_reply_) {
        c.server_common = link_reply_->common_caps;
        c.server_channel = link_reply_->channel_caps;
    }
    return c;
}

bool ConnectionFramer::mini_header() const {
    return link_mess_ && link_reply_ &&
           cap_bit(link_mess_->common_caps, SPICE_COMMON_CAP_MINI_HEADER) &&
           cap_bit(link_reply_->common_caps, SPICE_COMMON_CAP_MINI_HEADER);
}

bool ConnectionFramer::auth_selection() const {
    return link_mess_ && link_reply_ &&
           cap_bit(link_mess_->common_caps, SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION) &&
           cap_bit(link_reply_->common_caps, SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION);
}

bool ConnectionFramer::in_data_phase(Direction dir) const {
    const Stage s = flows_[index(dir)].stage;
    return s == Stage::Data || s == Stage::Resync;
}

void ConnectionFramer::feed(Direction dir, uint64_t stream_offset, ByteView data) {
    Flow& flow = flows_[index(dir)];
    const uint64_t end = flow.buf_offset + flow.buf.size();
    if (stream_offset + data.size() <= end) {
        return;  // all seen before
    }
    if (stream_offset < end) {
        data = data.subspan(static_cast<size_t>(end - stream_offset));
        stream_offset = end;
    } else if (stream_offset > end) {
        gap(dir, end, stream_offset - end);
    }
    consume_into(flow, data, stream_offset);
    pump();
}

void ConnectionFramer::consume_into(Flow& flow, ByteView data, uint64_t offset) {
    if (flow.buf.empty()) {
        // Fast path: frame straight from the caller's bytes, keep only the tail.
        flow.buf_offset = offset;
        const size_t used = process(flow, data, offset, false);
        flow.buf.assign(data.begin() + static_cast<ptrdiff_t>(used), data.end());
        flow.buf_offset = offset + used;
        return;
    }
    flow.buf.insert(flow.buf.end(), data.begin(), data.end());
    const size_t used = process(flow, flow.buf, flow.buf_offset, false);
    flow.buf.erase(flow.buf.begin(), flow.buf.begin() + static_cast<ptrdiff_t>(used));
    flow.buf_offset += used;
}

// A direction blocked on the other one's link stage may continue once that advanced.
void ConnectionFramer::pump() {
    for (int round = 0; round < 4; ++round) {
        bool progressed = false;
        for (Flow& flow : flows_) {
            if (!flow.blocked || flow.buf.empty()) {
                continue;
            }
            flow.blocked = false;
            const size_t used = process(flow, flow.buf, flow.buf_offset, finished_);
            flow.buf.erase(flow.buf.begin(), flow.buf.begin() + static_cast<ptrdiff_t>(used));
            flow.buf_offset += used;
            progressed = progressed || used > 0;
        }
        if (!progressed) {
            return;
        }
    }
}

void ConnectionFramer::kill(Flow& flow, DecodeError error) {
    flow.stage = Stage::Dead;
    cb_.on_error(flow.dir, error);
    // The other direction may be waiting on this one's link stage: let it notice.
    Flow& other = flows_[1 - index(flow.dir)];
    other.blocked = other.blocked || other.stage == Stage::AuthWait ||
                    other.stage == Stage::ResultWait;
}

size_t ConnectionFramer::process(Flow& flow, ByteView data, uint64_t offset, bool at_end) {
    size_t pos = 0;
    const bool c2s = flow.dir == Direction::ClientToServer;
    Flow& other = flows_[index(c2s ? Direction::ServerToClient : Direction::ClientToServer)];
    for (;;) {
        const ByteView rest = data.subspan(pos);
        const uint64_t at = offset + pos;
        switch (flow.stage) {
            case Stage::LinkHeader: {
                if (rest.size() < kLinkHeaderSize) {
                    return pos;
                }
                auto h = parse_link_header(rest, at);
                if (!h) {
                    kill(flow, h.error());
                    continue;
                }
                flow.link_size = h->size;
                flow.stage = Stage::LinkBody;
                pos += kLinkHeaderSize;
                break;
            }
            case Stage::LinkBody: {
                if (rest.size() < flow.link_size) {
                    return pos;
                }
                const ByteView body = rest.first(flow.link_size);
                if (c2s) {
                    auto m = parse_link_mess(body, at);
                    if (!m) {
                        kill(flow, m.error());
                        continue;
                    }
                    link_mess_ = std::move(*m);
                    cb_.on_link_mess(*link_mess_, at);
                    flow.stage = Stage::AuthWait;
                } else {
                    auto m = parse_link_reply(body, at);
                    if (!m) {
                        kill(flow, m.error());
                        continue;
                    }
                    link_reply_ = std::move(*m);
                    cb_.on_link_reply(*link_reply_, at);
                    if (link_reply_->error != 0) {
                        std::string_view name = link_error_name(link_reply_->error);
                        kill(flow, make_error(Errc::BadValue, at,
                                              fmt::format("link refused by the server: {}",
                                                          name.empty() ? "error" : name)));
                        pos += flow.link_size;
                        continue;
                    }
                    flow.stage = Stage::ResultWait;
                    other.blocked = other.blocked || other.stage == Stage::AuthWait;
                }
                pos += flow.link_size;
                break;
            }
            case Stage::AuthWait: {
                if (!link_reply_) {
                    if (other.stage == Stage::Dead) {
                        kill(flow, make_error(Errc::BadValue, at,
                                              "the server's link stage failed; the client's "
                                              "messages cannot be framed"));
                        continue;
                    }
                    flow.blocked = true;
                    return pos;
                }
                if (link_reply_->error != 0) {
                    kill(flow, make_error(Errc::BadValue, at,
                                          "client data after the server refused the link"));
                    continue;
                }
                flow.stage = auth_selection() ? Stage::AuthMechanism : Stage::Ticket;
                break;
            }
            case Stage::AuthMechanism: {
                if (rest.size() < 4) {
                    return pos;
                }
                ByteReader r(rest, at);
                auth_mechanism_ = r.u32();
                cb_.on_auth(AuthEvent::Mechanism, at, rest.first(4));
                pos += 4;
                other.blocked = other.blocked || other.stage == Stage::ResultWait;
                if (*auth_mechanism_ == kAuthSasl) {
                    kill(flow, make_error(Errc::Unsupported, at,
                                          "SASL authentication: the SASL exchange and the "
                                          "messages after it are not framed"));
                    continue;
                }
                if (*auth_mechanism_ != kAuthSpice) {
                    kill(flow, make_error(Errc::BadValue, at,
                                          fmt::format("unknown auth mechanism {}",
                                                      *auth_mechanism_)));
                    continue;
                }
                flow.stage = Stage::Ticket;
                break;
            }
            case Stage::Ticket: {
                if (rest.size() < kEncryptedTicketSize) {
                    return pos;
                }
                cb_.on_auth(AuthEvent::Ticket, at, rest.first(kEncryptedTicketSize));
                pos += kEncryptedTicketSize;
                flow.stage = Stage::Data;
                break;
            }
            case Stage::ResultWait: {
                // The data header mode needs the client's link message too.
                if (!link_mess_ || (auth_selection() && !auth_mechanism_)) {
                    if (other.stage == Stage::Dead) {
                        kill(flow, make_error(Errc::BadValue, at,
                                              "the client's link stage failed; the server's "
                                              "messages cannot be framed"));
                        continue;
                    }
                    flow.blocked = true;
                    return pos;
                }
                if (auth_mechanism_ && *auth_mechanism_ == kAuthSasl) {
                    kill(flow, make_error(Errc::Unsupported, at,
                                          "SASL authentication: the SASL exchange and the "
                                          "messages after it are not framed"));
                    continue;
                }
                flow.stage = Stage::LinkResult;
                break;
            }
            case Stage::LinkResult: {
                if (rest.size() < 4) {
                    return pos;
                }
                ByteReader r(rest, at);
                link_result_ = r.u32();
                cb_.on_link_result(*link_result_, at);
                pos += 4;
                if (*link_result_ != 0) {
                    std::string_view name = link_error_name(*link_result_);
                    kill(flow, make_error(Errc::BadValue, at,
                                          fmt::format("link failed: {}",
                                                      name.empty() ? "error" : name)));
                    continue;
                }
                flow.stage = Stage::Data;
                break;
            }
            case Stage::Data: {
                const size_t used = process_data(flow, rest, at);
                pos += used;
                if (flow.stage == Stage::Data) {
                    return pos;
                }
                break;  // switched to Resync
            }
            case Stage::Resync: {
                const size_t used = process_resync(flow, rest, at, at_end);
                pos += used;
                if (flow.stage == Stage::Resync) {
                    return pos;
                }
                break;
            }
            case Stage::Dead:
                flow.unframed += rest.size();
                return data.size();
        }
    }
}

size_t ConnectionFramer::process_data(Flow& flow, ByteView data, uint64_t offset) {
    const uint16_t hs = header_size();
    const bool mini = hs == kMiniHeaderSize;
    size_t pos = 0;
    if (flow.skipping > 0) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(flow.skipping, data.size()));
        flow.skipping -= n;
        pos += n;
        if (flow.skipping > 0) {
            return pos;
        }
        cb_.on_message(flow.elided);
    }
    while (data.size() - pos >= hs) {
        ByteReader r(data.subspan(pos, hs), offset + pos);
        FramedMessage m;
        m.dir = flow.dir;
        m.offset = offset + pos;
        m.header_size = hs;
        if (!mini) {
            m.serial = r.u64();
        }
        m.type = r.u16();
        m.size = r.u32();
        if (!mini) {
            m.sub_list = r.u32();
        }
        if (m.size > opt_.max_message_size) {
            cb_.on_error(flow.dir, make_error(Errc::Corrupt, m.offset,
                                              fmt::format("data header announces {} bytes (type "
                                                          "{}); the stream is out of step",
                                                          m.size, m.type)));
            flow.stage = Stage::Resync;
            flow.sequence_known = false;
            return pos;
        }
        const size_t available = data.size() - pos - hs;
        if (available < m.size && m.size <= opt_.max_buffered_body) {
            break;
        }
        ++flow.sequence;
        if (flow.sequence_known) {
            m.sequence = flow.sequence;
        }
        if (m.serial) {
            flow.last_serial = m.serial;
        }
        if (available < m.size) {
            // Too large to keep: count the body through instead of buffering it.
            m.body_elided = true;
            flow.elided = m;
            flow.skipping = m.size - available;
            return data.size();
        }
        m.body = data.subspan(pos + hs, m.size);
        cb_.on_message(m);
        pos += hs + m.size;
    }
    return pos;
}

bool ConnectionFramer::plausible_header(const Flow& flow, ByteView data, size_t pos,
                                        uint32_t* size) const {
    ByteReader r(data.subspan(pos), 0);
    const bool mini = header_size() == kMiniHeaderSize;
    uint64_t serial = 0;
    if (!mini) {
        serial = r.u64();
    }
    const uint16_t type = r.u16();
    *size = r.u32();
    uint32_t sub_list = 0;
    if (!mini) {
        sub_list = r.u32();
    }
    if (!r.ok() || *size > opt_.max_message_size) {
        return false;
    }
    if (message_name(static_cast<uint8_t>(channel_type()), flow.dir, type).empty()) {
        return false;
    }
    if (!mini) {
        if (sub_list != 0 && sub_list >= *size) {
            return false;
        }
        // Serials only grow; a lost range hides at most a few million messages.
        const uint64_t last = flow.last_serial.value_or(0);
        if (serial <= last || serial - last > (uint64_t{1} << 24)) {
            return false;
        }
    }
    return true;
}

size_t ConnectionFramer::process_resync(Flow& flow, ByteView data, uint64_t offset, bool at_end) {
    const uint16_t hs = header_size();
    size_t start = 0;
    for (; start + hs <= data.size(); ++start) {
        // Follow the chain of headers from `start`; every link must look right.
        size_t pos = start;
        int links = 0;
        bool broken = false;
        while (links < opt_.resync_chain && pos + hs <= data.size()) {
            uint32_t size = 0;
            if (!plausible_header(flow, data, pos, &size)) {
                broken = true;
                break;
            }
            ++links;
            pos += hs + size;
            if (pos == data.size() && at_end) {
                break;  // the chain ends exactly with the stream
            }
        }
        if (broken) {
            continue;
        }
        const bool chain_complete =
            links >= opt_.resync_chain || (at_end && pos == data.size() && links > 0);
        if (!chain_complete) {
            // The chain runs past what we have: wait for more bytes (drop what is before).
            if (!at_end) {
                break;
            }
            continue;
        }
        if (start > 0) {
            cb_.on_resync(flow.dir, offset, offset + start);
            flow.unframed += start;
        }
        flow.stage = Stage::Data;
        return start;
    }
    const size_t skipped = at_end ? data.size() : start;
    if (skipped > 0) {
        cb_.on_resync(flow.dir, offset, offset + skipped);
        flow.unframed += skipped;
    }
    return skipped;
}

void ConnectionFramer::gap(Direction dir, uint64_t stream_offset, uint64_t length) {
    Flow& flow = flows_[index(dir)];
    const uint64_t end = flow.buf_offset + flow.buf.size();
    if (length == 0 || stream_offset + length <= end) {
        return;
    }
    const uint64_t gap_end = stream_offset + length;
    switch (flow.stage) {
        case Stage::Data:
        case Stage::Resync:
            if (flow.skipping > 0) {
                cb_.on_error(dir, make_error(Errc::Truncated, flow.elided.offset,
                                             fmt::format("message cut by a capture gap of {} "
                                                         "bytes at stream offset {}",
                                                         length, stream_offset)));
                flow.skipping = 0;
            } else if (!flow.buf.empty() && flow.stage == Stage::Data) {
                cb_.on_error(dir, make_error(Errc::Truncated, flow.buf_offset,
                                             fmt::format("message cut by a capture gap of {} "
                                                         "bytes at stream offset {}",
                                                         length, stream_offset)));
            }
            flow.unframed += flow.buf.size();
            flow.stage = Stage::Resync;
            flow.sequence_known = false;
            break;
        case Stage::Dead:
            break;
        default:
            kill(flow, make_error(Errc::Truncated, stream_offset,
                                  fmt::format("capture gap of {} bytes during the link stage; "
                                              "this direction cannot be framed",
                                              length)));
            flow.unframed += flow.buf.size();
            break;
    }
    flow.buf.clear();
    flow.buf_offset = gap_end;
}

void ConnectionFramer::finish() {
    finished_ = true;
    for (Flow& flow : flows_) {
        if (flow.skipping > 0) {
            cb_.on_error(flow.dir,
                         make_error(Errc::Truncated, flow.elided.offset,
                                    fmt::format("connection ended inside a message: {} bytes "
                                                "of its body missing",
                                                flow.skipping)));
            flow.unframed += flow.elided.size - flow.skipping + flow.elided.header_size;
            flow.skipping = 0;
        }
    }
    for (Flow& flow : flows_) {
        flow.blocked = true;
    }
    pump();
    for (Flow& flow : flows_) {
        if (flow.buf.empty()) {
            continue;
        }
        if (flow.stage == Stage::Resync) {
            const size_t used = process(flow, flow.buf, flow.buf_offset, true);
            flow.buf.erase(flow.buf.begin(), flow.buf.begin() + static_cast<ptrdiff_t>(used));
            flow.buf_offset += used;
            if (flow.buf.empty()) {
                continue;
            }
        }
        if (flow.stage != Stage::Dead) {
            cb_.on_error(flow.dir,
                         make_error(Errc::Truncated, flow.buf_offset,
                                    fmt::format("connection ended inside a message: {} bytes "
                                                "left unframed",
                                                flow.buf.size())));
            flow.unframed += flow.buf.size();
        }
        flow.buf.clear();
    }
}

}  // namespace spicetap::wire
