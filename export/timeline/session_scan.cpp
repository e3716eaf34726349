#include "export/timeline/session_scan.h"

#include <fmt/core.h>
#include <spice/enums.h>

#include <algorithm>
#include <map>
#include <set>

#include "decode/agent/agent_stream.h"
#include "decode/channels/base_channel.h"
#include "decode/channels/display_channel.h"
#include "decode/channels/message_fields.h"
#include "decode/channels/playback_channel.h"
#include "decode/channels/record_channel.h"
#include "decode/wire/json_writer.h"
#include "export/summary/session_summary.h"

namespace spicetap::timeline {

namespace {

namespace disp = channels::display;

constexpr size_t kLargest = 20;
// An ACK that released a full window counts as the server having waited when its next message
// followed within this time: it had something queued.
constexpr int64_t kReleaseFollowUs = 10'000;

int dir_index(Direction d) {
    return d == Direction::ClientToServer ? 0 : 1;
}

// One direction's recorded bytes in memory, as contiguous runs between gaps.
class StreamBytes {
public:
    // The first run is sized for the whole direction up front: growing a multi-MB buffer by
    // doubling costs more than the rest of a report.
    explicit StreamBytes(uint64_t expected) : expected_(expected) {}

    void add(uint64_t offset, const std::vector<uint8_t>& data) {
        if (runs_.empty() || runs_.back().offset + runs_.back().bytes.size() != offset) {
            runs_.push_back({offset, {}});
            if (runs_.size() == 1) {
                runs_.back().bytes.reserve(expected_);
            }
        }
        auto& b = runs_.back().bytes;
        b.insert(b.end(), data.begin(), data.end());
    }

    // [offset, offset + length) if recorded without a gap.
    std::optional<ByteView> slice(uint64_t offset, uint64_t length) const {
        auto it = std::upper_bound(runs_.begin(), runs_.end(), offset,
                                   [](uint64_t o, const Run& r) { return o < r.offset; });
        if (it == runs_.begin()) {
            return std::nullopt;
        }
        --it;
        const uint64_t rel = offset - it->offset;
        if (rel + length > it->bytes.size()) {
            return std::nullopt;
        }
        return ByteView(it->bytes.data() + rel, length);
    }

private:
    struct Run {
        uint64_t offset = 0;
        std::vector<uint8_t> bytes;
    };

    std::vector<Run> runs_;
    uint64_t expected_ = 0;
};

struct AckState {
    bool active = false;  // the server sent SET_ACK: it counts messages against a window
    uint32_t generation = 0;
    uint32_t window = 0;
    int64_t unacked = 0;  // spice-server's messages_window
    std::optional<uint32_t> client_generation;
    std::optional<int64_t> full_since;
    std::optional<AckStall> released;  // waiting for the next server message to judge it
    int64_t peak = 0;
    uint64_t acks = 0;
};

// What one connection's pass keeps between messages.
struct ConnectionState {
    const log::ConnectionInfo* info = nullptr;
    wire::ChannelCaps caps;
    std::string label;
    AckState ack;
    std::map<std::pair<uint32_t, uint64_t>, std::pair<int64_t, uint32_t>> pending_pings;
    std::map<uint32_t, size_t> live_streams;  // stream id -> index in SessionScan::streams
    std::optional<std::pair<uint32_t, uint32_t>> primary_size;
    std::optional<size_t> audio;  // index in SessionScan::audio
    agent::AgentSession agent;
};

std::string format_size(uint32_t w, uint32_t h) {
    return fmt::format("{}x{}", w, h);
}

class Scanner {
public:
    Scanner(const log::SessionLogReader& reader, const ScanOptions& options)
        : reader_(reader), options_(options) {
        scan_.session = reader.session();
    }

