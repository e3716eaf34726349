#include "capture/proxy/relay_connection.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "decode/wire/link.h"

namespace spicetap::proxy {

namespace {

// Plain sockets: reads per direction in one go before giving other connections a turn.
constexpr int kMaxReadsPerPump = 16;
constexpr size_t kRoutingBytes = 22;

void set_nodelay(int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// The splice pipe's size: as much as one read of a connection's buffer.
constexpr int kSplicePipeBytes = 256 << 10;

template <typename F>
ssize_t retry_eintr(F f) {
    for (;;) {
        const ssize_t n = f();
        if (n >= 0 || errno != EINTR) {
            return n;
        }
    }
}

}  // namespace

SplicePipe::SplicePipe() {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        return;
    }
    in_ = fds[1];
    out_ = fds[0];
    // The default (64 KiB) would split every read of the 256 KiB buffer in four.
    const int size = ::fcntl(in_, F_SETPIPE_SZ, kSplicePipeBytes);
    capacity_ = static_cast<size_t>(size > 0 ? size : ::fcntl(in_, F_GETPIPE_SZ));
}

SplicePipe::~SplicePipe() {
    if (in_ >= 0) {
        ::close(in_);
        ::close(out_);
    }
}

RelayConnection::RelayConnection(RelayContext& ctx, ConnectionId id, int client_fd,
                                 const Endpoint& client, const Endpoint& listener,
                                 std::shared_ptr<TlsContext> client_tls)
    : ctx_(ctx),
      id_(id),
      client_(client),
      listener_(listener),
      client_tls_(std::move(client_tls)),
      client_stream_(std::make_unique<Stream>(client_fd)) {}

RelayConnection::~RelayConnection() {
    if (state_ != State::Done) {
        finish(CloseReason::EndOfCapture, {});
    }
}

int64_t RelayConnection::now_us() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

std::string RelayConnection::label() const {
    return fmt::format("connection {} ({}, client {})", id_, channel_, client_.to_string());
}

void RelayConnection::say(const std::string& what) const {
    if (ctx_.log) {
        ctx_.log(fmt::format("{}: {}", label(), what));
    }
}

void RelayConnection::start() {
    accepted_us_ = now_us();
    set_nodelay(client_stream_->fd());
    auto r = ctx_.loop->add(client_stream_->fd(), 0, this);
    if (!r) {
        finish(CloseReason::Rst, r.error().message());
        return;
    }
    if (client_tls_) {
        auto t = client_stream_->start_tls(*client_tls_, true, {});
        if (!t) {
            finish(CloseReason::Rst, t.error().message());
            return;
        }
        state_ = State::ClientHandshake;
        advance();
        return;
    }
    connect_upstream();
}

void RelayConnection::connect_upstream() {
    const int fd =
        ::socket(ctx_.upstream_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        finish(CloseReason::Rst, fmt::format("cannot make a socket: {}", std::strerror(errno)));
        return;
    }
    upstream_stream_ = std::make_unique<Stream>(fd);
    set_nodelay(fd);
    state_ = State::Connecting;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&ctx_.upstream_addr), ctx_.upstream_len) !=
            0 &&
        errno != EINPROGRESS) {
        finish(CloseReason::Rst, fmt::format("cannot connect to the server {}: {}",
                                             ctx_.upstream.to_string(), std::strerror(errno)));
        return;
    }
    auto r = ctx_.loop->add(fd, EPOLLOUT, this);
    if (!r) {
        finish(CloseReason::Rst, r.error().message());
    }
}

