// The session clock: display messages and capture gaps merged in capture-time order, each
// delivered to its channel's DisplayState; sub-message lists unpacked first, as the client does.
#include "replay/session_replay.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <deque>

#include "decode/channels/base_channel.h"
#include "decode/channels/cursor_channel.h"
#include "decode/channels/display_channel.h"
#include "decode/channels/main_channel.h"
#include "decode/wire/caps.h"
#include "decode/wire/protocol_names.h"
#include "replay/checkpoint.h"
#include "replay/cursor_state.h"
#include "replay/display_state.h"
#include "replay/image_source.h"

namespace spicetap::replay {

namespace display = channels::display;
namespace base = channels::base;
namespace cursor = channels::cursor;

namespace {

constexpr int kMainChannel = 1;
constexpr int kDisplayChannel = 2;
constexpr int kCursorChannel = 4;
constexpr uint16_t kDisplayInit = 101;
// The main channel's messages that set the client's multimedia clock.
constexpr uint16_t kMainInit = 103;
constexpr uint16_t kMainMultiMediaTime = 106;
// A LIST inside a LIST is not something servers send; the bound only stops hostile nesting.
constexpr int kMaxListDepth = 4;
// How long (capture time) a display channel's messages wait for a GLZ image that is on its way
// on another display channel before they are applied without it.
constexpr int64_t kGlzWaitUs = 5'000'000;

}  // namespace

struct SessionReplay::Impl {
    struct Connection {
        int channel_type = kDisplayChannel;
        int channel_id = 0;
        int64_t start_us = 0;
        int64_t end_us = 0;
        wire::ChannelCaps caps;
    };

    struct Event {
        int64_t ts_us = 0;
        bool gap = false;
        size_t index = 0;  // into messages or gaps
    };

    const log::SessionLogReader& reader;
    ReplayOptions options;
    std::map<int64_t, Connection> connections;
    std::vector<log::MessageRecord> messages;
    std::vector<log::GapRecord> gaps;
    std::vector<Event> events;

    size_t next = 0;
    int64_t now_us = 0;
    // One recorder for the replay's life: states keep a reference to it, and it keeps the
    // longest issue list across seeks.
    ReplayRecorder recorder;
    ReplayRecorder* rec = &recorder;
    std::unique_ptr<ImageSource> images;
    std::map<int, std::unique_ptr<DisplayState>> displays;
    std::map<int, CursorState> cursors;
    std::map<int64_t, uint64_t> server_messages_seen;  // per connection, for mini-header serials
    MmClock clock;

    // Display messages held back, per display channel, while a GLZ image they carry refers to
    // an image still on its way on another display channel: spice-gtk's shared GLZ window
    // blocks the decoding channel until it arrives. Event indices, in capture order.
    struct Held {
        size_t event = 0;
        int64_t since_us = 0;
    };

    std::map<int, std::deque<Held>> held;
    uint64_t held_total = 0;
    // Video frames due up to this capture time have been shown (or dropped).
    int64_t presented_us = 0;
    ImageMessageObserver image_observer;
    MessageContext current;  // the display message being applied, for image_observer

    CheckpointStore checkpoints;
    uint64_t bytes_applied = 0;  // server bytes of the events applied so far
    CheckpointStats cp_stats;

    Impl(const log::SessionLogReader& r, const ReplayOptions& o)
        : reader(r), options(o), checkpoints(CheckpointStore::Options{o.checkpoint_memory}) {}

    void reset() {
        next = 0;
        now_us = reader.session().start_us;
        bytes_applied = 0;
        displays.clear();
        cursors.clear();
        images = std::make_unique<ImageSource>();
        images->set_observer([this](const ImageEvent& ev) {
            if (image_observer) {
                image_observer(current, ev);
            }
        });
        recorder.restart();
        server_messages_seen.clear();
        clock = MmClock{};
        held.clear();
        presented_us = reader.session().start_us;
        for (const auto& [id, c] : connections) {
            if (c.channel_type == kMainChannel) {
                continue;
            }
            if (c.channel_type == kCursorChannel) {
                cursors.try_emplace(c.channel_id, c.channel_id, *rec);
                continue;
            }
            if (!displays.contains(c.channel_id)) {
                displays.emplace(c.channel_id, std::make_unique<DisplayState>(c.channel_id, *images,
                                                                              *rec, clock));
            }
        }
    }

    DisplayState& display_of(const Connection& c) { return *displays.at(c.channel_id); }

