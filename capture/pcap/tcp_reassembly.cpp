// The rules, in short:
// - Connections are keyed by the 4-tuple. A connection opens on a SYN or on a segment carrying
//   data; pure ACK/FIN/RST packets of an unknown 4-tuple are counted as ignored. Initiator: the
//   sender of the SYN, the receiver of a SYN-ACK seen first, else the sender of the first
//   packet that opened the connection.
// - A closed (FIN or RST) 4-tuple is remembered for a while: late packets are ignored, a new
//   SYN opens a new connection. A SYN with another ISN on an open 4-tuple ends the old one
//   (reported as Idle: it went away without a close we saw).
// - In-order bytes go out at once, straight from the packet. Out-of-order bytes wait in a
//   per-direction buffer; overlaps keep the first copy; duplicates count as retransmitted.
// - A hole becomes a gap when the peer ACKs past it (up to the data or FIN known to follow),
//   when the buffer exceeds max_out_of_order_bytes, when the capture cut a segment short
//   (snap length), and when the connection closes (RST, both FINs, idle, finish()).
#include "capture/pcap/tcp_reassembly.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "capture/pcap/tcp_segment.h"

namespace spicetap::capture {

using detail::ParseOutcome;
using detail::TcpSegment;

std::string Endpoint::to_string() const {
    if (address.find(':') != std::string::npos) {
        return "[" + address + "]:" + std::to_string(port);
    }
    return address + ":" + std::to_string(port);
}

const char* close_reason_name(CloseReason r) {
    switch (r) {
        case CloseReason::Fin:
            return "fin";
        case CloseReason::Rst:
            return "rst";
        case CloseReason::EndOfCapture:
            return "end_of_capture";
        case CloseReason::Idle:
            return "idle";
    }
    return "unknown";
}

namespace {

// Closed 4-tuples are remembered this long (about TIME_WAIT) so late retransmissions and the
// last ACK do not open a phantom connection, and at most this many are kept.
constexpr int64_t kTombstoneLifetimeUs = 120'000'000;
constexpr size_t kMaxTombstones = 65536;

// A 4-tuple with the two endpoints in a canonical order, so both directions find the same
// connection. No padding: hashed and compared as raw bytes.
struct Key {
    uint8_t addr[2][16];
    uint16_t port[2];
    uint8_t ipv6;
    uint8_t zero;

    bool operator==(const Key& o) const { return std::memcmp(this, &o, sizeof(Key)) == 0; }
};

static_assert(sizeof(Key) == 38, "Key must have no padding");

struct KeyHash {
    size_t operator()(const Key& k) const {
        return std::hash<std::string_view>{}(
            std::string_view(reinterpret_cast<const char*>(&k), sizeof(Key)));
    }
};

// Builds the key of a segment and returns which slot (0 or 1) the sender occupies.
int make_key(const TcpSegment& seg, Key& key) {
    std::memset(&key, 0, sizeof key);
    key.ipv6 = seg.ipv6 ? 1 : 0;
    int c = std::memcmp(seg.src, seg.dst, 16);
    int sender = (c < 0 || (c == 0 && seg.src_port <= seg.dst_port)) ? 0 : 1;
    std::memcpy(key.addr[sender], seg.src, 16);
    std::memcpy(key.addr[1 - sender], seg.dst, 16);
    key.port[sender] = seg.src_port;
    key.port[1 - sender] = seg.dst_port;
    return sender;
}

Endpoint endpoint_of(const Key& key, int slot) {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(key.ipv6 ? AF_INET6 : AF_INET, key.addr[slot], text, sizeof text);
    return Endpoint{text, key.port[slot]};
}

// One direction of a connection. Offsets are 64-bit stream offsets (0 = first byte after the
// SYN, or the first byte seen); 32-bit sequence numbers are unwrapped against `next`.
struct Stream {
    bool started = false;
    bool saw_syn = false;
    uint32_t isn = 0;
    uint32_t base_seq = 0;  // sequence number of stream offset 0
    uint64_t next = 0;      // everything below was delivered or reported as a gap
    // Out-of-order bytes, non-overlapping, every key > next.
    std::map<uint64_t, std::vector<uint8_t>> pending;
    uint64_t pending_bytes = 0;
    bool fin = false;
    uint64_t fin_offset = 0;
    bool acked = false;
    uint64_t acked_to = 0;  // the peer acknowledged everything below this

    // Signed: negative means before the start of the stream.
    int64_t offset_of(uint32_t seq) const {
        uint32_t rel = seq - base_seq;
        auto delta = static_cast<int32_t>(rel - static_cast<uint32_t>(next));
        return static_cast<int64_t>(next) + delta;
    }

