#include "capture/proxy/proxy_recorder.h"

#include <fmt/core.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "decode/wire/link.h"

namespace spicetap::proxy {

namespace {

using capture::Side;

// How long queued pieces may wait for the recorder, and how much makes it come at once.
constexpr auto kBatchInterval = std::chrono::milliseconds(10);
constexpr uint64_t kWakeBytes = 4u << 20;
// The queue's byte arena is made of blocks this big (a read is at most the relay's buffer,
// 256 KiB; a bigger one is copied on its own); this many emptied blocks are kept for reuse.
constexpr size_t kBlockBytes = 1u << 20;
// Fresh blocks cost the relay a page fault per 4 KiB: blocks a burst needed are kept for the
// next one (up to the default queue bound), and given back after a quiet while.
constexpr size_t kSpareBlocks = 256;
constexpr size_t kQuietSpareBlocks = 16;
constexpr auto kQuiet = std::chrono::seconds(10);
constexpr int kRecorderNice = 10;

// Link header (16 bytes) + SpiceLinkMess connection_id (4), channel_type (1), channel_id (1).
constexpr size_t kRoutingBytes = 22;

Side side_of(Direction d) {
    return d == Direction::ClientToServer ? Side::Initiator : Side::Responder;
}

size_t index_of(Direction d) {
    return static_cast<size_t>(d);
}

}  // namespace

struct ProxyRecorder::Recording {
    std::unique_ptr<capture::SpiceSessionBuilder> builder;
    std::string client;  // the first connection's client address
    size_t live = 0;     // its connections not yet closed
    bool failed = false;
};

struct ProxyRecorder::Connection {
    ConnectionId id = 0;
    Endpoint client, server;
    int64_t open_ts = 0;
    bool tls = false;
    Recording* rec = nullptr;
    std::vector<Event> held;    // until the link message tells which session it joins
    std::vector<uint8_t> head;  // the first client bytes
    uint64_t next[2] = {0, 0};  // next expected offset per direction
    std::string channel = "?";  // "display#0", once known
};

ProxyRecorder::ProxyRecorder(RecorderOptions options)
    : opt_(std::move(options)), wake_bytes_(kWakeBytes), checkpointer_(opt_.log) {
    thread_ = std::thread([this] { run(); });
}

ProxyRecorder::~ProxyRecorder() {
    stop();
}

void ProxyRecorder::say(const std::string& line) const {
    if (opt_.log) {
        opt_.log(line);
    }
}

void ProxyRecorder::push(Event ev) {
    std::lock_guard<std::mutex> lk(mu_);
    queue_.push_back(std::move(ev));
}

void ProxyRecorder::open(ConnectionId id, const Endpoint& client, const Endpoint& server,
                         int64_t ts_us, bool tls) {
    Event ev{};
    ev.kind = EventKind::Open;
    ev.id = id;
    ev.ts_us = ts_us;
    ev.tls = tls;
    ev.client = client;
    ev.server = server;
    push(std::move(ev));
}

uint8_t* ProxyRecorder::room_for(size_t size) {
    if (arena_.empty() || arena_used_ + size > kBlockBytes) {
        if (spare_.empty()) {
            arena_.push_back(std::make_unique_for_overwrite<uint8_t[]>(kBlockBytes));
        } else {
            arena_.push_back(std::move(spare_.back()));
            spare_.pop_back();
        }
        arena_used_ = 0;
    }
    return arena_.back().get() + arena_used_;
}

ProxyRecorder::Event& ProxyRecorder::add_data(ConnectionId id, Direction dir, int64_t ts_us,
                                              uint64_t offset, size_t size) {
    Event& ev = queue_.emplace_back();
    ev.kind = EventKind::Data;
    ev.id = id;
    ev.dir = dir;
    ev.ts_us = ts_us;
    ev.offset = offset;
    ev.size = size;
    stats_.queued_bytes += size;
    arrived_ += size;
    // The recorder looks at the queue every kBatchInterval by itself; waking it for every piece
    // would cost the relay a futex call and the machine a context switch per message.
    if (recorder_waiting_ && stats_.queued_bytes >= wake_bytes_) {
        wake_.notify_one();
    }
    return ev;
}

bool ProxyRecorder::data(ConnectionId id, Direction dir, int64_t ts_us, uint64_t offset,
                         const uint8_t* bytes, size_t size) {
    std::lock_guard<std::mutex> lk(mu_);
    if (stats_.queued_bytes + size > opt_.max_queued_bytes) {
        stats_.dropped_bytes += size;
        return false;
    }
    if (size > kBlockBytes) {
        Event& ev = add_data(id, dir, ts_us, offset, size);
        ev.own.assign(bytes, bytes + size);
        ev.owned = true;
        return true;
    }
    uint8_t* at = room_for(size);
    std::memcpy(at, bytes, size);
    Event& ev = add_data(id, dir, ts_us, offset, size);
    ev.block = static_cast<uint32_t>(arena_.size() - 1);
    ev.at = static_cast<uint32_t>(arena_used_);
    arena_used_ += size;
    return true;
}

ssize_t ProxyRecorder::take(ConnectionId id, Direction dir, int64_t ts_us, uint64_t offset,
                            size_t max, const std::function<ssize_t(uint8_t*, size_t)>& take,
                            bool* recorded) {
    max = std::min(max, kBlockBytes);
    std::unique_lock<std::mutex> lk(mu_);
    if (stats_.queued_bytes + max > opt_.max_queued_bytes) {
        lk.unlock();
        const ssize_t n = take(nullptr, max);
        *recorded = false;
        if (n > 0) {
            lk.lock();
            stats_.dropped_bytes += static_cast<uint64_t>(n);
        }
        return n;
    }
    *recorded = true;
    const ssize_t n = take(room_for(max), max);
    if (n > 0) {
        Event& ev = add_data(id, dir, ts_us, offset, static_cast<size_t>(n));
        ev.block = static_cast<uint32_t>(arena_.size() - 1);
        ev.at = static_cast<uint32_t>(arena_used_);
        arena_used_ += static_cast<size_t>(n);
    }
    return n;
}

void ProxyRecorder::close(ConnectionId id, int64_t ts_us, CloseReason reason,
                          const uint64_t end_offset[2]) {
    Event ev{};
    ev.kind = EventKind::Close;
    ev.id = id;
    ev.ts_us = ts_us;
    ev.reason = reason;
    ev.end_offset[0] = end_offset[0];
    ev.end_offset[1] = end_offset[1];
    push(std::move(ev));
}

void ProxyRecorder::stop() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        stopping_ = true;
        wake_.notify_one();
    }
    if (thread_.joinable()) {
        thread_.join();
    }
}

