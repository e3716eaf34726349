// `spicetap proxy` (recording) beside socat relaying the same SPICE traffic on loopback, in the
// same run: bulk throughput server->client and the round-trip latency each relay adds.
//   bench_proxy SPICETAP WORKDIR [MiB per bulk run (256)] [round trips (20000)]
//
// The traffic is a real display-channel link stage (from the committed QEMU capture, so the
// recorder frames and indexes it like any session) followed by mini-header data messages:
// 64 KiB DRAW_COPY-sized messages for the bulk runs, 64-byte PONG/PING pairs for the round
// trips. The bench's own server answers each ping at once; the client measures.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "capture/import/import_capture.h"
#include "capture/log/session_log.h"

using namespace spicetap;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_proxy: %s\n", what.c_str());
    std::exit(1);
}

// The link stage of one real connection: what each side sends before its first data message.
struct LinkStage {
    std::vector<uint8_t> c2s, s2c;
};

LinkStage real_link_stage(const fs::path& work) {
    const fs::path pcap = fs::path(SPICETAP_SOURCE_PATH) / "tests/data/qemu-bios-glz.pcap";
    const fs::path out = work / "link-source";
    fs::remove_all(out);
    auto imported = capture::import_capture(pcap, {out, "bench", {}});
    if (!imported || imported->sessions.empty()) {
        die("cannot import " + pcap.string());
    }
    auto reader = log::SessionLogReader::open(imported->sessions[0].path);
    if (!reader) {
        die("cannot read the imported log");
    }
    for (const auto& c : (*reader)->connections()) {
        if (c.channel_type != 2 || !c.mini_header) {  // display, mini header
            continue;
        }
        uint64_t first[2] = {UINT64_MAX, UINT64_MAX};
        log::SessionLogReader::MessageFilter f;
        f.connection = c.id;
        (void)(*reader)->for_each_message(f, [&](const log::MessageRecord& m) {
            auto& v = first[static_cast<int>(m.dir)];
            v = std::min(v, m.offset);
            return true;
        });
        LinkStage s;
        auto a = (*reader)->read_stream(c.id, wire::Direction::ClientToServer, 0, first[0]);
        auto b = (*reader)->read_stream(c.id, wire::Direction::ServerToClient, 0, first[1]);
        if (!a || !b) {
            die("cannot read the link stage");
        }
        s.c2s = std::move(*a);
        s.s2c = std::move(*b);
        return s;
    }
    die("no display connection with the mini header in " + pcap.string());
}

void put_message(std::vector<uint8_t>& out, uint16_t type, uint32_t size, uint8_t fill) {
    const uint8_t h[6] = {uint8_t(type),      uint8_t(type >> 8),  uint8_t(size),
                          uint8_t(size >> 8), uint8_t(size >> 16), uint8_t(size >> 24)};
    out.insert(out.end(), h, h + 6);
    out.insert(out.end(), size, fill);
}

bool write_all(int fd, const uint8_t* p, size_t n) {
    while (n > 0) {
        const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            if (w < 0 && errno == EINTR) {
                continue;
            }
            return false;
        }
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

bool read_all(int fd, uint8_t* p, size_t n) {
    while (n > 0) {
        const ssize_t r = ::recv(fd, p, n, 0);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) {
                continue;
            }
            return false;
        }
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

void nodelay(int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int listen_any(uint16_t* port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
        die("cannot listen");
    }
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    *port = ntohs(a.sin_port);
    return fd;
}

uint16_t free_port() {
    uint16_t p = 0;
    ::close(listen_any(&p));
    return p;
}

int connect_to(uint16_t port) {
    for (int attempt = 0; attempt < 200; ++attempt) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
            nodelay(fd);
            return fd;
        }
        ::close(fd);
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    die("cannot connect to port " + std::to_string(port));
}