    uint64_t pending_end() const {
        if (pending.empty()) {
            return next;
        }
        auto last = std::prev(pending.end());
        return last->first + last->second.size();
    }
};

struct Connection {
    ConnectionId id = 0;
    Key key{};
    int initiator_slot = 0;
    int64_t last_ts = 0;
    Stream streams[2];  // indexed by Side
};

}  // namespace

struct TcpReassembler::Impl {
    TcpCallbacks& cb;
    ReassemblyOptions options;
    ReassemblyStats stats;
    ConnectionId next_id = 1;
    std::unordered_map<Key, std::unique_ptr<Connection>, KeyHash> connections;
    std::unordered_map<Key, int64_t, KeyHash> tombstones;  // closed 4-tuple -> close time
    std::deque<std::pair<Key, int64_t>> tombstone_order;

    Impl(TcpCallbacks& c, ReassemblyOptions o) : cb(c), options(o) {}

    void feed(const RawPacket& packet);
    void handle(const TcpSegment& seg, int64_t ts);
    Connection* open(const Key& key, int sender, const TcpSegment& seg, int64_t ts);
    void accept_data(Connection& c, Side side, int64_t offset, ByteView data, uint32_t missing_tail,
                     int64_t ts);
    void deliver_in_order(Connection& c, Side side, ByteView data, int64_t ts);
    void buffer(Connection& c, Side side, uint64_t offset, ByteView data, int64_t ts);
    void drain(Connection& c, Side side, int64_t ts);
    void skip_to(Connection& c, Side side, uint64_t target, int64_t ts);
    void resolve_acked(Connection& c, Side side, int64_t ts);
    void flush(Connection& c, Side side, int64_t ts);
    void close(const Key& key, int64_t ts, CloseReason reason, bool remember);
    void remember_closed(const Key& key, int64_t ts);
    void expire_tombstones(int64_t now);

    void emit(Connection& c, Side side, ByteView data, int64_t ts) {
        Stream& s = c.streams[static_cast<int>(side)];
        cb.on_data(c.id, side, ts, s.next, data);
        s.next += data.size();
    }

