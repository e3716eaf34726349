// Headless replay against real sessions: QEMU with a tiny Linux guest (tests/qemu/record) and the
// libspice-server/spice-gtk test peers (tests/peers), each with what the real spice-gtk client
// showed at the end. Lossless recordings must match pixel for pixel; lossy ones by PSNR; and every
// pixel that differs must lie inside what the replay itself calls possibly wrong.
#include "replay/session_replay.h"

#include <fmt/core.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "capture/import/import_capture.h"
#include "capture/log/session_log.h"
#include "replay/canvas/surface.h"
#include "replay/display_state.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace spicetap {
namespace {

namespace fs = std::filesystem;
using test::run_command;
using test::shell_quote;

// Packed RGB, row-major.
struct Rgb {
    uint32_t width = 0;
    uint32_t height = 0;
    std::vector<uint8_t> px;

    uint32_t at(uint32_t x, uint32_t y) const {
        const uint8_t* p = &px[(size_t(y) * width + x) * 3];
        return uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2];
    }
};

std::optional<Rgb> read_ppm(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string magic;
    int w = 0, h = 0, max = 0;
    if (!(in >> magic >> w >> h >> max) || magic != "P6" || max != 255) {
        return std::nullopt;
    }
    in.get();
    Rgb out{uint32_t(w), uint32_t(h), std::vector<uint8_t>(size_t(w) * h * 3)};
    in.read(reinterpret_cast<char*>(out.px.data()), std::streamsize(out.px.size()));
    return in ? std::optional<Rgb>(std::move(out)) : std::nullopt;
}

// A PNG through the ffmpeg tool (the test peers write their client's screen as PNG).
std::optional<Rgb> read_png(const fs::path& png, const test::TempDir& dir) {
    const fs::path ppm =
        dir / (png.stem().string() + "-" + png.parent_path().filename().string() + ".ppm");
    auto r = run_command("ffmpeg -v error -y -i " + shell_quote(png.string()) +
                             " -f image2 -c:v ppm " + shell_quote(ppm.string()),
                         true);
    if (r.exit_code != 0) {
        return std::nullopt;
    }
    return read_ppm(ppm);
}

Rgb to_rgb(const canvas::Surface& s) {
    std::vector<uint32_t> argb;
    s.read_argb32(argb);
    Rgb out{s.width(), s.height(), std::vector<uint8_t>(argb.size() * 3)};
    for (size_t i = 0; i < argb.size(); ++i) {
        out.px[i * 3] = uint8_t(argb[i] >> 16);
        out.px[i * 3 + 1] = uint8_t(argb[i] >> 8);
        out.px[i * 3 + 2] = uint8_t(argb[i]);
    }
    return out;
}

struct Comparison {
    uint64_t differing = 0;
    uint64_t differing_outside_unsure = 0;
    double psnr = 0;
};

Comparison compare(const Rgb& ours, const Rgb& truth, const replay::PixelRegion& unsure) {
    Comparison c;
    double se = 0;
    for (uint32_t y = 0; y < truth.height; ++y) {
        for (uint32_t x = 0; x < truth.width; ++x) {
            const uint32_t a = ours.at(x, y);
            const uint32_t b = truth.at(x, y);
            for (int k = 0; k < 3; ++k) {
                const double d = double((a >> (8 * k)) & 0xff) - double((b >> (8 * k)) & 0xff);
                se += d * d;
            }
            if (a != b) {
                ++c.differing;
                if (!unsure.intersects(
                        canvas::Rect{int32_t(x), int32_t(y), int32_t(x) + 1, int32_t(y) + 1})) {
                    ++c.differing_outside_unsure;
                }
            }
        }
    }
    const double mse = se / (double(truth.width) * truth.height * 3);
    c.psnr = mse == 0 ? INFINITY : 10 * std::log10(255.0 * 255.0 / mse);
    return c;
}

