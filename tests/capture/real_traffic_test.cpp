// Real traffic: a TCP exchange on loopback recorded by tcpdump, reassembled by us, and compared
// with what was sent and with tshark's "follow tcp" of the same file.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "capture/pcap/packet_source.h"
#include "capture/pcap/tcp_reassembly.h"
#include "tests/capture/pcap_builder.h"
#include "tests/capture/stream_recorder.h"

namespace spicetap {
namespace {

using Clock = std::chrono::steady_clock;

bool have_program(const char* name) {
    std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs a shell command and returns its standard output.
std::string run_capture(const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) {
        return out;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        out.append(buf, n);
    }
    pclose(p);
    return out;
}

bool write_all(int fd, const std::string& data, size_t from, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data.data() + from, len);
        if (n <= 0) {
            return false;
        }
        from += static_cast<size_t>(n);
        len -= static_cast<size_t>(n);
    }
    return true;
}

bool read_exact(int fd, std::string& into, size_t len) {
    char buf[65536];
    while (len > 0) {
        ssize_t n = read(fd, buf, std::min(len, sizeof buf));
        if (n <= 0) {
            return false;
        }
        into.append(buf, static_cast<size_t>(n));
        len -= static_cast<size_t>(n);
    }
    return true;
}

void read_to_eof(int fd, std::string& into) {
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        into.append(buf, static_cast<size_t>(n));
    }
}

std::string random_bytes(std::mt19937& rng, size_t n) {
    std::string s(n, '\0');
    for (char& c : s) {
        c = static_cast<char>(rng());
    }
    return s;
}

// Equal, or where the first difference is (binary strings make unreadable failure output).
std::string first_difference(const std::string& got, const std::string& want) {
    if (got == want) {
        return "equal";
    }
    size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) {
        ++i;
    }
    return "differ at byte " + std::to_string(i) + " (sizes " + std::to_string(got.size()) +
           " and " + std::to_string(want.size()) + ")";
}

// What each side sent and received over one real connection.
struct Exchange {
    std::string client_sent, server_sent, client_got, server_got;
    bool ok = false;
};

// Ping-pong rounds of random sizes, then both sides stream at once, then an orderly close.
Exchange run_exchange(int listener, const sockaddr_in& addr) {
    Exchange ex;
    std::mt19937 rng(20260124);
    std::vector<std::pair<size_t, size_t>> rounds;
    for (int i = 0; i < 16; ++i) {
        rounds.emplace_back(1 + rng() % 20000, 1 + rng() % 30000);
    }
    const size_t bulk = 1024 * 1024;
    for (const auto& [c, s] : rounds) {
        ex.client_sent += random_bytes(rng, c);
        ex.server_sent += random_bytes(rng, s);
    }
    size_t client_rounds_end = ex.client_sent.size();
    size_t server_rounds_end = ex.server_sent.size();
    ex.client_sent += random_bytes(rng, bulk);
    ex.server_sent += random_bytes(rng, bulk + 12345);

    bool server_ok = false;
    std::thread server([&] {
        int fd = accept(listener, nullptr, nullptr);
        if (fd < 0) {
            return;
        }
        size_t sent = 0;
        bool ok = true;
        for (const auto& [c, s] : rounds) {
            ok = ok && read_exact(fd, ex.server_got, c) && write_all(fd, ex.server_sent, sent, s);
            sent += s;
        }
        std::thread writer([&] {
            write_all(fd, ex.server_sent, server_rounds_end,
                      ex.server_sent.size() - server_rounds_end);
            shutdown(fd, SHUT_WR);
        });
        read_to_eof(fd, ex.server_got);
        writer.join();
        close(fd);
        server_ok = ok;
    });

    bool client_ok = false;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    // Ethernet-sized segments (the listener's setting carries to the accepted socket): more
    // packets, as on a real network.
    int mss = 1448;
    setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        size_t sent = 0;
        bool ok = true;
        for (const auto& [c, s] : rounds) {
            ok = ok && write_all(fd, ex.client_sent, sent, c) && read_exact(fd, ex.client_got, s);
            sent += c;
        }
        std::thread writer([&] {
            write_all(fd, ex.client_sent, client_rounds_end,
                      ex.client_sent.size() - client_rounds_end);
            shutdown(fd, SHUT_WR);
        });
        read_to_eof(fd, ex.client_got);
        writer.join();
        client_ok = ok;
    }
    close(fd);
    server.join();
    ex.ok = client_ok && server_ok;
    return ex;
}