    Result<SessionScan> run();

private:
    Result<void> scan_connection(const log::ConnectionInfo& c);
    void on_message(ConnectionState& st, const log::MessageRecord& m, const StreamBytes& bytes);
    void analyse(ConnectionState& st, const log::MessageRecord& m, ByteView body, bool top);
    void analyse_base(ConnectionState& st, const log::MessageRecord& m, ByteView body);
    void analyse_display(ConnectionState& st, const log::MessageRecord& m, ByteView body);
    void analyse_main(ConnectionState& st, const log::MessageRecord& m, ByteView body);
    void analyse_audio(ConnectionState& st, const log::MessageRecord& m, ByteView body);
    void count_ack(ConnectionState& st, const log::MessageRecord& m);
    void add_image(const disp::Image& img);
    void add_images(const disp::ServerMessage& msg);

    void event(int64_t ts, int64_t conn, std::string kind, std::string text, int64_t end = -1) {
        scan_.events.push_back(
            Event{ts, end < 0 ? ts : end, conn, std::move(kind), std::move(text)});
    }

    AudioTotals& audio(ConnectionState& st, const char* channel) {
        if (!st.audio) {
            AudioTotals a;
            a.connection = st.info->id;
            a.channel = channel;
            st.audio = scan_.audio.size();
            scan_.audio.push_back(a);
        }
        return scan_.audio[*st.audio];
    }

    size_t second_of(int64_t ts) const {
        return ts <= scan_.session.start_us ? 0 : size_t((ts - scan_.session.start_us) / 1'000'000);
    }