// Imports one capture and opens its single session.
struct Session {
    test::TempDir dir;
    std::unique_ptr<log::SessionLogReader> reader;
    std::unique_ptr<replay::SessionReplay> replay;
    std::optional<DecodeError> input_error;
};

std::unique_ptr<Session> open_session(const fs::path& pcap) {
    auto s = std::make_unique<Session>();
    capture::ImportOptions opt;
    opt.output = s->dir / "session.spicelog";
    opt.tool_version = "test";
    auto imported = capture::import_capture(pcap, opt);
    if (!imported) {
        FAIL("import " << pcap << ": " << imported.error().message());
    }
    s->input_error = imported->input_error;
    auto reader = log::SessionLogReader::open(opt.output);
    REQUIRE(reader);
    s->reader = std::move(*reader);
    auto r = replay::SessionReplay::open(*s->reader);
    REQUIRE(r);
    s->replay = std::move(*r);
    return s;
}

fs::path qemu_dir(const std::string& name) {
    return test::fixture_dir() / ("qemu-" + name);
}

bool have_recording(const fs::path& dir, const char* truth) {
    if (fs::exists(dir / "capture.pcap") && fs::exists(dir / truth)) {
        return true;
    }
    WARN("no recording with " << truth << " in " << dir << " (the spicetap_record_qemu / peers "
                              << "fixtures make them): skipped");
    return false;
}

std::string issue_summary(const replay::SessionReplay& r) {
    std::string s;
    for (const auto& [kind, n] : r.stats().issues_by_kind) {
        s += fmt::format("{} x{}; ", kind, n);
    }
    size_t shown = 0;
    for (const replay::ReplayIssue& i : r.issues()) {
        if (shown++ == 5) {
            break;
        }
        s += fmt::format("\n  {} {}: {}", i.msg_type, i.kind, i.text);
    }
    return s;
}

}  // namespace

TEST_CASE("QEMU sessions: the final screen equals what spice-gtk showed", "[replay][qemu]") {
    struct Case {
        const char* name;
        bool lossless;
    };

    // qemu-jpeg: auto_glz with jpeg and zlib-glz WAN compression forced; the guest's final
    // frame arrives as ZLIB_GLZ, so it is exact too. qemu-stream: streaming-video=all.
    const Case cases[] = {{"glz", true}, {"lz", true},       {"jpeg", false},   {"stream", false},
                          {"off", true}, {"zlib_glz", true}, {"auto_glz", true}};
    for (const Case& c : cases) {
        const fs::path dir = qemu_dir(c.name);
        if (!fs::exists(dir)) {
            continue;  // off / zlib_glz / auto_glz: recorded by hand with tests/qemu/record
        }
        if (!have_recording(dir, "screenshot.ppm")) {
            continue;
        }
        DYNAMIC_SECTION(c.name) {
            auto truth = read_ppm(dir / "screenshot.ppm");
            REQUIRE(truth);
            auto s = open_session(dir / "capture.pcap");
            REQUIRE(s->replay->run_to_end());
            const canvas::Surface* primary = s->replay->primary(0);
            REQUIRE(primary != nullptr);
            REQUIRE(primary->width() == truth->width);
            REQUIRE(primary->height() == truth->height);
            const replay::PixelRegion unsure = s->replay->primary_unsure(0);
            const Comparison cmp = compare(to_rgb(*primary), *truth, unsure);
            INFO(c.name << ": " << cmp.differing << " pixels differ, PSNR " << cmp.psnr
                        << " dB; issues: " << issue_summary(*s->replay));
            // auto_glz sends an occasional QUIC image: decoded like every other image.
            CHECK(s->replay->issues().empty());
            CHECK(unsure.empty());
            CHECK(cmp.differing_outside_unsure == 0);
            if (c.lossless) {
                CHECK(cmp.differing == 0);
            } else {
                CHECK(cmp.psnr >= 40.0);
            }
            // The guest's scenes draw a few dozen times at least (fewer on a loaded machine,
            // where the guest's frames coalesce).
            CHECK(s->replay->stats().draws > 20);
            CHECK(s->replay->stats().marks >= 1);
        }
    }
}

