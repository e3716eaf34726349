#include "capture/import/spice_sessions.h"

#include <fmt/core.h>
#include <spice/enums.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <deque>
#include <system_error>
#include <variant>

#include "capture/log/writer_identity.h"
#include "decode/wire/framer.h"

namespace spicetap::capture {

using wire::Direction;

namespace {

// Enough bytes of each side to recognise a link header and tell client from server.
constexpr size_t kProbeBytes = wire::kLinkHeaderSize;
// Bytes held while one side has spoken without the link magic and the other is still silent.
constexpr size_t kMaxUndecidedBytes = 64 * 1024;

// ISO 8601 ("2026-11-24T01:11:57Z") or compact for file names ("20261124-011157").
std::string utc_stamp(int64_t ts_us, bool compact) {
    const std::time_t t = static_cast<std::time_t>(ts_us / 1000000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    if (compact) {
        std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
    } else {
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    return buf;
}

struct PendingData {
    Direction dir;
    int64_t ts_us;
    uint64_t offset;
    std::vector<uint8_t> bytes;
};

using PendingEvent = std::variant<PendingData, log::GapRecord, log::MessageRecord, log::NoteRecord>;

}  // namespace

struct SpiceSessionBuilder::Session {
    std::unique_ptr<log::SessionLogWriter> writer;
    std::filesystem::path temp_path;  // where the writer writes (the final name when live)
    std::string base_name;            // live: "<start>-<session id>", shared by every part
    log::SessionInfo info;
    size_t connections = 0;
    uint64_t messages = 0;
    uint64_t framing_errors = 0;
    uint64_t gap_bytes = 0;
    std::string server_addr;
    size_t open_connections = 0;  // assigned and not closed yet
    uint64_t part_bytes = 0;      // raw bytes in the current part
    int64_t part_start_us = 0;
    std::optional<log::CaptureCounters> counters_at_open;
};

struct SpiceSessionBuilder::Connection : wire::FramerCallbacks {
    enum class Kind { Undecided, Spice, Other };

    SpiceSessionBuilder* owner = nullptr;
    ConnectionId id = 0;
    Endpoint initiator, responder;
    Kind kind = Kind::Undecided;
    Side client_side = Side::Initiator;
    std::vector<uint8_t> probe[2];       // first bytes of each side, by Side
    std::vector<PendingData> undecided;  // data held until the kind is known

    std::unique_ptr<wire::ConnectionFramer> framer;
    Session* session = nullptr;
    std::vector<PendingEvent> pending;  // held until the session is known
    log::ConnectionInfo info;
    bool closed = false;

    // Capture times of the chunks not yet fully framed, per direction, to time messages.
    struct ChunkTime {
        uint64_t begin, end;
        int64_t ts_us;
    };

    std::deque<ChunkTime> times[2];
    // Per direction: the time of the last message. A message is never earlier than the one
    // before it in its stream: tcpdump on a multi-core host can stamp a segment before the one
    // ahead of it in sequence, and the bytes only became usable once that hole was filled.
    int64_t last_message_us[2] = {0, 0};
    int64_t now_us = 0;
    // Per direction: the stream offset after the last byte seen, and after the last whole
    // message (where a rotated part starts copying, so no message is split between parts).
    uint64_t stream_end[2] = {0, 0};
    uint64_t message_end[2] = {0, 0};

    Direction dir_of(Side s) const {
        return s == client_side ? Direction::ClientToServer : Direction::ServerToClient;
    }

    int64_t time_of(Direction d, uint64_t first, uint64_t last) {
        auto& q = times[static_cast<size_t>(d)];
        while (!q.empty() && q.front().end <= first) {
            q.pop_front();
        }
        for (const ChunkTime& c : q) {
            if (last >= c.begin && last < c.end) {
                return c.ts_us;
            }
        }
        return now_us;
    }

    void emit(PendingEvent ev);
    // Raw bytes go straight to the log once the session is known (no copy).
    void emit_data(Direction d, int64_t ts_us, uint64_t offset, ByteView bytes);

    void on_link_mess(const wire::LinkMess& m, uint64_t) override {
        info.channel_type = m.channel_type;
        info.channel_id = m.channel_id;
        info.connection_id = m.connection_id;
        info.client_common_caps = m.common_caps;
        info.client_channel_caps = m.channel_caps;
        if (m.connection_id != 0 || m.channel_type != SPICE_CHANNEL_MAIN) {
            owner->assign_session(*this, m.connection_id);
        }
    }

    void on_link_reply(const wire::LinkReply& r, uint64_t) override {
        info.server_common_caps = r.common_caps;
        info.server_channel_caps = r.channel_caps;
        info.link_error = r.error;
        info.mini_header = framer->mini_header();
    }

    void on_link_result(uint32_t error, uint64_t) override {
        info.link_error = error;
        info.mini_header = framer->mini_header();
    }

    void on_message(const wire::FramedMessage& m) override {
        log::MessageRecord rec;
        rec.connection = 0;  // filled when written
        rec.dir = m.dir;
        rec.offset = m.offset;
        rec.serial = m.serial;
        rec.type = m.type;
        rec.size = m.size;
        rec.header_size = m.header_size;
        int64_t& last_us = last_message_us[static_cast<size_t>(m.dir)];
        rec.ts_us =
            std::max(time_of(m.dir, m.offset, m.offset + m.header_size + m.size - 1), last_us);
        last_us = rec.ts_us;
        ++owner->stats_.messages;
        message_end[static_cast<size_t>(m.dir)] = m.offset + m.header_size + m.size;
        if (!session && m.dir == Direction::ServerToClient &&
            info.channel_type == SPICE_CHANNEL_MAIN && m.type == SPICE_MSG_MAIN_INIT &&
            m.body.size() >= 4) {
            const uint32_t sid =
                static_cast<uint32_t>(m.body[0]) | static_cast<uint32_t>(m.body[1]) << 8 |
                static_cast<uint32_t>(m.body[2]) << 16 | static_cast<uint32_t>(m.body[3]) << 24;
            emit(rec);
            owner->assign_session(*this, sid);
            return;
        }
        emit(rec);
    }

    void on_error(Direction d, const DecodeError& e) override {
        ++owner->stats_.framing_errors;
        log::NoteRecord n;
        n.ts_us = now_us;
        n.kind = "framing_error";
        n.text = fmt::format("{} {}", wire::direction_name(d), e.message());
        emit(n);
    }

    void on_resync(Direction d, uint64_t from, uint64_t to) override {
        log::NoteRecord n;
        n.ts_us = now_us;
        n.kind = "resync";
        n.text = fmt::format("{} skipped stream bytes {}..{} ({} bytes) to find the next message",
                             wire::direction_name(d), from, to, to - from);
        emit(n);
    }
};

void SpiceSessionBuilder::Connection::emit(PendingEvent ev) {
    if (!session) {
        pending.push_back(std::move(ev));
        return;
    }
    if (owner->fatal_) {
        return;
    }
    log::SessionLogWriter& w = *session->writer;
    Result<void> r;
    if (auto* d = std::get_if<PendingData>(&ev)) {
        emit_data(d->dir, d->ts_us, d->offset, d->bytes);
        return;
    }
    if (auto* g = std::get_if<log::GapRecord>(&ev)) {
        g->connection = info.id;
        session->gap_bytes += g->length;
        r = w.append_gap(*g);
    } else if (auto* m = std::get_if<log::MessageRecord>(&ev)) {
        m->connection = info.id;
        ++session->messages;
        r = w.append_message(*m);
    } else if (auto* n = std::get_if<log::NoteRecord>(&ev)) {
        n->connection = info.id;
        if (n->kind == "framing_error") {
            ++session->framing_errors;
        }
        r = w.append_note(*n);
    }
    if (!r) {
        owner->fail(r.error());
    }
}

void SpiceSessionBuilder::Connection::emit_data(Direction d, int64_t ts_us, uint64_t offset,
                                                ByteView bytes) {
    if (!session) {
        pending.push_back(PendingData{d, ts_us, offset, {bytes.begin(), bytes.end()}});
        return;
    }
    if (owner->fatal_) {
        return;
    }
    session->info.end_us = std::max(session->info.end_us, ts_us);
    session->part_bytes += bytes.size();
    auto r = session->writer->append_data(info.id, d, ts_us, offset, bytes);
    if (!r) {
        owner->fail(r.error());
    }
}

SpiceSessionBuilder::SpiceSessionBuilder(SessionSinkOptions options) : opt_(std::move(options)) {}

SpiceSessionBuilder::~SpiceSessionBuilder() = default;

void SpiceSessionBuilder::fail(DecodeError e) {
    if (!fatal_) {
        fatal_ = std::move(e);
    }
}

void SpiceSessionBuilder::on_open(ConnectionId id, const Endpoint& initiator,
                                  const Endpoint& responder, int64_t ts_us, bool) {
    auto c = std::make_unique<Connection>();
    c->owner = this;
    c->id = id;
    c->initiator = initiator;
    c->responder = responder;
    c->info.start_us = ts_us;
    c->info.end_us = ts_us;
    connections_[id] = std::move(c);
}

void SpiceSessionBuilder::decide_kind(Connection& c) {
    const auto& a = c.probe[0];
    const auto& b = c.probe[1];
    auto link_size = [](const std::vector<uint8_t>& p) -> int64_t {
        if (p.size() < kProbeBytes || !wire::starts_with_link_magic(p)) {
            return -1;
        }
        return static_cast<int64_t>(p[12]) | static_cast<int64_t>(p[13]) << 8 |
               static_cast<int64_t>(p[14]) << 16 | static_cast<int64_t>(p[15]) << 24;
    };
    auto has_magic = [](const std::vector<uint8_t>& p) {
        return p.size() >= 4 && wire::starts_with_link_magic(p);
    };
    auto settled = [](const std::vector<uint8_t>& p) { return p.size() >= 4; };
    const int64_t sa = link_size(a);
    const int64_t sb = link_size(b);
    const auto reply = static_cast<int64_t>(wire::kLinkReplyFixedSize);
    if (!has_magic(a) && !has_magic(b)) {
        // Neither side opened with the link magic. Wait for the other side's first bytes (a
        // client that starts with a broken link header still gets the server's reply), unless
        // it stays silent for long.
        size_t held = 0;
        for (const auto& d : c.undecided) {
            held += d.bytes.size();
        }
        if ((settled(a) && settled(b)) || held > kMaxUndecidedBytes) {
            c.kind = Connection::Kind::Other;
        } else {
            return;
        }
    } else if (sa >= 0 && sa < reply) {
        // The client's SpiceLinkMess is shorter than the server's 178-byte SpiceLinkReply.
        c.kind = Connection::Kind::Spice;
        c.client_side = Side::Initiator;
    } else if (sb >= 0 && sb < reply) {
        c.kind = Connection::Kind::Spice;
        c.client_side = Side::Responder;
    } else if (sa >= reply) {
        c.kind = Connection::Kind::Spice;
        c.client_side = Side::Responder;
    } else if (sb >= reply) {
        c.kind = Connection::Kind::Spice;
        c.client_side = Side::Initiator;  // the other side's link stage is broken
    } else {
        return;  // a side shows the magic but not yet the size
    }
    if (c.kind == Connection::Kind::Other) {
        ++stats_.other_connections;
        for (const auto& d : c.undecided) {
            stats_.other_bytes += d.bytes.size();
        }
        c.undecided.clear();
        return;
    }
    ++stats_.spice_connections;
    const Endpoint& client = c.client_side == Side::Initiator ? c.initiator : c.responder;
    const Endpoint& server = c.client_side == Side::Initiator ? c.responder : c.initiator;
    c.info.client_addr = client.address;
    c.info.client_port = client.port;
    c.info.server_addr = server.address;
    c.info.server_port = server.port;
    // The raw bytes go to the log as they come; the framer only needs to keep small bodies
    // (MAIN_INIT's session id), so large ones are counted through, not buffered.
    wire::FramerOptions framing;
    framing.max_buffered_body = 4096;
    c.framer = std::make_unique<wire::ConnectionFramer>(c, framing);
    // Replay what was held back, with the direction now known.
    std::vector<PendingData> held = std::move(c.undecided);
    c.undecided.clear();
    for (auto& d : held) {
        const Side side = d.dir == Direction::ClientToServer ? Side::Initiator : Side::Responder;
        on_data(c.id, side, d.ts_us, d.offset, d.bytes);
    }
}

SpiceSessionBuilder::Connection* SpiceSessionBuilder::find_live(ConnectionId id) {
    auto it = connections_.find(id);
    return it == connections_.end() || fatal_ ? nullptr : it->second.get();
}

void SpiceSessionBuilder::on_data(ConnectionId id, Side side, int64_t ts_us, uint64_t stream_offset,
                                  ByteView data) {
    Connection* found = find_live(id);
    if (!found) {
        return;
    }
    Connection& c = *found;
    c.info.end_us = std::max(c.info.end_us, ts_us);
    c.now_us = ts_us;
    if (c.kind == Connection::Kind::Other) {
        stats_.other_bytes += data.size();
        return;
    }
    if (c.kind == Connection::Kind::Undecided) {
        auto& probe = c.probe[static_cast<size_t>(side)];
        if (stream_offset == probe.size()) {
            const size_t take = std::min(kProbeBytes - probe.size(), data.size());
            probe.insert(probe.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
        } else if (probe.size() < 4) {
            probe.assign(4, 0);  // a side starting with a gap cannot show the magic
        }
        // Side is stored in `dir` as Initiator=c2s until the real direction is known.
        c.undecided.push_back(PendingData{
            side == Side::Initiator ? Direction::ClientToServer : Direction::ServerToClient, ts_us,
            stream_offset, std::vector<uint8_t>(data.begin(), data.end())});
        decide_kind(c);
        return;
    }
    const Direction dir = c.dir_of(side);
    if (dir == Direction::ClientToServer) {
        c.info.bytes_c2s += data.size();
    } else {
        c.info.bytes_s2c += data.size();
    }
    c.times[static_cast<size_t>(dir)].push_back(
        {stream_offset, stream_offset + data.size(), ts_us});
    c.stream_end[static_cast<size_t>(dir)] = stream_offset + data.size();
    c.emit_data(dir, ts_us, stream_offset, data);
    c.framer->feed(dir, stream_offset, data);
}

void SpiceSessionBuilder::on_gap(ConnectionId id, Side side, int64_t ts_us, uint64_t stream_offset,
                                 uint64_t length) {
    Connection* found = find_live(id);
    if (!found) {
        return;
    }
    Connection& c = *found;
    c.now_us = ts_us;
    if (c.kind == Connection::Kind::Undecided) {
        auto& probe = c.probe[static_cast<size_t>(side)];
        if (probe.size() < 4) {
            probe.assign(4, 0);
        }
        decide_kind(c);
        if (c.kind == Connection::Kind::Undecided) {
            return;  // the other side may still show the magic; the gap is re-seen below
        }
    }
    if (c.kind != Connection::Kind::Spice) {
        return;
    }
    const Direction dir = c.dir_of(side);
    c.stream_end[static_cast<size_t>(dir)] = stream_offset + length;
    c.emit(log::GapRecord{0, dir, ts_us, stream_offset, length});
    c.framer->gap(dir, stream_offset, length);
}

void SpiceSessionBuilder::on_close(ConnectionId id, int64_t ts_us, CloseReason reason) {
    auto it = connections_.find(id);
    if (it == connections_.end()) {
        return;
    }
    Connection& c = *it->second;
    if (c.kind == Connection::Kind::Undecided && !c.undecided.empty()) {
        // Too few bytes to tell; the connection is not counted as SPICE.
        c.kind = Connection::Kind::Other;
        ++stats_.other_connections;
        for (const auto& d : c.undecided) {
            stats_.other_bytes += d.bytes.size();
        }
    }
    if (c.kind == Connection::Kind::Spice && !fatal_) {
        c.now_us = std::max(c.now_us, ts_us);
        c.framer->finish();
        c.info.end_us = std::max(c.info.end_us, ts_us);
        c.info.end_reason = close_reason_name(reason);
        if (!c.session) {
            // A main channel that never got MAIN_INIT (its link stage failed or was not
            // captured): it joins a session of the same server that overlaps it in time, else
            // it gets a log of its own.
            for (auto& s : sessions_) {
                if (s->writer && s->server_addr == c.info.server_addr &&
                    s->info.start_us <= c.info.end_us && c.info.start_us <= s->info.end_us) {
                    assign_session(c, s->info.session_id);
                    break;
                }
            }
            if (!c.session) {
                assign_session(c, 0);
            }
        }
        if (c.session && !fatal_) {
            auto r = c.session->writer->update_connection(c.info);
            if (!r) {
                fail(r.error());
            }
            Session& s = *c.session;
            s.info.end_us = std::max(s.info.end_us, c.info.end_us);
        }
    }
    if (c.kind == Connection::Kind::Spice && c.session && c.session->open_connections > 0) {
        --c.session->open_connections;
    }
    connections_.erase(it);
    finish_ended_sessions();
}

// A session whose connections have all closed is over: its log is finished (a later session
// that reuses the id, e.g. a restarted server's, gets a log of its own). Unless a SPICE
// connection to the same server is still open without a session (a main channel whose
// MAIN_INIT was not seen): it may still join this one when it closes.
void SpiceSessionBuilder::finish_ended_sessions() {
    if (fatal_) {
        return;
    }
    for (auto& owned : sessions_) {
        Session& s = *owned;
        if (!s.writer || s.open_connections > 0) {
            continue;
        }
        bool may_join = false;
        for (const auto& [id, other] : connections_) {
            if (other->kind == Connection::Kind::Spice && !other->session &&
                other->info.server_addr == s.server_addr) {
                may_join = true;
                break;
            }
        }
        if (!may_join) {
            finish_session(s, false);
        }
    }
}

SpiceSessionBuilder::Session& SpiceSessionBuilder::session_for(const std::string& server_addr,
                                                               uint32_t session_id) {
    // Session id 0 means "unknown": such connections each get a log of their own.
    if (session_id != 0) {
        for (auto& s : sessions_) {
            if (s->info.session_id == session_id && s->server_addr == server_addr && s->writer) {
                return *s;
            }
        }
    }
    auto s = std::make_unique<Session>();
    s->server_addr = server_addr;
    s->info.session_id = session_id;
    s->info.tool_version = opt_.tool_version;
    s->info.source_kind = opt_.source_kind;
    s->info.source = opt_.source;
    if (!opt_.live) {
        s->temp_path = opt_.directory /
                       fmt::format(".spicetap-{}-{}.spicelog.part", ::getpid(), ++temp_counter_);
        std::error_code ec;
        std::filesystem::remove(s->temp_path, ec);
    }
    sessions_.push_back(std::move(s));
    return *sessions_.back();
}

void SpiceSessionBuilder::assign_session(Connection& c, uint32_t session_id) {
    if (c.session || fatal_) {
        return;
    }
    Session& s = session_for(c.info.server_addr, session_id);
    if (!s.writer) {
        s.info.created = utc_stamp(std::time(nullptr) * int64_t{1000000}, false);
        s.info.start_us = c.info.start_us;
        s.info.end_us = c.info.end_us;
        s.info.server = Endpoint{c.info.server_addr, c.info.server_port}.to_string();
        s.info.client = Endpoint{c.info.client_addr, c.info.client_port}.to_string();
        if (opt_.live) {
            s.info.writer = log::current_writer_identity();
            s.base_name =
                fmt::format("{}-{:08x}", utc_stamp(s.info.start_us, true), s.info.session_id);
            s.temp_path = unused_log_name(s.base_name);
            s.part_start_us = s.info.start_us;
            s.counters_at_open = counters_;
        }
        log::SessionLogWriter::Options wopt;
        wopt.crash_safe = opt_.crash_safe;
        wopt.checkpointer = opt_.checkpointer;
        auto w = log::SessionLogWriter::create(s.temp_path, s.info, wopt);
        if (!w) {
            fail(w.error());
            return;
        }
        s.writer = std::move(*w);
        if (opt_.on_log_opened) {
            opt_.on_log_opened(s.temp_path, s.info);
        }
    }
    s.info.start_us = std::min(s.info.start_us, c.info.start_us);
    auto id = s.writer->add_connection(c.info);
    if (!id) {
        fail(id.error());
        return;
    }
    c.info.id = *id;
    ++s.connections;
    ++s.open_connections;
    c.session = &s;
    std::vector<PendingEvent> held = std::move(c.pending);
    c.pending.clear();
    for (auto& ev : held) {
        c.emit(std::move(ev));
    }
}

std::filesystem::path SpiceSessionBuilder::unused_log_name(const std::string& base) const {
    std::filesystem::path target = opt_.directory / (base + ".spicelog");
    for (int n = 2; std::filesystem::exists(target); ++n) {
        target = opt_.directory / fmt::format("{}-{}.spicelog", base, n);
    }
    return target;
}

// How libpcap's counters moved while this log was open.
void SpiceSessionBuilder::stamp_capture_counters(Session& s) const {
    if (s.counters_at_open && counters_) {
        s.info.capture =
            log::CaptureCounters{counters_->packets - s.counters_at_open->packets,
                                 counters_->dropped - s.counters_at_open->dropped,
                                 counters_->if_dropped - s.counters_at_open->if_dropped};
    }
}

void SpiceSessionBuilder::finish_session(Session& s, bool continued) {
    if (!s.writer) {
        return;
    }
    if (!fatal_) {
        stamp_capture_counters(s);
        auto r = s.writer->update_session(s.info);
        if (r) {
            r = s.writer->close();
        }
        if (!r) {
            fail(r.error());
        }
    }
    s.writer.reset();
    if (fatal_) {
        return;
    }
    std::filesystem::path target = s.temp_path;
    if (!opt_.live) {
        target = unused_log_name(
            fmt::format("{}-{:08x}", utc_stamp(s.info.start_us, true), s.info.session_id));
        std::error_code ec;
        std::filesystem::rename(s.temp_path, target, ec);
        if (ec) {
            fail(make_error(Errc::Io, 0,
                            fmt::format("cannot rename {} to {}: {}", s.temp_path.string(),
                                        target.string(), ec.message())));
            return;
        }
    }
    FinishedSession f;
    f.path = target;
    f.session_id = s.info.session_id;
    f.server = s.info.server;
    f.start_us = s.info.start_us;
    f.end_us = s.info.end_us;
    f.connections = s.connections;
    f.messages = s.messages;
    f.framing_errors = s.framing_errors;
    f.gap_bytes = s.gap_bytes;
    f.part = s.info.part;
    f.continued = continued;
    if (opt_.on_log_closed) {
        opt_.on_log_closed(f);
    }
    finished_.push_back(std::move(f));
}

void SpiceSessionBuilder::tick(int64_t now_us) {
    if (fatal_) {
        return;
    }
    for (auto& owned : sessions_) {
        Session& s = *owned;
        if (!s.writer) {
            continue;
        }
        stamp_capture_counters(s);
        auto r = s.writer->update_session(s.info);
        if (r) {
            r = s.writer->flush();
        }
        if (!r) {
            fail(r.error());
            return;
        }
        const bool too_big = opt_.rotate_bytes > 0 && s.part_bytes >= opt_.rotate_bytes;
        const bool too_long = opt_.rotate_us > 0 && now_us - s.part_start_us >= opt_.rotate_us;
        if (opt_.live && (too_big || too_long)) {
            rotate(s, now_us);
        }
    }
}

// Closes the current part of a session and continues it in a new file. The new part starts,
// in each direction of each open connection, at the first byte of the message that was not
// complete yet: those bytes are copied from the old part, so every message indexed in a part
// has all its bytes in that part. Connection ids may differ between parts; link facts are
// copied.
void SpiceSessionBuilder::rotate(Session& s, int64_t now_us) {
    // Bytes a new part copies from the old one per direction at most (a stalled framer must not
    // make every part repeat its predecessor).
    constexpr uint64_t kMaxCarryBytes = 64u << 20;
    std::vector<Connection*> members;
    for (auto& [id, c] : connections_) {
        if (c->session == &s && c->kind == Connection::Kind::Spice) {
            members.push_back(c.get());
        }
    }
    const std::filesystem::path old_path = s.temp_path;
    const std::filesystem::path new_path =
        unused_log_name(fmt::format("{}-part{}", s.base_name, s.info.part + 1));
    for (Connection* c : members) {
        log::ConnectionInfo closing = c->info;
        closing.end_reason = "continued";
        auto r = s.writer->update_connection(closing);
        if (!r) {
            fail(r.error());
            return;
        }
    }
    s.info.next_part = new_path.filename().string();
    finish_session(s, true);
    if (fatal_) {
        return;
    }

    auto old_log = log::SessionLogReader::open(old_path);
    if (!old_log) {
        fail(old_log.error());
        return;
    }
    s.info.part += 1;
    s.info.previous_part = old_path.filename().string();
    s.info.next_part.clear();
    s.info.created = utc_stamp(std::time(nullptr) * int64_t{1000000}, false);
    s.info.start_us = now_us;
    s.info.end_us = now_us;
    s.info.capture.reset();
    s.temp_path = new_path;
    s.connections = 0;
    s.messages = 0;
    s.framing_errors = 0;
    s.gap_bytes = 0;
    s.part_bytes = 0;
    s.part_start_us = now_us;
    s.counters_at_open = counters_;
    log::SessionLogWriter::Options wopt;
    wopt.crash_safe = opt_.crash_safe;
    wopt.checkpointer = opt_.checkpointer;
    auto w = log::SessionLogWriter::create(new_path, s.info, wopt);
    if (!w) {
        fail(w.error());
        return;
    }
    s.writer = std::move(*w);
    if (opt_.on_log_opened) {
        opt_.on_log_opened(new_path, s.info);
    }
    auto old_gaps = (*old_log)->gaps();
    for (Connection* c : members) {
        const int64_t old_id = c->info.id;
        c->info.bytes_c2s = 0;
        c->info.bytes_s2c = 0;
        c->info.end_reason.clear();
        auto id = s.writer->add_connection(c->info);
        if (!id) {
            fail(id.error());
            return;
        }
        c->info.id = *id;
        ++s.connections;
        for (Direction d : {Direction::ClientToServer, Direction::ServerToClient}) {
            const auto k = static_cast<size_t>(d);
            uint64_t from = c->message_end[k];
            if (c->stream_end[k] - from > kMaxCarryBytes) {
                from = c->stream_end[k];
                auto r = s.writer->append_note(
                    {c->info.id, now_us, "part_cut",
                     fmt::format("{} part {} starts inside a message at stream offset {}; its "
                                 "first bytes are in {}",
                                 wire::direction_name(d), s.info.part, from,
                                 s.info.previous_part)});
                if (!r) {
                    fail(r.error());
                    return;
                }
            }
            Result<void> copy_error;
            auto r =
                (*old_log)->for_each_chunk_from(old_id, d, from, [&](const log::DataChunk& chunk) {
                    ByteView bytes(chunk.data);
                    uint64_t at = chunk.offset;
                    if (at + bytes.size() <= from) {
                        return true;
                    }
                    if (at < from) {
                        bytes = bytes.subspan(static_cast<size_t>(from - at));
                        at = from;
                    }
                    if (d == Direction::ClientToServer) {
                        c->info.bytes_c2s += bytes.size();
                    } else {
                        c->info.bytes_s2c += bytes.size();
                    }
                    s.part_bytes += bytes.size();
                    s.info.start_us = std::min(s.info.start_us, chunk.ts_us);
                    copy_error = s.writer->append_data(c->info.id, d, chunk.ts_us, at, bytes);
                    return static_cast<bool>(copy_error);
                });
            if (r && !copy_error) {
                r = copy_error;
            }
            if (r && old_gaps) {
                for (const auto& g : *old_gaps) {
                    if (g.connection == old_id && g.dir == d && g.offset + g.length > from) {
                        log::GapRecord copy = g;
                        copy.connection = c->info.id;
                        r = s.writer->append_gap(copy);
                        if (!r) {
                            break;
                        }
                    }
                }
            }
            if (!r) {
                fail(r.error());
                return;
            }
        }
        auto r = s.writer->update_connection(c->info);
        if (!r) {
            fail(r.error());
            return;
        }
    }
}

void SpiceSessionBuilder::mark_tls(ConnectionId id) {
    auto it = connections_.find(id);
    if (it != connections_.end()) {
        it->second->info.tls = true;
    }
}

bool SpiceSessionBuilder::has_session(uint32_t session_id) const {
    return std::any_of(sessions_.begin(), sessions_.end(), [&](const auto& s) {
        return s->writer && s->info.session_id == session_id;
    });
}

Result<void> SpiceSessionBuilder::checkpoint() {
    if (fatal_) {
        return *fatal_;
    }
    for (auto& [id, c] : connections_) {
        if (c->kind != Connection::Kind::Spice || !c->session || !c->session->writer) {
            continue;
        }
        log::ConnectionInfo row = c->info;
        row.end_reason = "cut_short";
        auto r = c->session->writer->update_connection(row);
        if (!r) {
            fail(r.error());
            return r;
        }
    }
    for (auto& s : sessions_) {
        if (!s->writer) {
            continue;
        }
        auto r = s->writer->update_session(s->info);
        if (r) {
            r = s->writer->flush();
        }
        if (!r) {
            fail(r.error());
            return r;
        }
    }
    return {};
}

Result<std::vector<FinishedSession>> SpiceSessionBuilder::finish() {
    // Connections the reassembler never closed (it should have): close them now.
    while (!connections_.empty()) {
        const auto& first = *connections_.begin();
        on_close(first.first, first.second->info.end_us, CloseReason::EndOfCapture);
    }
    std::vector<Session*> order;
    for (auto& s : sessions_) {
        if (s->writer) {
            order.push_back(s.get());
        }
    }
    std::sort(order.begin(), order.end(), [](const Session* a, const Session* b) {
        return a->info.start_us < b->info.start_us;
    });
    for (Session* s : order) {
        finish_session(*s, false);
    }
    if (fatal_) {
        for (auto& s : sessions_) {
            std::error_code ec;
            if (!opt_.live) {
                std::filesystem::remove(s->temp_path, ec);
            }
        }
        return *fatal_;
    }
    std::vector<FinishedSession> out = std::move(finished_);
    finished_.clear();
    std::stable_sort(
        out.begin(), out.end(),
        [](const FinishedSession& a, const FinishedSession& b) { return a.start_us < b.start_us; });
    return out;
}

}  // namespace spicetap::capture
