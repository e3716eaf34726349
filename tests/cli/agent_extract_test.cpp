// `spicetap agent` and `spicetap extract` on real sessions between the test peers (the agent
// and everything scenarios: the client offers clipboard text and sends a file, the guest agent
// sends clipboard text back), checked against what the peers themselves wrote down.
#include <png.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tests/peers/json_lite.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using test::Json;
using test::shell_quote;

namespace {

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Recorded scenarios that sent a file through the agent, with their merged manifests.
std::vector<std::pair<std::filesystem::path, Json>> agent_recordings() {
    std::vector<std::pair<std::filesystem::path, Json>> out;
    for (const char* name : {"agent", "everything"}) {
        const auto dir = test::fixture_dir() / name;
        if (std::filesystem::exists(dir / "capture.pcap") &&
            std::filesystem::exists(dir / "manifest.json")) {
            out.emplace_back(dir, Json::parse(read_file(dir / "manifest.json")));
        }
    }
    return out;
}

std::string run_spicetap(const std::string& args) {
    return shell_quote(test::spicetap_bin().string()) + " " + args;
}

std::vector<Json> json_lines(const std::string& out) {
    std::vector<Json> lines;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) {
            lines.push_back(Json::parse(line));
        }
    }
    return lines;
}

// Copies a classic pcap keeping only the packets captured before `cut_us` (absolute).
void truncate_pcap(const std::filesystem::path& in, const std::filesystem::path& out,
                   int64_t cut_us) {
    const std::string data = read_file(in);
    REQUIRE(data.size() >= 24);
    uint32_t magic = 0;
    std::memcpy(&magic, data.data(), 4);
    REQUIRE((magic == 0xa1b2c3d4 || magic == 0xa1b23c4d));
    const int64_t frac_per_us = magic == 0xa1b23c4d ? 1000 : 1;
    std::string kept = data.substr(0, 24);
    size_t pos = 24;
    while (pos + 16 <= data.size()) {
        uint32_t sec = 0, frac = 0, incl = 0;
        std::memcpy(&sec, data.data() + pos, 4);
        std::memcpy(&frac, data.data() + pos + 4, 4);
        std::memcpy(&incl, data.data() + pos + 8, 4);
        const int64_t ts = int64_t{sec} * 1000000 + frac / frac_per_us;
        if (ts >= cut_us || pos + 16 + incl > data.size()) {
            break;
        }
        kept += data.substr(pos, 16 + incl);
        pos += 16 + incl;
    }
    std::ofstream(out, std::ios::binary) << kept;
}

const Json* find_event(const std::vector<Json>& events, const std::string& event,
                       const std::string& dir) {
    for (const auto& e : events) {
        if (e.has("event") && e["event"].str() == event && !e["dir"].is_null() &&
            e["dir"].str() == dir) {
            return &e;
        }
    }
    return nullptr;
}

}  // namespace

