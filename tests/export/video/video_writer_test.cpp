// VideoWriter end to end: synthetic sessions written to real MP4/WebM/MKV files, checked with
// ffprobe and decoded back with ffmpeg (pictures by PSNR, the audio by finding the tone).
#include "export/video/video_writer.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "export/video/letterbox.h"
#include "tests/export/video/video_test_util.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using namespace spicetap::video;
using spicetap::test::decode_audio;
using spicetap::test::decode_frame;
using spicetap::test::ffprobe;
using spicetap::test::gradient_picture;
using spicetap::test::psnr;
using spicetap::test::streams_of;

namespace {

// Capture times are absolute; the output starts at the first push.
constexpr int64_t kBase = 1'790'000'000'000'000;

int64_t at(double seconds) {
    return kBase + static_cast<int64_t>(std::llround(seconds * 1e6));
}

// The standard session: 640x360 states every 100 ms over [0, 2) s, nothing over [2, 4) s, states
// again over [4, 5) s; a 440 Hz tone (44.1 kHz stereo, 20 ms packets) over [1, 2) s and no
// audio otherwise; the session ends at 5.5 s. State k shows gradient phase k.
struct Session {
    std::vector<std::pair<double, int>> states;  // time, phase

    void push(VideoWriter& w, bool with_audio) {
        for (int i = 0; i < 20; ++i) {
            states.emplace_back(i * 0.1, i);
        }
        for (int i = 0; i < 10; ++i) {
            states.emplace_back(4.0 + i * 0.1, 40 + i);
        }
        size_t tone_pos = 0;
        size_t next_state = 0;
        // Interleave in capture-time order as the replay engine would.
        for (int step = 0; step < 275; ++step) {  // 20 ms steps up to 5.5 s
            const double t = step * 0.02;
            while (next_state < states.size() && states[next_state].first <= t + 1e-9) {
                auto img = gradient_picture(640, 360, states[next_state].second);
                REQUIRE(w.push_frame(img, at(states[next_state].first)));
                ++next_state;
            }
            if (with_audio && t >= 1.0 - 1e-9 && t < 2.0 - 1e-9) {
                auto pcm = test::tone(440, 44100, 2, 882, tone_pos);
                tone_pos += 882;
                REQUIRE(w.push_audio(pcm, 2, 44100, at(t)));
            }
        }
    }

    int phase_at(double t) const {
        int k = states.front().second;
        for (auto [ts, phase] : states) {
            if (ts <= t) {
                k = phase;
            }
        }
        return k;
    }
};

std::string keep(const test::TempDir& dir, const std::string& name) {
    return (dir / name).string();
}

void check_pictures(const std::string& path, const Session& s, std::initializer_list<double> times,
                    double min_psnr = 35) {
    for (double t : times) {
        auto frame = decode_frame(path, t, 640, 360);
        INFO(path << " at " << t << " s, expected phase " << s.phase_at(t));
        REQUIRE(frame.size() == size_t{640} * 360 * 4);
        const double p = psnr(frame, gradient_picture(640, 360, s.phase_at(t)));
        CHECK(p >= min_psnr);
        // And it is not the state before: the time axis is right, not just the content.
        const double before = psnr(frame, gradient_picture(640, 360, s.phase_at(t) - 3));
        CHECK(before < p - 5);
    }
}

// The 440 Hz tone starts at 1.0 s and stops at 2.0 s (each within 50 ms), at 440 Hz, with
// silence around it.
void check_tone(const std::string& path) {
    const auto pcm = decode_audio(path);
    REQUIRE(pcm.size() > 48000 * 5);
    const size_t win = 480;  // 10 ms
    std::vector<double> power;
    for (size_t i = 0; i + win <= pcm.size(); i += win) {
        power.push_back(test::tone_power(pcm, i, win, 440, 48000));
    }
    const double peak = *std::max_element(power.begin(), power.end());
    REQUIRE(peak > 0.05);
    size_t first = power.size(), last = 0;
    for (size_t i = 0; i < power.size(); ++i) {
        if (power[i] > peak / 4) {
            first = std::min(first, i);
            last = i;
        }
    }
    const double onset = first * 0.01, offset = (last + 1) * 0.01;
    INFO(path << ": tone from " << onset << " s to " << offset << " s");
    CHECK(std::abs(onset - 1.0) <= 0.05);
    CHECK(std::abs(offset - 2.0) <= 0.05);
    const double f = test::zero_crossing_freq(pcm, 48000 * 12 / 10, 48000 * 6 / 10, 48000);
    CHECK(f == Approx(440).margin(3));
    // Silence before and after (inserted by the writer, not left out).
    CHECK(test::tone_power(pcm, 48000 * 2 / 10, 48000 * 6 / 10, 440, 48000) < peak / 1000);
    CHECK(test::tone_power(pcm, 48000 * 25 / 10, 48000 * 2, 440, 48000) < peak / 1000);
}

}  // namespace

