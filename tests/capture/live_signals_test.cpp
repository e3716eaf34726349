// SIGINT and SIGTERM of `spicetap capture -i lo` in the middle of a real session (the test
// peers, a steady MJPEG stream), with tcpdump capturing the same traffic: capture exits 0 and
// names the signal, the log is closed cleanly (complete, not "cut short" for `info`), and it
// holds every byte tcpdump saw before the signal was sent, as a prefix of the session. The
// SIGINT run also drops root to nobody once the interface is open.
#include <fmt/core.h>
#include <pwd.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "capture/import/import_capture.h"
#include "tests/proxy/proxy_support.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using namespace spicetap::proxy_test;
using wire::Direction;

namespace {

bool can_capture_live() {
    if (::geteuid() != 0) {
        WARN("not root: live capture on lo is not possible, test skipped");
        return false;
    }
    REQUIRE_FALSE(program_path("tcpdump").empty());
    REQUIRE(have_peers());
    return true;
}

std::vector<uint8_t> stream_bytes(const log::SessionLogReader& r, const log::ConnectionInfo& c,
                                  Direction d) {
    const uint64_t n = d == Direction::ClientToServer ? c.bytes_c2s : c.bytes_s2c;
    auto bytes = r.read_stream(c.id, d, 0, n);
    REQUIRE(bytes);
    return *bytes;
}

void stop_capture_mid_session(int sig, const std::string& user) {
    test::TempDir tmp;
    ::chmod(tmp.path().c_str(), 0755);  // a dropped-to user must reach the output directory
    const uint16_t port = free_port();
    const std::string filter = fmt::format("tcp port {}", port);
    const fs::path live = tmp / "live";

    Child tcpdump({program_path("tcpdump"), "-i", "lo", "-n", "-U", "--immediate-mode", "-B",
                   "16384", "-s", "0", "-w", (tmp / "ref.pcap").string(), filter},
                  tmp / "tcpdump.out", tmp / "tcpdump.err");
    REQUIRE(tcpdump.wait_for_output("listening on", 10, true));
    std::vector<std::string> argv = {test::spicetap_bin().string(),
                                     "capture",
                                     "-i",
                                     "lo",
                                     "-f",
                                     filter,
                                     "-o",
                                     live.string(),
                                     "--json"};
    if (!user.empty()) {
        argv.insert(argv.end(), {"--user", user});
    }
    Child cap(argv, tmp / "capture.json", tmp / "capture.err");
    INFO(cap.err());
    REQUIRE(cap.wait_for_output("capture: listening on lo", 10, true));

    auto server = start_server(
        tmp / "server", port, 40,
        {"--scenario", "stream", "--streaming-video", "all", "--video-codecs", "spice:mjpeg"});
    auto client = start_client(tmp / "client", port, 8);
    REQUIRE(cap.wait_for_output("capture: recording", 10, true));
    std::this_thread::sleep_for(std::chrono::milliseconds(3000));
    REQUIRE(client->running());
    const passwd* pw = user.empty() ? nullptr : ::getpwnam(user.c_str());
    if (!user.empty()) {
        // Root was given up once the interface was open.
        REQUIRE(pw != nullptr);
        const std::string status = read_text(fmt::format("/proc/{}/status", cap.pid()));
        CHECK(status.find(fmt::format("Uid:\t{}\t{}\t{}", pw->pw_uid, pw->pw_uid, pw->pw_uid)) !=
              std::string::npos);
    }
    const int64_t signalled_us = wall_us();
    cap.signal(sig);
    CHECK(cap.wait(15) == 0);
    CHECK(cap.err().find(fmt::format("stopped by signal {}", sig)) != std::string::npos);
    CHECK(cap.out().find(fmt::format("\"stop_signal\":{}", sig)) != std::string::npos);
    client->wait(30);
    server->signal(SIGTERM);
    server->wait(10);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    tcpdump.signal(SIGINT);
    REQUIRE(tcpdump.wait(10) == 0);

    capture::ImportOptions import_options;
    import_options.output = tmp / "ref";
    auto imported = capture::import_capture(tmp / "ref.pcap", import_options);
    REQUIRE(imported);
    REQUIRE(imported->sessions.size() == 1);
    auto ref = log::SessionLogReader::open(imported->sessions[0].path);
    REQUIRE(ref);

    const auto logs = logs_in(live);
    REQUIRE(logs.size() == 1);
    auto got = log::SessionLogReader::open(logs[0]);
    REQUIRE(got);
    CHECK((*got)->session().complete);
    CHECK((*got)->session().session_id == (*ref)->session().session_id);
    if (pw) {
        struct stat st {};

        REQUIRE(::stat(logs[0].c_str(), &st) == 0);
        CHECK(st.st_uid == pw->pw_uid);
    }
    auto info = run_command(
        shell_quote(test::spicetap_bin().string()) + " info " + shell_quote(logs[0].string()),
        true);
    INFO(info.out);
    CHECK(info.exit_code == 0);
    CHECK(info.out.find("source    live") != std::string::npos);
    CHECK(info.out.find("NOT closed cleanly") == std::string::npos);

    // Per connection and direction: a prefix of tcpdump's bytes holding all it saw before the
    // signal went out.
    uint64_t checked = 0;
    for (const auto& rc : (*ref)->connections()) {
        const log::ConnectionInfo* gc = nullptr;
        for (const auto& c : (*got)->connections()) {
            if (c.client_port == rc.client_port) {
                gc = &c;
            }
        }
        INFO("client port " << rc.client_port);
        REQUIRE(gc != nullptr);
        CHECK(gc->channel_type == rc.channel_type);
        CHECK(gc->end_reason == "end_of_capture");
        for (Direction d : {Direction::ClientToServer, Direction::ServerToClient}) {
            uint64_t due = 0;
            REQUIRE((*ref)->for_each_chunk(rc.id, d, [&](const log::DataChunk& ch) {
                if (ch.ts_us < signalled_us) {
                    due = ch.offset + ch.data.size();
                }
                return true;
            }));
            const auto want = stream_bytes(**ref, rc, d);
            const auto have = stream_bytes(**got, *gc, d);
            INFO(wire::direction_name(d) << ": " << have.size() << " bytes of " << want.size()
                                         << ", " << due << " before the signal");
            CHECK(have.size() >= due);
            REQUIRE(have.size() <= want.size());
            CHECK(std::equal(have.begin(), have.end(), want.begin()));
            checked += due;
        }
    }
    CHECK(checked > 100000);
}

}  // namespace

TEST_CASE("capture -i lo: SIGTERM mid-session closes the log cleanly with every byte before it",
          "[capture][live][signals]") {
    if (can_capture_live()) {
        stop_capture_mid_session(SIGTERM, "");
    }
}

TEST_CASE(
    "capture -i lo --user nobody: SIGINT mid-session closes the log cleanly with every "
    "byte before it",
    "[capture][live][signals]") {
    if (can_capture_live()) {
        stop_capture_mid_session(SIGINT, "nobody");
    }
}
