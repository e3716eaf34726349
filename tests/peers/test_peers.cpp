// Checks the recordings made by tests/peers/record against what the peers say they did:
// tshark sees the expected channels, image types, stream codecs, cursor and audio modes,
// and on lossless scenarios the real client's picture equals the server's model exactly.
#include <png.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/peers/json_lite.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace fs = std::filesystem;
using spicetap::test::Json;

namespace {

// Must match SCENARIOS in tests/peers/record.
const std::vector<std::string> kScenarios = {"lossless-off",
                                             "lossless-quic",
                                             "lossless-lz",
                                             "lossless-glz",
                                             "lossless-auto-lz",
                                             "lossless-auto-glz",
                                             "lossless-lz4",
                                             "lossless-zlib-glz",
                                             "lossy-jpeg",
                                             "draw-ops",
                                             "stream-mjpeg",
                                             "stream-vp8",
                                             "stream-vp9",
                                             "stream-h264",
                                             "cursor",
                                             "inputs",
                                             "agent",
                                             "audio-opus",
                                             "audio-pcm",
                                             "multi-monitor",
                                             "resize",
                                             "tls",
                                             "ticket",
                                             "port",
                                             "everything"};

// SpiceImageType values (spice/enums.h)
const std::map<std::string, long> kImageTypes = {
    {"BITMAP", 0},         {"QUIC", 1},         {"LZ_PLT", 100},
    {"LZ_RGB", 101},       {"GLZ_RGB", 102},    {"FROM_CACHE", 103},
    {"SURFACE", 104},      {"JPEG", 105},       {"FROM_CACHE_LOSSLESS", 106},
    {"ZLIB_GLZ_RGB", 107}, {"JPEG_ALPHA", 108}, {"LZ4", 109}};

// SpiceVideoCodecType values
const std::map<std::string, long> kVideoCodecs = {
    {"MJPEG", 1}, {"VP8", 2}, {"H264", 3}, {"VP9", 4}, {"H265", 5}};

std::string read_text(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

fs::path scenario_dir(const std::string& name) {
    return spicetap::test::fixture_dir() / name;
}

const Json& manifest(const std::string& name) {
    static std::map<std::string, Json> cache;
    auto it = cache.find(name);
    if (it == cache.end()) {
        fs::path p = scenario_dir(name) / "manifest.json";
        if (!fs::exists(p)) {
            FAIL("no fixture " << p << " (run the spicetap_record_fixtures test first)");
        }
        it = cache.emplace(name, Json::parse(read_text(p))).first;
    }
    return it->second;
}

std::string run(const std::string& cmd) {
    std::string out;
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
    REQUIRE(pipe);
    std::array<char, 65536> buf{};
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), pipe.get())) > 0) {
        out.append(buf.data(), n);
    }
    return out;
}

// Every value tshark shows for each field, over the whole capture.
using FieldValues = std::map<std::string, std::multiset<long>>;

FieldValues tshark_fields(const std::string& scenario, const std::string& decode_as,
                          const std::vector<std::string>& fields) {
    const Json& m = manifest(scenario);
    long port =
        m["ports"]["plain"].is_null() ? m["ports"]["tls"].integer() : m["ports"]["plain"].integer();
    const fs::path pcap = scenario_dir(scenario) / "capture.pcap";
    std::string cmd = spicetap::test::tshark_reading(pcap.string()) +
                      " -d tcp.port==" + std::to_string(port) + "," + decode_as +
                      " -T fields -E occurrence=a -E aggregator=, -E separator=/t";
    for (const auto& f : fields) {
        cmd += " -e " + f;
    }
    cmd += " 2>/dev/null";
    // tshark takes seconds on the stream captures and every test case runs in its own
    // process, so the output is kept beside the capture (renamed into place: tests run in
    // parallel) until the capture changes.
    fs::path cached = scenario_dir(scenario) /
                      ("tshark-" + std::to_string(std::hash<std::string>{}(cmd)) + ".tsv");
    std::string text;
    std::error_code ec;
    if (fs::exists(cached, ec) &&
        fs::last_write_time(cached, ec) >= fs::last_write_time(pcap, ec)) {
        text = read_text(cached);
    } else {
        text = run(cmd);
        fs::path tmp = cached;
        tmp += ".";  // in two steps: GCC 12 -O3 warns (-Wrestrict) on "." + std::string
        tmp += std::to_string(getpid());
        std::ofstream(tmp, std::ios::binary) << text;
        fs::rename(tmp, cached, ec);
    }
    FieldValues out;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream cols(line);
        std::string col;
        for (size_t i = 0; i < fields.size() && std::getline(cols, col, '\t'); i++) {
            std::istringstream vals(col);
            std::string v;
            while (std::getline(vals, v, ',')) {
                if (!v.empty()) {
                    out[fields[i]].insert(std::stol(v, nullptr, 0));
                }
            }
        }
    }
    return out;
}

