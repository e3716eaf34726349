#include "capture/import/spice_sessions.h"

#include <fmt/core.h>
#include <spice/enums.h>

#include <algorithm>
#include <ctime>
#include <deque>
#include <system_error>
#include <unistd.h>
#include <variant>

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
    std::filesystem::path temp_path;
    log::SessionInfo info;
    size_t connections = 0;
    uint64_t messages = 0;
    uint64_t framing_errors = 0;
    uint64_t gap_bytes = 0;
    std::string server_addr;
};

struct SpiceSessionBuilder::Connection : wire::FramerCallbacks {
    enum class Kind { Undecided, Spice, Other };

    SpiceSessionBuilder* owner = nullptr;
    ConnectionId id = 0;
    Endpoint initiator, responder;
    Kind kind = Kind::Undecided;
    Side client_side = Side::Initiator;
    std::vector<uint8_t> probe[2];  // first bytes of each side, by Side
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
    int64_t now_us = 0;

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
        rec.ts_us = time_of(m.dir, m.offset, m.offset + m.header_size + m.size - 1);
        ++owner->stats_.messages;
        if (!session && m.dir == Direction::ServerToClient &&
            info.channel_type == SPICE_CHANNEL_MAIN && m.type == SPICE_MSG_MAIN_INIT &&
            m.body.size() >= 4) {
            const uint32_t sid = static_cast<uint32_t>(m.body[0]) |
                                 static_cast<uint32_t>(m.body[1]) << 8 |
                                 static_cast<uint32_t>(m.body[2]) << 16 |
                                 static_cast<uint32_t>(m.body[3]) << 24;
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

void SpiceSessionBuilder::on_data(ConnectionId id, Side side, int64_t ts_us,
                                  uint64_t stream_offset, ByteView data) {
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
        c.undecided.push_back(PendingData{side == Side::Initiator ? Direction::ClientToServer
                                                                  : Direction::ServerToClient,
                                          ts_us, stream_offset,
                                          std::vector<uint8_t>(data.begin(), data.end())});
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
    c.emit_data(dir, ts_us, stream_offset, data);
    c.framer->feed(dir, stream_offset, data);
}

void SpiceSessionBuilder::on_gap(ConnectionId id, Side side, int64_t ts_us,
                                 uint64_t stream_offset, uint64_t length) {
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
    connections_.erase(it);
}

SpiceSessionBuilder::Session& SpiceSessionBuilder::session_for(const std::string& server_addr,
                                                               uint32_t session_id) {
    // Session id 0 means "unknown": such connections each get a log of their own.
    if (session_id != 0) {
        for (auto& s : sessions_) {
            if (s->info.session_id == session_id && s->server_addr == server_addr &&
                s->writer) {
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
    if (!opt_.final_names_at_start) {
        s->temp_path = opt_.directory / fmt::format(".spicetap-{}-{}.spicelog.part", ::getpid(),
                                                    ++temp_counter_);
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
        if (opt_.final_names_at_start) {
            s.temp_path = final_name(c.info.start_us, session_id);
        }
        s.info.created = utc_stamp(std::time(nullptr) * int64_t{1000000}, false);
        s.info.start_us = c.info.start_us;
        s.info.end_us = c.info.end_us;
        s.info.server = Endpoint{c.info.server_addr, c.info.server_port}.to_string();
        s.info.client = Endpoint{c.info.client_addr, c.info.client_port}.to_string();
        log::SessionLogWriter::Options wopt;
        wopt.crash_safe = opt_.crash_safe;
        auto w = log::SessionLogWriter::create(s.temp_path, s.info, wopt);
        if (!w) {
            fail(w.error());
            return;
        }
        s.writer = std::move(*w);
    }
    s.info.start_us = std::min(s.info.start_us, c.info.start_us);
    auto id = s.writer->add_connection(c.info);
    if (!id) {
        fail(id.error());
        return;
    }
    c.info.id = *id;
    ++s.connections;
    c.session = &s;
    std::vector<PendingEvent> held = std::move(c.pending);
    c.pending.clear();
    for (auto& ev : held) {
        c.emit(std::move(ev));
    }
}

std::filesystem::path SpiceSessionBuilder::final_name(int64_t start_us,
                                                      uint32_t session_id) const {
    const std::string base = fmt::format("{}-{:08x}", utc_stamp(start_us, true), session_id);
    std::filesystem::path target = opt_.directory / (base + ".spicelog");
    for (int n = 2; std::filesystem::exists(target); ++n) {
        target = opt_.directory / fmt::format("{}-{}.spicelog", base, n);
    }
    return target;
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
    std::vector<FinishedSession> out;
    std::vector<Session*> order;
    for (auto& s : sessions_) {
        if (s->writer) {
            order.push_back(s.get());
        }
    }
    std::sort(order.begin(), order.end(),
              [](const Session* a, const Session* b) { return a->info.start_us < b->info.start_us; });
    for (Session* s : order) {
        if (!fatal_) {
            auto r = s->writer->update_session(s->info);
            if (r) {
                r = s->writer->close();
            }
            if (!r) {
                fail(r.error());
            }
        }
        s->writer.reset();
        if (fatal_) {
            continue;
        }
        std::filesystem::path target = s->temp_path;
        std::error_code ec;
        if (!opt_.final_names_at_start) {
            target = final_name(s->info.start_us, s->info.session_id);
            std::filesystem::rename(s->temp_path, target, ec);
        }
        if (ec) {
            fail(make_error(Errc::Io, 0,
                            fmt::format("cannot rename {} to {}: {}", s->temp_path.string(),
                                        target.string(), ec.message())));
            continue;
        }
        FinishedSession f;
        f.path = target;
        f.session_id = s->info.session_id;
        f.server = s->info.server;
        f.start_us = s->info.start_us;
        f.end_us = s->info.end_us;
        f.connections = s->connections;
        f.messages = s->messages;
        f.framing_errors = s->framing_errors;
        f.gap_bytes = s->gap_bytes;
        out.push_back(std::move(f));
    }
    if (fatal_) {
        // Temporary logs go; logs named from the start keep what was committed.
        for (auto& s : sessions_) {
            std::error_code ec;
            if (!opt_.final_names_at_start) {
                std::filesystem::remove(s->temp_path, ec);
            }
        }
        return *fatal_;
    }
    return out;
}

}  // namespace spicetap::capture
