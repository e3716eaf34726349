// `spicetap capture` on loopback during real sessions between the test peers
// (spicetap-test-server + spicetap-test-client), with tcpdump capturing the same traffic. The
// live logs must hold the same bytes per connection and direction as `import` of tcpdump's
// pcap, be readable while recorded (holding what came up to about a second ago), be closed when
// their session ends while the capture goes on, be finalised by SIGTERM, and be listed by
// `sessions`. --rotate-after splits a session into linked parts that together hold every byte.
#include <fmt/core.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "capture/import/import_capture.h"
#include "capture/log/session_log.h"
#include "export/summary/session_list.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using test::shell_quote;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using wire::Direction;

namespace {

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A program running in the background, its stdout and stderr in files.
class Background {
public:
    Background(const std::string& command, const fs::path& out, const fs::path& err)
        : out_(out), err_(err) {
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            const std::string full = "exec " + command + " >" + shell_quote(out.string()) + " 2>" +
                                     shell_quote(err.string());
            ::execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
    }

    ~Background() {
        if (running()) {
            ::kill(pid_, SIGKILL);
            wait();
        }
    }

    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    pid_t pid() const { return pid_; }

    bool running() {
        if (pid_ <= 0 || exited_) {
            return false;
        }
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            exited_ = true;
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        return !exited_;
    }