void RelayConnection::on_io(int fd, uint32_t events) {
    if (state_ == State::Done) {
        return;
    }
    if (events & EPOLLERR) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || state_ != State::Connecting) {
            const bool client_side = client_stream_ && fd == client_stream_->fd();
            finish(CloseReason::Rst,
                   state_ == State::Connecting && !client_side
                       ? fmt::format("cannot connect to the server {}: {}",
                                     ctx_.upstream.to_string(), std::strerror(err))
                       : fmt::format("lost the {}: {}", client_side ? "client" : "server",
                                     std::strerror(err ? err : ECONNRESET)));
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR)) {
        (client_stream_ && fd == client_stream_->fd() ? client_readable_ : upstream_readable_) =
            true;
    }
    if (events & EPOLLHUP) {
        if (client_stream_ && fd == client_stream_->fd()) {
            client_hup_ = true;
        } else {
            upstream_hup_ = true;
        }
    }
    if (state_ == State::Connecting && upstream_stream_ && fd == upstream_stream_->fd()) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            finish(CloseReason::Rst, fmt::format("cannot connect to the server {}: {}",
                                                 ctx_.upstream.to_string(), std::strerror(err)));
            return;
        }
        if (ctx_.upstream_tls) {
            auto t = upstream_stream_->start_tls(*ctx_.upstream_tls, false, ctx_.upstream_host);
            if (!t) {
                finish(CloseReason::Rst, t.error().message());
                return;
            }
            state_ = State::UpstreamHandshake;
        } else {
            begin_relay();
            return;
        }
    } else if (state_ == State::Connecting) {
        // The client hung up before the server answered.
        if (client_hup_) {
            finish(CloseReason::Fin, "the client left before the server accepted");
        }
        return;
    }
    advance();
}

void RelayConnection::advance() {
    if (state_ == State::ClientHandshake || state_ == State::UpstreamHandshake) {
        const bool client_side = state_ == State::ClientHandshake;
        Stream& s = client_side ? *client_stream_ : *upstream_stream_;
        IoResult r = s.handshake();
        if (r.status == IoStatus::Error) {
            finish(CloseReason::Rst,
                   fmt::format("{} {}", client_side ? "client" : "server", r.error));
            return;
        }
        if (r.status == IoStatus::WantRead || r.status == IoStatus::WantWrite) {
            handshake_wants_write_ = r.status == IoStatus::WantWrite;
            update_interest();
            return;
        }
        handshake_wants_write_ = false;
        if (client_side) {
            connect_upstream();
        } else {
            begin_relay();
        }
        return;
    }
    if (state_ == State::Relaying) {
        relay();
    }
}

void RelayConnection::begin_relay() {
    state_ = State::Relaying;
    tls_ = client_stream_->tls() || upstream_stream_->tls();
    c2s_.buf.resize(ctx_.buffer_bytes);
    s2c_.buf.resize(ctx_.buffer_bytes);
    if (ctx_.recorder) {
        ctx_.recorder->open(id_, client_, ctx_.upstream, accepted_us_, tls_);
        recorded_open_ = true;
    }
    relay();
}