    void dispatch(uint16_t type, ByteView body, const Connection& conn, MessageContext ctx,
                  int depth) {
        ctx.msg_type = type;
        if (type < base::kFirstChannelMessage) {
            auto msg = base::parse_server(type, body, conn.caps);
            if (!msg) {
                // Base messages never draw; a broken one costs nothing on screen.
                rec->issue(ctx, "parse_error",
                           fmt::format("base message {}: {}", type, msg.error().message()));
                return;
            }
            if (const auto* list = std::get_if<base::List>(&*msg)) {
                if (depth >= kMaxListDepth) {
                    rec->issue(ctx, "parse_error", "message lists nested too deep");
                    return;
                }
                for (const base::SubMessage& sub : list->messages) {
                    ++rec->stats.sub_messages;
                    dispatch(sub.type, sub.body, conn, ctx, depth + 1);
                }
                return;
            }
            // Ack, ping, notify, migration: flow control and chatter. WAIT_FOR_CHANNELS orders
            // channels; replaying in capture order already honours what was captured.
            ++rec->stats.base_messages;
            return;
        }
        if (conn.channel_type == kCursorChannel) {
            dispatch_cursor(type, body, conn, ctx);
            return;
        }
        current = ctx;
        auto msg = display::parse_server(type, body, conn.caps);
        if (!msg) {
            ++rec->stats.failed;
            const bool unknown = msg.error().code == Errc::Unsupported;
            rec->issue(ctx, unknown ? "unsupported_message" : "parse_error",
                       fmt::format("{} ({}): {}",
                                   wire::message_name(kDisplayChannel,
                                                      wire::Direction::ServerToClient, type),
                                   type, msg.error().message()));
            // It may have drawn anything anywhere.
            display_of(conn).mark_all_unsure();
            return;
        }
        if (display_of(conn).apply(*msg, ctx)) {
            ++rec->stats.applied;
        } else {
            ++rec->stats.failed;
        }
    }

    void dispatch_cursor(uint16_t type, ByteView body, const Connection& conn,
                         const MessageContext& ctx) {
        CursorState& state = cursors.at(conn.channel_id);
        ++rec->stats.cursor_messages;
        auto msg = cursor::parse_server(type, body, conn.caps);
        if (!msg) {
            const bool unknown = msg.error().code == Errc::Unsupported;
            rec->issue(ctx, unknown ? "unsupported_message" : "parse_error",
                       fmt::format("{} ({}): {}",
                                   wire::message_name(kCursorChannel,
                                                      wire::Direction::ServerToClient, type),
                                   type, msg.error().message()));
            state.mark_unsure();
            return;
        }
        if (!state.apply(*msg, ctx)) {
            ++rec->stats.cursor_failed;
        }
    }

    // MAIN_INIT and MAIN_MULTI_MEDIA_TIME: spice_session_set_mm_time.
    void apply_main(const log::MessageRecord& m, const Connection& conn) {
        auto bytes = reader.read_stream(m.connection, m.dir, m.offset + m.header_size, m.size);
        if (!bytes) {
            return;  // frames then keep the clock they had
        }
        auto msg = channels::main::parse_server(m.type, *bytes, conn.caps);
        if (!msg) {
            return;
        }
        if (const auto* init = std::get_if<channels::main::Init>(&*msg)) {
            clock.set(init->multi_media_time, m.ts_us);
        } else if (const auto* t = std::get_if<channels::main::MultiMediaTime>(&*msg)) {
            clock.set(t->time, m.ts_us);
        }
    }

    // Shows the video frames due by t_us (never past the end of the session: the client's
    // channels close there, with whatever frames are still waiting).
    void present_until(int64_t t_us) {
        t_us = std::min(t_us, reader.session().end_us);
        if (t_us <= presented_us) {
            return;
        }
        for (auto& [id, d] : displays) {
            d->present_until(t_us);
        }
        presented_us = t_us;
    }