constexpr uint8_t kModeBulk = 1, kModePing = 2;
constexpr uint32_t kBulkMessage = 64 * 1024;
constexpr uint32_t kPingBody = 58;  // 64 bytes with the mini header

// The SPICE "server": link stage, then bulk messages or a PING for every PONG.
void serve(int listen_fd, const LinkStage& link, uint64_t bulk_bytes) {
    for (;;) {
        const int fd = ::accept(listen_fd, nullptr, nullptr);
        if (fd < 0) {
            return;
        }
        nodelay(fd);
        std::thread([fd, &link, bulk_bytes] {
            std::vector<uint8_t> buf(link.c2s.size());
            uint8_t head[6 + kPingBody];
            if (!read_all(fd, buf.data(), buf.size()) ||
                !write_all(fd, link.s2c.data(), link.s2c.size()) ||
                !read_all(fd, head, sizeof head)) {
                ::close(fd);
                return;
            }
            if (head[6] == kModeBulk) {
                std::vector<uint8_t> block;
                for (int i = 0; i < 16; ++i) {
                    put_message(block, 304 /* DRAW_COPY */, kBulkMessage - 6, uint8_t(i));
                }
                for (uint64_t sent = 0; sent < bulk_bytes; sent += block.size()) {
                    if (!write_all(fd, block.data(), block.size())) {
                        break;
                    }
                }
                ::shutdown(fd, SHUT_WR);
                while (::recv(fd, buf.data(), buf.size(), 0) > 0) {
                }
            } else {
                std::vector<uint8_t> ping;
                put_message(ping, 4 /* PING */, kPingBody, 0x55);
                while (read_all(fd, head, sizeof head)) {
                    if (!write_all(fd, ping.data(), ping.size())) {
                        break;
                    }
                }
            }
            ::close(fd);
        }).detach();
    }
}

int open_session(uint16_t port, const LinkStage& link, uint8_t mode) {
    const int fd = connect_to(port);
    std::vector<uint8_t> buf(link.s2c.size());
    std::vector<uint8_t> hello;
    put_message(hello, 3 /* PONG */, kPingBody, mode);
    if (!write_all(fd, link.c2s.data(), link.c2s.size()) || !read_all(fd, buf.data(), buf.size()) ||
        !write_all(fd, hello.data(), hello.size())) {
        die("link stage failed on port " + std::to_string(port));
    }
    return fd;
}

