#include "capture/proxy/proxy_server.h"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <netdb.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <memory>

#include "capture/proxy/event_loop.h"
#include "capture/proxy/proxy_recorder.h"
#include "capture/proxy/relay_connection.h"
#include "capture/proxy/tls_endpoint.h"

namespace spicetap::proxy {

namespace {

DecodeError io_error(std::string what) {
    return make_error(Errc::Io, 0, std::move(what));
}

Endpoint endpoint_of(const sockaddr_storage& addr) {
    char host[INET6_ADDRSTRLEN] = {};
    Endpoint e;
    if (addr.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        e.port = ntohs(in->sin_port);
    } else if (addr.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        e.port = ntohs(in6->sin6_port);
    }
    e.address = host;
    return e;
}

Result<std::pair<sockaddr_storage, socklen_t>> resolve(const std::string& host, uint16_t port,
                                                       bool passive) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    addrinfo* res = nullptr;
    const std::string service = std::to_string(port);
    const int rc =
        ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
    if (rc != 0 || !res) {
        return make_error(Errc::BadValue, 0,
                          fmt::format("cannot resolve {}: {}", host, gai_strerror(rc)));
    }
    std::pair<sockaddr_storage, socklen_t> out{};
    std::memcpy(&out.first, res->ai_addr, res->ai_addrlen);
    out.second = res->ai_addrlen;
    ::freeaddrinfo(res);
    return out;
}

class Listener : public IoHandler {
public:
    Listener(int fd, std::function<void(int, const Endpoint&)> on_accept)
        : fd_(fd), on_accept_(std::move(on_accept)) {}

    ~Listener() override { ::close(fd_); }

    void on_io(int, uint32_t) override {
        // A burst of clients is taken in one go; the rest wait for the next round.
        for (int i = 0; i < 64; ++i) {
            sockaddr_storage peer{};
            socklen_t len = sizeof peer;
            const int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                                     SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                return;  // EAGAIN, or a client that left before accept (ECONNABORTED)
            }
            on_accept_(fd, endpoint_of(peer));
        }
    }

    int fd() const { return fd_; }

    void set_on_accept(std::function<void(int, const Endpoint&)> f) { on_accept_ = std::move(f); }

private:
    int fd_;
    std::function<void(int, const Endpoint&)> on_accept_;
};

Result<std::unique_ptr<Listener>> listen_on(const std::string& text,
                                            std::function<void(int, const Endpoint&)> on_accept,
                                            Endpoint* bound) {
    auto hp = parse_host_port(text);
    if (!hp) {
        return hp.error();
    }
    auto addr = resolve(hp->first, hp->second, true);
    if (!addr) {
        return addr.error();
    }
    const int fd = ::socket(addr->first.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return io_error(fmt::format("cannot make a socket: {}", std::strerror(errno)));
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr->first), addr->second) != 0 ||
        ::listen(fd, 256) != 0) {
        const int err = errno;
        ::close(fd);
        return io_error(fmt::format("cannot listen on {}: {}", text, std::strerror(err)));
    }
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    *bound = endpoint_of(local);
    return std::make_unique<Listener>(fd, std::move(on_accept));
}

// SIGINT/SIGTERM as events of the loop (signalfd): no handler, no global state.
class SignalWatch : public IoHandler {
public:
    explicit SignalWatch(EventLoop& loop) : loop_(loop) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        // Blocked before the recorder thread starts, so it inherits the mask.
        ::pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
        fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
        if (fd_ >= 0) {
            [[maybe_unused]] auto r = loop_.add(fd_, EPOLLIN, this);
        }
    }

    ~SignalWatch() override {
        if (fd_ >= 0) {
            loop_.remove(fd_);
            ::close(fd_);
        }
        ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    }

    void on_io(int, uint32_t) override {
        signalfd_siginfo info{};
        if (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
            name = info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
            loop_.stop();
        }
    }

    std::string name;

private:
    EventLoop& loop_;
    int fd_ = -1;
    sigset_t old_mask_{};
};

// Writes to a socket whose peer left raise SIGPIPE inside OpenSSL: ignored while we run.
class IgnoreSigpipe {
public:
    IgnoreSigpipe() {
        struct sigaction ign {};

        ign.sa_handler = SIG_IGN;
        ::sigaction(SIGPIPE, &ign, &old_);
    }

    ~IgnoreSigpipe() { ::sigaction(SIGPIPE, &old_, nullptr); }

private:
    struct sigaction old_ {};
};

}  // namespace

Result<std::pair<std::string, uint16_t>> parse_host_port(const std::string& text) {
    std::string host;
    std::string port;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return make_error(Errc::BadValue, 0, fmt::format("'{}' is not [IPV6]:PORT", text));
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string::npos) {
            return make_error(Errc::BadValue, 0, fmt::format("'{}' is not HOST:PORT", text));
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value > 65535) {
        return make_error(Errc::BadValue, 0, fmt::format("'{}': bad port '{}'", text, port));
    }
    return std::make_pair(host, static_cast<uint16_t>(value));
}