bool RelayConnection::pump(Stream& src, Pipe& pipe, Stream& dst, Direction dir, bool* progress) {
    const bool from_client = dir == Direction::ClientToServer;
    bool& read_wants_write = from_client ? client_read_wants_write_ : upstream_read_wants_write_;
    bool& write_wants_read = from_client ? upstream_write_wants_read_ : client_write_wants_read_;
    bool& readable = from_client ? client_readable_ : upstream_readable_;
    int reads = 0;
    for (;;) {
        bool moved = false;
        while (pipe.pending() > 0) {
            IoResult w = dst.write(pipe.buf.data() + pipe.begin, pipe.pending());
            if (w.status == IoStatus::Ok) {
                pipe.begin += w.bytes;
                written_[static_cast<size_t>(dir)] += w.bytes;
                moved = true;
                write_wants_read = false;
                if (pipe.begin == pipe.end) {
                    pipe.begin = pipe.end = 0;
                }
                continue;
            }
            if (w.status == IoStatus::WantWrite || w.status == IoStatus::WantRead) {
                write_wants_read = w.status == IoStatus::WantRead;
                break;
            }
            finish(CloseReason::Rst, fmt::format("cannot write to the {}: {}",
                                                 from_client ? "server" : "client", w.error));
            return false;
        }
        if (!pipe.eof && pipe.pending() == 0 && readable && reads < kMaxReadsPerPump &&
            can_splice(src, dst)) {
            ++reads;
            const Spliced r = splice_through(src, pipe, dst, dir);
            if (r == Spliced::Failed) {
                return false;
            }
            if (r == Spliced::Nothing) {
                return true;
            }
            *progress = true;
            continue;
        }
        if (!pipe.eof && (src.tls() || (readable && reads < kMaxReadsPerPump))) {
            if (pipe.end == pipe.buf.size() && pipe.begin > 0) {
                std::memmove(pipe.buf.data(), pipe.buf.data() + pipe.begin, pipe.pending());
                pipe.end -= pipe.begin;
                pipe.begin = 0;
            }
            if (pipe.end < pipe.buf.size()) {
                const size_t room = pipe.buf.size() - pipe.end;
                IoResult r = src.read(pipe.buf.data() + pipe.end, room);
                ++reads;
                if (r.status == IoStatus::Ok) {
                    read_wants_write = false;
                    readable = r.bytes == room;
                    on_read(dir, pipe, pipe.buf.data() + pipe.end, r.bytes);
                    pipe.end += r.bytes;
                    moved = true;
                } else if (r.status == IoStatus::Eof) {
                    pipe.eof = true;
                    moved = true;
                } else if (r.status == IoStatus::WantRead || r.status == IoStatus::WantWrite) {
                    read_wants_write = r.status == IoStatus::WantWrite;
                    readable = false;
                } else {
                    finish(
                        CloseReason::Rst,
                        fmt::format("lost the {}: {}", from_client ? "client" : "server", r.error));
                    return false;
                }
            }
        }
        if (!moved) {
            return true;
        }
        *progress = true;
    }
}

bool RelayConnection::can_splice(const Stream& src, const Stream& dst) const {
    return ctx_.splice && ctx_.splice->usable() && !src.tls() && !dst.tls();
}