const FieldValues& spice_fields(const std::string& scenario) {
    static std::map<std::string, FieldValues> cache;
    auto it = cache.find(scenario);
    if (it == cache.end()) {
        it = cache
                 .emplace(scenario,
                          tshark_fields(
                              scenario, "spice",
                              {"spice.channel_type", "spice.channel_id", "spice.message_type",
                               "spice.image_type", "spice.display_stream_codec_type",
                               "spice.cursor_type", "spice.audio_mode", "spice.keyboard_key_code"}))
                 .first;
    }
    return it->second;
}

std::set<long> distinct(const FieldValues& f, const std::string& field) {
    auto it = f.find(field);
    return it == f.end() ? std::set<long>{} : std::set<long>(it->second.begin(), it->second.end());
}

size_t count_of(const FieldValues& f, const std::string& field, long value) {
    auto it = f.find(field);
    return it == f.end() ? 0 : it->second.count(value);
}

struct Rgb {
    int width = 0, height = 0;
    std::vector<uint8_t> px;  // RGB
};

Rgb read_png_rgb(const fs::path& p) {
    Rgb img;
    png_image pi{};
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&pi, p.c_str())) {
        FAIL("cannot read " << p << ": " << pi.message);
    }
    pi.format = PNG_FORMAT_RGB;
    img.width = static_cast<int>(pi.width);
    img.height = static_cast<int>(pi.height);
    img.px.resize(PNG_IMAGE_SIZE(pi));
    if (!png_image_finish_read(&pi, nullptr, img.px.data(), 0, nullptr)) {
        FAIL("cannot decode " << p << ": " << pi.message);
    }
    return img;
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

}  // namespace

TEST_CASE("peers: every scenario was recorded", "[peers]") {
    Json index = Json::parse(read_text(spicetap::test::fixture_dir() / "index.json"));
    CHECK(index["failed"].arr().empty());
    std::set<std::string> recorded;
    for (const auto& s : index["scenarios"].arr()) {
        recorded.insert(s.str());
    }
    for (const auto& s : kScenarios) {
        INFO("scenario " << s);
        CHECK(recorded.count(s) == 1);
        CHECK(fs::file_size(scenario_dir(s) / "capture.pcap") > 10000);
    }
}

TEST_CASE("peers: lossless scenarios show the server's picture pixel for pixel", "[peers]") {
    int compared = 0;
    for (const auto& s : kScenarios) {
        const Json& m = manifest(s);
        if (!m["lossless"].boolean()) {
            continue;
        }
        for (const auto& d : m["displays"].arr()) {
            INFO("scenario " << s << " display " << d["id"].integer());
            REQUIRE(d["client_png"].is_string());
            REQUIRE(d["expected_png"].is_string());
            Rgb got = read_png_rgb(scenario_dir(s) / d["client_png"].str());
            Rgb want = read_png_rgb(scenario_dir(s) / d["expected_png"].str());
            REQUIRE(got.width == want.width);
            REQUIRE(got.height == want.height);
            size_t differing = 0;
            for (size_t i = 0; i < got.px.size(); i += 3) {
                differing += got.px[i] != want.px[i] || got.px[i + 1] != want.px[i + 1] ||
                             got.px[i + 2] != want.px[i + 2];
            }
            CHECK(differing == 0);
            compared++;
        }
    }
    // every scenario but the lossy ones and the inexact draw-ops one, and two monitors
    CHECK(compared == static_cast<int>(kScenarios.size()) - 2 + 1);
}

