// `spicetap timeline` and `spicetap report` end to end through the CLI on real captures.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/captures.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using test::shell_quote;

namespace {

size_t count_lines(const std::string& text, const std::string& prefix = "") {
    std::istringstream in(text);
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) {
        n += line.rfind(prefix, 0) == 0;
    }
    return n;
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

}  // namespace

TEST_CASE("timeline writes one line per message that dump lists, in every format",
          "[cli][timeline][real]") {
    const std::string bin = shell_quote(test::spicetap_bin().string());
    test::TempDir dir;
    size_t checked = 0;
    for (const auto& pcap : test::all_real_captures()) {
        INFO(pcap.string());
        const std::string in = shell_quote(pcap.string());
        const auto dump = test::run_command(bin + " dump " + in + " 2>/dev/null");
        if (dump.exit_code != 0) {
            continue;  // several sessions, or damaged: dump says so itself
        }
        const size_t messages = count_lines(dump.out);
        const auto jsonl = dir / "t.jsonl", csv = dir / "t.csv";
        const auto r1 =
            test::run_command(bin + " timeline " + in + " -o " + shell_quote(jsonl.string()));
        REQUIRE(r1.exit_code == 0);
        CHECK(r1.out.find(std::to_string(messages) + " messages") != std::string::npos);
        CHECK(count_lines(read_file(jsonl), "{\"kind\":\"message\"") == messages);
        REQUIRE(test::run_command(bin + " timeline -q " + in + " -o " + shell_quote(csv.string()))
                    .exit_code == 0);
        CHECK(count_lines(read_file(csv)) - 1 >= messages);
        const std::string csv_text = read_file(csv);
        size_t csv_messages = 0;
        std::istringstream lines(csv_text);
        std::string line;
        while (std::getline(lines, line)) {
            csv_messages +=
                line.find(",message,") != std::string::npos && line.find(",message,") < 20;
        }
        CHECK(csv_messages == messages);
        ++checked;
    }
    CHECK(checked >= 2);
}

TEST_CASE("timeline --from/--to keeps dump's messages of the same range", "[cli][timeline][real]") {
    const auto captures = test::committed_captures();
    REQUIRE(!captures.empty());
    const std::string bin = shell_quote(test::spicetap_bin().string());
    const std::string in = shell_quote(captures.front().string());
    test::TempDir dir;
    const auto out = dir / "part.jsonl";
    const auto dump = test::run_command(bin + " dump " + in + " --from 0.5 --to 2");
    REQUIRE(dump.exit_code == 0);
    REQUIRE(test::run_command(bin + " timeline -q " + in + " --from 0.5 --to 2 -o " +
                              shell_quote(out.string()))
                .exit_code == 0);
    CHECK(count_lines(read_file(out), "{\"kind\":\"message\"") == count_lines(dump.out));
}

TEST_CASE("report and timeline refuse what they cannot do, with usage exit codes",
          "[cli][report]") {
    const auto captures = test::committed_captures();
    REQUIRE(!captures.empty());
    const std::string bin = shell_quote(test::spicetap_bin().string());
    const std::string in = shell_quote(captures.front().string());
    test::TempDir dir;
    auto r = test::run_command(
        bin + " timeline " + in + " -o " + shell_quote((dir / "x.txt").string()), true);
    CHECK(r.exit_code == 2);
    CHECK(r.out.find(".jsonl") != std::string::npos);
    r = test::run_command(bin + " report " + in + " -o " + shell_quote((dir / "x.pdf").string()),
                          true);
    CHECK(r.exit_code == 2);
    r = test::run_command(bin + " report --compare " + in + " " + in + " -o " +
                              shell_quote((dir / "x.json").string()),
                          true);
    CHECK(r.exit_code == 2);
    r = test::run_command(
        bin + " report /nonexistent.spicelog -o " + shell_quote((dir / "x.html").string()), true);
    CHECK(r.exit_code == 3);
    // And the normal case prints the summary.
    r = test::run_command(bin + " report " + in + " -o " + shell_quote((dir / "r.html").string()));
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("the session moved") != std::string::npos);
    r = test::run_command(bin + " report --compare " + in + " " + in + " -o " +
                          shell_quote((dir / "c.html").string()));
    CHECK(r.exit_code == 0);
    CHECK(std::filesystem::file_size(dir / "c.html") > 1000);
}