    // The GLZ image a display message must wait for (see `held`), if any. Only sessions with
    // several display channels can have one.
    std::optional<uint64_t> glz_wait(const log::MessageRecord& m, const Connection& conn) {
        if (displays.size() < 2 || conn.channel_type != kDisplayChannel ||
            m.dir != wire::Direction::ServerToClient || m.type < base::kFirstChannelMessage) {
            return std::nullopt;
        }
        auto bytes = reader.read_stream(m.connection, m.dir, m.offset + m.header_size, m.size);
        if (!bytes) {
            return std::nullopt;
        }
        auto msg = display::parse_server(m.type, *bytes, conn.caps);
        if (!msg) {
            return std::nullopt;
        }
        std::vector<uint64_t> arriving;
        std::optional<uint64_t> missing;
        auto check = [&](const display::Image& img) {
            if (missing) {
                return;
            }
            if (auto need = images->glz_need(img, arriving)) {
                missing = need->missing;
                arriving.push_back(need->id);
            }
        };
        auto brush = [&](const display::Brush& b) {
            if (b.pattern) {
                check(b.pattern->pat);
            }
        };
        std::visit(
            [&](const auto& op) {
                if constexpr (requires { op.src_bitmap; }) {
                    if (op.src_bitmap) {
                        check(*op.src_bitmap);
                    }
                }
                if constexpr (requires { op.brush; }) {
                    brush(op.brush);
                }
                if constexpr (requires { op.fore_brush; }) {
                    brush(op.fore_brush);
                    brush(op.back_brush);
                }
                if constexpr (requires { op.mask.bitmap; }) {
                    if (op.mask.bitmap) {
                        check(*op.mask.bitmap);
                    }
                }
                if constexpr (requires { op.mask_bitmap; }) {
                    if (op.mask_bitmap) {
                        check(*op.mask_bitmap);
                    }
                }
            },
            *msg);
        return missing;
    }

    // Applies the held messages that can go now: their GLZ image came, or they waited too long
    // (`all`: the session is over, nothing more will come). True when any went.
    Result<bool> release_held(bool all) {
        bool any = false;
        for (bool progress = true; progress;) {
            progress = false;
            for (auto& [channel_id, queue] : held) {
                while (!queue.empty()) {
                    const Held h = queue.front();
                    const log::MessageRecord& m = messages[events[h.event].index];
                    const Connection& conn = connections.at(m.connection);
                    if (auto missing = glz_wait(m, conn)) {
                        if (!all && now_us - h.since_us < kGlzWaitUs) {
                            break;
                        }
                        rec->issue(
                            MessageContext{m.ts_us, m.connection, conn.channel_id, m.type, h.event},
                            "glz_wait_timeout",
                            fmt::format("display {} waited {:.3f} s for GLZ image {}, "
                                        "which never came on another display channel",
                                        conn.channel_id, double(now_us - h.since_us) / 1e6,
                                        *missing));
                    }
                    queue.pop_front();
                    if (auto ok = apply_message(m, h.event); !ok) {
                        return ok.error();
                    }
                    progress = any = true;
                }
            }
        }
        return any;
    }

    bool holding() const {
        for (const auto& [id, q] : held) {
            if (!q.empty()) {
                return true;
            }
        }
        return false;
    }

    // Server bytes are read ahead, the next messages of the connection with one log query:
    // a query per message costs more than applying most messages does.
    struct ReadAhead {
        int64_t connection = -1;
        uint64_t start = 0;
        std::vector<uint8_t> bytes;
    };

    ReadAhead ahead;
    static constexpr uint64_t kReadAheadBytes = uint64_t{1} << 20;

    Result<std::vector<uint8_t>> read_server_message(const log::MessageRecord& m) {
        const uint64_t length = uint64_t(m.header_size) + m.size;
        auto from_ahead = [&]() {
            const auto first = ahead.bytes.begin() + ptrdiff_t(m.offset - ahead.start);
            return std::vector<uint8_t>(first, first + ptrdiff_t(length));
        };
        if (ahead.connection == m.connection && m.offset >= ahead.start &&
            m.offset + length <= ahead.start + ahead.bytes.size()) {
            return from_ahead();
        }
        if (length < kReadAheadBytes / 4) {
            uint64_t end = m.offset + length;
            const size_t at = size_t(&m - messages.data());
            for (size_t k = at + 1; k < messages.size() && k < at + 512; ++k) {
                const log::MessageRecord& n = messages[k];
                if (n.connection != m.connection) {
                    break;
                }
                const uint64_t n_end = n.offset + n.header_size + n.size;
                if (n.dir != m.dir || n.offset < m.offset) {
                    continue;
                }
                if (n_end > m.offset + kReadAheadBytes) {
                    break;
                }
                end = std::max(end, n_end);
            }
            if (end > m.offset + length) {
                if (auto bulk = reader.read_stream(m.connection, m.dir, m.offset, end - m.offset)) {
                    ahead.connection = m.connection;
                    ahead.start = m.offset;
                    ahead.bytes = std::move(*bulk);
                    return from_ahead();
                }
                // A gap or a cut in the range: this message alone says what is missing.
            }
        }
        return reader.read_stream(m.connection, m.dir, m.offset, length);
    }