TEST_CASE("peers: the lossy JPEG scenario really is lossy", "[peers]") {
    const Json& m = manifest("lossy-jpeg");
    REQUIRE_FALSE(m["lossless"].boolean());
    Rgb got = read_png_rgb(scenario_dir("lossy-jpeg") / "display-0.png");
    Rgb want = read_png_rgb(scenario_dir("lossy-jpeg") / "expected-display-0.png");
    REQUIRE(got.px.size() == want.px.size());
    size_t differing = 0;
    int worst = 0;
    for (size_t i = 0; i < got.px.size(); i++) {
        int d = std::abs(int(got.px[i]) - int(want.px[i]));
        differing += d != 0;
        worst = std::max(worst, d);
    }
    CHECK(differing > 0);  // JPEG touched the photo-like image
    CHECK(worst < 128);    // but it is still the same picture
}

TEST_CASE("peers: tshark sees the channels each scenario opens", "[peers]") {
    for (const auto& s : kScenarios) {
        if (s == "tls") {
            continue;
        }
        INFO("scenario " << s);
        auto types = distinct(spice_fields(s), "spice.channel_type");
        for (long t : {1, 2, 3, 4}) {  // main, display, inputs, cursor
            CHECK(types.count(t) == 1);
        }
        const Json& m = manifest(s);
        bool audio = m["audio"]["playback"].boolean();
        CHECK(audio == (starts_with(s, "audio-") || s == "everything"));
        CHECK(types.count(5) == (audio ? 1u : 0u));  // playback
        CHECK(types.count(6) == (audio ? 1u : 0u));  // record
        CHECK(types.count(10) == (m["port_channel"]["name"].is_null() ? 0u : 1u));
    }
    auto ids = distinct(spice_fields("multi-monitor"), "spice.channel_id");
    CHECK(ids.count(1) == 1);
}

TEST_CASE("peers: image compression on the wire follows the server settings", "[peers]") {
    for (const auto& s : kScenarios) {
        const Json& m = manifest(s);
        auto images = distinct(spice_fields(s), "spice.image_type");
        INFO("scenario " << s);
        for (const auto& want : m["expect"]["image_types"].arr()) {
            INFO("image type " << want.str());
            CHECK(images.count(kImageTypes.at(want.str())) == 1);
        }
    }
    auto off = distinct(spice_fields("lossless-off"), "spice.image_type");
    CHECK(off.count(0) == 1);
    for (long compressed : {1, 101, 102, 105, 107, 109}) {
        CHECK(off.count(compressed) == 0);
    }
    auto quic = distinct(spice_fields("lossless-quic"), "spice.image_type");
    for (long other : {101, 102, 105, 107, 109}) {
        CHECK(quic.count(other) == 0);
    }
    auto lz = distinct(spice_fields("lossless-lz"), "spice.image_type");
    CHECK(lz.count(102) == 0);
    CHECK(lz.count(1) == 0);
    CHECK(lz.count(100) == 1);  // the palette pictures go as LZ_PLT
    // the RGBA photo goes as JPEG_ALPHA
    CHECK(distinct(spice_fields("lossy-jpeg"), "spice.image_type").count(108) == 1);
    // the cacheable image is sent once and then drawn from the cache
    CHECK(distinct(spice_fields("lossless-glz"), "spice.image_type").count(103) == 1);
    // off-screen surfaces are used as image sources
    CHECK(distinct(spice_fields("lossless-lz"), "spice.image_type").count(104) == 1);
}