TEST_CASE("agent lists the clipboard exchange and the file transfer of real sessions",
          "[cli][agent][real]") {
    const auto recordings = agent_recordings();
    for (const auto& [dir, manifest] : recordings) {
        INFO("recording " << dir);
        const auto r = test::run_command(
            run_spicetap("agent --json " + shell_quote((dir / "capture.pcap").string())));
        REQUIRE(r.exit_code == 0);
        const auto lines = json_lines(r.out);
        REQUIRE(lines.size() >= 2);

        const std::string to_guest = manifest["clipboard"]["client_to_guest"].str();
        const std::string to_client = manifest["clipboard"]["guest_to_client"].str();
        const Json* grab = find_event(lines, "clipboard_grab", "client_to_guest");
        REQUIRE(grab != nullptr);
        CHECK((*grab)["type_names"].arr().at(0).str() == "utf8_text");
        CHECK(find_event(lines, "clipboard_request", "guest_to_client") != nullptr);
        const Json* sent = find_event(lines, "clipboard", "client_to_guest");
        REQUIRE(sent != nullptr);
        CHECK((*sent)["text"].str() == to_guest);
        CHECK((*sent)["data_size"].integer() == static_cast<int64_t>(to_guest.size()));
        const Json* back = find_event(lines, "clipboard", "guest_to_client");
        REQUIRE(back != nullptr);
        CHECK((*back)["text"].str() == to_client);

        const Json& file = manifest["file"];
        const Json* start = find_event(lines, "file_xfer_start", "client_to_guest");
        REQUIRE(start != nullptr);
        CHECK((*start)["name"].str() == file["name"].str());
        CHECK((*start)["file_size"].integer() == file["size"].integer());
        const Json* data = find_event(lines, "file_xfer_data", "client_to_guest");
        REQUIRE(data != nullptr);
        CHECK((*data)["total"].integer() == file["size"].integer());
        CHECK(find_event(lines, "announce_capabilities", "client_to_guest") != nullptr);
        CHECK(find_event(lines, "announce_capabilities", "guest_to_client") != nullptr);
        CHECK(find_event(lines, "monitors_config", "client_to_guest") != nullptr);

        // Events come in time order.
        double prev = -1;
        for (const auto& e : lines) {
            if (e.has("t")) {
                CHECK(e["t"].num() >= prev);
                prev = e["t"].num();
            }
        }

        const Json& summary = lines.back()["summary"];
        REQUIRE(summary["file_transfers"].arr().size() == 1);
        const Json& t = summary["file_transfers"].arr()[0];
        CHECK(t["name"].str() == file["name"].str());
        CHECK(t["size"].integer() == file["size"].integer());
        CHECK(t["received"].integer() == file["size"].integer());
        CHECK(t["state"].str() == "complete");
        CHECK(t["result"].str() == "success");
        CHECK(summary["clipboard"]["client_to_guest"]["bytes"].integer() ==
              static_cast<int64_t>(to_guest.size()));
        CHECK(summary["undecodable"].integer() == 0);
        CHECK(summary["stream_errors"].integer() == 0);

        // The same in words.
        const auto text = test::run_command(
            run_spicetap("agent " + shell_quote((dir / "capture.pcap").string())));
        REQUIRE(text.exit_code == 0);
        CHECK(text.out.find("client->guest  file_xfer_start") != std::string::npos);
        CHECK(text.out.find("\"" + to_guest + "\"") != std::string::npos);
        CHECK(text.out.find("\"" + file["name"].str() + "\" " +
                            std::to_string(file["size"].integer()) + " bytes: complete") !=
              std::string::npos);
    }
    CHECK(!recordings.empty());
}

TEST_CASE("extract recovers the clipboard text and the transferred file byte for byte",
          "[cli][extract][real]") {
    const auto recordings = agent_recordings();
    for (const auto& [dir, manifest] : recordings) {
        INFO("recording " << dir);
        test::TempDir out;
        const auto r = test::run_command(run_spicetap("extract --json " +
                                                      shell_quote((dir / "capture.pcap").string()) +
                                                      " -o " + shell_quote((out / "x").string())));
        REQUIRE(r.exit_code == 0);
        const Json printed = Json::parse(r.out);
        const Json written = Json::parse(read_file(out / "x" / "manifest.json"));
        REQUIRE(written["items"].arr().size() == printed["items"].arr().size());

        const Json& file = manifest["file"];
        int clipboards = 0, files = 0;
        for (const auto& item : written["items"].arr()) {
            const auto saved = out / "x" / item["file"].str();
            REQUIRE(std::filesystem::exists(saved));
            if (item["kind"].str() == "clipboard") {
                ++clipboards;
                CHECK(item["type"].str() == "utf8_text");
                const bool to_guest = item["direction"].str() == "client_to_guest";
                const std::string expected =
                    manifest["clipboard"][to_guest ? "client_to_guest" : "guest_to_client"].str();
                CHECK(read_file(saved) == expected);
                CHECK(item["size"].integer() == static_cast<int64_t>(expected.size()));
                CHECK(item["file"].str().ends_with(".txt"));
            } else {
                ++files;
                CHECK(item["kind"].str() == "file");
                CHECK(item["direction"].str() == "client_to_guest");
                CHECK(item["name"].str() == file["name"].str());
                CHECK(item["status"].str() == "complete");
                CHECK(item["size"].integer() == file["size"].integer());
                CHECK(item["sha256"].str() == file["sha256"].str());
                CHECK(read_file(saved) == read_file(dir / file["path"].str()));
            }
        }
        CHECK(clipboards == 2);
        CHECK(files == 1);
    }
    CHECK(!recordings.empty());
}