// tshark's "follow,tcp,raw": hex lines, the second node's indented by a tab.
struct Followed {
    std::string node0, node1, node0_name, node1_name;
};

Followed parse_follow(const std::string& text) {
    Followed f;
    std::istringstream in(text);
    std::string line;
    bool in_data = false;
    auto unhex = [](const std::string& hex, std::string& out) {
        for (size_t i = 0; i + 1 < hex.size(); i += 2) {
            out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
        }
    };
    while (std::getline(in, line)) {
        if (line.rfind("Node 0: ", 0) == 0) {
            f.node0_name = line.substr(8);
        } else if (line.rfind("Node 1: ", 0) == 0) {
            f.node1_name = line.substr(8);
            in_data = true;
        } else if (in_data && line.rfind("====", 0) == 0) {
            break;
        } else if (in_data && !line.empty()) {
            if (line[0] == '\t') {
                unhex(line.substr(1), f.node1);
            } else {
                unhex(line, f.node0);
            }
        }
    }
    return f;
}

struct Reassembled {
    test::StreamRecorder rec;
    uint64_t packets = 0;
    std::optional<DecodeError> error;
};

void reassemble(const std::filesystem::path& path, Reassembled& out) {
    auto src = capture::PacketSource::open_file(path);
    if (!src) {
        out.error = src.error();
        return;
    }
    capture::TcpReassembler reassembler(out.rec);
    capture::RawPacket p;
    int64_t last = 0;
    while (true) {
        auto r = (*src)->next(p);
        if (!r) {
            out.error = r.error();
            break;
        }
        if (!*r) {
            break;
        }
        last = p.ts_us;
        reassembler.feed(p);
    }
    reassembler.finish(last);
    out.packets = reassembler.stats().tcp_packets;
}

// The cheapest consumer: how fast reading and reassembly alone are.
struct CountingCallbacks : capture::TcpCallbacks {
    uint64_t bytes = 0;
    uint64_t checksum = 0;

    void on_open(capture::ConnectionId, const capture::Endpoint&, const capture::Endpoint&, int64_t,
                 bool) override {}

    void on_data(capture::ConnectionId, capture::Side, int64_t, uint64_t, ByteView d) override {
        bytes += d.size();
        checksum += d.front() + d.back();
    }

    void on_gap(capture::ConnectionId, capture::Side, int64_t, uint64_t, uint64_t) override {}

    void on_close(capture::ConnectionId, int64_t, capture::CloseReason) override {}
};

uint64_t count_bytes(const std::filesystem::path& path) {
    auto src = capture::PacketSource::open_file(path);
    if (!src) {
        return 0;
    }
    CountingCallbacks counter;
    capture::TcpReassembler reassembler(counter);
    capture::RawPacket p;
    while (true) {
        auto r = (*src)->next(p);
        if (!r || !*r) {
            break;
        }
        reassembler.feed(p);
    }
    reassembler.finish(p.ts_us);
    return counter.bytes;
}

