// `spicetap images` on real sessions (QEMU and the test peers): one index line per image
// descriptor `dump --decode` shows, a PNG for each decodable one, a clear error for the rest, and
// on a known-content lossless session the PNG pixels are the pictures the server drew.
#include <fmt/core.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/peers/json_lite.h"
#include "tests/support/captures.h"
#include "tests/support/known_pictures.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using test::Json;
using test::pattern_flat;
using test::pattern_noise;
using test::pattern_photo;
using test::shell_quote;
namespace fs = std::filesystem;

namespace {

std::string bin() {
    return shell_quote(test::spicetap_bin().string());
}

// Image descriptors in `dump --decode --json` output, by type name.
std::map<std::string, int> dumped_image_types(const fs::path& input,
                                              const std::string& extra = "") {
    const auto r = test::run_command(bin() + " dump --decode --json --channel display " + extra +
                                     " " + shell_quote(input.string()));
    static const std::regex image(R"re(\{"offset":\d+,"id":\d+,"type":"([a-z_0-9]+)")re");
    std::map<std::string, int> out;
    for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), image);
         it != std::sregex_iterator(); ++it) {
        ++out[(*it)[1].str()];
    }
    return out;
}

std::vector<Json> read_index(const fs::path& dir) {
    std::ifstream in(dir / "index.jsonl");
    std::vector<Json> out;
    std::string line;
    while (std::getline(in, line)) {
        out.push_back(Json::parse(line));
    }
    return out;
}

std::map<std::string, int> index_types(const std::vector<Json>& index) {
    std::map<std::string, int> out;
    for (const Json& j : index) {
        ++out[j["type"].str()];
    }
    return out;
}

struct Rgb {
    uint32_t width = 0;
    uint32_t height = 0;
    std::vector<uint8_t> px;  // packed RGB

    uint32_t at(size_t i) const {
        return uint32_t(px[i * 3]) << 16 | uint32_t(px[i * 3 + 1]) << 8 | px[i * 3 + 2];
    }
};

// Through the ffmpeg tool: a PNG reader that is not ours.
std::optional<Rgb> read_png(const fs::path& png, uint32_t w, uint32_t h) {
    const auto r = test::run_command("ffmpeg -v error -i " + shell_quote(png.string()) +
                                     " -f rawvideo -pix_fmt rgb24 -");
    if (r.exit_code != 0 || r.out.size() != size_t(w) * h * 3) {
        return std::nullopt;
    }
    return Rgb{w, h, std::vector<uint8_t>(r.out.begin(), r.out.end())};
}

bool equals(const Rgb& img, const std::vector<uint32_t>& want) {
    if (want.size() != size_t(img.width) * img.height) {
        return false;
    }
    for (size_t i = 0; i < want.size(); ++i) {
        if (img.at(i) != want[i]) {
            return false;
        }
    }
    return true;
}

fs::path scenario(const std::string& name) {
    return test::fixture_dir() / name / "capture.pcap";
}

}  // namespace

TEST_CASE(
    "images: one index line per image descriptor of real sessions, each written or "
    "with its error",
    "[cli][images][real]") {
    const auto captures = test::all_real_captures();
    REQUIRE_FALSE(captures.empty());
    for (const auto& pcap : captures) {
        INFO("capture " << pcap);
        test::TempDir tmp;
        const fs::path out = tmp / "images";
        const auto r = test::run_command(bin() + " images " + shell_quote(pcap.string()) + " -o " +
                                         shell_quote(out.string()) + " --json");
        INFO(r.out);
        REQUIRE((r.exit_code == 0 || r.exit_code == 1));
        const Json summary = Json::parse(r.out);
        const auto index = read_index(out);
        const auto want = dumped_image_types(pcap);
        CHECK(index_types(index) == want);
        CHECK(summary["images"].integer() == int64_t(index.size()));
        int failed = 0, written = 0;
        for (const Json& j : index) {
            INFO(j["n"].integer() << " " << j["type"].str() << " id " << j["id"].integer());
            if (!j["file"].is_null()) {
                ++written;
                const fs::path png = out / j["file"].str();
                CHECK(fs::exists(png));
                CHECK(fs::file_size(png) > 0);
                CHECK(j["file"].str().find(fmt::format("-d{}-s{}-", j["display"].integer(),
                                                       j["serial"].integer())) !=
                      std::string::npos);
                CHECK_FALSE(j.has("error"));
            } else if (j.has("surface_id")) {
                CHECK(j["type"].str() == "surface");
            } else {
                ++failed;
                REQUIRE(j.has("error"));
                const std::string kind = j["error"]["kind"].str();
                const std::string text = j["error"]["text"].str();
                INFO(kind << ": " << text);
                // Every codec decodes, and a GLZ image that refers to one sent on another
                // display channel later in capture time waits for it (as in spice-gtk's shared
                // GLZ window): any failure is a bug.
                FAIL_CHECK("image failed: " << kind);
            }
        }
        CHECK(summary["failed"].integer() == failed);
        CHECK(summary["written"].integer() == written);
        CHECK(r.exit_code == (failed > 0 ? 1 : 0));
    }
}