    const log::SessionLogReader& reader_;
    const ScanOptions& options_;
    SessionScan scan_;
    std::map<int64_t, std::vector<log::GapRecord>> gaps_;
};

Result<SessionScan> Scanner::run() {
    auto gaps = reader_.gaps();
    if (!gaps) {
        return gaps.error();
    }
    for (const auto& g : *gaps) {
        gaps_[g.connection].push_back(g);
    }
    for (const auto& c : reader_.connections()) {
        if (auto ok = scan_connection(c); !ok) {
            return ok.error();
        }
    }
    auto notes = reader_.notes();
    if (!notes) {
        return notes.error();
    }
    for (const auto& n : *notes) {
        if (n.kind == "gap") {
            continue;  // the gap records themselves are listed
        }
        event(n.ts_us, n.connection, "note", fmt::format("{}: {}", n.kind, n.text));
    }
    std::stable_sort(scan_.events.begin(), scan_.events.end(), [](const Event& a, const Event& b) {
        return a.ts_us != b.ts_us ? a.ts_us < b.ts_us : a.connection < b.connection;
    });
    std::sort(scan_.largest.begin(), scan_.largest.end(),
              [](const LargeMessage& a, const LargeMessage& b) {
                  return a.bytes != b.bytes ? a.bytes > b.bytes : a.ts_us < b.ts_us;
              });
    return std::move(scan_);
}

Result<void> Scanner::scan_connection(const log::ConnectionInfo& c) {
    ConnectionTotals totals;
    totals.info = c;
    totals.channel = channel_label(c);
    StreamBytes bytes[2] = {StreamBytes(c.bytes_c2s), StreamBytes(c.bytes_s2c)};
    for (Direction d : {Direction::ClientToServer, Direction::ServerToClient}) {
        DirectionTotals& t = totals.dir[dir_index(d)];
        auto ok = reader_.for_each_chunk(c.id, d, [&](const log::DataChunk& chunk) {
            bytes[dir_index(d)].add(chunk.offset, chunk.data);
            t.tcp_bytes += chunk.data.size();
            const size_t s = second_of(chunk.ts_us);
            if (t.bytes_per_second.size() <= s) {
                t.bytes_per_second.resize(s + 1, 0);
            }
            t.bytes_per_second[s] += chunk.data.size();
            return true;
        });
        if (!ok) {
            return ok.error();
        }
    }
    const size_t conn_index = scan_.connections.size();
    scan_.connections.push_back(std::move(totals));

    ConnectionState st;
    st.info = &c;
    st.label = channel_label(c);
    st.caps = wire::ChannelCaps{c.client_common_caps, c.client_channel_caps, c.server_common_caps,
                                c.server_channel_caps};
    std::string how = c.end_reason.empty() ? std::string("unknown") : c.end_reason;
    event(c.start_us, c.id, "connection_open",
          fmt::format("{} opened from {}:{}{}", st.label, c.client_addr, c.client_port,
                      c.tls ? " (TLS)" : ""));
    if (c.link_error != 0) {
        const auto name = wire::link_error_name(c.link_error);
        event(
            c.start_us, c.id, "link_error",
            fmt::format("{} link refused: {}", st.label,
                        name.empty() ? fmt::format("error {}", c.link_error) : std::string(name)));
    }
    for (const auto& g : gaps_[c.id]) {
        DirectionTotals& t = scan_.connections[conn_index].dir[dir_index(g.dir)];
        t.gap_bytes += g.length;
        event(g.ts_us, c.id, "capture_gap",
              fmt::format("{} {}: {} bytes missing at offset {}", st.label,
                          wire::direction_name(g.dir), g.length, g.offset));
    }

    log::SessionLogReader::MessageFilter mf;
    mf.connection = c.id;
    auto ok = reader_.for_each_message(mf, [&](const log::MessageRecord& m) {
        on_message(st, m, bytes[dir_index(m.dir)]);
        return true;
    });
    if (!ok) {
        return ok.error();
    }
    if (st.ack.released) {
        scan_.stalls.push_back(*st.ack.released);
    }
    if (st.ack.active) {
        scan_.ack_windows.push_back({c.id, st.ack.window, st.ack.peak, st.ack.acks});
    }
    for (const auto& [id, index] : st.live_streams) {
        StreamTotals& s = scan_.streams[index];
        s.end_us = std::max(s.start_us, s.last_frame_us);
    }
    event(c.end_us, c.id, "connection_close", fmt::format("{} ended: {}", st.label, how));
    return {};
}

bool is_agent_data(Direction dir, uint16_t type) {
    return dir == Direction::ServerToClient ? type == SPICE_MSG_MAIN_AGENT_DATA
                                            : type == SPICE_MSGC_MAIN_AGENT_DATA;
}

bool needs_body(int channel_type, Direction dir, uint16_t type) {
    if (type < channels::base::kFirstChannelMessage) {
        return dir == Direction::ServerToClient
                   ? (type == SPICE_MSG_SET_ACK || type == SPICE_MSG_PING ||
                      type == SPICE_MSG_LIST || type == SPICE_MSG_DISCONNECTING ||
                      type == SPICE_MSG_NOTIFY || type == SPICE_MSG_MIGRATE)
                   : (type == SPICE_MSGC_ACK_SYNC || type == SPICE_MSGC_PONG ||
                      type == SPICE_MSGC_DISCONNECTING);
    }
    switch (channel_type) {
        case SPICE_CHANNEL_DISPLAY:
            return dir == Direction::ServerToClient && type != SPICE_MSG_DISPLAY_MARK &&
                   type != SPICE_MSG_DISPLAY_INVAL_LIST &&
                   type != SPICE_MSG_DISPLAY_INVAL_PALETTE &&
                   type != SPICE_MSG_DISPLAY_INVAL_ALL_PALETTES &&
                   type != SPICE_MSG_DISPLAY_INVAL_ALL_PIXMAPS;
        case SPICE_CHANNEL_MAIN:  // little traffic; migration and agent events come from it
            return true;
        case SPICE_CHANNEL_CURSOR:
            return dir == Direction::ServerToClient && type == SPICE_MSG_CURSOR_RESET;
        case SPICE_CHANNEL_PLAYBACK:
        case SPICE_CHANNEL_RECORD:
            return true;
        default:
            return false;
    }
}

void Scanner::on_message(ConnectionState& st, const log::MessageRecord& m,
                         const StreamBytes& bytes) {
    const log::ConnectionInfo& c = *st.info;
    ConnectionTotals& ct = scan_.connections.back();
    DirectionTotals& t = ct.dir[dir_index(m.dir)];
    const uint32_t wire_bytes = m.header_size + m.size;
    ++scan_.messages;
    ++t.messages;
    t.message_bytes += wire_bytes;
    TypeTotals& tt = t.by_type[m.type];
    if (tt.messages == 0) {
        tt.name = summary::display_message_name(c.channel_type, m.dir, m.type);
    }
    ++tt.messages;
    tt.bytes += wire_bytes;
    if (scan_.largest.size() < kLargest || wire_bytes > scan_.largest.back().bytes) {
        scan_.largest.push_back({m.ts_us, c.id, m.dir, tt.name, wire_bytes});
        // Keep the smallest last so the test above stays one comparison.
        std::sort(scan_.largest.begin(), scan_.largest.end(),
                  [](const LargeMessage& a, const LargeMessage& b) { return a.bytes > b.bytes; });
        if (scan_.largest.size() > kLargest) {
            scan_.largest.pop_back();
        }
    }

    count_ack(st, m);

    const bool decodable =
        c.channel_type >= 0 && channels::has_decoder(static_cast<uint8_t>(c.channel_type), m.type);
    const bool want_fields = options_.key_fields && decodable;
    std::optional<ByteView> body;
    if (want_fields || needs_body(c.channel_type, m.dir, m.type)) {
        body = bytes.slice(m.offset + m.header_size, m.size);
    }
    if (body) {
        analyse(st, m, *body, true);
    }
    if (!options_.on_message) {
        return;
    }
    MessageInfo info;
    info.ts_us = m.ts_us;
    info.connection = m.connection;
    info.dir = m.dir;
    info.serial = m.serial;
    info.type = m.type;
    info.size = m.size;
    info.header_size = m.header_size;
    info.offset = m.offset;
    info.name = tt.name;
    if (want_fields) {
        if (!body) {
            info.error = "body not recorded (capture gap)";
        } else {
            JsonWriter w(info.fields);
            w.begin_object();
            auto written = channels::write_message_fields(static_cast<uint8_t>(c.channel_type),
                                                          m.dir, m.type, *body, st.caps, w);
            w.end_object();
            if (!written) {
                info.error = written.error().message();
                info.fields.clear();
            } else if (info.fields.size() > options_.max_fields_chars) {
                info.fields = fmt::format("{{\"fields_omitted\":{}}}", info.fields.size());
            }
        }
    }
    options_.on_message(std::move(info));
}

void Scanner::count_ack(ConnectionState& st, const log::MessageRecord& m) {
    AckState& a = st.ack;
    if (m.dir == Direction::ServerToClient) {
        if (a.released) {
            a.released->server_waited = m.ts_us - a.released->to_us <= kReleaseFollowUs;
            scan_.stalls.push_back(*a.released);
            if (a.released->server_waited) {
                const double ms = double(a.released->to_us - a.released->from_us) / 1000.0;
                event(a.released->from_us, st.info->id, "ack_stall",
                      fmt::format("{}: server waited {:.1f} ms for client ACKs (window {})",
                                  st.label, ms, a.released->window),
                      a.released->to_us);
            }
            a.released.reset();
        }
        if (m.type == SPICE_MSG_SET_ACK) {
            a.unacked = 0;  // spice-server resets its count, then counts SET_ACK itself
        }
        if (a.active || m.type == SPICE_MSG_SET_ACK) {
            ++a.unacked;
            a.peak = std::max(a.peak, a.unacked);
            if (a.active && !a.full_since && a.unacked > 2 * int64_t{a.window}) {
                a.full_since = m.ts_us;
            }
        }
    } else if (m.type == SPICE_MSGC_ACK && a.active && a.client_generation == a.generation) {
        a.unacked -= a.window;
        ++a.acks;
        if (a.full_since && a.unacked <= 2 * int64_t{a.window}) {
            a.released = AckStall{st.info->id, *a.full_since, m.ts_us, a.window, false};
            a.full_since.reset();
        }
    }
}

void Scanner::analyse(ConnectionState& st, const log::MessageRecord& m, ByteView body, bool top) {
    if (m.type < channels::base::kFirstChannelMessage) {
        if (top) {
            analyse_base(st, m, body);
        }
        return;
    }
    switch (st.info->channel_type) {
        case SPICE_CHANNEL_DISPLAY:
            if (m.dir == Direction::ServerToClient) {
                analyse_display(st, m, body);
            }
            break;
        case SPICE_CHANNEL_CURSOR:
            if (m.dir == Direction::ServerToClient && m.type == SPICE_MSG_CURSOR_RESET) {
                event(m.ts_us, st.info->id, "reset", fmt::format("{}: cursor reset", st.label));
            }
            break;
        case SPICE_CHANNEL_MAIN:
            analyse_main(st, m, body);
            break;
        case SPICE_CHANNEL_PLAYBACK:
        case SPICE_CHANNEL_RECORD:
            analyse_audio(st, m, body);
            break;
        default:
            break;
    }
}

void Scanner::analyse_base(ConnectionState& st, const log::MessageRecord& m, ByteView body) {
    const int64_t conn = st.info->id;
    if (m.dir == Direction::ServerToClient) {
        auto msg = channels::base::parse_server(m.type, body, st.caps);
        if (!msg) {
            ++scan_.decode_errors;
            return;
        }
        if (auto* ack = std::get_if<channels::base::SetAck>(&*msg)) {
            st.ack.active = true;
            st.ack.generation = ack->generation;
            st.ack.window = ack->window;
            st.ack.full_since.reset();
        } else if (auto* ping = std::get_if<channels::base::Ping>(&*msg)) {
            st.pending_pings[{ping->id, ping->timestamp}] = {m.ts_us, ping->padding_size};
        } else if (auto* list = std::get_if<channels::base::List>(&*msg)) {
            for (const auto& sub : list->messages) {
                log::MessageRecord sm = m;
                sm.type = sub.type;
                analyse(st, sm, sub.body, false);
            }
        } else if (auto* d = std::get_if<channels::base::Disconnecting>(&*msg)) {
            const auto reason = wire::link_error_name(d->reason);
            event(m.ts_us, conn, "disconnecting",
                  fmt::format(
                      "{}: server disconnecting ({})", st.label,
                      reason.empty() ? fmt::format("reason {}", d->reason) : std::string(reason)));
        } else if (auto* n = std::get_if<channels::base::Notify>(&*msg)) {
            event(m.ts_us, conn, "notify", fmt::format("{}: notify \"{}\"", st.label, n->message));
        } else if (auto* mig = std::get_if<channels::base::Migrate>(&*msg)) {
            event(m.ts_us, conn, "migration",
                  fmt::format("{}: migrate (flags {})", st.label, mig->flags));
        }
        return;
    }
    auto msg = channels::base::parse_client(m.type, body, st.caps);
    if (!msg) {
        ++scan_.decode_errors;
        return;
    }
    if (auto* sync = std::get_if<channels::base::AckSync>(&*msg)) {
        st.ack.client_generation = sync->generation;
    } else if (auto* pong = std::get_if<channels::base::Pong>(&*msg)) {
        auto it = st.pending_pings.find({pong->id, pong->timestamp});
        if (it != st.pending_pings.end()) {
            PingRoundTrip rt{conn,    pong->id,         pong->timestamp, it->second.first,
                             m.ts_us, it->second.second};
            scan_.pings.push_back(rt);
            event(rt.ping_us, conn, "ping",
                  fmt::format("{}: ping {} round trip {:.3f} ms", st.label, rt.id,
                              double(rt.pong_us - rt.ping_us) / 1000.0),
                  rt.pong_us);
            st.pending_pings.erase(it);
        }
    } else if (std::get_if<channels::base::Disconnecting>(&*msg)) {
        event(m.ts_us, conn, "disconnecting", fmt::format("{}: client disconnecting", st.label));
    }
}

void Scanner::add_image(const disp::Image& img) {
    const auto name = disp::image_type_name(img.descriptor.type);
    ImageTotals& t = scan_.images[name.empty() ? fmt::format("unknown_{}", img.descriptor.type)
                                               : std::string(name)];
    ++t.images;
    t.bytes += img.data().size();
    if (img.type() != disp::ImageType::FromCache &&
        img.type() != disp::ImageType::FromCacheLossless &&
        img.type() != disp::ImageType::Surface) {
        t.decoded_bytes += uint64_t{img.descriptor.width} * img.descriptor.height * 4;
    }
}

void Scanner::add_images(const disp::ServerMessage& msg) {
    auto brush = [&](const disp::Brush& b) {
        if (b.pattern) {
            add_image(b.pattern->pat);
        }
    };
    auto mask = [&](const disp::QMask& q) {
        if (q.bitmap) {
            add_image(*q.bitmap);
        }
    };
    auto src = [&](const std::optional<disp::Image>& i) {
        if (i) {
            add_image(*i);
        }
    };
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, disp::DrawFill>) {
                brush(v.brush);
                mask(v.mask);
            } else if constexpr (std::is_same_v<T, disp::DrawOpaque> ||
                                 std::is_same_v<T, disp::DrawRop3>) {
                src(v.src_bitmap);
                brush(v.brush);
                mask(v.mask);
            } else if constexpr (std::is_same_v<T, disp::DrawCopy> ||
                                 std::is_same_v<T, disp::DrawBlend>) {
                src(v.src_bitmap);
                mask(v.mask);
            } else if constexpr (std::is_same_v<T, disp::DrawBlackness> ||
                                 std::is_same_v<T, disp::DrawWhiteness> ||
                                 std::is_same_v<T, disp::DrawInvers>) {
                mask(v.mask);
            } else if constexpr (std::is_same_v<T, disp::DrawStroke>) {
                brush(v.brush);
            } else if constexpr (std::is_same_v<T, disp::DrawText>) {
                brush(v.fore_brush);
                brush(v.back_brush);
            } else if constexpr (std::is_same_v<T, disp::DrawTransparent> ||
                                 std::is_same_v<T, disp::DrawAlphaBlend>) {
                src(v.src_bitmap);
            } else if constexpr (std::is_same_v<T, disp::DrawComposite>) {
                src(v.src_bitmap);
                src(v.mask_bitmap);
            }
        },
        msg);
}