TEST_CASE("QEMU sessions: the guest's final picture, pixel by pixel", "[replay][qemu]") {
    // tests/qemu/fbdraw.c "final": background 0x103060, a 0xffcc00 rectangle at 40,40 200x120,
    // then the text-like pattern with seed 5 (0xc0c0c0 dots in 8x16 cells).
    const fs::path dir = qemu_dir("glz");
    if (!have_recording(dir, "capture.pcap")) {
        return;
    }
    auto s = open_session(dir / "capture.pcap");
    REQUIRE(s->replay->run_to_end());
    const canvas::Surface* p = s->replay->primary(0);
    REQUIRE(p != nullptr);
    REQUIRE(p->width() == 1024);
    REQUIRE(p->height() == 768);
    auto expected = [](uint32_t x, uint32_t y) -> uint32_t {
        uint32_t rgb = 0x103060;
        if (x >= 40 && x < 240 && y >= 40 && y < 160) {
            rgb = 0xffcc00;
        }
        const uint32_t cx = x / 8 * 8, cy = y / 16 * 16;
        if (cx + 8 <= 1024 && cy + 16 <= 768) {
            const unsigned v = (cx * 7 + cy * 13 + 5) % 97;
            if (v >= 30 && (((v >> ((x - cx) % 5)) ^ (y - cy)) & 1)) {
                rgb = 0xc0c0c0;
            }
        }
        return rgb;
    };
    std::vector<uint32_t> argb;
    p->read_argb32(argb);
    uint64_t wrong = 0;
    for (uint32_t y = 0; y < 768; ++y) {
        for (uint32_t x = 0; x < 1024; ++x) {
            wrong += (argb[size_t(y) * 1024 + x] & 0xffffff) != expected(x, y);
        }
    }
    CHECK(wrong == 0);
    // A few by hand: background, rectangle, a lit and an unlit text cell pixel.
    CHECK((p->pixel(1000, 760) & 0xffffff) == expected(1000, 760));
    CHECK((p->pixel(100, 100) & 0xffffff) == expected(100, 100));
    CHECK((p->pixel(0, 0) & 0xffffff) == 0x103060);
}

TEST_CASE("QEMU quic session: every QUIC image decodes and the screen is exact", "[replay][qemu]") {
    const fs::path dir = qemu_dir("quic");
    if (!have_recording(dir, "screenshot.ppm")) {
        return;
    }
    auto truth = read_ppm(dir / "screenshot.ppm");
    REQUIRE(truth);
    auto s = open_session(dir / "capture.pcap");
    REQUIRE(s->replay->run_to_end());
    const canvas::Surface* primary = s->replay->primary(0);
    REQUIRE(primary != nullptr);
    REQUIRE(primary->width() == truth->width);
    REQUIRE(primary->height() == truth->height);
    const replay::PixelRegion unsure = s->replay->primary_unsure(0);
    const Comparison cmp = compare(to_rgb(*primary), *truth, unsure);
    INFO(cmp.differing << " differ; " << issue_summary(*s->replay));
    CHECK(s->replay->issues().empty());
    CHECK(unsure.empty());
    CHECK(cmp.differing == 0);
    const auto codecs = s->replay->report().stats.images_by_codec;
    const auto quic = codecs.find("quic");
    REQUIRE(quic != codecs.end());
    CHECK(quic->second.images > 0);
    CHECK(quic->second.failures == 0);
}