    void gap(Connection& c, Side side, uint64_t length, int64_t ts) {
        Stream& s = c.streams[static_cast<int>(side)];
        cb.on_gap(c.id, side, ts, s.next, length);
        stats.gap_bytes += length;
        s.next += length;
    }
};

void TcpReassembler::Impl::feed(const RawPacket& packet) {
    ++stats.packets;
    TcpSegment seg;
    switch (detail::parse_tcp_segment(packet.linktype, packet.data, seg)) {
        case ParseOutcome::Tcp:
            break;
        case ParseOutcome::Fragment:
            ++stats.ip_fragments;
            ++stats.non_tcp_packets;
            return;
        case ParseOutcome::Malformed:
            ++stats.malformed_packets;
            return;
        case ParseOutcome::NotTcp:
        case ParseOutcome::Unsupported:
            ++stats.non_tcp_packets;
            return;
    }
    ++stats.tcp_packets;
    if (seg.first_fragment) {
        ++stats.ip_fragments;
    }
    handle(seg, packet.ts_us);
}

Connection* TcpReassembler::Impl::open(const Key& key, int sender, const TcpSegment& seg,
                                       int64_t ts) {
    bool syn = (seg.flags & detail::kSyn) != 0;
    bool ack = (seg.flags & detail::kAck) != 0;
    auto conn = std::make_unique<Connection>();
    conn->id = next_id++;
    conn->key = key;
    // A SYN-ACK seen first (the SYN was missed) still tells who the server is.
    conn->initiator_slot = (syn && ack) ? 1 - sender : sender;
    conn->last_ts = ts;
    Connection* c = conn.get();
    connections.emplace(key, std::move(conn));
    ++stats.connections;
    cb.on_open(c->id, endpoint_of(key, c->initiator_slot), endpoint_of(key, 1 - c->initiator_slot),
               ts, syn && !ack);
    return c;
}

namespace {

// Whether an opening SYN is part of this connection: a retransmission of its SYN, or its SYN
// captured late (after the SYN-ACK, or right before the first byte we saw).
bool syn_belongs(const Connection& c, int sender, uint32_t seq) {
    if (sender != c.initiator_slot) {
        return false;
    }
    const Stream& s = c.streams[0];
    if (s.saw_syn) {
        return s.isn == seq;
    }
    return !s.started || s.base_seq == seq + 1;
}

}  // namespace

void TcpReassembler::Impl::handle(const TcpSegment& seg, int64_t ts) {
    const bool syn = (seg.flags & detail::kSyn) != 0;
    const bool ack = (seg.flags & detail::kAck) != 0;
    const bool fin = (seg.flags & detail::kFin) != 0;
    const bool rst = (seg.flags & detail::kRst) != 0;
    const bool opening_syn = syn && !ack && !rst;
    const bool carries_data = !seg.payload.empty() || seg.missing_tail > 0;

    Key key;
    int sender = make_key(seg, key);
    auto it = connections.find(key);
    if (it != connections.end() && opening_syn && !syn_belongs(*it->second, sender, seg.seq)) {
        // The 4-tuple was reused without a close we saw, so the old connection is over.
        close(key, ts, CloseReason::Idle, false);
        it = connections.end();
    }
    Connection* c = nullptr;
    if (it == connections.end()) {
        auto tomb = tombstones.find(key);
        if (tomb != tombstones.end()) {
            if (!opening_syn) {
                ++stats.ignored_packets;  // late packet of a closed connection
                return;
            }
            tombstones.erase(tomb);
        }
        // Pure ACKs, FINs and RSTs say nothing about a connection we do not know yet; and a
        // pure ACK may be a keep-alive at seq-1, a bad place to start a stream.
        if (!syn && !carries_data) {
            ++stats.ignored_packets;
            return;
        }
        c = open(key, sender, seg, ts);
    } else {
        c = it->second.get();
    }
    c->last_ts = ts;

    const Side side = sender == c->initiator_slot ? Side::Initiator : Side::Responder;
    const Side peer_side = side == Side::Initiator ? Side::Responder : Side::Initiator;
    Stream& s = c->streams[static_cast<int>(side)];
    Stream& peer = c->streams[static_cast<int>(peer_side)];

    if (syn && !rst && !s.started) {
        s.started = true;
        s.saw_syn = true;
        s.isn = seg.seq;
        s.base_seq = seg.seq + 1;
    }
    if (!s.started && (carries_data || fin) && !rst) {
        s.started = true;  // first seen mid-way: this byte is offset 0
        s.base_seq = seg.seq;
    }
    if (s.started && !rst) {
        int64_t offset = s.offset_of(seg.seq + (syn ? 1 : 0));
        if (carries_data) {
            // A keep-alive repeats (at most) the last byte acknowledged: ignore, do not count.
            bool keepalive = !syn && !fin && seg.payload.size() <= 1 && seg.missing_tail == 0 &&
                             offset + 1 == static_cast<int64_t>(s.next);
            if (!keepalive) {
                accept_data(*c, side, offset, seg.payload, seg.missing_tail, ts);
            }
        }
        if (fin && !s.fin) {
            int64_t end = offset + static_cast<int64_t>(seg.payload.size() + seg.missing_tail);
            s.fin = true;
            s.fin_offset =
                std::max<uint64_t>(static_cast<uint64_t>(std::max<int64_t>(end, 0)), s.next);
            resolve_acked(*c, side, ts);
        }
    }
    if (ack && !rst && peer.started) {
        int64_t acked = peer.offset_of(seg.ack);
        if (acked > 0 && (!peer.acked || static_cast<uint64_t>(acked) > peer.acked_to)) {
            peer.acked = true;
            peer.acked_to = static_cast<uint64_t>(acked);
            resolve_acked(*c, peer_side, ts);
        }
    }
    if (rst) {
        close(key, ts, CloseReason::Rst, true);
        return;
    }
    // Both FINs: closed once nothing is missing before them (the last ACK usually settles
    // that), so a data segment captured after the other side's FIN is not lost.
    if (c->streams[0].fin && c->streams[1].fin && c->streams[0].next >= c->streams[0].fin_offset &&
        c->streams[1].next >= c->streams[1].fin_offset) {
        close(key, ts, CloseReason::Fin, true);
    }
}

void TcpReassembler::Impl::accept_data(Connection& c, Side side, int64_t offset, ByteView data,
                                       uint32_t missing_tail, int64_t ts) {
    Stream& s = c.streams[static_cast<int>(side)];
    auto next = static_cast<int64_t>(s.next);
    int64_t end = offset + static_cast<int64_t>(data.size());
    int64_t wire_end = end + missing_tail;
    if (s.fin) {  // nothing can follow the FIN
        auto limit = static_cast<int64_t>(s.fin_offset);
        if (offset >= limit) {
            return;
        }
        if (end > limit) {
            data = data.first(static_cast<size_t>(limit - offset));
            end = limit;
        }
        wire_end = std::min(wire_end, limit);
    }
    if (end <= next) {
        stats.retransmitted_bytes += data.size();
    } else {
        if (offset < next) {
            auto dup = static_cast<size_t>(next - offset);
            stats.retransmitted_bytes += dup;
            data = data.subspan(dup);
            offset = next;
        }
        if (offset > next) {
            buffer(c, side, static_cast<uint64_t>(offset), data, ts);
        } else {
            deliver_in_order(c, side, data, ts);
        }
    }
    // The capture cut this segment short (snap length): those bytes were sent, so once the
    // stream has reached the cut they are a gap.
    if (wire_end > end && static_cast<int64_t>(s.next) >= end) {
        skip_to(c, side, static_cast<uint64_t>(wire_end), ts);
    }
}

// `data` starts exactly at s.next. Straight from the packet buffer, except where an earlier
// buffered copy covers the same range: the first copy wins.
void TcpReassembler::Impl::deliver_in_order(Connection& c, Side side, ByteView data, int64_t ts) {
    Stream& s = c.streams[static_cast<int>(side)];
    while (!data.empty()) {
        auto first = s.pending.begin();
        if (first == s.pending.end() || first->first >= s.next + data.size()) {
            emit(c, side, data, ts);
            break;
        }
        if (first->first > s.next) {
            auto n = static_cast<size_t>(first->first - s.next);
            emit(c, side, data.first(n), ts);
            data = data.subspan(n);
        }
        uint64_t chunk_end = first->first + first->second.size();
        if (chunk_end > s.next) {
            auto skip = static_cast<size_t>(s.next - first->first);
            size_t covered = std::min<uint64_t>(chunk_end - s.next, data.size());
            stats.retransmitted_bytes += covered;
            data = data.subspan(covered);
            emit(c, side, ByteView(first->second).subspan(skip), ts);
        }
        s.pending_bytes -= first->second.size();
        s.pending.erase(first);
    }
    drain(c, side, ts);
}

// Stores the parts of [offset, offset + size) no buffered segment covers yet.
void TcpReassembler::Impl::buffer(Connection& c, Side side, uint64_t offset, ByteView data,
                                  int64_t ts) {
    Stream& s = c.streams[static_cast<int>(side)];
    const uint64_t end = offset + data.size();
    uint64_t cursor = offset;
    auto it = s.pending.lower_bound(offset);
    if (it != s.pending.begin()) {
        auto before = std::prev(it);
        uint64_t before_end = before->first + before->second.size();
        if (before_end > cursor) {
            uint64_t covered_to = std::min(before_end, end);
            stats.retransmitted_bytes += covered_to - cursor;
            cursor = covered_to;
        }
    }
    auto store = [&](uint64_t from, uint64_t to) {
        const uint8_t* p = data.data() + (from - offset);
        s.pending.emplace_hint(it, from, std::vector<uint8_t>(p, p + (to - from)));
        s.pending_bytes += to - from;
    };
    while (cursor < end) {
        if (it == s.pending.end() || it->first >= end) {
            store(cursor, end);
            break;
        }
        if (it->first > cursor) {
            store(cursor, it->first);
        }
        uint64_t covered_to = std::min<uint64_t>(it->first + it->second.size(), end);
        stats.retransmitted_bytes += covered_to - it->first;
        cursor = covered_to;
        ++it;
    }
    // Bounded memory: past the limit, the first hole is given up as a gap.
    while (s.pending_bytes > options.max_out_of_order_bytes && !s.pending.empty()) {
        skip_to(c, side, s.pending.begin()->first, ts);
    }
    resolve_acked(c, side, ts);
}

void TcpReassembler::Impl::drain(Connection& c, Side side, int64_t ts) {
    Stream& s = c.streams[static_cast<int>(side)];
    while (!s.pending.empty() && s.pending.begin()->first <= s.next) {
        auto first = s.pending.begin();
        uint64_t chunk_end = first->first + first->second.size();
        if (chunk_end > s.next) {
            auto skip = static_cast<size_t>(s.next - first->first);
            emit(c, side, ByteView(first->second).subspan(skip), ts);
        }
        s.pending_bytes -= first->second.size();
        s.pending.erase(first);
    }
}

// Moves the stream to `target`: buffered bytes on the way are delivered, holes become gaps.
void TcpReassembler::Impl::skip_to(Connection& c, Side side, uint64_t target, int64_t ts) {
    Stream& s = c.streams[static_cast<int>(side)];
    while (s.next < target) {
        drain(c, side, ts);
        if (s.next >= target) {
            break;
        }
        uint64_t hole_end = s.pending.empty() ? target : std::min(target, s.pending.begin()->first);
        gap(c, side, hole_end - s.next, ts);
    }
    drain(c, side, ts);
}

// Bytes the peer acknowledged were sent; if the capture lacks them, they are a gap now rather
// than at the end. Only up to data we know follows (buffered bytes or the FIN): a bare ACK
// beyond everything may be acknowledging a FIN we did not capture.
void TcpReassembler::Impl::resolve_acked(Connection& c, Side side, int64_t ts) {
    Stream& s = c.streams[static_cast<int>(side)];
    if (!s.acked || s.acked_to <= s.next) {
        return;
    }
    uint64_t known_end = s.pending_end();
    if (s.fin) {
        known_end = std::max(known_end, s.fin_offset);
    }
    uint64_t target = std::min(s.acked_to, known_end);
    if (target > s.next) {
        skip_to(c, side, target, ts);
    }
}

void TcpReassembler::Impl::flush(Connection& c, Side side, int64_t ts) {
    Stream& s = c.streams[static_cast<int>(side)];
    uint64_t target = s.pending_end();
    if (s.fin) {
        target = std::max(target, s.fin_offset);
    }
    skip_to(c, side, target, ts);
}

void TcpReassembler::Impl::close(const Key& key, int64_t ts, CloseReason reason, bool remember) {
    auto it = connections.find(key);
    if (it == connections.end()) {
        return;
    }
    // Keep the connection alive across the callbacks, then free it with its buffers.
    std::unique_ptr<Connection> conn = std::move(it->second);
    connections.erase(it);
    flush(*conn, Side::Initiator, ts);
    flush(*conn, Side::Responder, ts);
    cb.on_close(conn->id, ts, reason);
    if (remember) {
        remember_closed(key, ts);
    }
}

void TcpReassembler::Impl::remember_closed(const Key& key, int64_t ts) {
    if (tombstone_order.size() >= kMaxTombstones) {
        const auto& [old_key, old_ts] = tombstone_order.front();
        auto found = tombstones.find(old_key);
        if (found != tombstones.end() && found->second == old_ts) {
            tombstones.erase(found);
        }
        tombstone_order.pop_front();
    }
    tombstones[key] = ts;
    tombstone_order.emplace_back(key, ts);
}

void TcpReassembler::Impl::expire_tombstones(int64_t now) {
    while (!tombstone_order.empty() &&
           tombstone_order.front().second + kTombstoneLifetimeUs < now) {
        const auto& [old_key, old_ts] = tombstone_order.front();
        auto found = tombstones.find(old_key);
        if (found != tombstones.end() && found->second == old_ts) {
            tombstones.erase(found);
        }
        tombstone_order.pop_front();
    }
}

TcpReassembler::TcpReassembler(TcpCallbacks& callbacks, ReassemblyOptions options)
    : impl_(std::make_unique<Impl>(callbacks, options)) {}

TcpReassembler::~TcpReassembler() = default;

void TcpReassembler::feed(const RawPacket& packet) {
    impl_->feed(packet);
}

void TcpReassembler::tick(int64_t now_us) {
    impl_->expire_tombstones(now_us);
    if (impl_->options.idle_timeout_us <= 0) {
        return;
    }
    std::vector<std::pair<ConnectionId, Key>> idle;
    for (const auto& [key, conn] : impl_->connections) {
        if (now_us - conn->last_ts > impl_->options.idle_timeout_us) {
            idle.emplace_back(conn->id, key);
        }
    }
    std::sort(idle.begin(), idle.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    // Not remembered as closed: if the 4-tuple speaks again, that is a (mid-way) connection.
    for (const auto& entry : idle) {
        impl_->close(entry.second, now_us, CloseReason::Idle, false);
    }
}

void TcpReassembler::finish(int64_t ts_us) {
    std::vector<std::pair<ConnectionId, Key>> open;
    open.reserve(impl_->connections.size());
    for (const auto& [key, conn] : impl_->connections) {
        open.emplace_back(conn->id, key);
    }
    std::sort(open.begin(), open.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& entry : open) {
        const Connection& c = *impl_->connections.at(entry.second);
        bool any_fin = c.streams[0].fin || c.streams[1].fin;
        impl_->close(entry.second, ts_us, any_fin ? CloseReason::Fin : CloseReason::EndOfCapture,
                     false);
    }
}

const ReassemblyStats& TcpReassembler::stats() const {
    return impl_->stats;
}

bool TcpReassembler::supports_linktype(int linktype) {
    return detail::linktype_supported(linktype);
}

}  // namespace spicetap::capture