    Result<void> apply_message(const log::MessageRecord& m, size_t event) {
        const Connection& conn = connections.at(m.connection);
        if (conn.channel_type == kMainChannel) {
            apply_main(m, conn);
            return {};
        }
        MessageContext ctx{m.ts_us, m.connection, conn.channel_id, m.type, event};
        ++rec->stats.messages;
        if (m.dir == wire::Direction::ClientToServer) {
            if (m.type != kDisplayInit || conn.channel_type != kDisplayChannel) {
                return {};
            }
            auto bytes = reader.read_stream(m.connection, m.dir, m.offset + m.header_size, m.size);
            if (!bytes) {
                rec->issue(ctx, "truncated_message", "DISPLAY_INIT: " + bytes.error().message());
                return {};
            }
            auto init = display::parse_client(m.type, *bytes, conn.caps);
            if (init) {
                if (const auto* i = std::get_if<display::Init>(&*init)) {
                    if (alone(m.connection)) {
                        // No other display connection is open: the server starts a new GLZ
                        // dictionary and image cache for this one (a log that holds a
                        // reconnect, or several server runs, must not mix their ids).
                        images->restart();
                    }
                    images->configure(
                        uint64_t(std::max<int64_t>(i->pixmap_cache_size, 0)),
                        uint32_t(std::max<int32_t>(i->glz_dictionary_window_size, 0)));
                }
            }
            return {};
        }
        ++rec->stats.server_messages;
        const uint64_t position = ++server_messages_seen[m.connection];
        ctx.serial = m.serial.value_or(position);
        auto bytes = read_server_message(m);
        if (!bytes) {
            if (bytes.error().code == Errc::Io || bytes.error().code == Errc::Corrupt) {
                return bytes.error();
            }
            ++rec->stats.failed;
            rec->issue(ctx, "truncated_message",
                       fmt::format("{} bytes at offset {}: {}", m.header_size + m.size, m.offset,
                                   bytes.error().message()));
            mark_unsure(conn);
            return {};
        }
        const ByteView all(*bytes);
        const ByteView body = all.subspan(m.header_size);
        // Full header: sub-messages (WAIT_FOR_CHANNELS, INVAL_LIST) come before the message.
        if (m.header_size == 18 && all.size() >= 18) {
            const uint32_t sub_list = uint32_t(all[14]) | uint32_t(all[15]) << 8 |
                                      uint32_t(all[16]) << 16 | uint32_t(all[17]) << 24;
            if (sub_list != 0) {
                auto subs = base::parse_sub_message_list(body, sub_list);
                if (!subs) {
                    rec->issue(ctx, "parse_error", "sub-message list: " + subs.error().message());
                } else {
                    for (const base::SubMessage& sub : *subs) {
                        ++rec->stats.sub_messages;
                        dispatch(sub.type, sub.body, conn, ctx, 1);
                    }
                }
            }
        }
        dispatch(m.type, body, conn, ctx, 0);
        return {};
    }

    void apply_gap(const log::GapRecord& g) {
        const Connection& conn = connections.at(g.connection);
        MessageContext ctx{g.ts_us, g.connection, conn.channel_id, 0, next - 1};
        ++rec->stats.capture_gaps;
        const bool s2c = g.dir == wire::Direction::ServerToClient;
        rec->issue(ctx, "capture_gap",
                   fmt::format("{} bytes missing from the {} stream at offset {}{}", g.length,
                               s2c ? "server" : "client", g.offset,
                               s2c ? ": whatever they drew is unknown" : ""));
        if (s2c) {
            mark_unsure(conn);
        }
    }

    // True when no other display connection of the session is open at `connection`'s start.
    bool alone(int64_t connection) const {
        const Connection& me = connections.at(connection);
        for (const auto& [id, c] : connections) {
            if (id != connection && c.channel_type == kDisplayChannel &&
                c.start_us <= me.start_us && c.end_us > me.start_us) {
                return false;
            }
        }
        return true;
    }

    void mark_unsure(const Connection& conn) {
        if (conn.channel_type == kCursorChannel) {
            cursors.at(conn.channel_id).mark_unsure();
        } else {
            display_of(conn).mark_all_unsure();
        }
    }

