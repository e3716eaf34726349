// ProxyRecorder: the recording half of the proxy. The relay thread hands it what it read from
// each socket (with the capture time) through a bounded queue; a thread of its own turns that
// into session logs with the same SpiceSessionBuilder `import` uses, so a proxy log holds what
// an import of a capture of the same traffic would. A burst (the relay reading faster than
// burst_bytes_per_second) is recorded once it is over, or once it fills half the queue, so
// that the user's traffic has the CPU meanwhile; commits still come every second. A slow disk
// never stalls the relay: when the queue is full the bytes are dropped from the recording and
// become a gap. A write error (disk full) stops that session's recording only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capture/import/spice_sessions.h"
#include "capture/log/wal_checkpointer.h"
#include "capture/pcap/tcp_reassembly.h"

namespace spicetap::proxy {

using capture::CloseReason;
using capture::ConnectionId;
using capture::Endpoint;
using wire::Direction;

struct RecorderOptions {
    std::filesystem::path directory;
    std::string tool_version;
    std::string source;  // "listen=... upstream=..."
    size_t max_queued_bytes = 256u << 20;
    // The relay reading faster than this is a burst, which the recorder lets pass before it
    // records it (see let_burst_pass). A SPICE session's screen updates and video streams stay
    // far below it; a file copy over a fast link does not.
    uint64_t burst_bytes_per_second = 100u << 20;
    // Lines for the operator ("session 0x... ended: ..."); called from the recorder thread.
    std::function<void(const std::string&)> log;
    // A client session's log is complete (all its connections closed, or the recorder stopped).
    std::function<void(const capture::FinishedSession&)> on_session;
    // A session whose recording stopped on a write error has ended (its log is incomplete).
    std::function<void()> on_failed_session;
};

struct RecorderStats {
    uint64_t queued_bytes = 0;    // now
    uint64_t dropped_bytes = 0;   // not recorded because the queue was full
    uint64_t recorded_bytes = 0;  // handed to a session log
    uint64_t sessions_finished = 0;
    uint64_t sessions_failed = 0;  // stopped by a write error
};

class ProxyRecorder {
public:
    explicit ProxyRecorder(RecorderOptions options);
    ~ProxyRecorder();  // stop()s

    // Relay thread. A connection is opened once both legs are up; `tls` when either is TLS.
    void open(ConnectionId id, const Endpoint& client, const Endpoint& server, int64_t ts_us,
              bool tls);
    // False when the queue is full: the bytes are not recorded (a gap in the log).
    bool data(ConnectionId id, Direction dir, int64_t ts_us, uint64_t offset, const uint8_t* bytes,
              size_t size);
    // Bytes not read yet (the relay splices plain TCP through a kernel pipe): `take(copy, max)`
    // moves at most `max` bytes on and, when `copy` is not null, leaves a copy of them there; it
    // returns how many it moved, or <= 0 as read() does. It runs under the queue's lock, so the
    // recorder's copy is the only one made in user space. `*recorded` false: the queue was full,
    // `take` got no copy to fill and the bytes are a gap in the log.
    ssize_t take(ConnectionId id, Direction dir, int64_t ts_us, uint64_t offset, size_t max,
                 const std::function<ssize_t(uint8_t* copy, size_t max)>& take, bool* recorded);
    // `end_offset` per direction (c2s, s2c): bytes read from that side in all.
    void close(ConnectionId id, int64_t ts_us, CloseReason reason, const uint64_t end_offset[2]);

    // Records everything queued, closes every log and joins the thread. Idempotent.
    void stop();

    RecorderStats stats() const;

private:
    using Block = std::unique_ptr<uint8_t[]>;  // a piece of the queue's byte arena
    enum class EventKind : uint8_t { Open, Data, Close };

    struct Event {
        EventKind kind;
        ConnectionId id;
        Direction dir;
        int64_t ts_us;
        uint64_t offset;
        CloseReason reason;
        uint64_t end_offset[2];
        bool tls;
        Endpoint client, server;
        // Data: `size` bytes at `at` in block `block` of the batch's arena, or in `own` once
        // the event outlives its batch (held until its connection's session is known).
        uint32_t block, at;
        size_t size;
        bool owned;
        std::vector<uint8_t> own;
    };
    struct Recording;
    struct Connection;

    void push(Event ev);
    // The arena room for one more piece of `size` <= kBlockBytes bytes (mu_ held).
    uint8_t* room_for(size_t size);
    Event& add_data(ConnectionId id, Direction dir, int64_t ts_us, uint64_t offset, size_t size);
    ByteView bytes_of(const Event& ev) const;
    void run();
    // Blocks [from, to) of a recorded batch's arena back to the relay for reuse, and
    // `recorded` bytes off the queue (mu_ held).
    void give_back(std::vector<Block>& blocks, size_t from, size_t to, uint64_t recorded);
    // Waits (mu_ held in `lk`) while the relay is in a burst that the queue can take.
    void let_burst_pass(std::unique_lock<std::mutex>& lk,
                        std::chrono::steady_clock::time_point commit_due);
    void handle(Event& ev);
    void route(Connection& c);
    void deliver(Connection& c, Event& ev);
    void check(Recording& r);
    void finish(Recording& r);
    void checkpoint_all();
    void say(const std::string& line) const;

    RecorderOptions opt_;
    mutable std::mutex mu_;
    std::condition_variable wake_;
    // Both reused from batch to batch (the recorder hands back emptied ones): the relay
    // allocates nothing per read once they have grown to the traffic.
    std::vector<Event> queue_;
    std::vector<Block> arena_;  // fixed-size blocks: growing never copies what is queued
    size_t arena_used_ = 0;     // bytes used in arena_.back()
    std::vector<Block> spare_;  // emptied blocks, for the next batches
    bool stopping_ = false;
    bool recorder_waiting_ = false;
    uint64_t wake_bytes_;   // queued bytes that wake a waiting recorder
    uint64_t arrived_ = 0;  // bytes ever queued (mu_): the relay's rate, seen by the recorder
    RecorderStats stats_;

    // Before the recorder thread: its logs deregister from it when they close.
    log::WalCheckpointer checkpointer_;

    // Recorder thread only.
    const std::vector<Block>* batch_arena_ = nullptr;  // the arena of the batch in hand
    uint64_t burst_seen_bytes_ = 0;                    // arrived_ when let_burst_pass last looked
    std::chrono::steady_clock::time_point burst_seen_at_;
    std::map<ConnectionId, std::unique_ptr<Connection>> connections_;
    std::vector<std::unique_ptr<Recording>> recordings_;

    std::thread thread_;
};

}  // namespace spicetap::proxy