TEST_CASE("peers: video streams use the chosen codec", "[peers]") {
    for (const auto& s : kScenarios) {
        const Json& m = manifest(s);
        if (m["expect"]["stream_codec"].is_null()) {
            continue;
        }
        INFO("scenario " << s);
        const FieldValues& f = spice_fields(s);
        auto codecs = distinct(f, "spice.display_stream_codec_type");
        CHECK(codecs == std::set<long>{kVideoCodecs.at(m["expect"]["stream_codec"].str())});
        CHECK(count_of(f, "spice.message_type", 122) >= 1);   // STREAM_CREATE
        CHECK(count_of(f, "spice.message_type", 123) >= 20);  // STREAM_DATA
        CHECK(m["stream_frames"].integer() >= 60);
    }
    // the mid-stream snapshot the client took shows the stream area, not the final frame
    const Json& mj = manifest("stream-mjpeg");
    REQUIRE(mj["client"]["snapshots"].arr().size() == 1);
    Rgb mid =
        read_png_rgb(scenario_dir("stream-mjpeg") / mj["client"]["snapshots"][0]["png"].str());
    Rgb end = read_png_rgb(scenario_dir("stream-mjpeg") / "display-0.png");
    REQUIRE(mid.px.size() == end.px.size());
    CHECK(mid.px != end.px);
    // plain scenarios never stream
    CHECK(count_of(spice_fields("lossless-quic"), "spice.message_type", 122) == 0);
}

TEST_CASE("peers: cursor shapes and moves", "[peers]") {
    const FieldValues& f = spice_fields("cursor");
    auto types = distinct(f, "spice.cursor_type");
    CHECK(types.count(0) == 1);  // ALPHA
    CHECK(types.count(1) == 1);  // MONO
    CHECK(types.count(6) == 1);  // COLOR32
    const Json& m = manifest("cursor");
    CHECK(m["client"]["cursor"]["sets"].integer() >= 3);
    // server mouse mode (no tablet): the server forwards the guest's cursor moves
    CHECK(m["client"]["cursor"]["moves"].integer() >= 10);
    CHECK(m["client"]["cursor"]["hides"].integer() >= 1);
}

TEST_CASE("peers: typed text travels as scancodes to the server", "[peers]") {
    const Json& m = manifest("inputs");
    CHECK(m["keys_typed"].str() == "Hello SPICE tap 123");
    CHECK(m["keys_received_by_server"].str() == m["keys_typed"].str());
    const FieldValues& f = spice_fields("inputs");
    CHECK(count_of(f, "spice.keyboard_key_code", 0x2a) >= 1);  // shift for the capitals
    CHECK(count_of(f, "spice.keyboard_key_code", 0x23) >= 1);  // 'h'
    // both kinds of mouse input reached the tablet
    bool position = false, buttons = false;
    for (const auto& e : m["server"]["mouse"].arr()) {
        position |= e["kind"].str() == "position";
        buttons |= e["kind"].str() == "buttons";
    }
    CHECK(position);
    CHECK(buttons);
}

TEST_CASE("peers: agent clipboard both ways and a file transfer", "[peers]") {
    const Json& m = manifest("agent");
    REQUIRE(m["clipboard"]["client_to_guest"].is_string());
    CHECK(m["clipboard"]["received_by_guest"].str() == m["clipboard"]["client_to_guest"].str());
    REQUIRE(m["clipboard"]["guest_to_client"].is_string());
    CHECK(m["clipboard"]["guest_to_client"].str() ==
          m["server"]["agent"]["clipboard_to_client"].str());
    REQUIRE(m["file"].is_object());
    REQUIRE(m["files_received_by_guest"].arr().size() == 1);
    const Json& got = m["files_received_by_guest"][0];
    CHECK(got["name"].str() == m["file"]["name"].str());
    CHECK(got["sha256"].str() == m["file"]["sha256"].str());
    CHECK(got["received"].integer() == m["file"]["size"].integer());
    CHECK(read_text(scenario_dir("agent") / "received-files" / got["name"].str()) ==
          read_text(scenario_dir("agent") / m["file"]["path"].str()));
    CHECK(m["client"]["file"]["status"].str() == "success");
    // agent traffic rides in main-channel AGENT_DATA messages
    CHECK(count_of(spice_fields("agent"), "spice.message_type", 109) >= 3);
}