void Scanner::analyse_display(ConnectionState& st, const log::MessageRecord& m, ByteView body) {
    auto msg = disp::parse_server(m.type, body, st.caps);
    if (!msg) {
        ++scan_.decode_errors;
        return;
    }
    const int64_t conn = st.info->id;
    add_images(*msg);
    auto stop_stream = [&](uint32_t id, const char* how) {
        auto it = st.live_streams.find(id);
        if (it == st.live_streams.end()) {
            return;
        }
        StreamTotals& s = scan_.streams[it->second];
        s.end_us = m.ts_us;
        s.destroyed = true;
        event(m.ts_us, conn, "stream_stop",
              fmt::format("{}: stream {} ({}) stopped{}: {} frames, {} bytes", st.label, id,
                          s.codec, how, s.frames, s.bytes));
        st.live_streams.erase(it);
    };
    auto frame = [&](uint32_t id, size_t bytes, uint32_t w, uint32_t h) {
        auto it = st.live_streams.find(id);
        if (it == st.live_streams.end()) {
            return;
        }
        StreamTotals& s = scan_.streams[it->second];
        if (s.frames == 0) {
            s.first_frame_us = m.ts_us;
        }
        ++s.frames;
        s.bytes += bytes;
        s.last_frame_us = m.ts_us;
        if (w != 0 && h != 0) {
            s.width = w;
            s.height = h;
        }
    };
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, disp::Reset>) {
                event(m.ts_us, conn, "reset", fmt::format("{}: display reset", st.label));
            } else if constexpr (std::is_same_v<T, disp::Mode>) {
                event(m.ts_us, conn, "resolution",
                      fmt::format("{}: mode {}x{} {} bpp", st.label, v.x_res, v.y_res, v.bits));
            } else if constexpr (std::is_same_v<T, disp::SurfaceCreate>) {
                const bool primary = (v.flags & 1u) != 0;
                const auto fmt_name = disp::surface_format_name(v.format);
                event(m.ts_us, conn, "surface_create",
                      fmt::format("{}: surface {} created, {} {}{}", st.label, v.surface_id,
                                  format_size(v.width, v.height), fmt_name,
                                  primary ? " (primary)" : ""));
                if (primary) {
                    const std::pair<uint32_t, uint32_t> size{v.width, v.height};
                    if (st.primary_size && *st.primary_size != size) {
                        event(m.ts_us, conn, "resolution",
                              fmt::format(
                                  "{}: resolution {} -> {}", st.label,
                                  format_size(st.primary_size->first, st.primary_size->second),
                                  format_size(v.width, v.height)));
                    }
                    st.primary_size = size;
                }
            } else if constexpr (std::is_same_v<T, disp::SurfaceDestroy>) {
                event(m.ts_us, conn, "surface_destroy",
                      fmt::format("{}: surface {} destroyed", st.label, v.surface_id));
            } else if constexpr (std::is_same_v<T, disp::StreamCreate>) {
                stop_stream(v.id, " (replaced)");
                StreamTotals s;
                s.connection = conn;
                s.channel_id = st.info->channel_id;
                s.id = v.id;
                const auto codec = disp::video_codec_name(v.codec_type);
                s.codec =
                    codec.empty() ? fmt::format("codec_{}", v.codec_type) : std::string(codec);
                s.width = v.stream_width;
                s.height = v.stream_height;
                s.start_us = s.end_us = m.ts_us;
                st.live_streams[v.id] = scan_.streams.size();
                scan_.streams.push_back(s);
                event(m.ts_us, conn, "stream_start",
                      fmt::format("{}: stream {} started, {} {} on surface {}", st.label, v.id,
                                  s.codec, format_size(v.stream_width, v.stream_height),
                                  v.surface_id));
            } else if constexpr (std::is_same_v<T, disp::StreamData>) {
                frame(v.id, v.data.size(), 0, 0);
            } else if constexpr (std::is_same_v<T, disp::StreamDataSized>) {
                frame(v.id, v.data.size(), v.width, v.height);
            } else if constexpr (std::is_same_v<T, disp::StreamDestroy>) {
                stop_stream(v.id, "");
            } else if constexpr (std::is_same_v<T, disp::StreamDestroyAll>) {
                std::vector<uint32_t> ids;
                for (const auto& [id, index] : st.live_streams) {
                    ids.push_back(id);
                }
                for (uint32_t id : ids) {
                    stop_stream(id, " (destroy_all)");
                }
            } else if constexpr (std::is_same_v<T, disp::MonitorsConfig>) {
                std::string heads;
                for (const auto& h : v.heads) {
                    heads += fmt::format("{}{}@{},{}", heads.empty() ? "" : " ",
                                         format_size(h.width, h.height), h.x, h.y);
                }
                event(m.ts_us, conn, "monitors_config",
                      fmt::format("{}: {} head(s) {}", st.label, v.heads.size(), heads));
            }
        },
        *msg);
}