TEST_CASE("MP4: H.264 + AAC, VFR, capture-time axis, idle stretch, tone", "[video]") {
    test::TempDir dir;
    const std::string path = keep(dir, "session.mp4");
    VideoOptions opt;
    opt.audio = true;
    opt.preset = "ultrafast";
    auto w = VideoWriter::open(path, opt);
    REQUIRE(w);
    Session s;
    s.push(**w, true);
    auto stats = (*w)->finish(at(5.5));
    REQUIRE(stats);
    CHECK(stats->frames_in == 30);
    CHECK(stats->frames_out == 30);  // VFR: one picture per state, none for the idle stretch
    CHECK(stats->frames_merged == 0);
    CHECK(stats->duration_us == 5'500'000);
    CHECK(stats->bytes == std::filesystem::file_size(path));

    auto probe = ffprobe(path);
    auto video = streams_of(probe, "video");
    auto audio = streams_of(probe, "audio");
    REQUIRE(video.size() == 1);
    REQUIRE(audio.size() == 1);
    CHECK(video[0]["codec_name"].str() == "h264");
    CHECK(video[0]["width"].num() == 640);
    CHECK(video[0]["height"].num() == 360);
    CHECK(video[0]["pix_fmt"].str() == "yuv420p");
    CHECK(audio[0]["codec_name"].str() == "aac");
    CHECK(audio[0]["sample_rate"].str() == "48000");
    CHECK(audio[0]["channels"].num() == 2);
    const double frame = 1.0 / 30;
    CHECK(video[0]["duration"].num() == Approx(5.5).margin(frame));
    CHECK(probe["format"]["duration"].num() == Approx(5.5).margin(frame));
    CHECK(audio[0]["duration"].num() == Approx(5.5).margin(frame));
    CHECK(probe["format"]["format_name"].str().find("mp4") != std::string::npos);

    check_pictures(path, s, {0.05, 0.55, 1.25, 1.95, 3.0, 4.55, 5.3});
    check_tone(path);

    // Not fragmented: the index (moov) is at the front (faststart), before the media data.
    std::ifstream f(path, std::ios::binary);
    std::string head(4096, '\0');
    f.read(head.data(), 4096);
    const size_t moov = head.find("moov"), mdat = head.find("mdat");
    REQUIRE(moov != std::string::npos);
    CHECK((mdat == std::string::npos || moov < mdat));
    CHECK(head.find("moof") == std::string::npos);
}