RecorderStats ProxyRecorder::stats() const {
    std::lock_guard<std::mutex> lk(mu_);
    return stats_;
}

void ProxyRecorder::run() {
    // Below the relay: under a burst the user's traffic gets the CPU first and the queue takes
    // up the difference, recorded once the burst is over.
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kRecorderNice);
    // Named for `top -H` and `ps -L`, where an operator tells the recorder from the relay.
    ::pthread_setname_np(::pthread_self(), "recorder");
    using clock = std::chrono::steady_clock;
    auto next_checkpoint = clock::now() + std::chrono::seconds(1);
    auto last_busy = clock::now();
    // The queue and arena of the batch being recorded; swapped with the relay's each round.
    std::vector<Event> batch;
    std::vector<Block> batch_arena;
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
        if (!stopping_ && stats_.queued_bytes < kWakeBytes) {
            recorder_waiting_ = true;
            wake_.wait_until(lk, std::min(next_checkpoint, clock::now() + kBatchInterval));
            recorder_waiting_ = false;
        }
        let_burst_pass(lk, next_checkpoint);
        batch.swap(queue_);
        batch_arena.swap(arena_);
        const bool last = stopping_;
        lk.unlock();
        batch_arena_ = &batch_arena;
        // What is recorded goes back to the relay block by block, not at the end of the batch:
        // after a burst the batch is large, and the queue must make room while it is recorded.
        bool recorded_any = false;
        uint64_t unreturned = 0;
        size_t returned_blocks = 0;
        for (Event& ev : batch) {
            const bool data = ev.kind == EventKind::Data;
            handle(ev);
            recorded_any = recorded_any || data;
            unreturned += data ? ev.size : 0;
            const bool block_done = data && (ev.owned || ev.block > returned_blocks);
            if (block_done && unreturned >= kBlockBytes) {
                const size_t done = ev.owned ? returned_blocks : ev.block;
                lk.lock();
                give_back(batch_arena, returned_blocks, done, unreturned);
                lk.unlock();
                returned_blocks = done;
                unreturned = 0;
            }
        }
        batch_arena_ = nullptr;
        batch.clear();
        if (clock::now() >= next_checkpoint) {
            checkpoint_all();
            next_checkpoint = clock::now() + std::chrono::seconds(1);
        }
        lk.lock();
        give_back(batch_arena, returned_blocks, batch_arena.size(), unreturned);
        batch_arena.clear();
        if (recorded_any) {
            last_busy = clock::now();
        } else if (spare_.size() > kQuietSpareBlocks && clock::now() - last_busy > kQuiet) {
            spare_.resize(kQuietSpareBlocks);
        }
        if (last && queue_.empty()) {
            break;
        }
    }
    lk.unlock();
    // Connections the relay never closed (it closes all when it stops) end with the capture.
    while (!recordings_.empty()) {
        finish(*recordings_.front());
    }
    connections_.clear();
}

