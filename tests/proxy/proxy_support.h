// Helpers of the proxy tests: background processes (the real peers, QEMU, the proxy), free
// ports, picture hashes and what a session log holds per connection.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "capture/import/import_capture.h"
#include "capture/log/session_log.h"
#include "decode/wire/protocol_names.h"
#include "tests/peers/json_lite.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace spicetap::proxy_test {

namespace fs = std::filesystem;
using spicetap::test::Json;
using spicetap::test::run_command;
using spicetap::test::shell_quote;

inline fs::path peer_bin(const char* name) {
    return test::build_dir() / "tests" / "peers" / name;
}

inline bool have_peers() {
    return fs::exists(peer_bin("spicetap-test-server")) &&
           fs::exists(peer_bin("spicetap-test-client"));
}

inline std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The full path of a program on PATH (empty if none): Child runs argv[0] as given.
inline std::string program_path(const std::string& name) {
    auto r = run_command("command -v " + shell_quote(name));
    while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == ' ')) {
        r.out.pop_back();
    }
    return r.exit_code == 0 ? r.out : std::string();
}

inline int64_t wall_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A background process with stdout and stderr in files; killed when the object goes.
class Child {
public:
    Child(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err)
        : out_(out), err_(err) {
        pid_ = ::fork();
        if (pid_ == 0) {
            const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(o, 1);
            ::dup2(e, 2);
            ::setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
            std::vector<char*> args;
            for (const auto& a : argv) {
                args.push_back(const_cast<char*>(a.c_str()));
            }
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
    }

    ~Child() {
        if (running()) {
            ::kill(pid_, SIGKILL);
            wait(10);
        }
    }

    pid_t pid() const { return pid_; }

    bool running() const { return pid_ > 0 && !exited_; }

    void signal(int sig) const { ::kill(pid_, sig); }

    // The exit code, 128+signal, or -1 if it still runs after `seconds`.
    int wait(double seconds) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (!exited_) {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                exited_ = true;
                code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                break;
            }
            if (std::chrono::steady_clock::now() > end) {
                return -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return code_;
    }

    bool wait_for_output(const std::string& needle, double seconds, bool in_stderr = false) const {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (std::chrono::steady_clock::now() < end) {
            if (read_text(in_stderr ? err_ : out_).find(needle) != std::string::npos) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    std::string out() const { return read_text(out_); }

    std::string err() const { return read_text(err_); }

private:
    pid_t pid_ = -1;
    bool exited_ = false;
    int code_ = -1;
    fs::path out_, err_;
};

inline uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// A socket connected to 127.0.0.1:port (with that SO_RCVBUF when not 0), or -1.
inline int connect_loopback(uint16_t port, int receive_buffer = 0) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer > 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// The session log of the committed QEMU capture (tests/data/qemu-bios-glz.pcap), imported
// into `dir`: real traffic for tests that hand it to the proxy's parts themselves.
inline fs::path imported_glz_session(const fs::path& dir) {
    const fs::path pcap = test::source_dir() / "tests" / "data" / "qemu-bios-glz.pcap";
    auto imported = capture::import_capture(pcap, {dir, "test", {}});
    REQUIRE(imported);
    REQUIRE(imported->sessions.size() == 1);
    return imported->sessions[0].path;
}

// The pixels of a PNG (decoded by ffmpeg to rgb24) as a hash: equal pictures, equal hashes.
inline std::string pixels_md5(const fs::path& png) {
    auto r = run_command("ffmpeg -v error -i " + shell_quote(png.string()) +
                         " -f rawvideo -pix_fmt rgb24 - | md5sum");
    return r.exit_code == 0 && r.out.size() >= 32 ? r.out.substr(0, 32)
                                                  : "unreadable " + png.string();
}

// What a log holds of one connection, for comparing two logs of the same traffic.
struct ConnectionContent {
    int channel_type = -1, channel_id = -1;
    uint32_t connection_id = 0;
    uint16_t server_port = 0;
    bool tls = false, mini_header = false;
    std::vector<uint32_t> caps[4];
    std::string end_reason;
    std::vector<uint8_t> bytes[2];
    // dir, offset, type, size, serial (or -1), header size
    std::vector<std::tuple<int, uint64_t, int, uint32_t, int64_t, int>> messages;
};

inline std::vector<ConnectionContent> read_log(const fs::path& path, int server_port = -1) {
    auto reader = log::SessionLogReader::open(path);
    REQUIRE(reader);
    std::vector<ConnectionContent> out;
    for (const auto& c : (*reader)->connections()) {
        if (server_port >= 0 && c.server_port != server_port) {
            continue;  // the other leg of the same session in the capture
        }
        ConnectionContent cc;
        cc.channel_type = c.channel_type;
        cc.channel_id = c.channel_id;
        cc.connection_id = c.connection_id;
        cc.server_port = c.server_port;
        cc.tls = c.tls;
        cc.mini_header = c.mini_header;
        cc.caps[0] = c.client_common_caps;
        cc.caps[1] = c.client_channel_caps;
        cc.caps[2] = c.server_common_caps;
        cc.caps[3] = c.server_channel_caps;
        cc.end_reason = c.end_reason;
        for (auto d : {wire::Direction::ClientToServer, wire::Direction::ServerToClient}) {
            auto& bytes = cc.bytes[static_cast<int>(d)];
            REQUIRE((*reader)->for_each_chunk(c.id, d, [&](const log::DataChunk& ch) {
                REQUIRE(ch.offset == bytes.size());
                bytes.insert(bytes.end(), ch.data.begin(), ch.data.end());
                return true;
            }));
        }
        log::SessionLogReader::MessageFilter f;
        f.connection = c.id;
        REQUIRE((*reader)->for_each_message(f, [&](const log::MessageRecord& m) {
            cc.messages.emplace_back(static_cast<int>(m.dir), m.offset, m.type, m.size,
                                     m.serial ? static_cast<int64_t>(*m.serial) : -1,
                                     m.header_size);
            return true;
        }));
        std::sort(cc.messages.begin(), cc.messages.end(), [](const auto& a, const auto& b) {
            return std::tie(std::get<0>(a), std::get<1>(a)) <
                   std::tie(std::get<0>(b), std::get<1>(b));
        });
        out.push_back(std::move(cc));
    }
    return out;
}

// Connections in a stable order: by channel, then by first bytes (start times differ between a
// proxy and a capture by microseconds, and channels may link in any order).
inline void sort_connections(std::vector<ConnectionContent>& v) {
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
        return std::tie(a.channel_type, a.channel_id, a.bytes[0]) <
               std::tie(b.channel_type, b.channel_id, b.bytes[0]);
    });
}

inline void require_same_content(std::vector<ConnectionContent> proxy,
                                 std::vector<ConnectionContent> imported, bool only_plain) {
    if (only_plain) {
        proxy.erase(std::remove_if(proxy.begin(), proxy.end(), [](const auto& c) { return c.tls; }),
                    proxy.end());
    }
    sort_connections(proxy);
    sort_connections(imported);
    REQUIRE(proxy.size() == imported.size());
    for (size_t i = 0; i < proxy.size(); ++i) {
        const auto& p = proxy[i];
        const auto& m = imported[i];
        INFO("connection " << i << " channel " << p.channel_type << ":" << p.channel_id);
        CHECK(p.channel_type == m.channel_type);
        CHECK(p.channel_id == m.channel_id);
        CHECK(p.connection_id == m.connection_id);
        CHECK(p.mini_header == m.mini_header);
        for (int k = 0; k < 4; ++k) {
            CHECK(p.caps[k] == m.caps[k]);
        }
        CHECK(p.bytes[0].size() == m.bytes[0].size());
        CHECK(p.bytes[1].size() == m.bytes[1].size());
        CHECK(p.bytes[0] == m.bytes[0]);
        CHECK(p.bytes[1] == m.bytes[1]);
        CHECK(p.messages == m.messages);
    }
}

inline std::set<std::string> channel_names(const std::vector<ConnectionContent>& log_connections) {
    std::set<std::string> out;
    for (const auto& c : log_connections) {
        if (c.channel_type >= 0) {
            out.insert(std::string(wire::channel_type_name(static_cast<uint8_t>(c.channel_type))) +
                       "#" + std::to_string(c.channel_id));
        }
    }
    return out;
}

inline std::unique_ptr<Child> start_server(const fs::path& dir, uint16_t port, double seconds,
                                           const std::vector<std::string>& extra = {}) {
    fs::create_directories(dir);
    std::vector<std::string> argv = {peer_bin("spicetap-test-server").string(),
                                     "--port",
                                     std::to_string(port),
                                     "--out-dir",
                                     dir.string(),
                                     "--duration",
                                     std::to_string(static_cast<int>(seconds)),
                                     "--no-audio"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto c = std::make_unique<Child>(argv, dir / "server.out", dir / "server.log");
    REQUIRE(c->wait_for_output("READY", 15));
    return c;
}

inline std::unique_ptr<Child> start_client(const fs::path& dir, uint16_t port, double seconds) {
    fs::create_directories(dir);
    return std::make_unique<Child>(
        std::vector<std::string>{peer_bin("spicetap-test-client").string(), "--port",
                                 std::to_string(port), "--out-dir", dir.string(), "--duration",
                                 std::to_string(seconds)},
        dir / "client.out", dir / "client.log");
}

inline std::unique_ptr<Child> start_proxy(const fs::path& dir, uint16_t listen, uint16_t upstream,
                                          const fs::path& logs,
                                          const std::vector<std::string>& extra = {}) {
    fs::create_directories(dir);
    std::vector<std::string> argv = {test::spicetap_bin().string(),
                                     "proxy",
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(listen),
                                     "--upstream",
                                     "127.0.0.1:" + std::to_string(upstream),
                                     "-o",
                                     logs.string(),
                                     "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto c = std::make_unique<Child>(argv, dir / "proxy.jsonl", dir / "proxy.log");
    REQUIRE(c->wait_for_output("\"listening\"", 15));
    return c;
}

inline std::vector<fs::path> logs_in(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() == ".spicelog") {
            out.push_back(e.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Per connection of the proxy's logs: the bytes recorded equal the bytes it relayed (its
// `connection` JSON events), matched by the client's port.
inline int require_recorded_equals_relayed(const std::string& jsonl,
                                           const std::vector<fs::path>& logs) {
    struct Counts {
        uint64_t relayed[2], read[2];
        std::string ended;
    };

    std::map<std::string, Counts> proxy;
    std::istringstream in(jsonl);
    std::string line;
    while (std::getline(in, line)) {
        if (line.find("\"event\":\"connection\"") == std::string::npos) {
            continue;
        }
        const Json ev = Json::parse(line);
        auto n = [&](const char* k) { return static_cast<uint64_t>(ev[k].integer()); };
        proxy[ev["client"].str()] = {{n("relayed_c2s"), n("relayed_s2c")},
                                     {n("read_c2s"), n("read_s2c")},
                                     ev["ended"].str()};
    }
    int matched = 0;
    for (const auto& path : logs) {
        auto reader = log::SessionLogReader::open(path);
        REQUIRE(reader);
        for (const auto& c : (*reader)->connections()) {
            const std::string client = c.client_addr + ":" + std::to_string(c.client_port);
            INFO(path.string() << " client " << client);
            REQUIRE(proxy.count(client) == 1);
            const Counts& p = proxy[client];
            // Recorded: every byte read from each side.
            CHECK(c.bytes_c2s == p.read[0]);
            CHECK(c.bytes_s2c == p.read[1]);
            // Relayed: the same, except bytes still on their way to a side that reset.
            if (p.ended == "fin") {
                CHECK(p.relayed[0] == p.read[0]);
                CHECK(p.relayed[1] == p.read[1]);
            } else {
                CHECK(p.relayed[0] <= p.read[0]);
                CHECK(p.relayed[1] <= p.read[1]);
            }
            ++matched;
        }
    }
    return matched;
}

}  // namespace spicetap::proxy_test