TEST_CASE("WebM: VP9 + Opus", "[video]") {
    test::TempDir dir;
    const std::string path = keep(dir, "session.webm");
    VideoOptions opt;
    opt.audio = true;
    opt.preset = "ultrafast";
    auto w = VideoWriter::open(path, opt);
    REQUIRE(w);
    CHECK((*w)->codec() == VideoCodec::Vp9);
    Session s;
    s.push(**w, true);
    REQUIRE((*w)->finish(at(5.5)));

    auto probe = ffprobe(path);
    auto video = streams_of(probe, "video");
    auto audio = streams_of(probe, "audio");
    REQUIRE(video.size() == 1);
    REQUIRE(audio.size() == 1);
    CHECK(video[0]["codec_name"].str() == "vp9");
    CHECK(audio[0]["codec_name"].str() == "opus");
    CHECK(video[0]["width"].num() == 640);
    CHECK(video[0]["height"].num() == 360);
    CHECK(probe["format"]["duration"].num() == Approx(5.5).margin(1.0 / 30));
    check_pictures(path, s, {0.55, 1.95, 3.0, 4.55});
    check_tone(path);
}

TEST_CASE("MKV: output size, letterboxed resolution change, no audio track", "[video]") {
    test::TempDir dir;
    const std::string path = keep(dir, "resize.mkv");
    VideoOptions opt;
    opt.preset = "ultrafast";
    opt.size = {640, 360};
    opt.audio = false;
    auto w = VideoWriter::open(path, opt);
    REQUIRE(w);
    for (int i = 0; i < 10; ++i) {
        REQUIRE((*w)->push_frame(gradient_picture(640, 360, i), at(i * 0.1)));
    }
    // The guest switches to a square mode half way.
    for (int i = 0; i < 10; ++i) {
        REQUIRE((*w)->push_frame(gradient_picture(480, 480, 20 + i), at(1.0 + i * 0.1)));
    }
    // Audio pushed to a writer without audio is ignored: the track stays absent.
    auto pcm = test::tone(440, 48000, 2, 960, 0);
    REQUIRE((*w)->push_audio(pcm, 2, 48000, at(1.0)));
    auto stats = (*w)->finish(at(2.0));
    REQUIRE(stats);

    auto probe = ffprobe(path);
    CHECK(probe["format"]["format_name"].str().find("matroska") != std::string::npos);
    REQUIRE(probe["streams"].items.size() == 1);
    auto video = streams_of(probe, "video");
    REQUIRE(video.size() == 1);
    CHECK(video[0]["codec_name"].str() == "h264");
    CHECK(video[0]["width"].num() == 640);
    CHECK(video[0]["height"].num() == 360);
    CHECK(probe["format"]["duration"].num() == Approx(2.0).margin(1.0 / 30));

    auto before = decode_frame(path, 0.55, 640, 360);
    CHECK(psnr(before, gradient_picture(640, 360, 5)) >= 35);

    // 480x480 in 640x360: 360x360 centred, black bars of 140 px on both sides.
    const Rect fit = fit_rect(480, 480, 640, 360);
    REQUIRE(fit == Rect{140, 0, 360, 360});
    auto after = decode_frame(path, 1.55, 640, 360);
    REQUIRE(after.size() == size_t{640} * 360 * 4);
    double bar_sum = 0;
    for (uint32_t y = 0; y < 360; ++y) {
        for (uint32_t x : {0u, 50u, 130u, 510u, 600u, 639u}) {
            const uint8_t* p = &after[(size_t{y} * 640 + x) * 4];
            bar_sum += p[0] + p[1] + p[2];
        }
    }
    CHECK(bar_sum / (360.0 * 6 * 3) < 3);
    // The scaled content looks like the gradient drawn at the fitted size.
    auto scaled = gradient_picture(360, 360, 25);
    CHECK(psnr(after, 640, 140, 0, scaled) >= 30);
}

