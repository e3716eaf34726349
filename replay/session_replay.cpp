// The session clock: display messages and capture gaps merged in capture-time order, each
// delivered to its channel's DisplayState; sub-message lists unpacked first, as the client does.
#include "replay/session_replay.h"

#include <fmt/core.h>

#include <algorithm>

#include "decode/channels/base_channel.h"
#include "decode/channels/display_channel.h"
#include "decode/wire/caps.h"
#include "decode/wire/protocol_names.h"
#include "replay/display_state.h"
#include "replay/image_source.h"

namespace spicetap::replay {

namespace display = channels::display;
namespace base = channels::base;

namespace {

constexpr int kDisplayChannel = 2;
constexpr uint16_t kDisplayInit = 101;
// A LIST inside a LIST is not something servers send; the bound only stops hostile nesting.
constexpr int kMaxListDepth = 4;

}  // namespace

struct SessionReplay::Impl {
    struct Connection {
        int channel_id = 0;
        wire::ChannelCaps caps;
    };

    struct Event {
        int64_t ts_us = 0;
        bool gap = false;
        size_t index = 0;  // into messages or gaps
    };

    const log::SessionLogReader& reader;
    std::map<int64_t, Connection> connections;
    std::vector<log::MessageRecord> messages;
    std::vector<log::GapRecord> gaps;
    std::vector<Event> events;

    size_t next = 0;
    int64_t now_us = 0;
    std::unique_ptr<ReplayRecorder> rec;
    std::unique_ptr<ImageSource> images;
    std::map<int, std::unique_ptr<DisplayState>> displays;
    std::map<int64_t, uint64_t> server_messages_seen;  // per connection, for mini-header serials
    ImageMessageObserver image_observer;
    MessageContext current;  // the display message being applied, for image_observer

    explicit Impl(const log::SessionLogReader& r) : reader(r) { reset(); }

    void reset() {
        next = 0;
        now_us = reader.session().start_us;
        displays.clear();
        images = std::make_unique<ImageSource>();
        images->set_observer([this](const ImageEvent& ev) {
            if (image_observer) {
                image_observer(current, ev);
            }
        });
        rec = std::make_unique<ReplayRecorder>();
        server_messages_seen.clear();
        for (const auto& [id, c] : connections) {
            if (!displays.contains(c.channel_id)) {
                displays.emplace(c.channel_id,
                                 std::make_unique<DisplayState>(c.channel_id, *images, *rec));
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

    Result<void> apply_message(const log::MessageRecord& m) {
        const Connection& conn = connections.at(m.connection);
        MessageContext ctx{m.ts_us, m.connection, conn.channel_id, m.type};
        ++rec->stats.messages;
        if (m.dir == wire::Direction::ClientToServer) {
            if (m.type != kDisplayInit) {
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
        auto bytes =
            reader.read_stream(m.connection, m.dir, m.offset, uint64_t(m.header_size) + m.size);
        if (!bytes) {
            if (bytes.error().code == Errc::Io || bytes.error().code == Errc::Corrupt) {
                return bytes.error();
            }
            ++rec->stats.failed;
            rec->issue(ctx, "truncated_message",
                       fmt::format("{} bytes at offset {}: {}", m.header_size + m.size, m.offset,
                                   bytes.error().message()));
            display_of(conn).mark_all_unsure();
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
        MessageContext ctx{g.ts_us, g.connection, conn.channel_id, 0};
        ++rec->stats.capture_gaps;
        const bool s2c = g.dir == wire::Direction::ServerToClient;
        rec->issue(ctx, "capture_gap",
                   fmt::format("{} bytes missing from the {} stream at offset {}{}", g.length,
                               s2c ? "server" : "client", g.offset,
                               s2c ? ": whatever they drew is unknown" : ""));
        if (s2c) {
            display_of(conn).mark_all_unsure();
        }
    }

    Result<bool> step() {
        if (next >= events.size()) {
            return false;
        }
        const Event ev = events[next++];
        now_us = std::max(now_us, ev.ts_us);
        if (ev.gap) {
            apply_gap(gaps[ev.index]);
            return true;
        }
        if (auto ok = apply_message(messages[ev.index]); !ok) {
            return ok.error();
        }
        return true;
    }
};

SessionReplay::SessionReplay(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SessionReplay::~SessionReplay() = default;

Result<std::unique_ptr<SessionReplay>> SessionReplay::open(const log::SessionLogReader& reader) {
    auto impl = std::make_unique<Impl>(reader);
    for (const log::ConnectionInfo& c : reader.connections()) {
        if (c.channel_type != kDisplayChannel) {
            continue;
        }
        Impl::Connection conn;
        conn.channel_id = std::max(c.channel_id, 0);
        conn.caps = wire::ChannelCaps{c.client_common_caps, c.client_channel_caps,
                                      c.server_common_caps, c.server_channel_caps};
        impl->connections.emplace(c.id, std::move(conn));
    }
    for (const auto& [id, conn] : impl->connections) {
        log::SessionLogReader::MessageFilter filter;
        filter.connection = id;
        auto ok = reader.for_each_message(filter, [&](const log::MessageRecord& m) {
            impl->messages.push_back(m);
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
        if (impl->connections.contains(g.connection)) {
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
    while (impl_->next < impl_->events.size() && impl_->events[impl_->next].ts_us <= t_us) {
        auto ok = impl_->step();
        if (!ok) {
            return ok.error();
        }
    }
    impl_->now_us = std::max(impl_->now_us, t_us);
    return {};
}

Result<void> SessionReplay::run_to_end() {
    while (true) {
        auto more = impl_->step();
        if (!more) {
            return more.error();
        }
        if (!*more) {
            return {};
        }
    }
}

Result<void> SessionReplay::seek(int64_t t_us) {
    if (t_us < impl_->now_us) {
        impl_->reset();
    }
    return run_until(t_us);
}

int64_t SessionReplay::now_us() const {
    return impl_->now_us;
}

int64_t SessionReplay::start_us() const {
    return impl_->reader.session().start_us;
}

int64_t SessionReplay::end_us() const {
    return impl_->reader.session().end_us;
}

bool SessionReplay::at_end() const {
    return impl_->next >= impl_->events.size();
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
