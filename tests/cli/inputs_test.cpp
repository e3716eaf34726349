// `spicetap inputs` on real sessions in which text was typed through the real client
// (tests/qemu/record with SPICETAP_TYPE_TEXT: xdotool types into spicy).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "tests/support/captures.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"

using namespace spicetap;
using test::shell_quote;

namespace {

std::string manifest_typed_text(const std::filesystem::path& dir) {
    std::ifstream in(dir / "manifest.json");
    std::string s((std::istreambuf_iterator<char>(in)), {});
    const auto p = s.find("\"typed_text\":\"");
    if (p == std::string::npos) {
        return {};
    }
    const auto start = p + 14;
    return s.substr(start, s.find('"', start) - start);
}

}  // namespace

TEST_CASE("inputs recovers exactly the text typed through the real client", "[cli][inputs][real]") {
    int sessions = 0;
    for (const auto& pcap : test::recorded_captures()) {
        const std::string typed = manifest_typed_text(pcap.parent_path());
        if (typed.empty()) {
            continue;
        }
        ++sessions;
        INFO("capture " << pcap);
        const auto r = test::run_command(shell_quote(test::spicetap_bin().string()) +
                                         " inputs --json " + shell_quote(pcap.string()));
        REQUIRE(r.exit_code == 0);
        std::istringstream in(r.out);
        std::string line, last;
        double prev_t = -1;
        int presses = 0;
        while (std::getline(in, line)) {
            if (line.find("\"kind\":\"key\"") != std::string::npos) {
                const auto p = line.find("\"t\":") + 4;
                const double t = std::stod(line.substr(p));
                CHECK(t >= prev_t);
                prev_t = t;
                ++presses;
            }
            last = line;
        }
        CHECK(last.find("\"typed_text\":\"" + typed + "<Enter>\"") != std::string::npos);
        CHECK(presses >= static_cast<int>(typed.size()) + 1);

        const auto red = test::run_command(shell_quote(test::spicetap_bin().string()) +
                                           " inputs --json --redact " + shell_quote(pcap.string()));
        REQUIRE(red.exit_code == 0);
        CHECK(red.out.find("Hello") == std::string::npos);
        CHECK(red.out.find("\"typed_text\":\"" + std::string(typed.size(), '*') +
                           "<Enter>\"") != std::string::npos);
    }
    CHECK(sessions >= 1);
}

TEST_CASE("inputs refuses an unknown layout", "[cli][inputs]") {
    const auto r = test::run_command(
        shell_quote(test::spicetap_bin().string()) + " inputs --layout xx " +
            shell_quote((test::source_dir() / "tests/data/qemu-bios-glz.pcap").string()),
        true);
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("unknown keyboard layout") != std::string::npos);
}