TEST_CASE("test-peer sessions: the final screen equals the spice-gtk client's", "[replay][peers]") {
    test::TempDir tmp;
    // Scenarios of tests/peers whose client dumped its primary surface at the end.
    const char* scenarios[] = {
        "lossless-glz",      "lossless-lz",       "lossless-lz4",     "lossless-off",
        "lossless-zlib-glz", "lossless-auto-glz", "lossless-auto-lz", "lossless-quic",
        "lossy-jpeg",        "draw-ops",          "resize",           "stream-mjpeg",
        "stream-vp8",        "stream-vp9",        "stream-h264",      "multi-monitor"};
    bool any = false;
    for (const char* name : scenarios) {
        const fs::path dir = test::fixture_dir() / name;
        if (!fs::exists(dir / "capture.pcap") || !fs::exists(dir / "display-0.png")) {
            continue;
        }
        any = true;
        DYNAMIC_SECTION(name) {
            auto truth = read_png(dir / "display-0.png", tmp);
            if (!truth) {
                WARN("cannot read " << dir / "display-0.png"
                                    << " (ffmpeg missing?)");
                return;
            }
            auto s = open_session(dir / "capture.pcap");
            REQUIRE(s->replay->run_to_end());
            const canvas::Surface* primary = s->replay->primary(0);
            REQUIRE(primary != nullptr);
            REQUIRE(primary->width() == truth->width);
            REQUIRE(primary->height() == truth->height);
            const replay::PixelRegion unsure = s->replay->primary_unsure(0);
            const Comparison cmp = compare(to_rgb(*primary), *truth, unsure);
            INFO(name << ": " << cmp.differing << " pixels differ (" << cmp.differing_outside_unsure
                      << " outside the unsure area), PSNR " << cmp.psnr
                      << " dB; issues: " << issue_summary(*s->replay));
            const std::string n = name;
            const bool lossless = n.starts_with("lossless-") || n == "draw-ops" || n == "resize";
            if (lossless) {
                CHECK(cmp.differing == 0);
                CHECK(unsure.empty());
            } else {
                // Lossy images and video streams (frames shown at their multimedia time, the
                // server's lossless redraw of the stream area last).
                CHECK(cmp.psnr >= 40.0);
            }
            if (n == "multi-monitor") {
                // GLZ images of display 1 refer to images display 0 carries later in capture
                // time: they wait for them, as in spice-gtk's shared GLZ window.
                CHECK(s->replay->issues().empty());
                CHECK(s->replay->report().stats.images_by_codec.at("glz_rgb").failures == 0);
                if (auto truth1 = read_png(dir / "display-1.png", tmp)) {
                    const canvas::Surface* second = s->replay->primary(1);
                    REQUIRE(second != nullptr);
                    const Comparison c1 =
                        compare(to_rgb(*second), *truth1, s->replay->primary_unsure(1));
                    INFO("display 1: " << c1.differing << " pixels differ, PSNR " << c1.psnr);
                    CHECK(c1.differing == 0);
                    CHECK(s->replay->primary_unsure(1).empty());
                }
            }
        }
    }
    if (!any) {
        WARN("no test-peer recordings in " << test::fixture_dir() << ": skipped");
    }
}