TEST_CASE("CFR repeats the previous state on the grid", "[video]") {
    test::TempDir dir;
    const std::string path = keep(dir, "cfr.mp4");
    VideoOptions opt;
    opt.preset = "ultrafast";
    opt.cfr = true;
    opt.fps = 10;
    auto w = VideoWriter::open(path, opt);
    REQUIRE(w);
    REQUIRE((*w)->push_frame(gradient_picture(320, 240, 0), at(0)));
    REQUIRE((*w)->push_frame(gradient_picture(320, 240, 10), at(0.5)));
    REQUIRE((*w)->push_frame(gradient_picture(320, 240, 20), at(1.71)));
    auto stats = (*w)->finish(at(2.0));
    REQUIRE(stats);
    CHECK(stats->frames_out == 20);
    CHECK(stats->duration_us == 2'000'000);

    auto probe = ffprobe(path, "-count_frames");
    auto video = streams_of(probe, "video");
    REQUIRE(video.size() == 1);
    CHECK(video[0]["nb_read_frames"].num() == 20);
    CHECK(video[0]["r_frame_rate"].str() == "10/1");
    CHECK(video[0]["duration"].num() == Approx(2.0).margin(0.1));
    // 1.71 s lands on the 1.8 s slot: at 1.75 s the screen still shows the state from 0.5 s.
    CHECK(psnr(decode_frame(path, 1.75, 320, 240), gradient_picture(320, 240, 10)) >= 35);
    CHECK(psnr(decode_frame(path, 1.85, 320, 240), gradient_picture(320, 240, 20)) >= 35);
}

TEST_CASE("the frame-rate cap merges close states and keeps the last one", "[video]") {
    test::TempDir dir;
    const std::string path = keep(dir, "burst.mkv");
    VideoOptions opt;
    opt.preset = "ultrafast";
    opt.fps = 10;
    auto w = VideoWriter::open(path, opt);
    REQUIRE(w);
    // 100 states 10 ms apart, then nothing until 2 s.
    for (int i = 0; i < 100; ++i) {
        REQUIRE((*w)->push_frame(gradient_picture(320, 240, i), at(i * 0.01)));
    }
    auto stats = (*w)->finish(at(2.0));
    REQUIRE(stats);
    CHECK(stats->frames_in == 100);
    CHECK(stats->frames_out == 11);  // 0, 0.1, ..., 1.0 s
    CHECK(stats->frames_merged == 89);
    auto probe = ffprobe(path, "-count_frames");
    auto video = streams_of(probe, "video");
    REQUIRE(video.size() == 1);
    CHECK(video[0]["nb_read_frames"].num() == 11);
    CHECK(probe["format"]["duration"].num() == Approx(2.0).margin(0.1));
    // After the burst the screen shows the last state, not an earlier one.
    auto end = decode_frame(path, 1.5, 320, 240);
    const double last = psnr(end, gradient_picture(320, 240, 99));
    CHECK(last >= 35);
    CHECK(psnr(end, gradient_picture(320, 240, 90)) < last - 10);
}

TEST_CASE("max_idle_s shortens idle stretches and shifts what follows", "[video]") {
    test::TempDir dir;
    const std::string path = keep(dir, "idle.mp4");
    VideoOptions opt;
    opt.preset = "ultrafast";
    opt.max_idle_s = 1.0;
    opt.audio = true;
    auto w = VideoWriter::open(path, opt);
    REQUIRE(w);
    for (int i = 0; i < 10; ++i) {
        REQUIRE((*w)->push_frame(gradient_picture(320, 240, i), at(i * 0.1)));
    }
    // 10 s of nothing, then a beep with a new screen.
    REQUIRE((*w)->push_frame(gradient_picture(320, 240, 50), at(11.0)));
    size_t pos = 0;
    for (int i = 0; i < 25; ++i) {
        auto pcm = test::tone(440, 48000, 2, 960, pos);
        pos += 960;
        REQUIRE((*w)->push_audio(pcm, 2, 48000, at(11.0 + i * 0.02)));
    }
    REQUIRE((*w)->push_frame(gradient_picture(320, 240, 60), at(11.5)));
    auto stats = (*w)->finish(at(12.0));
    REQUIRE(stats);
    // Idle from 0.9 s (the last state) to 11.0 s: 10.1 s, cut to 1 s.
    CHECK(stats->idle_removed_us == 9'100'000);
    CHECK(stats->duration_us == 2'900'000);
    auto probe = ffprobe(path);
    CHECK(probe["format"]["duration"].num() == Approx(2.9).margin(1.0 / 30));
    // The state from 11.0 s now shows at 1.9 s, the one from 11.5 s at 2.4 s.
    CHECK(psnr(decode_frame(path, 1.5, 320, 240), gradient_picture(320, 240, 9)) >= 35);
    CHECK(psnr(decode_frame(path, 2.1, 320, 240), gradient_picture(320, 240, 50)) >= 35);
    CHECK(psnr(decode_frame(path, 2.6, 320, 240), gradient_picture(320, 240, 60)) >= 35);
    // The beep moved with its picture.
    const auto pcm = decode_audio(path);
    CHECK(test::tone_power(pcm, 48000 * 20 / 10, 4800, 440, 48000) > 0.05);
    CHECK(test::tone_power(pcm, 48000 * 10 / 10, 4800, 440, 48000) < 0.001);
}

