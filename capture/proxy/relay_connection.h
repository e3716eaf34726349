// RelayConnection: one client channel connection and its upstream twin. Accepts (and, on the
// TLS listener, terminates TLS), connects upstream (plain or TLS), then moves bytes both ways
// as they come, byte for byte, handing each piece it read to the recorder with the time it was
// read. Flow control is per connection: a side that does not read holds back only the bytes
// meant for it (its peer's socket stops being read), nothing else.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "capture/proxy/event_loop.h"
#include "capture/proxy/proxy_recorder.h"
#include "capture/proxy/tls_endpoint.h"

namespace spicetap::proxy {

// A kernel pipe plain TCP goes through on its way from one socket to the other (splice(2): no
// copy through user space; the recorder's copy is taken with MSG_PEEK). One per relay thread,
// shared by its connections: it is empty again after every read, because what the receiving
// socket does not take at once is moved into that connection's own buffer.
class SplicePipe {
public:
    SplicePipe();  // unusable (the relay copies through user space) when no pipe can be made
    ~SplicePipe();
    SplicePipe(const SplicePipe&) = delete;
    SplicePipe& operator=(const SplicePipe&) = delete;

    bool usable() const { return in_ >= 0; }

    int in() const { return in_; }  // write end

    int out() const { return out_; }  // read end

    size_t capacity() const { return capacity_; }

private:
    int in_ = -1, out_ = -1;
    size_t capacity_ = 0;
};

// What every relayed connection shares: where to connect, TLS contexts, the recorder.
struct RelayContext {
    EventLoop* loop = nullptr;
    ProxyRecorder* recorder = nullptr;  // null: relay without recording
    SplicePipe* splice = nullptr;       // null or unusable: plain TCP is copied too
    sockaddr_storage upstream_addr{};
    socklen_t upstream_len = 0;
    Endpoint upstream;                         // printable
    std::string upstream_host;                 // as given, for TLS name checks
    std::shared_ptr<TlsContext> upstream_tls;  // null: plain upstream
    std::function<void(const std::string&)> log;
    // Called (from the loop) when a connection is done; the owner deletes it after the batch.
    std::function<void(ConnectionId)> on_done;
    size_t buffer_bytes = 256u << 10;  // per direction
    std::chrono::seconds stall_warning{5};
};

class RelayConnection : public IoHandler {
public:
    // Takes the accepted socket. `client_tls` set: the listener terminates TLS.
    RelayConnection(RelayContext& ctx, ConnectionId id, int client_fd, const Endpoint& client,
                    const Endpoint& listener, std::shared_ptr<TlsContext> client_tls);
    ~RelayConnection() override;

    // Registers with the loop and starts the handshake or the upstream connect.
    void start();
    void on_io(int fd, uint32_t events) override;
    // Periodic: notices a side that stopped reading for long.
    void tick(std::chrono::steady_clock::time_point now);
    // The proxy stops: close both legs now, recorded as the end of the capture.
    void shutdown_now();

    ConnectionId id() const { return id_; }

    bool done() const { return state_ == State::Done; }

    uint64_t bytes_relayed(Direction d) const { return written_[static_cast<size_t>(d)]; }

    const Endpoint& client() const { return client_; }

    const std::string& channel() const { return channel_; }

    bool tls() const { return tls_; }

    CloseReason close_reason() const { return close_reason_; }

    uint64_t bytes_read(Direction d) const {
        return d == Direction::ClientToServer ? c2s_.read : s2c_.read;
    }

private:
    enum class State : uint8_t { ClientHandshake, Connecting, UpstreamHandshake, Relaying, Done };

    // Bytes read from one side, waiting to be written to the other.
    struct Pipe {
        std::vector<uint8_t> buf;
        size_t begin = 0, end = 0;
        bool eof = false;   // the source side finished sending
        bool shut = false;  // we passed the end on (shutdown_write)
        uint64_t read = 0;  // bytes read from the source
        bool dropped_logged = false;
        std::chrono::steady_clock::time_point full_since{};
        bool stall_logged = false;

        size_t pending() const { return end - begin; }

        size_t space() const { return buf.size() - end + begin; }
    };

    void advance();
    void connect_upstream();
    void begin_relay();
    void relay();
    void on_read(Direction dir, Pipe& pipe, const uint8_t* bytes, size_t size);
    // The first client bytes (at stream `offset`) name the channel, for the log lines.
    void note_head(Direction dir, uint64_t offset, const uint8_t* bytes, size_t size);
    void set_interest(Stream* s, uint32_t events, bool hup);
    std::string label() const;
    void say(const std::string& what) const;
    // Moves what it can from `src` into `pipe` and from `pipe` to `dst`. False: the
    // connection failed (closed already).
    bool pump(Stream& src, Pipe& pipe, Stream& dst, Direction dir, bool* progress);
    // Plain TCP on both legs: one read's worth through the splice pipe, recorded on the way.
    enum class Spliced : uint8_t { Moved, Nothing, Failed };
    bool can_splice(const Stream& src, const Stream& dst) const;
    Spliced splice_through(Stream& src, Pipe& pipe, Stream& dst, Direction dir);
    void update_interest();
    void finish(CloseReason reason, const std::string& why);
    static int64_t now_us();

    RelayContext& ctx_;
    ConnectionId id_;
    Endpoint client_, listener_;
    std::shared_ptr<TlsContext> client_tls_;
    std::unique_ptr<Stream> client_stream_, upstream_stream_;
    std::vector<uint8_t> head_;  // first client bytes: the link message names the channel
    std::string channel_ = "link";
    bool client_hup_ = false, upstream_hup_ = false;
    State state_ = State::ClientHandshake;
    int64_t accepted_us_ = 0;
    Pipe c2s_, s2c_;
    uint64_t written_[2] = {0, 0};
    // What the last attempt on each socket was blocked on, per operation.
    bool client_read_wants_write_ = false, client_write_wants_read_ = false;
    bool upstream_read_wants_write_ = false, upstream_write_wants_read_ = false;
    // A plain socket that may hold unread bytes: false after a read came back short (its
    // receive queue was empty then), true again when epoll reports it. Saves a read that would
    // only say EAGAIN per message and direction.
    bool client_readable_ = true, upstream_readable_ = true;
    bool handshake_wants_write_ = false;
    bool recorded_open_ = false;
    bool tls_ = false;
    CloseReason close_reason_ = CloseReason::EndOfCapture;
};

}  // namespace spicetap::proxy
