// End-to-end runs of `spicetap import | info | dump` on real captures, including the bad-input
// cases a user will meet: truncated and non-capture files, captures without SPICE, captures with
// several sessions, captures with lost segments, damaged session logs.
#include <catch2/catch.hpp>
#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/captures.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using test::run_command;
using test::shell_quote;
namespace fs = std::filesystem;

namespace {

std::string cli(const std::string& args) {
    return shell_quote(test::spicetap_bin().string()) + " " + args;
}

fs::path glz_capture() { return test::source_dir() / "tests" / "data" / "qemu-bios-glz.pcap"; }

void truncate_copy(const fs::path& from, const fs::path& to, uintmax_t size) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    fs::resize_file(to, size);
}

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string line;
    while (std::getline(in, line)) {
        out.push_back(line);
    }
    return out;
}

}  // namespace

TEST_CASE("import writes one log, and info/dump read it or the capture directly", "[cli]") {
    test::TempDir dir;
    const fs::path log = dir / "s.spicelog";
    auto r = run_command(cli("import " + shell_quote(glz_capture().string()) + " -o " +
                                  shell_quote(log.string())),
                         true);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    REQUIRE(fs::exists(log));

    auto info = run_command(cli("info " + shell_quote(log.string())), true);
    INFO(info.out);
    REQUIRE(info.exit_code == 0);
    CHECK(info.out.find("main#0") != std::string::npos);
    CHECK(info.out.find("display#0") != std::string::npos);
    CHECK(info.out.find("draw_copy=") != std::string::npos);

    // The same summary straight from the capture, like `tshark -r`.
    auto info_pcap = run_command(cli("info --json " + shell_quote(glz_capture().string())));
    REQUIRE(info_pcap.exit_code == 0);
    auto info_json = run_command(cli("info --json " + shell_quote(log.string())));
    CHECK(info_pcap.out.find("\"messages\":") != std::string::npos);
    // Same message total either way.
    auto total = [](const std::string& s) {
        const size_t p = s.find("\"messages\":");
        return s.substr(p, s.find(',', p) - p);
    };
    CHECK(total(info_pcap.out) == total(info_json.out));

    auto dump = run_command(cli("dump --json " + shell_quote(log.string())));
    REQUIRE(dump.exit_code == 0);
    const auto lines = lines_of(dump.out);
    REQUIRE(lines.size() > 20);
    for (const char* key : {"\"t\":", "\"channel\":", "\"channel_id\":", "\"dir\":", "\"serial\":",
                            "\"type\":", "\"name\":", "\"size\":"}) {
        CHECK(lines[0].find(key) != std::string::npos);
    }
    auto display = run_command(cli("dump --channel display " + shell_quote(log.string())));
    REQUIRE(display.exit_code == 0);
    for (const auto& l : lines_of(display.out)) {
        CHECK(l.find("display#0") != std::string::npos);
    }
    auto window = run_command(cli("dump --json --from 1 --to 2 " + shell_quote(log.string())));
    REQUIRE(window.exit_code == 0);
    CHECK(lines_of(window.out).size() < lines.size());

    // Refuses to overwrite.
    auto again = run_command(cli("import " + shell_quote(glz_capture().string()) + " -o " +
                                      shell_quote(log.string())),
                             true);
    CHECK(again.exit_code == 3);
    CHECK(again.out.find("already exists") != std::string::npos);
}

TEST_CASE("a capture holding two sessions gives two logs", "[cli]") {
    REQUIRE(test::have_program("mergecap"));
    test::TempDir dir;
    const fs::path both = dir / "both.pcap";
    const fs::path quic = test::source_dir() / "tests" / "data" / "qemu-bios-quic.pcap";
    REQUIRE(run_command("mergecap -w " + shell_quote(both.string()) + " " +
                        shell_quote(glz_capture().string()) + " " + shell_quote(quic.string()))
                .exit_code == 0);
    auto r = run_command(cli("import " + shell_quote(both.string()) + " -o " +
                                  shell_quote((dir / "out").string())));
    REQUIRE(r.exit_code == 0);
    const auto paths = lines_of(r.out);
    REQUIRE(paths.size() == 2);
    for (const auto& p : paths) {
        CHECK(fs::exists(p));
        CHECK(fs::path(p).extension() == ".spicelog");
    }
    // A single-file output is refused with the count.
    auto one = run_command(cli("import " + shell_quote(both.string()) + " -o " +
                                    shell_quote((dir / "one.spicelog").string())),
                           true);
    CHECK(one.exit_code == 1);
    CHECK(one.out.find("holds 2 SPICE sessions") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "one.spicelog"));
    // dump on the capture asks which session.
    auto dump = run_command(cli("dump " + shell_quote(both.string())), true);
    CHECK(dump.exit_code == 2);
    CHECK(dump.out.find("--session") != std::string::npos);
    auto dump2 = run_command(cli("dump --session 2 " + shell_quote(both.string())));
    CHECK(dump2.exit_code == 0);
    CHECK_FALSE(dump2.out.empty());
}