TEST_CASE("a file transfer cut short by the end of the recording is reported as incomplete",
          "[cli][agent][extract][real]") {
    const auto recordings = agent_recordings();
    for (const auto& [dir, manifest] : recordings) {
        INFO("recording " << dir);
        const std::string pcap = shell_quote((dir / "capture.pcap").string());
        const auto info = test::run_command(run_spicetap("info --json " + pcap));
        REQUIRE(info.exit_code == 0);
        const auto p = info.out.find("\"start_us\":");
        REQUIRE(p != std::string::npos);
        const int64_t start_us = std::stoll(info.out.substr(p + 11));

        const auto full = json_lines(test::run_command(run_spicetap("agent --json " + pcap)).out);
        const Json* data = find_event(full, "file_xfer_data", "client_to_guest");
        REQUIRE(data != nullptr);
        // Keep everything before the file's data completed: the start is in, the data is not
        // (or not all of it), the success never comes.
        const int64_t cut = start_us + static_cast<int64_t>((*data)["t"].num() * 1e6) - 1;

        test::TempDir tmp;
        truncate_pcap(dir / "capture.pcap", tmp / "cut.pcap", cut);
        const auto r = test::run_command(
            run_spicetap("agent --json " + shell_quote((tmp / "cut.pcap").string())));
        REQUIRE(r.exit_code == 0);
        const auto lines = json_lines(r.out);
        REQUIRE(!lines.empty());
        const Json& transfers = lines.back()["summary"]["file_transfers"];
        REQUIRE(transfers.arr().size() == 1);
        const Json& t = transfers.arr()[0];
        CHECK(t["name"].str() == manifest["file"]["name"].str());
        CHECK(t["state"].str() == "cut_short");
        CHECK(t["received"].integer() < manifest["file"]["size"].integer());
        CHECK(t["result"].is_null());
        CHECK(t["note"].str().find("before the recording ended") != std::string::npos);

        const auto words =
            test::run_command(run_spicetap("agent " + shell_quote((tmp / "cut.pcap").string())));
        CHECK(words.out.find("cut_short") != std::string::npos);

        const auto x = test::run_command(run_spicetap("extract --json " +
                                                      shell_quote((tmp / "cut.pcap").string()) +
                                                      " -o " + shell_quote((tmp / "x").string())));
        REQUIRE(x.exit_code == 0);
        const Json m = Json::parse(x.out);
        int files = 0;
        for (const auto& item : m["items"].arr()) {
            if (item["kind"].str() == "file") {
                ++files;
                CHECK(item["status"].str() == "cut_short");
                CHECK(item["file"].str().ends_with(".partial"));
                CHECK(item["declared_size"].integer() == manifest["file"]["size"].integer());
                const std::string kept = read_file(tmp / "x" / item["file"].str());
                CHECK(kept.size() == static_cast<size_t>(item["size"].integer()));
                // What the recording carried of the data message is the file's beginning.
                CHECK(read_file(dir / manifest["file"]["path"].str()).starts_with(kept));
            }
        }
        CHECK(files == 1);
    }
    CHECK(!recordings.empty());
}

TEST_CASE("extract refuses a missing output directory option", "[cli][extract]") {
    const auto r = test::run_command(
        run_spicetap("extract " +
                     shell_quote((test::source_dir() / "tests/data/qemu-bios-glz.pcap").string())),
        true);
    CHECK(r.exit_code == 2);
}