    // Waits for the exit; -1 when killed by a signal or still running after the timeout.
    int wait(double timeout_s = 30) {
        const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
        while (running() && Clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (running()) {
            return -1;
        }
        return exit_code_;
    }

    void signal(int sig) { ::kill(pid_, sig); }

    std::string out() const { return read_text(out_); }

    std::string err() const { return read_text(err_); }

    // Waits until stdout or stderr holds `needle`.
    bool wait_for(const std::string& needle, double timeout_s) {
        const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
        while (Clock::now() < deadline) {
            if (out().find(needle) != std::string::npos ||
                err().find(needle) != std::string::npos) {
                return true;
            }
            if (!running()) {
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

private:
    pid_t pid_ = -1;
    bool exited_ = false;
    int exit_code_ = -1;
    fs::path out_, err_;
};

uint16_t free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(s);
    return ntohs(addr.sin_port);
}

fs::path peer(const char* name) {
    return test::build_dir() / "tests" / "peers" / name;
}

bool can_run_live_tests() {
    if (::geteuid() != 0) {
        WARN("not root: live capture on lo is not possible, test skipped");
        return false;
    }
    if (!test::have_program("tcpdump")) {
        WARN("tcpdump is not installed: live capture test skipped");
        return false;
    }
    if (!fs::exists(peer("spicetap-test-server")) || !fs::exists(peer("spicetap-test-client"))) {
        WARN("the test peers are not built (SPICETAP_BUILD_PEERS): live capture test skipped");
        return false;
    }
    return true;
}

std::string cli(const std::string& args) {
    return shell_quote(test::spicetap_bin().string()) + " " + args;
}

// The peers run with LeakSanitizer off in a sanitizer build (as tests/peers/record and the
// proxy tests run them): spice-server, GLib and spice-client-glib keep allocations to the end
// of the process by design, and the leak report would turn their exit status into a failure.
// spicetap itself keeps leak checking.
std::string peer_command(const char* name) {
    return "env \"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" " +
           shell_quote(peer(name).string());
}

// The server of one session: the stream scenario keeps a steady flow of display data.
std::string server_command(uint16_t port, const fs::path& dir) {
    return fmt::format(
        "{} --port {} --out-dir {} --duration 40 --no-audio --scenario stream "
        "--streaming-video all --video-codecs spice:mjpeg",
        peer_command("spicetap-test-server"), port, shell_quote(dir.string()));
}

std::string client_command(uint16_t port, const fs::path& dir, double duration) {
    return fmt::format("{} --port {} --out-dir {} --duration {} --video-codec mjpeg --type hello",
                       peer_command("spicetap-test-client"), port, shell_quote(dir.string()),
                       duration);
}

// Every byte of one direction of a connection, as the log holds it from offset 0.
std::vector<uint8_t> stream_bytes(const log::SessionLogReader& r, const log::ConnectionInfo& c,
                                  Direction d) {
    const uint64_t n = d == Direction::ClientToServer ? c.bytes_c2s : c.bytes_s2c;
    auto bytes = r.read_stream(c.id, d, 0, n);
    REQUIRE(bytes.has_value());
    return *bytes;
}

// Logs of a directory (not hidden), by name.
std::vector<fs::path> logs_in(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.path().extension() == ".spicelog") {
            out.push_back(e.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::unique_ptr<log::SessionLogReader> open_log(const fs::path& p) {
    auto r = log::SessionLogReader::open(p);
    INFO(p.string());
    REQUIRE(r.has_value());
    return std::move(*r);
}

const log::ConnectionInfo* by_client_port(const log::SessionLogReader& r, uint16_t port) {
    for (const auto& c : r.connections()) {
        if (c.client_port == port) {
            return &c;
        }
    }
    return nullptr;
}

uint64_t message_count(const log::SessionLogReader& r) {
    auto n = r.message_count();
    REQUIRE(n.has_value());
    return *n;
}

int64_t wall_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Waits until `pred` holds, up to timeout_s.
template <typename Pred>
bool eventually(Pred pred, double timeout_s) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    while (Clock::now() < deadline) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return pred();
}

// One connection direction's bytes as a mid-session reader saw them.
struct Snapshot {
    int64_t opened_us = 0;
    std::map<std::pair<uint16_t, int>, std::vector<uint8_t>> bytes;  // (client port, dir)
};

}  // namespace

TEST_CASE(
    "capture -i lo: live logs equal import of tcpdump's pcap, readable while recorded, "
    "closed per session, finalised by SIGTERM, listed by sessions",
    "[cli][capture][live]") {
    if (!can_run_live_tests()) {
        SUCCEED();
        return;
    }
    test::TempDir dir;
    const uint16_t port = free_port();
    const std::string filter = fmt::format("tcp port {}", port);
    const fs::path live = dir / "live";

    Background tcpdump(fmt::format("tcpdump -i lo -n -U --immediate-mode -B 16384 -s 0 -w {} {}",
                                   shell_quote((dir / "ref.pcap").string()), shell_quote(filter)),
                       dir / "tcpdump.out", dir / "tcpdump.err");
    REQUIRE(tcpdump.wait_for("listening on", 10));
    Background cap(cli(fmt::format("capture -i lo -f {} -o {} --stats-every 1 --json",
                                   shell_quote(filter), shell_quote(live.string()))),
                   dir / "capture.json", dir / "capture.err");
    INFO(cap.err());
    REQUIRE(cap.wait_for("capture: listening on lo", 10));

    // One server for both sessions, so they get different session ids (a fresh server process
    // may hand out the same id again).
    Background server(server_command(port, dir / "server") + " --keep-running", dir / "server.out",
                      dir / "server.err");
    REQUIRE(server.wait_for("READY", 10));
    // Session 1: runs to its end while the capture goes on.
    Background client1(client_command(port, dir / "client1", 5.0), dir / "client1.out",
                       dir / "client1.err");
    REQUIRE(cap.wait_for("capture: recording", 10));
    REQUIRE(logs_in(live).size() == 1);
    const fs::path log1 = logs_in(live)[0];

    // Mid-session: the log opens, is marked as being recorded, and holds what came up to a
    // second ago (checked against tcpdump's copy below).
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    REQUIRE(client1.running());
    Snapshot mid;
    {
        mid.opened_us = wall_us();
        auto r = open_log(log1);
        CHECK_FALSE(r->session().complete);
        CHECK(summary::recording_state(r->session()) == summary::RecordingState::Recording);
        CHECK(r->session().source_kind == "live");
        for (const auto& c : r->connections()) {
            for (Direction d : {Direction::ClientToServer, Direction::ServerToClient}) {
                // Everything up to the first hole (the log is read while it grows).
                std::vector<uint8_t> got;
                auto rr = r->for_each_chunk(c.id, d, [&](const log::DataChunk& ch) {
                    if (ch.offset != got.size()) {
                        return false;
                    }
                    got.insert(got.end(), ch.data.begin(), ch.data.end());
                    return true;
                });
                REQUIRE(rr.has_value());
                mid.bytes[{c.client_port, static_cast<int>(d)}] = std::move(got);
            }
        }
    }
    {
        auto listing = test::run_command(cli("sessions " + shell_quote(live.string())), true);
        INFO(listing.out);
        CHECK(listing.exit_code == 0);
        CHECK(listing.out.find(log1.filename().string()) != std::string::npos);
        CHECK(listing.out.find("recording") != std::string::npos);
        auto info = test::run_command(cli("info " + shell_quote(log1.string())), true);
        INFO(info.out);
        CHECK(info.exit_code == 0);
        CHECK(info.out.find("still being recorded") != std::string::npos);
    }

    // The session ends: its log is closed while the capture goes on.
    REQUIRE(client1.wait(30) == 0);
    CHECK(eventually([&] { return open_log(log1)->session().complete; }, 10));
    CHECK(cap.running());
    CHECK(cap.wait_for("capture: finished " + log1.string(), 5));

    // Session 2: the capture is stopped by SIGTERM in the middle of it.
    Background client2(client_command(port, dir / "client2", 5.0), dir / "client2.out",
                       dir / "client2.err");
    REQUIRE(eventually([&] { return logs_in(live).size() == 2; }, 10));
    std::this_thread::sleep_for(std::chrono::milliseconds(2000));
    REQUIRE(client2.running());
    cap.signal(SIGTERM);
    CHECK(cap.wait(15) == 0);
    const std::string cap_err = cap.err();
    INFO(cap_err);
    CHECK(cap_err.find("stopped by signal 15") != std::string::npos);
    CHECK(cap_err.find("dropped by the kernel") != std::string::npos);
    CHECK(client2.wait(30) == 0);
    server.signal(SIGTERM);
    server.wait(10);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    tcpdump.signal(SIGINT);
    REQUIRE(tcpdump.wait(10) == 0);

    // The reference: tcpdump's pcap through import.
    capture::ImportOptions import_options;
    import_options.output = dir / "ref";
    auto imported = capture::import_capture(dir / "ref.pcap", import_options);
    REQUIRE(imported.has_value());
    REQUIRE(imported->sessions.size() == 2);
    const auto live_logs = logs_in(live);
    REQUIRE(live_logs.size() == 2);

    for (size_t i = 0; i < 2; ++i) {
        auto ref = open_log(imported->sessions[i].path);
        auto got = open_log(live_logs[i]);
        INFO("session " << i + 1 << ": " << live_logs[i].string());
        CHECK(got->session().complete);
        CHECK(got->session().session_id == ref->session().session_id);
        CHECK(got->session().capture.has_value());
        REQUIRE(got->connections().size() == ref->connections().size());
        for (const auto& rc : ref->connections()) {
            const log::ConnectionInfo* gc = by_client_port(*got, rc.client_port);
            REQUIRE(gc != nullptr);
            CHECK(gc->channel_type == rc.channel_type);
            CHECK(gc->channel_id == rc.channel_id);
            for (Direction d : {Direction::ClientToServer, Direction::ServerToClient}) {
                const auto want = stream_bytes(*ref, rc, d);
                const auto have = stream_bytes(*got, *gc, d);
                INFO("client port " << rc.client_port << " " << wire::direction_name(d));
                CHECK(!want.empty());
                if (i == 0) {
                    // The whole session was captured live: the very same bytes.
                    CHECK(have == want);
                    CHECK(gc->end_reason == rc.end_reason);
                } else {
                    // Stopped mid-session: a prefix, ended by the end of the capture.
                    REQUIRE(have.size() <= want.size());
                    CHECK(std::equal(have.begin(), have.end(), want.begin()));
                    CHECK(gc->end_reason == "end_of_capture");
                }
            }
        }
        if (i == 0) {
            CHECK(message_count(*got) == message_count(*ref));
        }
    }

    // What the mid-session reader saw: a prefix of the session, holding every byte that
    // tcpdump saw more than a second before the reader opened the log.
    {
        auto ref = open_log(imported->sessions[0].path);
        uint64_t checked = 0;
        for (const auto& rc : ref->connections()) {
            for (Direction d : {Direction::ClientToServer, Direction::ServerToClient}) {
                uint64_t due = 0;
                auto rr = ref->for_each_chunk(rc.id, d, [&](const log::DataChunk& ch) {
                    if (ch.ts_us <= mid.opened_us - 1'100'000) {
                        due = ch.offset + ch.data.size();
                    }
                    return true;
                });
                REQUIRE(rr.has_value());
                const auto& seen = mid.bytes[{rc.client_port, static_cast<int>(d)}];
                const auto want = stream_bytes(*ref, rc, d);
                INFO("client port " << rc.client_port << " " << wire::direction_name(d));
                CHECK(seen.size() >= due);
                REQUIRE(seen.size() <= want.size());
                CHECK(std::equal(seen.begin(), seen.end(), want.begin()));
                checked += due;
            }
        }
        CHECK(checked > 100000);  // the stream scenario had sent plenty by then
    }

    // sessions lists both, finished, with the channels the reference has.
    auto listed = summary::list_sessions(live);
    REQUIRE(listed.has_value());
    REQUIRE(listed->size() == 2);
    for (size_t i = 0; i < 2; ++i) {
        const auto& ls = (*listed)[i];
        auto ref = open_log(imported->sessions[i].path);
        std::vector<std::string> want;
        for (const auto& c : ref->connections()) {
            std::string name(wire::channel_type_name(static_cast<uint8_t>(c.channel_type)));
            want.push_back(c.channel_id ? fmt::format("{}#{}", name, c.channel_id) : name);
        }
        std::vector<std::string> have = ls.channels;
        std::sort(want.begin(), want.end());
        std::sort(have.begin(), have.end());
        CHECK(have == want);
        CHECK(std::find(have.begin(), have.end(), "main") != have.end());
        CHECK(std::find(have.begin(), have.end(), "display") != have.end());
        CHECK(ls.state == summary::RecordingState::Finished);
        CHECK(ls.session.source_kind == "live");
    }
    auto json = test::run_command(cli("sessions --json " + shell_quote(live.string())));
    INFO(json.out);
    CHECK(json.exit_code == 0);
    CHECK(json.out.find("\"state\":\"finished\"") != std::string::npos);
    CHECK(json.out.find("\"recorded_by\":\"capture\"") != std::string::npos);
    CHECK(json.out.find("\"state\":\"recording\"") == std::string::npos);
    // capture --json: the logs and libpcap's counters.
    const std::string cap_json = cap.out();
    CHECK(cap_json.find("\"logs\":[") != std::string::npos);
    CHECK(cap_json.find("\"stop_signal\":15") != std::string::npos);
}

TEST_CASE(
    "capture --rotate-after --user: linked parts as nobody hold every byte, each message "
    "whole in one part",
    "[cli][capture][live]") {
    if (!can_run_live_tests()) {
        SUCCEED();
        return;
    }
    const passwd* nobody = ::getpwnam("nobody");
    REQUIRE(nobody != nullptr);
    test::TempDir dir;
    ::chmod(dir.path().c_str(), 0755);  // nobody must reach the output directory
    const uint16_t port = free_port();
    const std::string filter = fmt::format("tcp port {}", port);
    const fs::path live = dir / "live";

    Background tcpdump(fmt::format("tcpdump -i lo -n -U --immediate-mode -B 16384 -s 0 -w {} {}",
                                   shell_quote((dir / "ref.pcap").string()), shell_quote(filter)),
                       dir / "tcpdump.out", dir / "tcpdump.err");
    REQUIRE(tcpdump.wait_for("listening on", 10));
    Background cap(cli(fmt::format("capture -i lo -f {} -o {} --rotate-after 2s --user nobody",
                                   shell_quote(filter), shell_quote(live.string()))),
                   dir / "capture.out", dir / "capture.err");
    INFO(cap.err());
    REQUIRE(cap.wait_for("capture: listening on lo", 10));
    // Root was given up before any packet was parsed.
    {
        const std::string status = read_text(fmt::format("/proc/{}/status", cap.pid()));
        CHECK(status.find(fmt::format("Uid:\t{}\t{}\t{}", nobody->pw_uid, nobody->pw_uid,
                                      nobody->pw_uid)) != std::string::npos);
    }
    Background server(server_command(port, dir / "server"), dir / "server.out", dir / "server.err");
    REQUIRE(server.wait_for("READY", 10));
    Background client(client_command(port, dir / "client", 5.5), dir / "client.out",
                      dir / "client.err");
    REQUIRE(client.wait(30) == 0);
    server.wait(10);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    cap.signal(SIGINT);
    CHECK(cap.wait(15) == 0);
    tcpdump.signal(SIGINT);
    REQUIRE(tcpdump.wait(10) == 0);

    capture::ImportOptions import_options;
    import_options.output = dir / "ref.spicelog";
    auto imported = capture::import_capture(dir / "ref.pcap", import_options);
    REQUIRE(imported.has_value());
    auto ref = open_log(dir / "ref.spicelog");

    // Follow the chain from part 1.
    std::vector<std::unique_ptr<log::SessionLogReader>> parts;
    auto listed = summary::list_sessions(live);
    REQUIRE(listed.has_value());
    REQUIRE(listed->size() >= 3);  // a 5.5 s session cut every 2 s
    fs::path next;
    for (const auto& ls : *listed) {
        CHECK(ls.state == summary::RecordingState::Finished);
        if (ls.session.part == 1) {
            CHECK(next.empty());
            next = ls.file;
        }
    }
    REQUIRE_FALSE(next.empty());
    std::string previous;
    while (!next.empty()) {
        parts.push_back(open_log(next));
        const auto& si = parts.back()->session();
        INFO(next.string());
        CHECK(si.complete);
        CHECK(si.part == static_cast<int>(parts.size()));
        CHECK(si.previous_part == previous);

        struct stat st {};

        REQUIRE(::stat(next.c_str(), &st) == 0);
        CHECK(st.st_uid == nobody->pw_uid);
        previous = next.filename().string();
        next = si.next_part.empty() ? fs::path() : live / si.next_part;
        REQUIRE(parts.size() <= listed->size());
    }
    CHECK(parts.size() == listed->size());

    // Every message indexed in a part has all its bytes in that part.
    uint64_t messages = 0;
    for (const auto& p : parts) {
        std::map<int64_t, const log::ConnectionInfo*> conns;
        for (const auto& c : p->connections()) {
            conns[c.id] = &c;
        }
        auto r = p->for_each_message({}, [&](const log::MessageRecord& m) {
            auto bytes = p->read_stream(m.connection, m.dir, m.offset, m.header_size + m.size);
            INFO("message at " << m.offset << " of connection " << m.connection);
            CHECK(bytes.has_value());
            ++messages;
            return true;
        });
        REQUIRE(r.has_value());
    }
    CHECK(messages == message_count(*ref));

    // Together the parts hold every byte of each connection and direction (overlaps agree).
    for (const auto& rc : ref->connections()) {
        for (Direction d : {Direction::ClientToServer, Direction::ServerToClient}) {
            const auto want = stream_bytes(*ref, rc, d);
            std::vector<uint8_t> have;
            for (const auto& p : parts) {
                const log::ConnectionInfo* pc = by_client_port(*p, rc.client_port);
                if (!pc) {
                    continue;
                }
                auto rr = p->for_each_chunk(pc->id, d, [&](const log::DataChunk& ch) {
                    REQUIRE(ch.offset <= have.size());
                    const size_t overlap = have.size() - ch.offset;
                    REQUIRE(overlap <= ch.data.size());
                    CHECK(std::equal(ch.data.begin(),
                                     ch.data.begin() + static_cast<ptrdiff_t>(overlap),
                                     have.begin() + static_cast<ptrdiff_t>(ch.offset)));
                    have.insert(have.end(), ch.data.begin() + static_cast<ptrdiff_t>(overlap),
                                ch.data.end());
                    return true;
                });
                REQUIRE(rr.has_value());
            }
            INFO("client port " << rc.client_port << " " << wire::direction_name(d));
            CHECK(have == want);
        }
    }
}

TEST_CASE("capture: usage and environment errors", "[cli][capture]") {
    auto bad_rotate = test::run_command(cli("capture -i lo -o /tmp/x --rotate-after 5m"), true);
    CHECK(bad_rotate.exit_code == 2);
    CHECK(bad_rotate.out.find("'m' is ambiguous") != std::string::npos);
    test::TempDir dir;
    auto no_if = test::run_command(
        cli("capture -i spicetap-nonexistent0 -o " + shell_quote((dir / "o").string())), true);
    CHECK(no_if.exit_code == 3);
    CHECK(no_if.out.find("cannot open interface spicetap-nonexistent0") != std::string::npos);
    if (::geteuid() == 0) {
        auto bad_filter = test::run_command(
            cli("capture -i lo -f 'tcp port banana' -o " + shell_quote((dir / "o").string())),
            true);
        CHECK(bad_filter.exit_code == 2);
        CHECK(bad_filter.out.find("bad capture filter") != std::string::npos);
        auto bad_user = test::run_command(cli("capture -i lo --user spicetap-no-such-user -o " +
                                              shell_quote((dir / "o").string())),
                                          true);
        CHECK(bad_user.exit_code == 2);
        CHECK(bad_user.out.find("no such user 'spicetap-no-such-user'") != std::string::npos);
    }
    auto not_dir = test::run_command(cli("sessions " + shell_quote((dir / "none").string())), true);
    CHECK(not_dir.exit_code == 3);
    CHECK(not_dir.out.find("not a directory") != std::string::npos);
}