// A frame count ffprobe decodes from `path` (0 when it cannot read the file at all).
int decodable_frames(const std::string& path) {
    auto video = streams_of(ffprobe(path, "-count_frames"), "video");
    return video.empty() ? 0 : static_cast<int>(video[0]["nb_read_frames"].num());
}

TEST_CASE("fragmented MP4 survives a kill, a normal one does not", "[video]") {
    test::TempDir dir;
    // Writes 3 s at 30 fps; after 2 s of input, copies the file as it is on disk at that moment
    // (what a kill -9 of the export would leave behind).
    auto write = [&](const std::string& name, bool fragmented) {
        const std::string path = keep(dir, name);
        const std::string killed = keep(dir, "killed-" + name);
        VideoOptions opt;
        opt.preset = "ultrafast";
        opt.fragmented = fragmented;
        opt.keyframe_interval_s = 0.5;
        auto w = VideoWriter::open(path, opt);
        REQUIRE(w);
        for (int i = 0; i < 90; ++i) {
            REQUIRE((*w)->push_frame(gradient_picture(320, 240, i), at(i / 30.0)));
            if (i == 60) {
                std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let it encode
                std::filesystem::copy_file(path, killed);
            }
        }
        REQUIRE((*w)->finish(at(3.0)));
        return std::pair{path, killed};
    };
    const auto [frag, frag_killed] = write("frag.mp4", true);
    auto probe = ffprobe(frag);
    auto video = streams_of(probe, "video");
    REQUIRE(video.size() == 1);
    CHECK(video[0]["codec_name"].str() == "h264");
    CHECK(probe["format"]["duration"].num() == Approx(3.0).margin(1.0 / 30));
    CHECK(psnr(decode_frame(frag, 1.0, 320, 240), gradient_picture(320, 240, 30)) >= 35);
    // Killed mid-way: every fragment before the kill plays (fragments are 0.5 s, 15 frames).
    CHECK(decodable_frames(frag_killed) >= 45);
    CHECK(psnr(decode_frame(frag_killed, 1.0, 320, 240), gradient_picture(320, 240, 30)) >= 35);
    // The finished file cut at 2/3 of its bytes still decodes up to the cut.
    const std::string cut = keep(dir, "cut.mp4");
    std::filesystem::copy_file(frag, cut);
    std::filesystem::resize_file(cut, std::filesystem::file_size(frag) * 2 / 3);
    CHECK(decodable_frames(cut) >= 45);

    // Without fragments the index is only written at the end: a killed export is lost.
    const auto [plain, plain_killed] = write("plain.mp4", false);
    CHECK(decodable_frames(plain) == 90);
    CHECK(std::filesystem::file_size(plain_killed) > 0);
    CHECK(decodable_frames(plain_killed) == 0);
}