TEST_CASE("agent and extract on a session without an agent list nothing", "[cli][agent]") {
    const std::string pcap =
        shell_quote((test::source_dir() / "tests/data/qemu-bios-glz.pcap").string());
    const auto r = test::run_command(run_spicetap("agent " + pcap));
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("File transfers: 0") != std::string::npos);
    test::TempDir tmp;
    const auto x = test::run_command(
        run_spicetap("extract --json " + pcap + " -o " + shell_quote((tmp / "x").string())));
    REQUIRE(x.exit_code == 0);
    CHECK(Json::parse(x.out)["items"].arr().empty());
}

namespace {

// RGB pixels of a PNG (libpng's simplified API), empty if it does not read.
std::vector<uint8_t> png_rgb(const std::filesystem::path& p, uint32_t& w, uint32_t& h) {
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&image, p.c_str())) {
        return {};
    }
    image.format = PNG_FORMAT_RGB;
    std::vector<uint8_t> px(PNG_IMAGE_SIZE(image));
    if (!png_image_finish_read(&image, nullptr, px.data(), 0, nullptr)) {
        return {};
    }
    w = image.width;
    h = image.height;
    return px;
}

}  // namespace

TEST_CASE("extract turns the guest's BMP clipboard image into the same picture as PNG",
          "[cli][extract][real]") {
    const auto dir = test::fixture_dir() / "agent-image";
    if (!std::filesystem::exists(dir / "manifest.json")) {
        WARN("no agent-image recording in " << test::fixture_dir());
        return;
    }
    const Json manifest = Json::parse(read_file(dir / "manifest.json"));
    const Json& sent = manifest["clipboard"]["image_guest_to_client"];
    REQUIRE(sent.is_object());
    // The real client received exactly what the guest offered.
    REQUIRE(manifest["clipboard"]["image_received_by_client"].is_object());
    CHECK(manifest["clipboard"]["image_received_by_client"]["sha256"].str() ==
          sent["sha256"].str());

    const std::string pcap = shell_quote((dir / "capture.pcap").string());
    const auto log = json_lines(test::run_command(run_spicetap("agent --json " + pcap)).out);
    const Json* grab = find_event(log, "clipboard_grab", "guest_to_client");
    REQUIRE(grab != nullptr);
    REQUIRE((*grab)["type_names"].arr().size() == 2);
    CHECK((*grab)["type_names"].arr()[1].str() == "image_bmp");
    bool listed = false;
    for (const auto& e : log) {
        if (e.has("event") && e["event"].str() == "clipboard" &&
            e["type_name"].str() == "image_bmp") {
            listed = true;
            CHECK(e["data_size"].integer() == sent["size"].integer());
            CHECK(e["width"].integer() == 45);
            CHECK(e["height"].integer() == 30);
        }
    }
    CHECK(listed);

    test::TempDir out;
    const auto r = test::run_command(
        run_spicetap("extract --json " + pcap + " -o " + shell_quote((out / "x").string())));
    REQUIRE(r.exit_code == 0);
    int images = 0;
    const Json extracted = Json::parse(r.out);
    for (const auto& item : extracted["items"].arr()) {
        if (item["type"].is_null() || item["type"].str() != "image_bmp") {
            continue;
        }
        ++images;
        CHECK(item["direction"].str() == "guest_to_client");
        CHECK(item["sha256"].str() == sent["sha256"].str());
        CHECK(item["size"].integer() == sent["size"].integer());
        CHECK(item["file"].str().ends_with(".png"));
        uint32_t w = 0, h = 0, ew = 0, eh = 0;
        const auto got = png_rgb(out / "x" / item["file"].str(), w, h);
        const auto want = png_rgb(dir / sent["png"].str(), ew, eh);
        REQUIRE(!want.empty());
        CHECK(w == ew);
        CHECK(h == eh);
        CHECK(got == want);
    }
    CHECK(images == 1);
}

TEST_CASE("extract into a directory it cannot create is an environment error", "[cli][extract]") {
    const auto r = test::run_command(
        run_spicetap("extract " +
                     shell_quote((test::source_dir() / "tests/data/qemu-bios-glz.pcap").string()) +
                     " -o /proc/version/x"),
        true);
    CHECK(r.exit_code == 3);
    CHECK(r.out.find("cannot create /proc/version/x") != std::string::npos);
}