TEST_CASE("images: PNGs of a lossless LZ session are the server's pictures",
          "[cli][images][real]") {
    const fs::path pcap = scenario("lossless-lz");
    if (!fs::exists(pcap)) {
        WARN("no lossless-lz recording in " << test::fixture_dir());
        return;
    }
    REQUIRE(test::have_program("ffmpeg"));
    test::TempDir tmp;
    const fs::path out = tmp / "images";
    const auto r = test::run_command(bin() + " images " + shell_quote(pcap.string()) + " -o " +
                                     shell_quote(out.string()));
    INFO(r.out);
    REQUIRE(r.exit_code == 0);

    // What draw_known draws (v = 0 for the first pass, 1 for the second; display 0).
    struct Known {
        std::string name;
        std::vector<std::vector<uint32_t>> candidates;
        int found = 0;
    };

    std::vector<Known> known = {
        {"photo 256x160", {pattern_photo(256, 160, 0), pattern_photo(256, 160, 1)}},
        {"flat 200x100", {pattern_flat(200, 100, 0), pattern_flat(200, 100, 1)}},
        {"noise 97x33", {pattern_noise(97, 33, 7), pattern_noise(97, 33, 8)}},
        {"tiles 16x16", {pattern_flat(16, 16, 3)}},
        {"flat 64x48", {pattern_flat(64, 48, 5), pattern_flat(64, 48, 6)}},
    };
    int compared = 0;
    for (const Json& j : read_index(out)) {
        // The palette pictures (--palette-bitmaps, sent as LZ_PLT) are checked pixel for pixel
        // in tests/decode/codec/peer_vectors_test.cpp; one shares the 64x48 size of a flat one.
        if (j["file"].is_null() || j["type"].str() == "lz_plt") {
            continue;
        }
        const uint32_t w = uint32_t(j["width"].integer()), h = uint32_t(j["height"].integer());
        for (Known& k : known) {
            if (k.candidates.front().size() != size_t(w) * h ||
                k.name.find(fmt::format("{}x{}", w, h)) == std::string::npos) {
                continue;
            }
            INFO(k.name << ": " << j["file"].str());
            auto img = read_png(out / j["file"].str(), w, h);
            REQUIRE(img);
            bool match = false;
            for (const auto& c : k.candidates) {
                match = match || equals(*img, c);
            }
            CHECK(match);
            k.found += match;
            ++compared;
        }
    }
    for (const Known& k : known) {
        INFO(k.name);
        CHECK(k.found > 0);
    }
    CHECK(compared >= 8);
}

TEST_CASE("images --codec lists only that type, --from/--to only that time",
          "[cli][images][real]") {
    const fs::path pcap = scenario("lossless-glz");
    if (!fs::exists(pcap)) {
        WARN("no lossless-glz recording in " << test::fixture_dir());
        return;
    }
    const auto all = dumped_image_types(pcap);
    REQUIRE(all.count("glz_rgb"));
    for (const std::string type : {"glz_rgb", "lz_rgb"}) {
        INFO(type);
        test::TempDir tmp;
        const fs::path out = tmp / "images";
        const auto r = test::run_command(bin() + " images " + shell_quote(pcap.string()) + " -o " +
                                         shell_quote(out.string()) + " --codec " + type);
        CHECK(r.exit_code == 0);
        const auto index = read_index(out);
        const auto it = all.find(type);
        CHECK(int(index.size()) == (it == all.end() ? 0 : it->second));
        for (const Json& j : index) {
            CHECK(j["type"].str() == type);
            CHECK(fs::exists(out / j["file"].str()));
        }
        size_t pngs = 0;
        for (const auto& e : fs::directory_iterator(out)) {
            pngs += e.path().extension() == ".png";
        }
        CHECK(pngs == index.size());
    }
    {
        // A time window from the middle image on: the same images dump shows for it, and GLZ
        // still decodes (the images before the window fed the window).
        test::TempDir tmp;
        const auto full = test::run_command(bin() + " images " + shell_quote(pcap.string()) +
                                            " -o " + shell_quote((tmp / "all").string()));
        CHECK(full.exit_code == 0);
        const auto all_index = read_index(tmp / "all");
        REQUIRE(all_index.size() >= 4);
        const double from = all_index[all_index.size() / 2]["t"].num();
        const double to = all_index[all_index.size() * 3 / 4]["t"].num();
        // Whole milliseconds around the images (they may share one capture instant).
        const std::string window = fmt::format("--from {:.3f} --to {:.3f}",
                                               std::floor(from * 1000) / 1000,
                                               std::ceil(to * 1000) / 1000);
        INFO(window);
        const fs::path out = tmp / "images";
        const auto r = test::run_command(bin() + " images " + shell_quote(pcap.string()) + " -o " +
                                         shell_quote(out.string()) + " " + window);
        const auto index = read_index(out);
        CHECK(index_types(index) == dumped_image_types(pcap, window));
        CHECK_FALSE(index.empty());
        CHECK(index.size() < all_index.size());
        for (const Json& j : index) {
            CHECK(j["t"].num() >= from - 0.001);
            CHECK(j["t"].num() <= to + 0.001);
            CHECK_FALSE(j.has("error"));
        }
        CHECK(r.exit_code == 0);
    }
    if (const fs::path z = scenario("lossless-zlib-glz"); fs::exists(z)) {
        // A type past the first hundred codes (107).
        test::TempDir tmp;
        const auto r =
            test::run_command(bin() + " images " + shell_quote(z.string()) + " -o " +
                              shell_quote((tmp / "z").string()) + " --codec zlib_glz_rgb");
        CHECK(r.exit_code == 0);
        const auto index = read_index(tmp / "z");
        CHECK(int(index.size()) == dumped_image_types(z)["zlib_glz_rgb"]);
        CHECK_FALSE(index.empty());
    }
    const auto bad = test::run_command(
        bin() + " images " + shell_quote(pcap.string()) + " -o /nonexistent-dir-x --codec glz",
        true);
    CHECK(bad.exit_code == 2);
    CHECK(bad.out.find("glz_rgb") != std::string::npos);
}
