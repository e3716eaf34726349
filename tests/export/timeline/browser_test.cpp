// The HTML timeline, report and comparison open in headless Chromium with no console message
// (no error, no CSP refusal, no exception), no request leaving the page, and charts that drew
// something (a screenshot's chart area is not blank).
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>

#include "capture/import/log_source.h"
#include "export/report/session_report.h"
#include "export/timeline/timeline.h"
#include "tests/export/timeline/browser_check.h"
#include "tests/support/captures.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Nothing in the page points outside it: no src/href but data: URLs, no CSS url() or @import,
// no http(s) address except the SVG namespace name (an identifier, never fetched).
void check_self_contained(const std::string& html) {
    std::string s =
        std::regex_replace(html, std::regex(R"(xmlns="http://www\.w3\.org/2000/svg")"), "");
    CHECK(s.find("http://") == std::string::npos);
    CHECK(s.find("https://") == std::string::npos);
    CHECK(s.find("href=") == std::string::npos);
    CHECK(s.find("@import") == std::string::npos);
    CHECK(s.find("url(") == std::string::npos);
    size_t at = 0;
    while ((at = s.find("src=\"", at)) != std::string::npos) {
        at += 5;
        CHECK(s.compare(at, 5, "data:") == 0);
    }
}

void check_visit(const test::PageVisit& v) {
    CHECK(v.ran);
    for (const auto& line : v.console) {
        FAIL_CHECK("console: " << line);
    }
    for (const auto& req : v.requests) {
        FAIL_CHECK("network request: " << req);
    }
}

// A session with a display (for thumbnails), the smallest committed QEMU one.
fs::path qemu_capture() {
    for (const auto& p : test::committed_captures()) {
        if (p.filename() == "qemu-bios-glz.pcap") {
            return p;
        }
    }
    return {};
}

}  // namespace

TEST_CASE("HTML timeline: offline page, no console errors or requests, lanes drawn",
          "[timeline][browser]") {
    REQUIRE(test::have_program("chromium"));  // scripts/setup installs it
    const fs::path pcap = qemu_capture();
    REQUIRE(!pcap.empty());
    auto source = capture::LogSource::open(pcap, "test");
    REQUIRE(source);
    auto reader = log::SessionLogReader::open(source->logs().front());
    REQUIRE(reader);
    test::TempDir dir;
    const fs::path page = dir / "timeline.html";
    timeline::TimelineOptions options;
    options.thumbnails = 6;
    auto stats = timeline::write_timeline(**reader, options, pcap.string(), page.string());
    REQUIRE(stats);
    CHECK(stats->thumbnails >= 1);  // the BIOS screen at least
    const std::string html = read_file(page);
    check_self_contained(html);
    CHECK(html.find("data:image/png;base64,") != std::string::npos);

    const auto v = test::visit_page(page, dir.path());
    check_visit(v);
    // The script ran to its end and drew messages on every lane.
    std::smatch m;
    REQUIRE(std::regex_search(v.dom, m, std::regex(R"re(id="status"[^>]*data-drawn="(\d+)")re")));
    CHECK(std::stoul(m[1]) == stats->messages);
    CHECK(v.dom.find("data-ready=\"1\"") != std::string::npos);
    CHECK(v.dom.find("<img src=\"data:image/png;base64,") != std::string::npos);

    const fs::path shot = dir / "timeline.png";
    REQUIRE(test::screenshot_page(page, shot, dir.path(), 1400, 900));
    const auto img = test::read_png_rgb(shot);
    REQUIRE(img.width == 1400);
    // The lanes canvas starts below the header and toolbar: messages in two colours, bandwidth
    // shading, event marks and labels.
    const auto ink = test::box_ink(img, 200, 110, 1000, 330);
    CHECK(ink.colours >= 6);
    CHECK(ink.inked >= 2000);
}

TEST_CASE("HTML report and comparison: offline pages, no console errors or requests, charts drawn",
          "[report][browser]") {
    REQUIRE(test::have_program("chromium"));
    const auto captures = test::committed_captures();
    REQUIRE(captures.size() >= 2);
    std::vector<report::Report> reports;
    std::vector<capture::LogSource> sources;
    for (size_t i = 0; i < 2; ++i) {
        auto source = capture::LogSource::open(captures[i], "test");
        REQUIRE(source);
        auto reader = log::SessionLogReader::open(source->logs().front());
        REQUIRE(reader);
        auto r = report::build_report(**reader, captures[i].filename().string());
        REQUIRE(r);
        reports.push_back(std::move(*r));
        sources.push_back(std::move(*source));
    }
    test::TempDir dir;
    const fs::path page = dir / "report.html";
    REQUIRE(timeline::write_text_file(page.string(), report::report_html(reports[0])));
    const fs::path compare = dir / "compare.html";
    REQUIRE(report::write_compare(reports[0], reports[1], compare.string()));

    for (const fs::path& p : {page, compare}) {
        INFO(p.filename().string());
        const std::string html = read_file(p);
        check_self_contained(html);
        CHECK(html.find("<svg") != std::string::npos);
        const auto v = test::visit_page(p, dir.path());
        check_visit(v);
        CHECK(v.dom.find("id=\"summary\"") != std::string::npos);

        const fs::path shot = dir / (p.stem().string() + ".png");
        REQUIRE(test::screenshot_page(p, shot, dir.path(), 1300, 1000));
        const auto img = test::read_png_rgb(shot);
        REQUIRE(img.width == 1300);
        // The first chart (bandwidth per second) sits under the summary.
        const auto ink = test::box_ink(img, 20, 150, 920, 560);
        CHECK(ink.colours >= 4);
        CHECK(ink.inked >= 3000);
    }
}