RelayConnection::Spliced RelayConnection::splice_through(Stream& src, Pipe& pipe, Stream& dst,
                                                         Direction dir) {
    const bool from_client = dir == Direction::ClientToServer;
    bool& readable = from_client ? client_readable_ : upstream_readable_;
    const size_t want = std::min(pipe.buf.size(), ctx_.splice->capacity());
    const int pipe_in = ctx_.splice->in(), pipe_out = ctx_.splice->out();
    int err = 0;
    bool eof = false;
    // Moves up to `max` bytes from the socket into the pipe; with `copy`, peeks at them first
    // (the recorder's copy, and the channel's name in the first client bytes).
    auto move_in = [&](uint8_t* copy, size_t max) -> ssize_t {
        if (copy) {
            const ssize_t n =
                retry_eintr([&] { return ::recv(src.fd(), copy, max, MSG_PEEK | MSG_DONTWAIT); });
            if (n <= 0) {
                err = n < 0 ? errno : 0;
                eof = n == 0;
                return n;
            }
            max = static_cast<size_t>(n);
        }
        const ssize_t k = retry_eintr([&] {
            return ::splice(src.fd(), nullptr, pipe_in, nullptr, max,
                            SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        });
        if (k < 0) {
            err = errno;
        } else if (k == 0) {
            eof = true;
        } else if (copy) {
            note_head(dir, pipe.read, copy, static_cast<size_t>(k));
        }
        return k;
    };
    ssize_t k = 0;
    if (ctx_.recorder) {
        bool recorded = true;
        k = ctx_.recorder->take(id_, dir, now_us(), pipe.read, want, move_in, &recorded);
        if (!recorded && k > 0 && !pipe.dropped_logged) {
            pipe.dropped_logged = true;
            say(
                fmt::format("the recorder is behind (its queue is full): {} bytes from the {} "
                            "are not recorded (a gap in the log); relaying goes on",
                            k, from_client ? "client" : "server"));
        }
    } else if (from_client && pipe.read < kRoutingBytes) {
        uint8_t head[kRoutingBytes];
        k = move_in(head, std::min(want, kRoutingBytes - static_cast<size_t>(pipe.read)));
    } else {
        k = move_in(nullptr, want);
    }
    if (k <= 0) {
        if (eof) {
            pipe.eof = true;
            return Spliced::Moved;
        }
        if (err == EAGAIN || err == EWOULDBLOCK) {
            readable = false;
            return Spliced::Nothing;
        }
        finish(CloseReason::Rst, fmt::format("lost the {}: {}", from_client ? "client" : "server",
                                             std::strerror(err)));
        return Spliced::Failed;
    }
    const size_t got = static_cast<size_t>(k);
    readable = got == want;
    pipe.read += got;
    size_t left = got;
    while (left > 0) {
        const ssize_t w = retry_eintr([&] {
            return ::splice(pipe_out, nullptr, dst.fd(), nullptr, left,
                            SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        });
        if (w > 0) {
            left -= static_cast<size_t>(w);
            written_[static_cast<size_t>(dir)] += static_cast<uint64_t>(w);
            continue;
        }
        const int werr = w < 0 ? errno : EPIPE;
        // The rest leaves the shared pipe for this connection's buffer: the pipe must be empty
        // for the next read, whoever's it is.
        size_t kept = 0;
        while (kept < left) {
            const ssize_t r =
                retry_eintr([&] { return ::read(pipe_out, pipe.buf.data() + kept, left - kept); });
            if (r <= 0) {
                break;  // cannot happen: the bytes are in the pipe
            }
            kept += static_cast<size_t>(r);
        }
        if (werr == EAGAIN || werr == EWOULDBLOCK) {
            pipe.begin = 0;
            pipe.end = kept;
            break;
        }
        finish(CloseReason::Rst,
               fmt::format("cannot write to the {}: {}", from_client ? "server" : "client",
                           std::strerror(werr)));
        return Spliced::Failed;
    }
    return Spliced::Moved;
}

void RelayConnection::note_head(Direction dir, uint64_t offset, const uint8_t* bytes, size_t size) {
    if (dir == Direction::ClientToServer && offset < kRoutingBytes) {
        // The link message names the channel: only for the operator's log lines.
        const size_t take = std::min(kRoutingBytes - head_.size(), size);
        head_.insert(head_.end(), bytes, bytes + take);
        if (head_.size() >= kRoutingBytes && wire::starts_with_link_magic(head_)) {
            channel_ = fmt::format("{}#{}", wire::channel_type_name(head_[20]), head_[21]);
        }
    }
}

void RelayConnection::on_read(Direction dir, Pipe& pipe, const uint8_t* bytes, size_t size) {
    note_head(dir, pipe.read, bytes, size);
    if (ctx_.recorder && !ctx_.recorder->data(id_, dir, now_us(), pipe.read, bytes, size) &&
        !pipe.dropped_logged) {
        pipe.dropped_logged = true;
        say(
            fmt::format("the recorder is behind (its queue is full): {} bytes from the {} are "
                        "not recorded (a gap in the log); relaying goes on",
                        size, dir == Direction::ClientToServer ? "client" : "server"));
    }
    pipe.read += size;
}

void RelayConnection::relay() {
    bool progress = true;
    while (progress && state_ == State::Relaying) {
        progress = false;
        if (!pump(*client_stream_, c2s_, *upstream_stream_, Direction::ClientToServer, &progress)) {
            return;
        }
        if (!pump(*upstream_stream_, s2c_, *client_stream_, Direction::ServerToClient, &progress)) {
            return;
        }
        // Pass an end on once everything before it was written.
        if (c2s_.eof && c2s_.pending() == 0 && !c2s_.shut) {
            upstream_stream_->shutdown_write();
            c2s_.shut = true;
        }
        if (s2c_.eof && s2c_.pending() == 0 && !s2c_.shut) {
            client_stream_->shutdown_write();
            s2c_.shut = true;
        }
        if (c2s_.shut && s2c_.shut) {
            finish(CloseReason::Fin, {});
            return;
        }
        if (progress &&
            (client_stream_->has_buffered_input() || upstream_stream_->has_buffered_input())) {
            continue;
        }
        break;
    }
    update_interest();
}

void RelayConnection::set_interest(Stream* s, uint32_t events, bool hup) {
    if (!s) {
        return;
    }
    if (hup && events == 0) {
        // A hung-up socket would report HUP forever; nothing more is wanted from it.
        ctx_.loop->remove(s->fd());
        return;
    }
    auto r = ctx_.loop->modify(s->fd(), events, this);
    if (!r) {
        finish(CloseReason::Rst, r.error().message());
    }
}

void RelayConnection::update_interest() {
    if (state_ == State::Done) {
        return;
    }
    if (state_ == State::ClientHandshake || state_ == State::UpstreamHandshake) {
        Stream* s =
            state_ == State::ClientHandshake ? client_stream_.get() : upstream_stream_.get();
        set_interest(s, handshake_wants_write_ ? EPOLLOUT : EPOLLIN, false);
        return;
    }
    if (state_ != State::Relaying) {
        return;
    }
    uint32_t client_events = 0, upstream_events = 0;
    if (!c2s_.eof && c2s_.space() > 0) {
        client_events |= client_read_wants_write_ ? EPOLLOUT : EPOLLIN;
    }
    if (s2c_.pending() > 0) {
        client_events |= client_write_wants_read_ ? EPOLLIN : EPOLLOUT;
    }
    if (!s2c_.eof && s2c_.space() > 0) {
        upstream_events |= upstream_read_wants_write_ ? EPOLLOUT : EPOLLIN;
    }
    if (c2s_.pending() > 0) {
        upstream_events |= upstream_write_wants_read_ ? EPOLLIN : EPOLLOUT;
    }
    set_interest(client_stream_.get(), client_events, client_hup_);
    if (state_ == State::Relaying) {
        set_interest(upstream_stream_.get(), upstream_events, upstream_hup_);
    }
}

void RelayConnection::tick(std::chrono::steady_clock::time_point now) {
    if (state_ != State::Relaying) {
        return;
    }
    for (Direction dir : {Direction::ServerToClient, Direction::ClientToServer}) {
        Pipe& p = dir == Direction::ServerToClient ? s2c_ : c2s_;
        const char* reader = dir == Direction::ServerToClient ? "client" : "server";
        const char* writer = dir == Direction::ServerToClient ? "server" : "client";
        if (p.space() == 0) {
            if (p.full_since == std::chrono::steady_clock::time_point{}) {
                p.full_since = now;
            } else if (!p.stall_logged && now - p.full_since >= ctx_.stall_warning) {
                p.stall_logged = true;
                say(fmt::format(
                    "the {} has not read for {} s; {} KiB wait for it and the {}'s "
                    "side of this connection is held (other connections go on)",
                    reader,
                    std::chrono::duration_cast<std::chrono::seconds>(now - p.full_since).count(),
                    p.pending() / 1024, writer));
            }
        } else if (p.full_since != std::chrono::steady_clock::time_point{}) {
            if (p.stall_logged) {
                say(fmt::format("the {} reads again after {:.1f} s", reader,
                                std::chrono::duration<double>(now - p.full_since).count()));
            }
            p.full_since = {};
            p.stall_logged = false;
        }
    }
}

void RelayConnection::shutdown_now() {
    finish(CloseReason::EndOfCapture, {});
}

void RelayConnection::finish(CloseReason reason, const std::string& why) {
    if (state_ == State::Done) {
        return;
    }
    const bool relaying = state_ == State::Relaying;
    state_ = State::Done;
    close_reason_ = reason;
    if (!why.empty()) {
        say(relaying ? fmt::format("{} (after {} bytes from the client, {} from the server)", why,
                                   c2s_.read, s2c_.read)
                     : why);
    }
    if (recorded_open_) {
        const uint64_t end[2] = {c2s_.read, s2c_.read};
        ctx_.recorder->close(id_, now_us(), reason, end);
    }
    for (auto* s : {client_stream_.get(), upstream_stream_.get()}) {
        if (s) {
            ctx_.loop->remove(s->fd());
        }
    }
    client_stream_.reset();
    upstream_stream_.reset();
    c2s_.buf = {};
    s2c_.buf = {};
    if (ctx_.on_done) {
        ctx_.on_done(id_);
    }
}

}  // namespace spicetap::proxy