TEST_CASE("lost segments become gap records and framing resumes after them", "[cli]") {
    REQUIRE(test::have_program("editcap"));
    test::TempDir dir;
    // Find big server->client data frames of the display connection and drop two of them.
    auto frames = run_command(
        "tshark -r " + shell_quote(glz_capture().string()) +
        " -Y 'tcp.srcport==5942 && tcp.len>1000' -T fields -e frame.number 2>/dev/null");
    auto numbers = lines_of(frames.out);
    REQUIRE(numbers.size() >= 6);
    const fs::path lossy = dir / "lossy.pcap";
    REQUIRE(run_command("editcap " + shell_quote(glz_capture().string()) + " " +
                        shell_quote(lossy.string()) + " " + numbers[2] + " " + numbers[4])
                .exit_code == 0);
    const fs::path log = dir / "lossy.spicelog";
    auto r = run_command(
        cli("import " + shell_quote(lossy.string()) + " -o " + shell_quote(log.string())),
        true);
    INFO(r.out);
    // The log is written; the exit code says part of the session could not be decoded.
    REQUIRE(r.exit_code == 1);
    REQUIRE(fs::exists(log));
    CHECK(r.out.find("lost in capture gaps") != std::string::npos);
    auto info = run_command(cli("info --json " + shell_quote(log.string())));
    REQUIRE(info.exit_code == 0);
    INFO(info.out);
    CHECK(info.out.find("\"gaps\":[{") != std::string::npos);
    // Messages are still found after the last gap.
    auto full = run_command(cli("info --json " + shell_quote(glz_capture().string())));
    auto count = [](const std::string& s) {
        const size_t p = s.find("\"messages\":") + 11;
        return std::stoul(s.substr(p, s.find(',', p) - p));
    };
    const auto lossy_count = count(info.out);
    const auto full_count = count(full.out);
    CHECK(lossy_count < full_count);
    CHECK(lossy_count + 20 > full_count);  // only the messages the gaps cut are missing
}

TEST_CASE("bad input gives a clear message and a non-zero exit", "[cli][bad-input]") {
    test::TempDir dir;
    SECTION("not a capture") {
        const fs::path junk = dir / "junk.pcap";
        std::ofstream(junk) << "this is not a capture file at all, just some text\n";
        auto r = run_command(cli("info " + shell_quote(junk.string())), true);
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("not a pcap") != std::string::npos);
    }
    SECTION("missing file") {
        auto r = run_command(cli("info " + shell_quote((dir / "nope.pcap").string())), true);
        CHECK(r.exit_code == 3);
        CHECK(r.out.find("no such file") != std::string::npos);
    }
    SECTION("truncated capture: the packets before the cut are still imported") {
        const fs::path cut = dir / "cut.pcap";
        truncate_copy(glz_capture(), cut, fs::file_size(glz_capture()) * 2 / 3 + 7);
        auto r = run_command(cli("import " + shell_quote(cut.string()) + " -o " +
                                      shell_quote((dir / "cut.spicelog").string())),
                             true);
        INFO(r.out);
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("frame") != std::string::npos);
        CHECK(fs::exists(dir / "cut.spicelog"));
        auto info = run_command(cli("info " + shell_quote((dir / "cut.spicelog").string())));
        CHECK(info.exit_code == 0);
    }
    SECTION("capture without SPICE") {
        REQUIRE(test::have_program("editcap"));
        // Only the first two packets (the TCP handshake) of a real capture.
        const fs::path hs = dir / "handshake.pcap";
        REQUIRE(run_command("editcap -r " + shell_quote(glz_capture().string()) + " " +
                            shell_quote(hs.string()) + " 1-2")
                    .exit_code == 0);
        auto r = run_command(cli("info " + shell_quote(hs.string())), true);
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("no SPICE session") != std::string::npos);
    }
    SECTION("truncated and corrupt session logs") {
        const fs::path log = dir / "good.spicelog";
        REQUIRE(run_command(cli("import " + shell_quote(glz_capture().string()) + " -o " +
                                     shell_quote(log.string())))
                    .exit_code == 0);
        const auto size = fs::file_size(log);
        for (uintmax_t cut : {uintmax_t{100}, uintmax_t{5000}, size / 2}) {
            const fs::path bad = dir / fmt::format("cut-{}.spicelog", cut);
            truncate_copy(log, bad, cut);
            auto r = run_command(cli("info " + shell_quote(bad.string())), true);
            INFO(cut << ": " << r.out);
            CHECK(r.exit_code != 0);
            CHECK(r.exit_code < 128);  // no crash
            CHECK(r.out.find("spicetap:") != std::string::npos);
        }
    }
    SECTION("a link stage with a bad magic") {
        // Rewrite the client's "REDQ" in the first data packet of the capture.
        const fs::path bad = dir / "badmagic.pcap";
        fs::copy_file(glz_capture(), bad);
        std::fstream f(bad, std::ios::in | std::ios::out | std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(f)), {});
        const size_t p = bytes.find("REDQ");
        REQUIRE(p != std::string::npos);
        f.seekp(static_cast<std::streamoff>(p));
        f.write("XEDQ", 4);
        f.close();
        const fs::path log = dir / "badmagic.spicelog";
        auto r = run_command(cli("import " + shell_quote(bad.string()) + " -o " +
                                      shell_quote(log.string())),
                             true);
        INFO(r.out);
        // The server still answered with the magic, so the connection is SPICE with a broken
        // link stage: reported, and the exit code says part of the session was undecodable.
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("framing error") != std::string::npos);
        auto info = run_command(cli("info " + shell_quote(log.string())));
        INFO(info.out);
        CHECK(info.out.find("bad magic at byte 0") != std::string::npos);
    }
}