TEST_CASE("test-peer streams: a mid-stream snapshot shows the frame due at its multimedia time",
          "[replay][peers]") {
    // spice-gtk shows a video frame when the session's multimedia clock (MAIN_INIT's
    // multi_media_time, running on from its arrival) reaches the frame's multi_media_time, some
    // 400 ms after the frame arrives: a replay that drew frames on arrival would be a dozen
    // frames ahead of the client here.
    test::TempDir tmp;
    bool any = false;
    for (const char* name : {"stream-mjpeg", "stream-vp8", "stream-vp9", "stream-h264"}) {
        const fs::path dir = test::fixture_dir() / name;
        if (!fs::exists(dir / "capture.pcap")) {
            continue;
        }
        for (const auto& entry : fs::directory_iterator(dir)) {
            const std::string file = entry.path().filename().string();
            const std::string prefix = "display-0-at-";
            if (!file.starts_with(prefix) || entry.path().extension() != ".png") {
                continue;
            }
            const double at_s = std::stod(file.substr(prefix.size()));
            any = true;
            DYNAMIC_SECTION(name << " " << file) {
                auto truth = read_png(entry.path(), tmp);
                REQUIRE(truth);
                auto s = open_session(dir / "capture.pcap");
                // The client's snapshot timer starts when its main channel opens, just before
                // MAIN_INIT arrives; it fires at that time plus at_s, late by however long the
                // client's main loop was busy (the PNG is on disk well within 50 ms, client.log).
                std::optional<int64_t> main_init_us;
                for (const log::ConnectionInfo& c : s->reader->connections()) {
                    if (c.channel_type != 1) {
                        continue;
                    }
                    log::SessionLogReader::MessageFilter filter;
                    filter.connection = c.id;
                    REQUIRE(s->reader->for_each_message(filter, [&](const log::MessageRecord& m) {
                        if (m.dir == wire::Direction::ServerToClient && m.type == 103) {
                            main_init_us = m.ts_us;
                            return false;
                        }
                        return true;
                    }));
                }
                REQUIRE(main_init_us);
                const int64_t from = *main_init_us + int64_t(at_s * 1e6) - 5'000;
                double best = 0;
                int64_t best_at = 0;
                for (int64_t t = from; t <= from + 55'000 && best < 40.0; t += 1'000) {
                    REQUIRE(s->replay->run_until(t));
                    const canvas::Surface* primary = s->replay->primary(0);
                    REQUIRE(primary != nullptr);
                    const double psnr =
                        compare(to_rgb(*primary), *truth, replay::PixelRegion{}).psnr;
                    if (psnr > best) {
                        best = psnr;
                        best_at = t;
                    }
                }
                INFO(name << ": best PSNR " << best << " dB at "
                          << double(best_at - s->replay->start_us()) / 1e6 << " s");
                CHECK(best >= 40.0);
                CHECK(s->replay->stats().stream_frames > 0);
            }
        }
    }
    if (!any) {
        WARN("no test-peer stream recordings with a snapshot in " << test::fixture_dir()
                                                                  << ": skipped");
    }
}

}  // namespace spicetap

