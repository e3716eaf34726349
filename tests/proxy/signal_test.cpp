// SIGINT and SIGTERM of `spicetap proxy` in the middle of a real session (the test peers, a
// steady MJPEG stream): the proxy exits 0 and says which signal stopped it, and the session's
// log is closed cleanly (complete, `info` does not call it cut short), holding every byte the
// proxy read up to the signal.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "tests/proxy/proxy_support.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using namespace spicetap::proxy_test;

namespace {

void stop_mid_session(int sig, const char* sig_name) {
    REQUIRE(have_peers());
    test::TempDir tmp;
    const uint16_t sp = free_port(), pp = free_port();
    auto server = start_server(
        tmp / "server", sp, 40,
        {"--scenario", "stream", "--streaming-video", "all", "--video-codecs", "spice:mjpeg"});
    auto proxy = start_proxy(tmp / "proxy", pp, sp, tmp / "logs");
    auto client = start_client(tmp / "client", pp, 10);
    std::this_thread::sleep_for(std::chrono::milliseconds(3500));
    REQUIRE(client->running());
    const int64_t signalled_us = wall_us();
    proxy->signal(sig);
    INFO(proxy->err());
    CHECK(proxy->wait(15) == 0);
    client->wait(30);
    server->signal(SIGTERM);
    server->wait(10);

    // The summary names the signal.
    const std::string out = proxy->out();
    CHECK(out.find(std::string("\"event\":\"stopped\",\"stopped_by\":\"") + sig_name + "\"") !=
          std::string::npos);
    CHECK(proxy->err().find(std::string("stopping (") + sig_name + ")") != std::string::npos);

    const auto logs = logs_in(tmp / "logs");
    REQUIRE(logs.size() == 1);
    auto reader = log::SessionLogReader::open(logs[0]);
    REQUIRE(reader);
    CHECK((*reader)->session().complete);
    CHECK((*reader)->session().session_id != 0);
    std::set<int> channels;
    for (const auto& c : (*reader)->connections()) {
        INFO("channel " << c.channel_type << ":" << c.channel_id);
        channels.insert(c.channel_type);
        CHECK(c.end_reason == "end_of_capture");
        CHECK(c.bytes_s2c > 0);
    }
    CHECK(channels.count(1) == 1);
    CHECK(channels.count(2) == 1);
    // The stream never pauses for a second: the log runs up to the signal.
    int64_t last_chunk = 0;
    REQUIRE((*reader)->for_each_chunk([&](const log::DataChunk& c) {
        last_chunk = std::max(last_chunk, c.ts_us);
        return true;
    }));
    CHECK(last_chunk >= signalled_us - 1'000'000);
    // Every byte read from either side before the proxy closed is in the log.
    CHECK(require_recorded_equals_relayed(out, logs) == static_cast<int>(channels.size()));

    const std::string bin = shell_quote(test::spicetap_bin().string());
    auto info = run_command(bin + " info " + shell_quote(logs[0].string()), true);
    INFO(info.out);
    CHECK(info.exit_code == 0);
    CHECK(info.out.find("NOT closed cleanly") == std::string::npos);
    CHECK(info.out.find("still being recorded") == std::string::npos);
    auto listed = run_command(bin + " sessions --json " + shell_quote((tmp / "logs").string()));
    CHECK(listed.out.find("\"state\":\"finished\"") != std::string::npos);
    auto shot = run_command(bin + " screenshot " + shell_quote(logs[0].string()) + " --at end -o " +
                                shell_quote((tmp / "end.png").string()),
                            true);
    INFO(shot.out);
    CHECK(shot.exit_code == 0);
}

}  // namespace

TEST_CASE("proxy: SIGTERM mid-session closes the log cleanly and exits 0",
          "[proxy][peers][signals]") {
    stop_mid_session(SIGTERM, "SIGTERM");
}

TEST_CASE("proxy: SIGINT mid-session closes the log cleanly and exits 0",
          "[proxy][peers][signals]") {
    stop_mid_session(SIGINT, "SIGINT");
}