// MiB/s of one bulk transfer through `port`.
double bulk(uint16_t port, const LinkStage& link, uint64_t bytes) {
    const int fd = open_session(port, link, kModeBulk);
    std::vector<uint8_t> buf(1 << 20);
    uint64_t got = 0;
    const auto t0 = Clock::now();
    for (;;) {
        const ssize_t r = ::recv(fd, buf.data(), buf.size(), 0);
        if (r <= 0) {
            break;
        }
        got += static_cast<uint64_t>(r);
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    ::close(fd);
    if (got < bytes) {
        die("bulk transfer through port " + std::to_string(port) + " ended early");
    }
    return static_cast<double>(got) / 1048576.0 / s;
}

struct Latency {
    double p50_us, p99_us;
};

// One ping session through a relay (or straight to the server): round trips are measured in
// blocks, the relays' blocks taking turns, so that what else runs on the machine falls on all
// of them alike rather than on whichever was measured while it did.
class Pinger {
public:
    Pinger(uint16_t port, const LinkStage& link)
        : port_(port), fd_(open_session(port, link, kModePing)) {
        put_message(pong_, 3 /* PONG */, kPingBody, 0xaa);
        for (int i = 0; i < 200; ++i) {  // warm-up
            once();
        }
        us_.clear();
    }

    ~Pinger() { ::close(fd_); }

    void block(int n) {
        for (int i = 0; i < n; ++i) {
            us_.push_back(once());
        }
    }

    Latency result() {
        std::sort(us_.begin(), us_.end());
        return {us_[us_.size() / 2], us_[us_.size() * 99 / 100]};
    }

private:
    double once() {
        uint8_t reply[6 + kPingBody];
        const auto t0 = Clock::now();
        if (!write_all(fd_, pong_.data(), pong_.size()) || !read_all(fd_, reply, sizeof reply)) {
            die("round trip failed on port " + std::to_string(port_));
        }
        return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    }

    uint16_t port_;
    int fd_;
    std::vector<uint8_t> pong_;
    std::vector<double> us_;
};

// CPU seconds (user + system, all threads) a process has used so far.
double cpu_seconds(pid_t pid) {
    FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
    if (!f) {
        return 0;
    }
    char buf[2048];
    const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    const char* p = std::strrchr(buf, ')');  // the name may hold spaces
    unsigned long long utime = 0, stime = 0;
    if (!p || std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                          &stime) != 2) {
        return 0;
    }
    return double(utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

// Waits until a relay has finished what a run left it (the proxy records and checkpoints after
// the bytes went through): no CPU used for 300 ms, and the logs written out to the disk (sync).
// Otherwise that work would fall on the next measurement, whichever relay it is.
void wait_idle(pid_t pid) {
    double last = cpu_seconds(pid);
    for (int quiet = 0, i = 0; quiet < 3 && i < 600; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const double now = cpu_seconds(pid);
        quiet = now - last < 0.005 ? quiet + 1 : 0;
        last = now;
    }
    ::sync();
}

pid_t spawn(const std::vector<std::string>& argv, const fs::path& log) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        FILE* f = std::fopen(log.c_str(), "w");
        if (f) {
            ::dup2(fileno(f), 1);
            ::dup2(fileno(f), 2);
        }
        std::vector<char*> args;
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

uint64_t recorded_bytes(const fs::path& dir) {
    uint64_t total = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() != ".spicelog") {
            continue;
        }
        auto reader = log::SessionLogReader::open(e.path());
        if (!reader) {
            die("cannot open " + e.path().string() + ": " + reader.error().message());
        }
        for (const auto& c : (*reader)->connections()) {
            total += c.bytes_c2s + c.bytes_s2c;
        }
    }
    return total;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_proxy SPICETAP WORKDIR [MiB] [round trips]\n");
        return 2;
    }
    const std::string spicetap = argv[1];
    const fs::path work = argv[2];
    const uint64_t mib = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 256;
    const int trips = argc > 4 ? std::atoi(argv[4]) : 20000;
    fs::create_directories(work);
    ::signal(SIGPIPE, SIG_IGN);

    const LinkStage link = real_link_stage(work);
    uint16_t server_port = 0;
    const int lfd = listen_any(&server_port);
    std::thread(serve, lfd, std::cref(link), mib << 20).detach();

    const fs::path logs = work / "proxy-logs";
    fs::remove_all(logs);
    const uint16_t proxy_port = free_port(), socat_port = free_port();
    const std::string upstream = "127.0.0.1:" + std::to_string(server_port);
    const pid_t proxy =
        spawn({spicetap, "proxy", "--listen", "127.0.0.1:" + std::to_string(proxy_port),
               "--upstream", upstream, "-o", logs.string(), "--json"},
              work / "proxy.log");
    const pid_t socat =
        spawn({"socat", "-b", "65536",
               "TCP-LISTEN:" + std::to_string(socat_port) + ",bind=127.0.0.1,reuseaddr,fork",
               "TCP:" + upstream},
              work / "socat.log");

    // Round trips first, while the recorder is idle apart from them (after the bulk runs it
    // is still writing their backlog, which measures the disk, not the relay).
    Latency direct_lat{}, socat_lat{}, proxy_lat{};
    {
        Pinger direct(server_port, link), via_socat(socat_port, link), via_proxy(proxy_port, link);
        constexpr int kBlocks = 20;
        for (int b = 0; b < kBlocks; ++b) {
            const int n = trips / kBlocks;
            direct.block(n);
            via_socat.block(n);
            via_proxy.block(n);
        }
        direct_lat = direct.result();
        socat_lat = via_socat.result();
        proxy_lat = via_proxy.result();
    }
    // Interleaved rounds, best of each: the machine's noise hits both relays alike.
    double direct_tp = 0, socat_tp = 0, proxy_tp = 0;
    for (int round = 0; round < 5; ++round) {
        wait_idle(proxy);
        direct_tp = std::max(direct_tp, bulk(server_port, link, mib << 20));
        socat_tp = std::max(socat_tp, bulk(socat_port, link, mib << 20));
        proxy_tp = std::max(proxy_tp, bulk(proxy_port, link, mib << 20));
    }
    wait_idle(proxy);

    ::kill(proxy, SIGTERM);
    ::kill(socat, SIGTERM);
    // CPU each relay used for the whole run (round trips and bulk; socat's forked children
    // are counted in its own figure once it has reaped them).
    int status = 0;
    rusage proxy_ru{}, socat_ru{};
    ::wait4(proxy, &status, 0, &proxy_ru);
    ::wait4(socat, nullptr, 0, &socat_ru);
    const auto cpu = [](const rusage& ru) {
        return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    };
    // What the proxy says it relayed, and what its logs hold.
    uint64_t expected = 0;
    {
        FILE* f = std::fopen((work / "proxy.log").c_str(), "r");
        char line[4096];
        while (f && std::fgets(line, sizeof line, f)) {
            const char* c2s = std::strstr(line, "\"bytes_c2s\":");
            const char* s2c = std::strstr(line, "\"bytes_s2c\":");
            if (c2s && s2c) {
                expected =
                    std::strtoull(c2s + 12, nullptr, 10) + std::strtoull(s2c + 12, nullptr, 10);
            }
        }
        if (f) {
            std::fclose(f);
        }
    }
    const uint64_t recorded = recorded_bytes(logs);

    std::printf(
        "SPICE display traffic on loopback, %llu MiB per bulk run (best of 5), %d round "
        "trips of 64-byte messages:\n",
        static_cast<unsigned long long>(mib), trips);
    std::printf(
        "  throughput  direct %8.0f MiB/s   socat %8.0f MiB/s   spicetap proxy %8.0f MiB/s "
        "(recording)\n",
        direct_tp, socat_tp, proxy_tp);
    std::printf(
        "  round trip  direct p50 %6.1f us p99 %6.1f us | socat p50 %6.1f p99 %6.1f | "
        "proxy p50 %6.1f p99 %6.1f\n",
        direct_lat.p50_us, direct_lat.p99_us, socat_lat.p50_us, socat_lat.p99_us, proxy_lat.p50_us,
        proxy_lat.p99_us);
    const double socat_added = socat_lat.p99_us - direct_lat.p99_us;
    const double proxy_added = proxy_lat.p99_us - direct_lat.p99_us;
    std::printf("  added p99 latency: socat %.1f us, spicetap proxy %.1f us\n", socat_added,
                proxy_added);
    std::printf(
        "  recorded %llu of %llu relayed bytes (%.2f%%), proxy exit %d\n",
        static_cast<unsigned long long>(recorded), static_cast<unsigned long long>(expected),
        100.0 * double(recorded) / double(expected), WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    std::printf("  CPU used by the relay: socat %.2f s, spicetap proxy %.2f s\n", cpu(socat_ru),
                cpu(proxy_ru));
    const bool tp_ok = proxy_tp >= 0.9 * socat_tp;
    const bool lat_ok = proxy_added <= socat_added + 100.0;
    std::printf(
        "  ratio: throughput %.2fx socat's (target >= 0.9) %s; p99 added latency %+.1f us vs "
        "socat's (target <= +100) %s\n",
        proxy_tp / socat_tp, tp_ok ? "ok" : "MISSED", proxy_added - socat_added,
        lat_ok ? "ok" : "MISSED");
    return 0;
}