void Scanner::analyse_main(ConnectionState& st, const log::MessageRecord& m, ByteView body) {
    const int64_t conn = st.info->id;
    const std::string name = summary::display_message_name(st.info->channel_type, m.dir, m.type);
    if (name.rfind("migrate", 0) == 0) {
        event(m.ts_us, conn, "migration",
              fmt::format("{}: {} {}", st.label, wire::direction_name(m.dir), name));
        return;
    }
    if (m.dir == Direction::ServerToClient && (m.type == SPICE_MSG_MAIN_AGENT_CONNECTED ||
                                               m.type == SPICE_MSG_MAIN_AGENT_CONNECTED_TOKENS ||
                                               m.type == SPICE_MSG_MAIN_AGENT_DISCONNECTED)) {
        event(m.ts_us, conn, "agent", fmt::format("{}: {}", st.label, name));
        return;
    }
    if (m.dir == Direction::ClientToServer && m.type == SPICE_MSGC_MAIN_AGENT_START) {
        event(m.ts_us, conn, "agent", fmt::format("{}: client agent_start", st.label));
        return;
    }
    if (!is_agent_data(m.dir, m.type)) {
        return;
    }
    auto fed = st.agent.feed(m.dir, body);
    for (const auto& am : fed.messages) {
        const char* who =
            m.dir == Direction::ClientToServer ? "client -> agent" : "agent -> client";
        event(m.ts_us, conn, "agent",
              fmt::format("{}: {} {} ({} bytes)", st.label, who,
                          agent::message_type_name(am.header.type), am.header.size));
    }
    if (fed.error) {
        event(m.ts_us, conn, "agent",
              fmt::format("{}: agent stream error: {}", st.label, fed.error->message()));
    }
}