    // When the next video frame is due (before the session's end), if any.
    std::optional<int64_t> next_due() const {
        std::optional<int64_t> due;
        for (const auto& [id, d] : displays) {
            if (auto t = d->next_due(); t && (!due || *t < *due)) {
                due = t;
            }
        }
        if (due && *due > reader.session().end_us) {
            return std::nullopt;
        }
        return due;
    }

    Result<bool> step() {
        // A video frame due before the next event shows as a step of its own, so that a
        // consumer stepping instant by instant sees it at its time.
        if (auto due = next_due(); due && (next >= events.size() || *due <= events[next].ts_us)) {
            present_until(*due);
            now_us = std::max(now_us, *due);
            return true;
        }
        if (next >= events.size()) {
            // The session is over: what still waits for a GLZ image goes without it.
            return release_held(true);
        }
        if (auto ok = maybe_checkpoint(); !ok) {
            return ok.error();
        }
        // The client's display timers fire between messages: frames due by this event show
        // before it is applied.
        present_until(events[next].ts_us);
        const Event ev = events[next++];
        // The screen was as it is now from the previous event until this one.
        const int64_t prev_ts = next >= 2
                                    ? std::max(events[next - 2].ts_us, reader.session().start_us)
                                    : reader.session().start_us;
        if (ev.ts_us > prev_ts) {
            rec->stats.walked_us += ev.ts_us - prev_ts;
            if (all_exact()) {
                rec->stats.exact_us += ev.ts_us - prev_ts;
            }
        }
        now_us = std::max(now_us, ev.ts_us);
        if (ev.gap) {
            apply_gap(gaps[ev.index]);
            return true;
        }
        const log::MessageRecord& m = messages[ev.index];
        if (m.dir == wire::Direction::ServerToClient) {
            bytes_applied += uint64_t(m.header_size) + m.size;
        }
        const Connection& conn = connections.at(m.connection);
        if (conn.channel_type == kDisplayChannel && displays.size() > 1) {
            auto& queue = held[conn.channel_id];
            if (!queue.empty() || glz_wait(m, conn)) {
                queue.push_back(Held{next - 1, ev.ts_us});
                ++held_total;
                if (auto ok = release_held(false); !ok) {
                    return ok.error();
                }
                return true;
            }
        }
        if (auto ok = apply_message(m, next - 1); !ok) {
            return ok.error();
        }
        if (holding()) {
            if (auto ok = release_held(false); !ok) {
                return ok.error();
            }
        }
        return true;
    }

    bool all_exact() const {
        for (const auto& [id, d] : displays) {
            if (auto p = d->primary_id()) {
                if (const PixelRegion* u = d->unsure(*p); u && !u->empty()) {
                    return false;
                }
            }
        }
        return true;
    }

    // ---- checkpoints -------------------------------------------------------------------

    // Before applying event `next`, on the first pass over it: a checkpoint when enough session
    // time or traffic went by since the last one.
    Result<void> maybe_checkpoint() {
        if (!options.checkpoints || next == 0) {
            return {};
        }
        const size_t last_event =
            checkpoints.size() ? checkpoints.event(checkpoints.size() - 1) : 0;
        if (next <= last_event) {
            return {};  // replaying again what a checkpoint already covers
        }
        if (holding()) {
            return {};  // messages waiting for a GLZ image are not part of a checkpoint
        }
        const int64_t last_ts =
            last_event ? events[last_event - 1].ts_us : reader.session().start_us;
        if (events[next - 1].ts_us - last_ts < options.checkpoint_interval_us &&
            bytes_applied - last_cp_bytes < options.checkpoint_bytes) {
            return {};
        }
        const auto t0 = std::chrono::steady_clock::now();
        StateWriter w;
        w.u64(next);
        w.u64(bytes_applied);
        w.i64(presented_us);
        recorder.save(w);
        clock.save(w);
        images->save(w);
        w.u64(displays.size());
        for (const auto& [id, d] : displays) {
            w.i32(id);
            d->save(w);
        }
        w.u64(cursors.size());
        for (const auto& [id, c] : cursors) {
            w.i32(id);
            c.save(w);
        }
        if (auto ok = checkpoints.add(next, std::move(w.buffer())); !ok) {
            return ok;
        }
        last_cp_bytes = bytes_applied;
        cp_presented.push_back(presented_us);
        ++cp_stats.taken;
        cp_stats.save_ms +=
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        return {};
    }

