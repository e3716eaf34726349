// `spicetap proxy` in front of QEMU (the tiny qxl test guest of tests/qemu) with the
// spice-client-glib test client: one guest boot, two sessions through one proxy. The first is
// plain on both legs and watches the guest draw its scenes; the second is TLS on both legs
// (test certificates made the way the peers' recorder makes them, QEMU's x509-dir) and sees the
// finished screen. For each: every channel QEMU offers (its CHANNELS_LIST) is linked and
// recorded, the client's keys are in the log, the log replays to the client's final picture
// pixel for pixel (LZ, lossless), and the proxy recorded every byte it relayed.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>

#include "decode/channels/main_channel.h"
#include "tests/proxy/proxy_support.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using namespace spicetap::proxy_test;

namespace {

constexpr uint16_t kMainChannelsList = 104;  // SPICE_MSG_MAIN_CHANNELS_LIST

// Waits until `file` holds `needle`; false after `seconds`.
bool wait_for_file_text(const fs::path& file, const std::string& needle, double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        if (read_text(file).find(needle) != std::string::npos) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

// The guest kernel and initramfs the QEMU fixtures use (built once; build-guest is idempotent).
fs::path guest_dir() {
    const fs::path dir = test::fixture_dir() / "qemu-guest";
    const fs::path build = test::source_dir() / "tests" / "qemu" / "build-guest";
    auto r = run_command(shell_quote(build.string()) + " " + shell_quote(dir.string()), true);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    return dir;
}

// A throw-away CA and a server certificate for 127.0.0.1: the peers' recorder makes them
// (tests/peers/record make_certs), named as QEMU's x509-dir wants them.
void make_certs(const fs::path& dir) {
    const fs::path record = test::source_dir() / "tests" / "peers" / "record";
    const std::string py =
        "import importlib.machinery,sys;"
        "importlib.machinery.SourceFileLoader('peers_record',sys.argv[1]).load_module()"
        ".make_certs(sys.argv[2])";
    auto r = run_command("python3 -c " + shell_quote(py) + " " + shell_quote(record.string()) +
                             " " + shell_quote(dir.string()),
                         true);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    REQUIRE(fs::exists(dir / "server-cert.pem"));
}

// The channels QEMU offered in its main channel's CHANNELS_LIST, plus main itself.
std::set<std::string> offered_channels(const fs::path& log_path) {
    auto reader = log::SessionLogReader::open(log_path);
    REQUIRE(reader);
    std::set<std::string> out;
    for (const auto& c : (*reader)->connections()) {
        if (c.channel_type != 1) {
            continue;
        }
        out.insert("main#" + std::to_string(c.channel_id));
        const wire::ChannelCaps caps{c.client_common_caps, c.client_channel_caps,
                                     c.server_common_caps, c.server_channel_caps};
        log::SessionLogReader::MessageFilter f;
        f.connection = c.id;
        REQUIRE((*reader)->for_each_message(f, [&](const log::MessageRecord& m) {
            if (m.dir != wire::Direction::ServerToClient || m.type != kMainChannelsList) {
                return true;
            }
            auto bytes = (*reader)->read_stream(c.id, m.dir, m.offset + m.header_size, m.size);
            REQUIRE(bytes);
            auto msg = channels::main::parse_server(m.type, ByteView(*bytes), caps);
            REQUIRE(msg);
            const auto& list = std::get<channels::main::ChannelsList>(*msg);
            for (const auto& ch : list.channels) {
                out.insert(std::string(wire::channel_type_name(ch.type)) + "#" +
                           std::to_string(ch.id));
            }
            return true;
        }));
    }
    return out;
}

// One client session through the proxy, checked end to end.
void check_session(const fs::path& log_path, const fs::path& client_dir, bool tls,
                   const std::string& typed, const fs::path& work) {
    INFO("session log " << log_path << (tls ? " (TLS)" : " (plain)"));
    const Json client = Json::parse(read_text(client_dir / "client-manifest.json"));
    CHECK(client["errors"].arr().empty());
    std::set<std::string> opened;
    for (const Json& ch : client["channels"].arr()) {
        opened.insert(ch["name"].str() + "#" + std::to_string(ch["id"].integer()));
    }
    const auto recorded = read_log(log_path);
    const auto offered = offered_channels(log_path);
    CHECK(offered.size() >= 4);  // main, display, inputs, cursor at least
    CHECK(opened == offered);
    CHECK(channel_names(recorded) == offered);
    for (const auto& c : recorded) {
        INFO("channel " << c.channel_type << ":" << c.channel_id);
        CHECK(c.tls == tls);
        CHECK(c.end_reason == "fin");
        CHECK_FALSE(c.bytes[1].empty());
    }

    const std::string bin = shell_quote(test::spicetap_bin().string());
    auto info = run_command(bin + " info " + shell_quote(log_path.string()), true);
    INFO(info.out);
    CHECK(info.exit_code == 0);
    CHECK(info.out.find("source    proxy") != std::string::npos);
    CHECK(info.out.find("NOT closed cleanly") == std::string::npos);

    // The keys the client sent reached the log whole.
    if (!typed.empty()) {
        CHECK(client["keys"]["text"].str() == typed);
        auto inputs = run_command(bin + " inputs --json " + shell_quote(log_path.string()));
        REQUIRE(inputs.exit_code == 0);
        CHECK(inputs.out.find("\"typed_text\":\"" + typed + "\"") != std::string::npos);
    }

    // The log replays to the very picture the client showed at the end (LZ is lossless).
    const fs::path shot = work / (tls ? "tls-end.png" : "plain-end.png");
    auto r = run_command(bin + " screenshot " + shell_quote(log_path.string()) + " --at end -o " +
                             shell_quote(shot.string()),
                         true);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(pixels_md5(shot) == pixels_md5(client_dir / "display-0.png"));
}

}  // namespace

TEST_CASE(
    "proxy: QEMU through the proxy, plain then TLS on both legs, logs replay to the "
    "client's picture",
    "[proxy][qemu]") {
    REQUIRE(have_peers());
    const std::string qemu = program_path("qemu-system-x86_64");
    REQUIRE_FALSE(qemu.empty());
    const fs::path guest = guest_dir();
    test::TempDir tmp;
    const fs::path x509 = tmp / "x509";
    make_certs(x509);

    const uint16_t sp = free_port(), st = free_port(), pp = free_port(), pt = free_port();
    const fs::path serial = tmp / "serial.log";
    // As tests/qemu/record starts it; lossless LZ images, no video streams and no JPEG
    // whatever the server thinks of the link, so the final pictures compare exactly.
    Child vm({qemu,
              "-display",
              "none",
              "-vga",
              "qxl",
              "-m",
              "256",
              "-net",
              "none",
              "-no-reboot",
              "-kernel",
              (guest / "vmlinuz").string(),
              "-initrd",
              (guest / "initrd.img").string(),
              "-append",
              "console=ttyS0 quiet no_timer_check vt.global_cursor_default=0 "
              "spicetap.scenes=bars,anim,final",
              "-serial",
              "file:" + serial.string(),
              "-spice",
              "port=" + std::to_string(sp) + ",tls-port=" + std::to_string(st) +
                  ",addr=127.0.0.1,disable-ticketing=on,x509-dir=" + x509.string() +
                  ",image-compression=lz,streaming-video=off,jpeg-wan-compression=never,"
                  "zlib-glz-wan-compression=never"},
             tmp / "qemu.out", tmp / "qemu.log");
    auto proxy =
        start_proxy(tmp / "proxy", pp, sp, tmp / "logs",
                    {"--tls-listen", "127.0.0.1:" + std::to_string(pt), "--tls-cert",
                     (x509 / "server-cert.pem").string(), "--tls-key",
                     (x509 / "server-key.pem").string(), "--upstream-tls-port", std::to_string(st),
                     "--ca", (x509 / "ca-cert.pem").string(), "--max-sessions", "2"});

    // A loaded machine boots the emulated guest slowly.
    const char* timeout_env = std::getenv("SPICETAP_GUEST_TIMEOUT");
    const double boot_s = timeout_env ? std::atof(timeout_env) : 180;
    INFO(read_text(tmp / "qemu.log"));
    REQUIRE(wait_for_file_text(serial, "spicetap-guest: fb0 ready", boot_s));

    // Session 1, plain: the client watches the scenes being drawn and types.
    const std::string typed = "qemu 42";
    Child client1({peer_bin("spicetap-test-client").string(), "--port", std::to_string(pp),
                   "--out-dir", (tmp / "client1").string(), "--duration", "20", "--type", typed},
                  tmp / "client1.out", tmp / "client1.log");
    // The guest must be done before the client dumps its picture, or the two ends of the
    // comparison see different moments.
    bool done_before_dump = false;
    while (client1.wait(0.1) == -1) {
        done_before_dump =
            done_before_dump || read_text(serial).find("spicetap-guest: done") != std::string::npos;
    }
    INFO(client1.err());
    REQUIRE(client1.wait(0) == 0);
    INFO(read_text(serial));
    REQUIRE(done_before_dump);

    // Session 2, TLS on both legs: the finished screen.
    Child client2({peer_bin("spicetap-test-client").string(), "--tls-port", std::to_string(pt),
                   "--ca-file", (x509 / "ca-cert.pem").string(), "--out-dir",
                   (tmp / "client2").string(), "--duration", "4"},
                  tmp / "client2.out", tmp / "client2.log");
    INFO(client2.err());
    REQUIRE(client2.wait(60) == 0);

    INFO(proxy->err());
    CHECK(proxy->wait(30) == 0);
    vm.signal(SIGTERM);
    vm.wait(10);

    std::vector<fs::path> logs;
    for (const auto& p : logs_in(tmp / "logs")) {
        auto reader = log::SessionLogReader::open(p);
        REQUIRE(reader);
        CHECK((*reader)->session().complete);
        logs.push_back(p);
    }
    REQUIRE(logs.size() == 2);
    // Logs are named by start time: the plain session came first.
    auto first_is_tls = [&](const fs::path& p) { return read_log(p).front().tls; };
    if (first_is_tls(logs[0])) {
        std::swap(logs[0], logs[1]);
    }
    check_session(logs[0], tmp / "client1", false, typed, tmp.path());
    check_session(logs[1], tmp / "client2", true, "", tmp.path());
    CHECK(require_recorded_equals_relayed(proxy->out(), logs) ==
          static_cast<int>(read_log(logs[0]).size() + read_log(logs[1]).size()));
}