void Scanner::analyse_audio(ConnectionState& st, const log::MessageRecord& m, ByteView body) {
    const int64_t conn = st.info->id;
    auto data = [&](AudioTotals& a, size_t bytes) {
        if (a.packets == 0) {
            a.first_us = m.ts_us;
        }
        ++a.packets;
        a.bytes += bytes;
        a.last_us = m.ts_us;
    };
    if (st.info->channel_type == SPICE_CHANNEL_PLAYBACK) {
        if (m.dir != Direction::ServerToClient) {
            return;
        }
        auto msg = channels::playback::parse_server(m.type, body, st.caps);
        if (!msg) {
            ++scan_.decode_errors;
            return;
        }
        AudioTotals& a = audio(st, "playback");
        if (auto* d = std::get_if<channels::playback::Data>(&*msg)) {
            data(a, d->data.size());
        } else if (auto* mode = std::get_if<channels::playback::Mode>(&*msg)) {
            a.mode = channels::playback::audio_mode_name(mode->mode);
        } else if (auto* start = std::get_if<channels::playback::Start>(&*msg)) {
            a.channels = start->channels;
            a.frequency = start->frequency;
            event(m.ts_us, conn, "audio_start",
                  fmt::format("{}: playback started, {} channel(s) at {} Hz", st.label,
                              start->channels, start->frequency));
        } else if (std::get_if<channels::playback::Stop>(&*msg)) {
            event(m.ts_us, conn, "audio_stop", fmt::format("{}: playback stopped", st.label));
        }
        return;
    }
    AudioTotals& a = audio(st, "record");
    if (m.dir == Direction::ServerToClient) {
        auto msg = channels::record::parse_server(m.type, body, st.caps);
        if (!msg) {
            ++scan_.decode_errors;
            return;
        }
        if (auto* start = std::get_if<channels::record::Start>(&*msg)) {
            a.channels = start->channels;
            a.frequency = start->frequency;
            event(m.ts_us, conn, "audio_start",
                  fmt::format("{}: recording started, {} channel(s) at {} Hz", st.label,
                              start->channels, start->frequency));
        } else if (std::get_if<channels::record::Stop>(&*msg)) {
            event(m.ts_us, conn, "audio_stop", fmt::format("{}: recording stopped", st.label));
        }
        return;
    }
    auto msg = channels::record::parse_client(m.type, body, st.caps);
    if (!msg) {
        ++scan_.decode_errors;
        return;
    }
    if (auto* d = std::get_if<channels::record::Data>(&*msg)) {
        data(a, d->data.size());
    } else if (auto* mode = std::get_if<channels::record::Mode>(&*msg)) {
        a.mode = channels::playback::audio_mode_name(mode->mode);
    }
}

}  // namespace

const ConnectionTotals* SessionScan::connection(int64_t id) const {
    for (const auto& c : connections) {
        if (c.info.id == id) {
            return &c;
        }
    }
    return nullptr;
}

std::string channel_label(const log::ConnectionInfo& c) {
    const std::string_view name =
        c.channel_type >= 0 ? wire::channel_type_name(static_cast<uint8_t>(c.channel_type))
                            : std::string_view("unknown");
    return fmt::format("{}#{}", name, c.channel_id);
}

bool message_order(const MessageInfo& a, const MessageInfo& b) {
    if (a.ts_us != b.ts_us) {
        return a.ts_us < b.ts_us;
    }
    if (a.connection != b.connection) {
        return a.connection < b.connection;
    }
    if (a.dir != b.dir) {
        return a.dir < b.dir;
    }
    return a.offset < b.offset;
}

Result<SessionScan> scan_session(const log::SessionLogReader& reader, const ScanOptions& options) {
    Scanner scanner(reader, options);
    return scanner.run();
}

}  // namespace spicetap::timeline