    uint64_t last_cp_bytes = 0;
    // Per checkpoint, the time up to which it had shown video frames: a seek to an earlier
    // time cannot start from it.
    std::vector<int64_t> cp_presented;

    Result<void> restore(size_t index) {
        const auto t0 = std::chrono::steady_clock::now();
        auto state = checkpoints.load(index);
        if (!state) {
            return state.error();
        }
        ByteReader r{ByteView(*state)};
        const size_t event = size_t(r.u64());
        const uint64_t bytes = r.u64();
        const int64_t presented = r.i64();
        if (!r.ok() || event > events.size()) {
            return make_error(Errc::Corrupt, 0, "checkpoint header");
        }
        reset();
        if (auto ok = recorder.load(r); !ok) {
            return ok;
        }
        clock.load(r);
        if (auto ok = images->load(r); !ok) {
            return ok;
        }
        const uint64_t n_displays = r.u64();
        for (uint64_t i = 0; i < n_displays && r.ok(); ++i) {
            const int id = r.i32();
            auto it = displays.find(id);
            if (it == displays.end()) {
                return make_error(Errc::Corrupt, 0, "checkpoint of an unknown display");
            }
            auto refeed = [&](uint32_t stream_id, const std::vector<size_t>& frame_events,
                              codec::VideoStreamDecoder& decoder) {
                return refeed_stream(id, stream_id, frame_events, decoder);
            };
            if (auto ok = it->second->load(r, refeed); !ok) {
                return ok;
            }
        }
        const uint64_t n_cursors = r.u64();
        for (uint64_t i = 0; i < n_cursors && r.ok(); ++i) {
            const int id = r.i32();
            auto it = cursors.find(id);
            if (it == cursors.end()) {
                return make_error(Errc::Corrupt, 0, "checkpoint of an unknown cursor channel");
            }
            if (auto ok = it->second.load(r); !ok) {
                return ok;
            }
        }
        if (!r.ok()) {
            return r.error("checkpoint");
        }
        next = event;
        bytes_applied = bytes;
        now_us = std::max(reader.session().start_us, event ? events[event - 1].ts_us : 0);
        presented_us = presented;
        now_us = std::max(now_us, presented);
        ++cp_stats.restores;
        cp_stats.restore_ms +=
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        return {};
    }

    // Feeds a stream decoder the frames it had been given (output dropped), which puts it in
    // exactly the state it had: decoding is deterministic and single-threaded.
    Result<void> refeed_stream(int channel_id, uint32_t stream_id,
                               const std::vector<size_t>& frame_events,
                               codec::VideoStreamDecoder& decoder) {
        for (size_t e : frame_events) {
            if (e >= events.size() || events[e].gap) {
                return make_error(Errc::Corrupt, 0, "checkpoint: stream frame event");
            }
            const log::MessageRecord& m = messages[events[e].index];
            const Connection& conn = connections.at(m.connection);
            if (conn.channel_id != channel_id || conn.channel_type != kDisplayChannel) {
                continue;
            }
            auto bytes =
                reader.read_stream(m.connection, m.dir, m.offset, uint64_t(m.header_size) + m.size);
            if (!bytes) {
                if (bytes.error().code == Errc::Io || bytes.error().code == Errc::Corrupt) {
                    return bytes.error();
                }
                continue;  // it failed the first time too
            }
            const ByteView body = ByteView(*bytes).subspan(m.header_size);
            feed_frames(m.type, body, conn, stream_id, decoder, 0);
        }
        return {};
    }

    void feed_frames(uint16_t type, ByteView body, const Connection& conn, uint32_t stream_id,
                     codec::VideoStreamDecoder& decoder, int depth) {
        if (type < base::kFirstChannelMessage) {
            auto msg = base::parse_server(type, body, conn.caps);
            if (msg && depth < kMaxListDepth) {
                if (const auto* list = std::get_if<base::List>(&*msg)) {
                    for (const base::SubMessage& sub : list->messages) {
                        feed_frames(sub.type, sub.body, conn, stream_id, decoder, depth + 1);
                    }
                }
            }
            return;
        }
        auto msg = display::parse_server(type, body, conn.caps);
        if (!msg) {
            return;
        }
        if (const auto* d = std::get_if<display::StreamData>(&*msg); d && d->id == stream_id) {
            (void)decoder.push(d->data, d->multi_media_time);
        } else if (const auto* ds = std::get_if<display::StreamDataSized>(&*msg);
                   ds && ds->id == stream_id) {
            (void)decoder.push(ds->data, ds->multi_media_time);
        }
    }