Result<ProxySummary> run_proxy(const ProxyOptions& opt) {
    auto say = [&](const std::string& line) {
        if (opt.log) {
            opt.log(line);
        }
    };
    if (opt.listen.empty() && opt.tls_listen.empty()) {
        return make_error(Errc::BadValue, 0, "nothing to listen on: give --listen or --tls-listen");
    }
    if (opt.upstream_tls && opt.upstream_tls_port) {
        return make_error(Errc::BadValue, 0,
                          "--upstream-tls (the upstream port is TLS) and --upstream-tls-port "
                          "(a separate TLS port) exclude each other");
    }
    auto up = parse_host_port(opt.upstream);
    if (!up) {
        return up.error();
    }

    std::shared_ptr<TlsContext> client_tls, upstream_tls;
    if (!opt.tls_listen.empty()) {
        if (opt.tls_cert.empty() || opt.tls_key.empty()) {
            return make_error(Errc::BadValue, 0, "--tls-listen needs --tls-cert and --tls-key");
        }
        auto t = TlsContext::server(opt.tls_cert, opt.tls_key);
        if (!t) {
            return t.error();
        }
        client_tls = *t;
    }
    if (opt.upstream_tls || opt.upstream_tls_port) {
        auto t = TlsContext::client(opt.ca, opt.insecure);
        if (!t) {
            return t.error();
        }
        upstream_tls = *t;
    }

    std::error_code ec;
    std::filesystem::create_directories(opt.output_dir, ec);
    if (ec || !std::filesystem::is_directory(opt.output_dir, ec)) {
        return io_error(fmt::format("cannot create output directory {}: {}",
                                    opt.output_dir.string(), ec.message()));
    }

    EventLoop loop;
    if (loop.error()) {
        return *loop.error();
    }
    IgnoreSigpipe ignore_sigpipe;
    std::unique_ptr<SignalWatch> signals;
    if (opt.handle_signals) {
        signals = std::make_unique<SignalWatch>(loop);
    }

    // Two ways out: plain (or TLS when --upstream-tls) to upstream, and TLS to the TLS port.
    SplicePipe splice_pipe;
    auto make_ctx = [&](uint16_t port, bool tls) -> Result<std::unique_ptr<RelayContext>> {
        auto addr = resolve(up->first, port, false);
        if (!addr) {
            return addr.error();
        }
        auto ctx = std::make_unique<RelayContext>();
        ctx->loop = &loop;
        ctx->upstream_addr = addr->first;
        ctx->upstream_len = addr->second;
        ctx->upstream = endpoint_of(addr->first);
        ctx->upstream_host = up->first;
        ctx->upstream_tls = tls ? upstream_tls : nullptr;
        ctx->log = opt.log;
        ctx->splice = &splice_pipe;
        return ctx;
    };
    auto plain_ctx = make_ctx(up->second, opt.upstream_tls);
    if (!plain_ctx) {
        return plain_ctx.error();
    }
    std::unique_ptr<RelayContext> tls_ctx;
    if (opt.upstream_tls_port) {
        auto t = make_ctx(*opt.upstream_tls_port, true);
        if (!t) {
            return t.error();
        }
        tls_ctx = std::move(*t);
    }

    std::atomic<uint64_t> sessions_with_id{0};
    std::atomic<bool> max_reached{false};
    RecorderOptions ropt;
    ropt.directory = opt.output_dir;
    ropt.tool_version = opt.tool_version;
    ropt.max_queued_bytes = opt.max_queued_bytes;
    ropt.source = fmt::format(
        "listen={} tls-listen={} upstream={}{}", opt.listen.empty() ? "-" : opt.listen,
        opt.tls_listen.empty() ? "-" : opt.tls_listen, opt.upstream,
        opt.upstream_tls_port ? fmt::format(" upstream-tls-port={}", *opt.upstream_tls_port)
        : opt.upstream_tls    ? std::string(" (TLS)")
                              : std::string());
    ropt.log = opt.log;
    ropt.on_session = [&](const capture::FinishedSession& s) {
        if (opt.on_session) {
            opt.on_session(s);
        }
        // A main channel refused at the link stage (wrong port, no ticket) is not a session.
        if (s.session_id != 0 && opt.max_sessions > 0 && ++sessions_with_id >= opt.max_sessions &&
            !max_reached.exchange(true)) {
            loop.stop_from_anywhere();
        }
    };
    ropt.on_failed_session = [&] {
        if (opt.max_sessions > 0 && ++sessions_with_id >= opt.max_sessions &&
            !max_reached.exchange(true)) {
            loop.stop_from_anywhere();
        }
    };
    auto recorder = std::make_unique<ProxyRecorder>(ropt);
    (*plain_ctx)->recorder = recorder.get();
    if (tls_ctx) {
        tls_ctx->recorder = recorder.get();
    }

    ProxySummary summary;
    std::map<ConnectionId, std::unique_ptr<RelayConnection>> connections;
    std::vector<ConnectionId> done;
    ConnectionId next_id = 0;
    uint64_t relayed[2] = {0, 0};
    for (RelayContext* c : {plain_ctx->get(), tls_ctx.get()}) {
        if (c) {
            c->on_done = [&](ConnectionId id) {
                done.push_back(id);
                if (auto it = connections.find(id); it != connections.end()) {
                    const RelayConnection& rc = *it->second;
                    relayed[0] += rc.bytes_relayed(Direction::ClientToServer);
                    relayed[1] += rc.bytes_relayed(Direction::ServerToClient);
                    if (opt.on_connection) {
                        ConnectionReport rep;
                        rep.id = id;
                        rep.client = rc.client().to_string();
                        rep.channel = rc.channel();
                        rep.tls = rc.tls();
                        rep.relayed_c2s = rc.bytes_relayed(Direction::ClientToServer);
                        rep.relayed_s2c = rc.bytes_relayed(Direction::ServerToClient);
                        rep.read_c2s = rc.bytes_read(Direction::ClientToServer);
                        rep.read_s2c = rc.bytes_read(Direction::ServerToClient);
                        rep.ended = capture::close_reason_name(rc.close_reason());
                        opt.on_connection(rep);
                    }
                }
            };
        }
    }
    auto accept_into = [&](RelayContext& relay_ctx, std::shared_ptr<TlsContext> tls,
                           Endpoint where) {
        RelayContext* ctx = &relay_ctx;
        return [&, ctx, tls, where](int fd, const Endpoint& peer) {
            const ConnectionId id = ++next_id;
            ++summary.connections;
            auto c = std::make_unique<RelayConnection>(*ctx, id, fd, peer, where, tls);
            RelayConnection* raw = c.get();
            connections[id] = std::move(c);
            raw->start();
        };
    };

    std::unique_ptr<Listener> plain_listener, tls_listener;
    Endpoint plain_bound, tls_bound;
    if (!opt.listen.empty()) {
        auto l = listen_on(opt.listen, nullptr, &plain_bound);
        if (!l) {
            return l.error();
        }
        plain_listener = std::move(*l);
    }
    if (!opt.tls_listen.empty()) {
        auto l = listen_on(opt.tls_listen, nullptr, &tls_bound);
        if (!l) {
            return l.error();
        }
        tls_listener = std::move(*l);
    }
    if (plain_listener) {
        plain_listener->set_on_accept(accept_into(**plain_ctx, nullptr, plain_bound));
        if (auto r = loop.add(plain_listener->fd(), EPOLLIN, plain_listener.get()); !r) {
            return r.error();
        }
    }
    if (tls_listener) {
        RelayContext& ctx = tls_ctx ? *tls_ctx : **plain_ctx;
        tls_listener->set_on_accept(accept_into(ctx, client_tls, tls_bound));
        if (auto r = loop.add(tls_listener->fd(), EPOLLIN, tls_listener.get()); !r) {
            return r.error();
        }
    }
    auto describe = [&](const char* what, const Endpoint& where, const RelayContext& ctx) {
        return fmt::format("{} {} -> {}{}", what, where.to_string(), ctx.upstream.to_string(),
                           ctx.upstream_tls ? " (TLS)" : "");
    };
    std::string listening;
    if (plain_listener) {
        listening = describe("plain", plain_bound, **plain_ctx);
    }
    if (tls_listener) {
        listening += fmt::format("{}{}", listening.empty() ? "" : ", ",
                                 describe("TLS", tls_bound, tls_ctx ? *tls_ctx : **plain_ctx));
    }
    say(fmt::format("listening: {}; recording to {}", listening, opt.output_dir.string()));
    if (opt.on_listening) {
        opt.on_listening(plain_listener ? plain_bound.to_string() : std::string(),
                         tls_listener ? tls_bound.to_string() : std::string());
    }

    auto reap = [&] {
        for (ConnectionId id : done) {
            connections.erase(id);
        }
        done.clear();
    };
    loop.run(std::chrono::milliseconds(100), [&] {
        reap();
        const auto now = std::chrono::steady_clock::now();
        for (auto& [id, c] : connections) {
            c->tick(now);
        }
    });
    if (signals && !signals->name.empty()) {
        summary.stopped_by = signals->name;
    } else if (max_reached) {
        summary.stopped_by = "max-sessions";
    } else if (loop.error()) {
        summary.stopped_by = loop.error()->message();
    }
    say(fmt::format("stopping ({}): closing {} connection(s) and their logs",
                    summary.stopped_by.empty() ? "requested" : summary.stopped_by,
                    connections.size() - done.size()));
    plain_listener.reset();
    tls_listener.reset();
    for (auto& [id, c] : connections) {
        c->shutdown_now();
    }
    reap();
    recorder->stop();
    const RecorderStats rs = recorder->stats();
    summary.sessions = rs.sessions_finished;
    summary.failed_sessions = rs.sessions_failed;
    summary.recorded_bytes = rs.recorded_bytes;
    summary.dropped_bytes = rs.dropped_bytes;
    summary.bytes_c2s = relayed[0];
    summary.bytes_s2c = relayed[1];
    return summary;
}

}  // namespace spicetap::proxy