TEST_CASE("H.265 and VP8 where the encoders exist", "[video]") {
    test::TempDir dir;

    struct Case {
        const char* file;
        VideoCodec codec;
        const char* name;
    };

    for (const Case& c :
         {Case{"h265.mkv", VideoCodec::H265, "hevc"}, Case{"h265.mp4", VideoCodec::H265, "hevc"},
          Case{"vp8.webm", VideoCodec::Vp8, "vp8"}}) {
        VideoOptions opt;
        opt.codec = c.codec;
        // libvpx's realtime speeds (ultrafast..veryfast) trade VP8 quality away; x265 is slow.
        opt.preset = c.codec == VideoCodec::Vp8 ? "fast" : "ultrafast";
        const std::string path = keep(dir, c.file);
        auto w = VideoWriter::open(path, opt);
        REQUIRE(w);
        for (int i = 0; i < 10; ++i) {
            REQUIRE((*w)->push_frame(gradient_picture(320, 240, i), at(i * 0.1)));
        }
        REQUIRE((*w)->finish(at(1.0)));
        auto video = streams_of(ffprobe(path), "video");
        REQUIRE(video.size() == 1);
        INFO(c.file);
        CHECK(video[0]["codec_name"].str() == c.name);
        const char* matrix = c.codec == VideoCodec::Vp8 ? "bt601" : "bt709";
        CHECK(psnr(decode_frame(path, 0.55, 320, 240, matrix), gradient_picture(320, 240, 5)) >=
              35);
    }
}

TEST_CASE("open rejects what cannot work, naming it", "[video]") {
    test::TempDir dir;
    VideoOptions opt;
    auto bad_ext = VideoWriter::open(keep(dir, "x.avi"), opt);
    REQUIRE_FALSE(bad_ext);
    CHECK(bad_ext.error().code == Errc::Unsupported);
    CHECK_THAT(bad_ext.error().what, Catch::Contains(".avi"));

    opt.codec = VideoCodec::H264;
    auto h264_webm = VideoWriter::open(keep(dir, "x.webm"), opt);
    REQUIRE_FALSE(h264_webm);
    CHECK_THAT(h264_webm.error().what, Catch::Contains("h264") && Catch::Contains("webm"));

    opt = {};
    auto nowhere = VideoWriter::open("/nonexistent-dir/x.mp4", opt);
    REQUIRE_FALSE(nowhere);
    CHECK(nowhere.error().code == Errc::Io);
    CHECK_THAT(nowhere.error().what,
               Catch::Contains("avio_open") && Catch::Contains("/nonexistent-dir/x.mp4"));

    opt.fragmented = true;
    CHECK_FALSE(VideoWriter::open(keep(dir, "x.mkv"), opt));
    opt = {};
    opt.preset = "warp";
    opt.size = {320, 240};
    auto preset = VideoWriter::open(keep(dir, "p.mp4"), opt);
    REQUIRE_FALSE(preset);
    CHECK_THAT(preset.error().what,
               Catch::Contains("unknown preset \"warp\"") && Catch::Contains("p.mp4"));
    CHECK_FALSE(std::filesystem::exists(dir / "p.mp4"));
    opt = {};
    opt.codec = VideoCodec::Vp8;
    opt.chroma = Chroma::Yuv444;
    auto vp8_444 = VideoWriter::open(keep(dir, "v.webm"), opt);
    REQUIRE_FALSE(vp8_444);
    CHECK_THAT(vp8_444.error().what, Catch::Contains("VP8 has no 4:4:4"));
    opt = {};
    opt.size = {321, 240};
    CHECK_FALSE(VideoWriter::open(keep(dir, "odd.mp4"), opt));
    opt = {};
    opt.fps = 0;
    CHECK_FALSE(VideoWriter::open(keep(dir, "fps.mp4"), opt));

    CHECK(parse_video_codec("vp9").value() == VideoCodec::Vp9);
    CHECK(parse_video_codec("hevc").value() == VideoCodec::H265);
    CHECK_FALSE(parse_video_codec("mpeg2"));
    CHECK(parse_size("1280x720")->width == 1280);
    CHECK(parse_size("1280x720")->height == 720);
    CHECK_FALSE(parse_size("1280x"));
    CHECK_FALSE(parse_size("1281x720"));
    CHECK_FALSE(parse_size("0x0"));
}