namespace spicetap {

TEST_CASE("mid-session screens: seeking agrees with a sequential replay", "[replay][qemu]") {
    for (const char* name : {"glz", "stream"}) {
        const fs::path dir = qemu_dir(name);
        if (!have_recording(dir, "capture.pcap")) {
            continue;
        }
        DYNAMIC_SECTION(name) {
            auto s = open_session(dir / "capture.pcap");
            const int64_t t0 = s->replay->start_us();
            const int64_t len = s->replay->end_us() - t0;
            std::vector<int64_t> times;
            for (double f : {0.15, 0.4, 0.6, 0.8, 0.9, 0.97}) {
                times.push_back(t0 + int64_t(double(len) * f));
            }
            // Sequential: one pass, a copy of the screen at each time.
            std::vector<std::optional<Rgb>> seq;
            for (int64_t t : times) {
                REQUIRE(s->replay->run_until(t));
                const canvas::Surface* p = s->replay->primary(0);
                seq.push_back(p ? std::optional<Rgb>(to_rgb(*p)) : std::nullopt);
            }
            // Seeking backwards and forwards in another order gives the same screens.
            size_t distinct = 0;
            for (size_t k : {5u, 2u, 4u, 0u, 3u, 1u}) {
                REQUIRE(s->replay->seek(times[k]));
                CHECK(s->replay->now_us() == times[k]);
                const canvas::Surface* p = s->replay->primary(0);
                REQUIRE((p != nullptr) == seq[k].has_value());
                if (p) {
                    const Rgb now = to_rgb(*p);
                    CHECK(now.px == seq[k]->px);
                    distinct += k > 0 && seq[k - 1] && now.px != seq[k - 1]->px;
                }
            }
            CHECK(distinct >= 2);  // the screen really changes between these times
            // The CLI's screenshot at one of those times is the same picture.
            test::TempDir tmp;
            const fs::path png = tmp / "mid.png";
            const std::string at = fmt::format("{:.6f}", double(times[2] - t0) / 1e6);
            auto r = run_command(shell_quote(test::spicetap_bin().string()) + " screenshot " +
                                     shell_quote((dir / "capture.pcap").string()) + " --at " + at +
                                     " -o " + shell_quote(png.string()),
                                 true);
            INFO(r.out);
            CHECK(r.exit_code == 0);
            auto shot = read_png(png, tmp);
            if (shot && seq[2]) {
                // --at rounds to the microsecond: allow the screens just around it.
                REQUIRE(s->replay->seek(t0 + int64_t(std::stod(at) * 1e6)));
                CHECK(shot->px == to_rgb(*s->replay->primary(0)).px);
            }
        }
    }
}

TEST_CASE("a capture with lost segments replays to the end and says what is unsure",
          "[replay][qemu]") {
    const fs::path dir = qemu_dir("glz");
    if (!have_recording(dir, "screenshot.ppm") || !test::have_program("editcap") ||
        !test::have_program("tshark")) {
        return;
    }
    std::ifstream manifest(dir / "manifest.json");
    const std::string m((std::istreambuf_iterator<char>(manifest)), {});
    const size_t at = m.find("\"server_port\":");
    REQUIRE(at != std::string::npos);
    const int port = std::stoi(m.substr(at + 14));
    test::TempDir tmp;
    // Big server -> client segments are display traffic: drop two in the middle of the session.
    auto frames = run_command("tshark -r " + shell_quote((dir / "capture.pcap").string()) +
                              " -Y 'tcp.srcport==" + std::to_string(port) +
                              " && tcp.len>1000' -T fields -e frame.number");
    std::vector<std::string> numbers;
    for (size_t p = 0, e; p < frames.out.size(); p = e + 1) {
        e = frames.out.find('\n', p);
        if (e == std::string::npos) {
            e = frames.out.size();
        }
        if (e > p) {
            numbers.push_back(frames.out.substr(p, e - p));
        }
    }
    REQUIRE(numbers.size() >= 20);
    const fs::path lossy = tmp / "lossy.pcap";
    REQUIRE(run_command("editcap " + shell_quote((dir / "capture.pcap").string()) + " " +
                        shell_quote(lossy.string()) + " " + numbers[numbers.size() / 3] + " " +
                        numbers[numbers.size() / 2])
                .exit_code == 0);

    auto s = open_session(lossy);
    REQUIRE(s->replay->run_to_end());
    CHECK(s->replay->at_end());
    const auto& st = s->replay->stats();
    INFO(issue_summary(*s->replay));
    CHECK(st.capture_gaps >= 1);
    CHECK(st.issues_by_kind.contains("capture_gap"));
    CHECK(st.applied > 30);  // the rest of the session still renders
    for (const replay::ReplayIssue& i : s->replay->issues()) {
        CHECK(i.ts_us >= s->replay->start_us());
        CHECK_FALSE(i.text.empty());
    }
    // Whatever differs from the real client's screen, the replay said it might.
    auto truth = read_ppm(dir / "screenshot.ppm");
    REQUIRE(truth);
    const canvas::Surface* p = s->replay->primary(0);
    REQUIRE(p != nullptr);
    const Comparison cmp = compare(to_rgb(*p), *truth, s->replay->primary_unsure(0));
    INFO(cmp.differing << " pixels differ");
    CHECK(cmp.differing_outside_unsure == 0);

    // The CLI: exit 1, the gaps and the exact share in --stats.
    auto r = run_command(shell_quote(test::spicetap_bin().string()) + " replay --stats " +
                             shell_quote(lossy.string()),
                         true);
    INFO(r.out);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("capture_gap") != std::string::npos);
    CHECK(r.out.find("applied exactly") != std::string::npos);
    CHECK(r.out.find("% exact") != std::string::npos);
    auto j = run_command(shell_quote(test::spicetap_bin().string()) + " replay --json " +
                         shell_quote(lossy.string()));
    CHECK(j.out.find("\"capture_gaps\":") != std::string::npos);
    CHECK(j.out.find("\"issues\":[{") != std::string::npos);
}

}  // namespace spicetap