    // The first event captured after t_us.
    size_t event_after(int64_t t_us) const {
        auto it = std::upper_bound(events.begin(), events.end(), t_us,
                                   [](int64_t t, const Event& e) { return t < e.ts_us; });
        return size_t(it - events.begin());
    }
};

SessionReplay::SessionReplay(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SessionReplay::~SessionReplay() = default;

Result<std::unique_ptr<SessionReplay>> SessionReplay::open(const log::SessionLogReader& reader,
                                                           const ReplayOptions& options) {
    auto impl = std::make_unique<Impl>(reader, options);
    for (const log::ConnectionInfo& c : reader.connections()) {
        if (c.channel_type != kDisplayChannel && c.channel_type != kCursorChannel &&
            c.channel_type != kMainChannel) {
            continue;
        }
        Impl::Connection conn;
        conn.channel_type = c.channel_type;
        conn.start_us = c.start_us;
        conn.end_us = c.end_us;
        conn.channel_id = std::max(c.channel_id, 0);
        conn.caps = wire::ChannelCaps{c.client_common_caps, c.client_channel_caps,
                                      c.server_common_caps, c.server_channel_caps};
        impl->connections.emplace(c.id, std::move(conn));
    }
    for (const auto& [id, conn] : impl->connections) {
        log::SessionLogReader::MessageFilter filter;
        filter.connection = id;
        const bool main = conn.channel_type == kMainChannel;
        auto ok = reader.for_each_message(filter, [&](const log::MessageRecord& m) {
            if (!main || (m.dir == wire::Direction::ServerToClient &&
                          (m.type == kMainInit || m.type == kMainMultiMediaTime))) {
                impl->messages.push_back(m);
            }
            return true;
        });
        if (!ok) {
            return ok.error();
        }
    }
    auto gaps = reader.gaps();
    if (!gaps) {
        return gaps.error();
    }
    for (const log::GapRecord& g : *gaps) {
        auto c = impl->connections.find(g.connection);
        if (c != impl->connections.end() && c->second.channel_type != kMainChannel) {
            impl->gaps.push_back(g);
        }
    }
    // The log's own order within a connection (offset) is kept; connections merge by time and a
    // gap goes before the messages captured at the same instant.
    for (size_t i = 0; i < impl->messages.size(); ++i) {
        impl->events.push_back(Impl::Event{impl->messages[i].ts_us, false, i});
    }
    for (size_t i = 0; i < impl->gaps.size(); ++i) {
        impl->events.push_back(Impl::Event{impl->gaps[i].ts_us, true, i});
    }
    std::stable_sort(impl->events.begin(), impl->events.end(),
                     [&](const Impl::Event& a, const Impl::Event& b) {
                         if (a.ts_us != b.ts_us) {
                             return a.ts_us < b.ts_us;
                         }
                         return a.gap && !b.gap;
                     });
    impl->reset();
    return std::unique_ptr<SessionReplay>(new SessionReplay(std::move(impl)));
}

void SessionReplay::set_image_observer(ImageMessageObserver observer) {
    impl_->image_observer = std::move(observer);
}

Result<bool> SessionReplay::step() {
    return impl_->step();
}

Result<void> SessionReplay::run_until(int64_t t_us) {
    for (auto n = next_event_us(); n && *n <= t_us; n = next_event_us()) {
        auto ok = impl_->step();
        if (!ok) {
            return ok.error();
        }
    }
    impl_->now_us = std::max(impl_->now_us, t_us);
    if (impl_->holding()) {
        // Waits that timed out by t_us end; at the end of the session, every wait does.
        const bool over = impl_->next >= impl_->events.size() && t_us >= end_us();
        if (auto ok = impl_->release_held(over); !ok) {
            return ok.error();
        }
    }
    impl_->present_until(t_us);
    return {};
}

Result<void> SessionReplay::run_to_end() {
    while (true) {
        auto more = impl_->step();
        if (!more) {
            return more.error();
        }
        if (!*more) {
            impl_->present_until(impl_->reader.session().end_us);
            return {};
        }
    }
}

Result<void> SessionReplay::seek(int64_t t_us) {
    Impl& im = *impl_;
    const size_t target = im.event_after(t_us);
    auto cp = im.checkpoints.find(target);
    while (cp && im.cp_presented[*cp] > t_us) {
        cp = *cp > 0 ? std::optional<size_t>(*cp - 1) : std::nullopt;
    }
    if (target < im.next || t_us < im.presented_us) {
        // Back: from the last checkpoint at or before the target, else from the start.
        if (cp) {
            if (auto ok = im.restore(*cp); !ok) {
                return ok;
            }
        } else {
            im.reset();
        }
    } else if (cp && im.checkpoints.event(*cp) > im.next) {
        // Forward past a checkpoint: jumping there is cheaper than replaying up to it.
        if (auto ok = im.restore(*cp); !ok) {
            return ok;
        }
    }
    if (t_us < im.now_us) {
        // Between the last applied event and an earlier run_until's target: same state.
        im.now_us = std::max(start_us(), im.next ? im.events[im.next - 1].ts_us : start_us());
    }
    return run_until(t_us);
}

CheckpointStats SessionReplay::checkpoint_stats() const {
    CheckpointStats s = impl_->cp_stats;
    s.count = impl_->checkpoints.size();
    s.memory_bytes = impl_->checkpoints.memory_bytes();
    s.spilled_bytes = impl_->checkpoints.spilled_bytes();
    s.raw_bytes = impl_->checkpoints.raw_bytes();
    return s;
}

size_t SessionReplay::event_count() const {
    return impl_->events.size();
}

size_t SessionReplay::next_event() const {
    return impl_->next;
}

int64_t SessionReplay::now_us() const {
    return impl_->now_us;
}

std::optional<int64_t> SessionReplay::next_event_us() const {
    std::optional<int64_t> t = impl_->next_due();
    if (impl_->next < impl_->events.size() && (!t || impl_->events[impl_->next].ts_us < *t)) {
        t = impl_->events[impl_->next].ts_us;
    }
    return t;
}

int64_t SessionReplay::start_us() const {
    return impl_->reader.session().start_us;
}

int64_t SessionReplay::end_us() const {
    return impl_->reader.session().end_us;
}

bool SessionReplay::at_end() const {
    return impl_->next >= impl_->events.size() && !impl_->next_due();
}

std::vector<int> SessionReplay::displays() const {
    std::vector<int> out;
    for (const auto& [id, d] : impl_->displays) {
        out.push_back(id);
    }
    return out;
}

const DisplayState* SessionReplay::display(int channel_id) const {
    auto it = impl_->displays.find(channel_id);
    return it == impl_->displays.end() ? nullptr : it->second.get();
}

const CursorState* SessionReplay::cursor_state(int channel_id) const {
    auto it = impl_->cursors.find(channel_id);
    return it == impl_->cursors.end() ? nullptr : &it->second;
}

std::optional<canvas::CursorView> SessionReplay::cursor(int channel_id) const {
    const CursorState* c = cursor_state(channel_id);
    return c ? c->view() : std::nullopt;
}

std::optional<canvas::Surface> SessionReplay::frame(int channel_id, bool with_cursor) const {
    const canvas::Surface* p = primary(channel_id);
    if (!p) {
        return std::nullopt;
    }
    canvas::Surface out = p->clone();
    if (with_cursor) {
        if (auto c = cursor(channel_id)) {
            canvas::compose_cursor(out, *c);
        }
    }
    return out;
}

const canvas::Surface* SessionReplay::primary(int channel_id) const {
    const DisplayState* d = display(channel_id);
    return d ? d->primary() : nullptr;
}

PixelRegion SessionReplay::primary_unsure(int channel_id) const {
    const DisplayState* d = display(channel_id);
    if (!d || !d->primary_id()) {
        return {};
    }
    const PixelRegion* u = d->unsure(*d->primary_id());
    return u ? *u : PixelRegion{};
}

const ReplayStats& SessionReplay::stats() const {
    return impl_->rec->stats;
}

const std::vector<ReplayIssue>& SessionReplay::issues() const {
    return impl_->rec->issues;
}

ReplayReport SessionReplay::report() const {
    ReplayReport r;
    r.start_us = start_us();
    r.end_us = end_us();
    r.replayed_to_us = now_us();
    r.stats = impl_->rec->stats;
    r.stats.images_by_codec = impl_->images->stats();
    r.issues = impl_->rec->issues;
    for (const auto& [id, d] : impl_->displays) {
        if (const canvas::Surface* p = d->primary()) {
            r.primaries.push_back(
                SurfaceSummary{id, p->id(), p->width(), p->height(), primary_unsure(id).area()});
        }
    }
    return r;
}

}  // namespace spicetap::replay