void ProxyRecorder::give_back(std::vector<Block>& blocks, size_t from, size_t to,
                              uint64_t recorded) {
    for (size_t i = from; i < to; ++i) {
        if (spare_.size() < kSpareBlocks) {
            spare_.push_back(std::move(blocks[i]));
        }
        blocks[i].reset();
    }
    stats_.queued_bytes -= recorded;
    stats_.recorded_bytes += recorded;
}

void ProxyRecorder::let_burst_pass(std::unique_lock<std::mutex>& lk,
                                   std::chrono::steady_clock::time_point commit_due) {
    // Recording a burst while it runs takes CPU from the relay and from the peers it serves
    // (writing the log costs several times what relaying does), and the queue is there to take
    // the burst up. The wait ends when the burst does, when the queue is half full (from then
    // on the recorder works at its own priority and hands the queue back block by block, so it
    // does not run over), or when the next commit is due: nothing waits more than a second to
    // be committed, burst or not.
    using clock = std::chrono::steady_clock;
    for (;;) {
        const auto now = clock::now();
        if (stopping_ || stats_.queued_bytes >= opt_.max_queued_bytes / 2 || now >= commit_due) {
            return;
        }
        // The rate over less than half a batch interval says nothing (a wake-up right after
        // the last look finds the queue as it was).
        const double seconds = std::chrono::duration<double>(now - burst_seen_at_).count();
        if (seconds >= std::chrono::duration<double>(kBatchInterval).count() / 2) {
            const bool burst = static_cast<double>(arrived_ - burst_seen_bytes_) >=
                               static_cast<double>(opt_.burst_bytes_per_second) * seconds;
            burst_seen_bytes_ = arrived_;
            burst_seen_at_ = now;
            if (!burst) {
                return;
            }
        }
        wake_bytes_ = opt_.max_queued_bytes / 2;
        recorder_waiting_ = true;
        wake_.wait_until(lk, std::min(commit_due, now + kBatchInterval));
        recorder_waiting_ = false;
        wake_bytes_ = kWakeBytes;
    }
}

void ProxyRecorder::handle(Event& ev) {
    if (ev.kind == EventKind::Open) {
        auto c = std::make_unique<Connection>();
        c->id = ev.id;
        c->client = ev.client;
        c->server = ev.server;
        c->open_ts = ev.ts_us;
        c->tls = ev.tls;
        connections_[ev.id] = std::move(c);
        return;
    }
    auto it = connections_.find(ev.id);
    if (it == connections_.end()) {
        return;
    }
    Connection& c = *it->second;
    if (c.rec) {
        deliver(c, ev);
        return;
    }
    if (ev.kind == EventKind::Data && ev.dir == Direction::ClientToServer &&
        ev.offset == c.head.size() && c.head.size() < kRoutingBytes) {
        const ByteView b = bytes_of(ev);
        const size_t take = std::min(kRoutingBytes - c.head.size(), b.size());
        c.head.insert(c.head.end(), b.begin(), b.begin() + static_cast<long>(take));
    }
    const bool closing = ev.kind == EventKind::Close;
    if (ev.kind == EventKind::Data && !ev.owned) {
        // Held past this batch, whose arena is reused.
        const ByteView b = bytes_of(ev);
        ev.own.assign(b.begin(), b.end());
        ev.owned = true;
    }
    c.held.push_back(std::move(ev));
    if (c.head.size() >= kRoutingBytes || closing) {
        route(c);
    }
}

ByteView ProxyRecorder::bytes_of(const Event& ev) const {
    if (ev.owned) {
        return ByteView(ev.own);
    }
    return ByteView((*batch_arena_)[ev.block].get() + ev.at, ev.size);
}

