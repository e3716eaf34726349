// `dump --decode` on real sessions: every message of a channel with a demarshaller is decoded,
// none carries an `error`, and key fields agree with tshark's dissector.
#include <catch2/catch.hpp>
#include <fmt/core.h>

#include <map>
#include <sstream>

#include "tests/support/captures.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"

using namespace spicetap;
using test::shell_quote;

TEST_CASE("dump --decode decodes every display message of real sessions", "[cli][decode][real]") {
    const auto captures = test::all_real_captures();
    REQUIRE_FALSE(captures.empty());
    for (const auto& pcap : captures) {
        INFO("capture " << pcap);
        const auto r = test::run_command(shell_quote(test::spicetap_bin().string()) +
                                         " dump --decode --json --channel display " +
                                         shell_quote(pcap.string()));
        REQUIRE((r.exit_code == 0 || r.exit_code == 1));
        std::istringstream in(r.out);
        std::string line;
        int display = 0, surfaces = 0, draws = 0;
        while (std::getline(in, line)) {
            INFO(line.substr(0, 300));
            CHECK(line.find("\"error\"") == std::string::npos);
            ++display;
            if (line.find("\"name\":\"surface_create\"") != std::string::npos) {
                ++surfaces;
                CHECK(line.find("\"width\":") != std::string::npos);
                CHECK(line.find("\"format\":") != std::string::npos);
            }
            if (line.find("\"name\":\"draw_copy\"") != std::string::npos) {
                ++draws;
                CHECK(line.find("\"src_bitmap\":{") != std::string::npos);
                CHECK(line.find("\"box\":{") != std::string::npos);
            }
        }
        CHECK(display > 5);
        CHECK(surfaces >= 1);
        CHECK(draws >= 1);
    }
}

TEST_CASE("dump --decode decodes every message of every channel of real sessions",
          "[cli][decode][real]") {
    for (const auto& pcap : test::all_real_captures()) {
        INFO("capture " << pcap);
        const auto r = test::run_command(shell_quote(test::spicetap_bin().string()) +
                                         " dump --decode --json " + shell_quote(pcap.string()));
        REQUIRE((r.exit_code == 0 || r.exit_code == 1));
        std::istringstream in(r.out);
        std::string line;
        int n = 0;
        while (std::getline(in, line)) {
            INFO(line.substr(0, 300));
            CHECK(line.find("\"error\"") == std::string::npos);
            // Something beyond the common keys, for messages with a body.
            if (line.find("\"size\":0,") == std::string::npos) {
                CHECK(line.find(",\"offset\":") != std::string::npos);
                CHECK(line.rfind('}') > line.find(",\"offset\":") + 12);
            }
            ++n;
        }
        CHECK(n > 50);
    }
}

TEST_CASE("decoded image types and surface sizes agree with tshark", "[cli][decode][real]") {
    // tshark's spice.image_type for every draw_copy image, in order, vs ours.
    for (const auto& pcap : test::all_real_captures()) {
        INFO("capture " << pcap);
        const auto ours = test::run_command(shell_quote(test::spicetap_bin().string()) +
                                            " dump --decode --json --channel display " +
                                            shell_quote(pcap.string()));
        std::vector<std::string> our_types;
        std::istringstream in(ours.out);
        std::string line;
        int port = 0;
        while (std::getline(in, line)) {
            const auto p = line.find("\"src_bitmap\":{");
            if (p == std::string::npos) {
                continue;
            }
            const auto t = line.find("\"type\":\"", p) + 8;
            our_types.push_back(line.substr(t, line.find('"', t) - t));
        }
        const auto info = test::run_command(shell_quote(test::spicetap_bin().string()) +
                                            " info --json " + shell_quote(pcap.string()));
        const auto sp = info.out.find("\"server\":\"");
        REQUIRE(sp != std::string::npos);
        const auto colon = info.out.find(':', sp + 10);
        port = std::stoi(info.out.substr(colon + 1));
        const auto theirs = test::run_command(
            fmt::format("{} -d tcp.port=={},spice -Y 'spice.message_type==304' -T fields "
                        "-e spice.image_type 2>/dev/null",
                        test::tshark_reading(pcap.string()), port));
        std::vector<int> their_types;
        std::istringstream tin(theirs.out);
        while (std::getline(tin, line)) {
            std::istringstream list(line);
            std::string v;
            while (std::getline(list, v, ',')) {
                if (!v.empty()) {
                    their_types.push_back(std::stoi(v));
                }
            }
        }
        // spice-protocol's SpiceImageType numbers, by our names.
        const std::map<std::string, int> ids = {
            {"bitmap", 0},   {"quic", 1},     {"lz_plt", 100},        {"lz_rgb", 101},
            {"glz_rgb", 102}, {"from_cache", 103}, {"surface", 104}, {"jpeg", 105},
            {"from_cache_lossless", 106}, {"zlib_glz_rgb", 107}, {"jpeg_alpha", 108},
            {"lz4", 109}};
        // tshark misses draw_copy messages where it loses step (see import_real_test.cpp), so
        // its list must be a subsequence of ours.
        size_t j = 0;
        for (size_t i = 0; i < our_types.size() && j < their_types.size(); ++i) {
            REQUIRE(ids.count(our_types[i]) == 1);
            if (ids.at(our_types[i]) == their_types[j]) {
                ++j;
            }
        }
        CHECK(j == their_types.size());
        CHECK(their_types.empty() == our_types.empty());
    }
}