TEST_CASE("finish: twice, with nothing pushed, from another thread mid-stream", "[video]") {
    test::TempDir dir;
    VideoOptions opt;
    opt.preset = "ultrafast";

    SECTION("nothing pushed and no size: an error, and no file left") {
        auto w = VideoWriter::open(keep(dir, "empty.mp4"), opt);
        REQUIRE(w);
        auto r = (*w)->finish(std::nullopt);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().what, Catch::Contains("no frames"));
        CHECK_FALSE(std::filesystem::exists(dir / "empty.mp4"));
    }
    SECTION("nothing pushed but a size: a black video with its audio track") {
        opt.size = {320, 240};
        opt.audio = true;
        const std::string path = keep(dir, "black.mp4");
        auto w = VideoWriter::open(path, opt);
        REQUIRE(w);
        REQUIRE((*w)->finish(std::nullopt));
        auto probe = ffprobe(path);
        CHECK(streams_of(probe, "video").size() == 1);
        CHECK(streams_of(probe, "audio").size() == 1);
        auto frame = decode_frame(path, 0, 320, 240);
        REQUIRE(!frame.empty());
        CHECK(frame[4 * (120 * 320 + 160)] < 4);
    }
    SECTION("finish twice gives the same stats; pushes after it fail") {
        const std::string path = keep(dir, "twice.mp4");
        auto w = VideoWriter::open(path, opt);
        REQUIRE(w);
        REQUIRE((*w)->push_frame(gradient_picture(320, 240, 0), at(0)));
        auto a = (*w)->finish(at(1));
        auto b = (*w)->finish(at(5));
        REQUIRE(a);
        REQUIRE(b);
        CHECK(a->duration_us == 1'000'000);
        CHECK(b->duration_us == a->duration_us);
        CHECK(b->bytes == a->bytes);
        CHECK_FALSE((*w)->push_frame(gradient_picture(320, 240, 0), at(2)));
    }
    SECTION("Ctrl-C: finish from another thread while the producer pushes") {
        const std::string path = keep(dir, "interrupted.mp4");
        opt.audio = true;
        auto w = VideoWriter::open(path, opt);
        REQUIRE(w);
        VideoWriter& writer = **w;
        std::atomic<int> pushed{0};
        std::thread producer([&] {
            auto img = gradient_picture(320, 240, 0);
            for (int i = 0; i < 100000; ++i) {
                auto pcm = test::tone(440, 48000, 2, 1600, size_t(i) * 1600);
                if (!writer.push_frame(img, at(i / 30.0)) ||
                    !writer.push_audio(pcm, 2, 48000, at(i / 30.0))) {
                    break;
                }
                pushed = i + 1;
            }
        });
        while (pushed < 60) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        auto stats = writer.finish(std::nullopt);
        producer.join();
        REQUIRE(stats);
        CHECK(pushed < 100000);
        auto probe = ffprobe(path, "-count_frames");
        auto video = streams_of(probe, "video");
        REQUIRE(video.size() == 1);
        CHECK(video[0]["nb_read_frames"].num() >= 60);
        CHECK(streams_of(probe, "audio").size() == 1);
        CHECK(probe["format"]["duration"].num() ==
              Approx(stats->duration_us / 1e6).margin(1.0 / 30 + 0.03));
    }
}

TEST_CASE("letterbox geometry", "[video]") {
    CHECK(fit_rect(640, 360, 640, 360) == Rect{0, 0, 640, 360});
    CHECK(fit_rect(1280, 720, 640, 360) == Rect{0, 0, 640, 360});
    CHECK(fit_rect(480, 480, 640, 360) == Rect{140, 0, 360, 360});
    CHECK(fit_rect(800, 200, 640, 360) == Rect{0, 100, 640, 160});
    CHECK(fit_rect(1023, 767, 1024, 768) == Rect{0, 0, 1023, 767});
    const Rect tiny = fit_rect(10000, 1, 640, 360);
    CHECK(tiny.h == 2);
    CHECK(tiny.y % 2 == 0);
}