void ProxyRecorder::route(Connection& c) {
    uint32_t connection_id = 0;
    if (c.head.size() >= kRoutingBytes && wire::starts_with_link_magic(c.head)) {
        connection_id = static_cast<uint32_t>(c.head[16]) | static_cast<uint32_t>(c.head[17]) << 8 |
                        static_cast<uint32_t>(c.head[18]) << 16 |
                        static_cast<uint32_t>(c.head[19]) << 24;
        c.channel = fmt::format("{}#{}", wire::channel_type_name(c.head[20]), c.head[21]);
    }
    // Channels after main carry the session's id; main (id 0) starts a new session.
    Recording* rec = nullptr;
    if (connection_id != 0) {
        for (auto& r : recordings_) {
            if (r->builder->has_session(connection_id)) {
                rec = r.get();
                break;
            }
        }
    }
    if (!rec) {
        capture::SessionSinkOptions sink;
        sink.directory = opt_.directory;
        sink.tool_version = opt_.tool_version;
        sink.source_kind = "proxy";
        sink.source = opt_.source;
        sink.crash_safe = true;
        sink.checkpointer = &checkpointer_;
        // Final names from the start and the writer's identity, as live capture: a killed proxy
        // leaves normally named logs, and `sessions` tells a running recording from a cut one.
        sink.live = true;
        auto r = std::make_unique<Recording>();
        r->builder = std::make_unique<capture::SpiceSessionBuilder>(sink);
        r->client = c.client.to_string();
        recordings_.push_back(std::move(r));
        rec = recordings_.back().get();
    }
    c.rec = rec;
    ++rec->live;
    rec->builder->on_open(c.id, c.client, c.server, c.open_ts, true);
    if (c.tls) {
        rec->builder->mark_tls(c.id);
    }
    std::vector<Event> held = std::move(c.held);
    c.held.clear();
    for (Event& ev : held) {
        deliver(c, ev);
    }
}

void ProxyRecorder::deliver(Connection& c, Event& ev) {
    Recording& r = *c.rec;
    capture::SpiceSessionBuilder& b = *r.builder;
    if (ev.kind == EventKind::Data) {
        const size_t i = index_of(ev.dir);
        if (ev.offset > c.next[i]) {
            // Bytes dropped while the queue was full: the log says so, like a capture loss.
            b.on_gap(c.id, side_of(ev.dir), ev.ts_us, c.next[i], ev.offset - c.next[i]);
        }
        b.on_data(c.id, side_of(ev.dir), ev.ts_us, ev.offset, bytes_of(ev));
        c.next[i] = ev.offset + ev.size;
        check(r);
        return;
    }
    // Close.
    for (Direction d : {Direction::ClientToServer, Direction::ServerToClient}) {
        const size_t i = index_of(d);
        if (ev.end_offset[i] > c.next[i]) {
            b.on_gap(c.id, side_of(d), ev.ts_us, c.next[i], ev.end_offset[i] - c.next[i]);
            c.next[i] = ev.end_offset[i];
        }
    }
    const uint64_t errors_before = b.stats().framing_errors;
    b.on_close(c.id, ev.ts_us, ev.reason);
    if (b.stats().framing_errors > errors_before && !r.failed) {
        say(fmt::format("{} {} (client {}): ended in the middle of a message; the log notes where",
                        c.channel, c.id, c.client.to_string()));
    }
    --r.live;
    const ConnectionId id = c.id;
    connections_.erase(id);  // `c` is gone from here on
    check(r);
    if (r.live == 0) {
        finish(r);
    }
}

void ProxyRecorder::check(Recording& r) {
    if (r.failed || !r.builder->fatal_error()) {
        return;
    }
    r.failed = true;
    {
        std::lock_guard<std::mutex> lk(mu_);
        ++stats_.sessions_failed;
    }
    say(
        fmt::format("session of client {}: recording STOPPED: {}; relaying goes on, the log in {} "
                    "keeps what was committed before",
                    r.client, r.builder->fatal_error()->message(), opt_.directory.string()));
}

void ProxyRecorder::checkpoint_all() {
    for (auto& r : recordings_) {
        if (!r->failed) {
            [[maybe_unused]] auto res = r->builder->checkpoint();
            check(*r);
        }
    }
}

void ProxyRecorder::finish(Recording& r) {
    // Connections of this recording that are still open (the recorder is stopping) are closed
    // by the builder as at the end of a capture.
    for (auto it = connections_.begin(); it != connections_.end();) {
        it = it->second->rec == &r ? connections_.erase(it) : std::next(it);
    }
    auto done = r.builder->finish();
    if (done) {
        for (const capture::FinishedSession& s : *done) {
            {
                std::lock_guard<std::mutex> lk(mu_);
                ++stats_.sessions_finished;
            }
            say(fmt::format(
                "session {:#010x} (client {}) ended: {} connection(s), {} messages -> {}",
                s.session_id, r.client, s.connections, s.messages, s.path.string()));
            if (opt_.on_session) {
                opt_.on_session(s);
            }
        }
    } else {
        check(r);
        say(fmt::format("session of client {} ended; its recording had stopped: {}", r.client,
                        done.error().message()));
        if (opt_.on_failed_session) {
            opt_.on_failed_session();
        }
    }
    auto it = std::find_if(recordings_.begin(), recordings_.end(),
                           [&](const auto& p) { return p.get() == &r; });
    if (it != recordings_.end()) {
        recordings_.erase(it);
    }
}

}  // namespace spicetap::proxy