TEST_CASE("real traffic: tcpdump of a loopback transfer reassembles exactly", "[pcap][real]") {
    if (!have_program("tcpdump")) {
        WARN("tcpdump is not installed: real-traffic test skipped");
        SUCCEED();
        return;
    }
    test::TempDir dir("real");
    auto pcap_path = dir / "lo.pcap";
    auto stderr_path = dir / "tcpdump.err";

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t alen = sizeof addr;
    REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &alen) == 0);
    int mss = 1448;
    setsockopt(listener, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
    REQUIRE(listen(listener, 1) == 0);
    const uint16_t port = ntohs(addr.sin_port);

    pid_t tcpdump = fork();
    REQUIRE(tcpdump >= 0);
    if (tcpdump == 0) {
        FILE* err = std::freopen(stderr_path.c_str(), "w", stderr);
        (void)err;
        std::string filter = "tcp port " + std::to_string(port);
        execlp("tcpdump", "tcpdump", "-i", "lo", "-U", "--immediate-mode", "-B", "65536", "-n",
               "-s", "0", "-w", pcap_path.c_str(), filter.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    // tcpdump is ready once it says it listens (the filter is installed by then).
    bool listening = false;
    for (auto deadline = Clock::now() + std::chrono::seconds(15); Clock::now() < deadline;) {
        if (read_text(stderr_path).find("listening on") != std::string::npos) {
            listening = true;
            break;
        }
        int status = 0;
        if (waitpid(tcpdump, &status, WNOHANG) == tcpdump) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!listening) {
        kill(tcpdump, SIGKILL);
        waitpid(tcpdump, nullptr, 0);
        close(listener);
        FAIL("tcpdump did not start: " << read_text(stderr_path));
    }

    Exchange ex = run_exchange(listener, addr);
    close(listener);
    // Let the last packets reach the capture, then stop tcpdump cleanly.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(tcpdump, SIGINT);
    int status = 0;
    waitpid(tcpdump, &status, 0);
    std::string tcpdump_err = read_text(stderr_path);
    INFO("tcpdump: " << tcpdump_err);
    REQUIRE(ex.ok);
    REQUIRE(first_difference(ex.client_got, ex.server_sent) ==
            "equal");  // the sockets themselves worked
    REQUIRE(first_difference(ex.server_got, ex.client_sent) == "equal");
    REQUIRE(tcpdump_err.find("\n0 packets dropped by kernel") != std::string::npos);
    INFO("sent " << ex.client_sent.size() << " + " << ex.server_sent.size() << " bytes");

    Reassembled ours;
    reassemble(pcap_path, ours);
    auto t0 = Clock::now();
    uint64_t counted = count_bytes(pcap_path);
    auto our_time = Clock::now() - t0;
    CHECK(counted == ex.client_sent.size() + ex.server_sent.size());
    REQUIRE_FALSE(ours.error.has_value());
    REQUIRE(ours.rec.connections.size() == 1);
    const auto& conn = ours.rec.at(1);
    CHECK(conn.saw_syn);
    CHECK(conn.responder.to_string() == "127.0.0.1:" + std::to_string(port));
    CHECK(conn.gaps[0].empty());
    CHECK(conn.gaps[1].empty());
    CHECK(conn.closed);
    CHECK(conn.reason == capture::CloseReason::Fin);
    CHECK(conn.data[0].size() == ex.client_sent.size());
    CHECK(conn.data[1].size() == ex.server_sent.size());
    CHECK(first_difference(conn.data[0], ex.client_sent) == "equal");
    CHECK(first_difference(conn.data[1], ex.server_sent) == "equal");

    if (!have_program("tshark")) {
        WARN("tshark is not installed: comparison with tshark skipped");
        return;
    }
    auto t1 = Clock::now();
    std::string follow =
        run_capture("tshark -r '" + pcap_path.string() + "' -q -z follow,tcp,raw,0 2>/dev/null");
    auto tshark_time = Clock::now() - t1;
    Followed theirs = parse_follow(follow);
    CHECK(theirs.node0_name == conn.initiator.to_string());
    CHECK(theirs.node1_name == conn.responder.to_string());
    CHECK(theirs.node0.size() == conn.data[0].size());
    CHECK(theirs.node1.size() == conn.data[1].size());
    CHECK(first_difference(theirs.node0, conn.data[0]) == "equal");
    CHECK(first_difference(theirs.node1, conn.data[1]) == "equal");

    using ms = std::chrono::duration<double, std::milli>;
    WARN("file " << std::filesystem::file_size(pcap_path) << " bytes, " << ours.packets
                 << " TCP packets: spicetap " << ms(our_time).count() << " ms, tshark follow "
                 << ms(tshark_time).count() << " ms");
    CHECK(our_time * 10 < tshark_time);
}

}  // namespace
}  // namespace spicetap