TEST_CASE("peers: audio playback tone and recorded tone", "[peers]") {
    for (const std::string s : {"audio-opus", "audio-pcm"}) {
        INFO("scenario " << s);
        const Json& m = manifest(s);
        auto modes = distinct(spice_fields(s), "spice.audio_mode");
        CHECK(modes.count(s == "audio-opus" ? 3 : 1) == 1);  // SPICE_AUDIO_DATA_MODE_OPUS/RAW
        double tone = m["audio"]["tone_hz"].num();
        CHECK(std::abs(m["audio"]["client_tone_hz_estimate"].num() - tone) < tone * 0.02);
        double rec = m["audio"]["record_tone_hz"].num();
        CHECK(std::abs(m["audio"]["server_record_tone_hz_estimate"].num() - rec) < rec * 0.02);
    }
}

TEST_CASE("peers: resize and several monitors", "[peers]") {
    const Json& r = manifest("resize");
    CHECK(r["displays"][0]["width"].integer() == 800);
    CHECK(r["displays"][0]["height"].integer() == 600);
    Rgb img = read_png_rgb(scenario_dir("resize") / "display-0.png");
    CHECK(img.width == 800);
    CHECK(img.height == 600);
    // two primary surfaces created on the wire: 640x480, then 800x600
    CHECK(count_of(spice_fields("resize"), "spice.message_type", 314) >= 2 + 2);

    const Json& mm = manifest("multi-monitor");
    CHECK(mm["displays"].arr().size() == 2);
    // each QXL device announces its monitor (DISPLAY_MONITORS_CONFIG)
    CHECK(count_of(spice_fields("multi-monitor"), "spice.message_type", 317) >= 2);
}

TEST_CASE("peers: TLS, ticket and port channel", "[peers]") {
    const Json& tls = manifest("tls");
    CHECK(tls["ports"]["plain"].is_null());
    FieldValues hs = tshark_fields("tls", "tls", {"tls.handshake.type"});
    auto types = distinct(hs, "tls.handshake.type");
    CHECK(types.count(1) == 1);  // ClientHello
    CHECK(types.count(2) == 1);  // ServerHello
    int linked = 0;
    for (const auto& ch : tls["server"]["channels"].arr()) {
        if (ch["event"].str() == "initialized") {
            CHECK(ch["tls"].boolean());
            linked++;
        }
    }
    CHECK(linked >= 4);
    CHECK(tls["client"]["errors"].arr().empty());
    CHECK(tls["displays"][0]["client_png"].is_string());

    const Json& ticket = manifest("ticket");
    CHECK(ticket["ticket"].is_string());
    // each channel link carries the 128-byte RSA-encrypted password
    std::string tickets =
        run(spicetap::test::tshark_reading((scenario_dir("ticket") / "capture.pcap").string()) +
            " -d tcp.port==" + std::to_string(ticket["ports"]["plain"].integer()) +
            ",spice -T fields -e spice.ticket_client 2>/dev/null");
    size_t with_ticket = 0;
    std::istringstream lines(tickets);
    for (std::string line; std::getline(lines, line);) {
        std::erase(line, ':');
        with_ticket += line.size() == 256;
    }
    CHECK(with_ticket >= 4);
    CHECK(ticket["client"]["errors"].arr().empty());

    const Json& port = manifest("port");
    CHECK(port["port_channel"]["name"].str() == "org.spicetap.test");
    CHECK(port["port_channel"]["server_received"].str() ==
          port["port_channel"]["client_sent"].str());
    CHECK(port["port_channel"]["client_received"].str() ==
          port["port_channel"]["server_sent"].str());
}
