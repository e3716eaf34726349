// The exported files play to the end in a real browser: headless Chromium loads a page with the
// videos (muted autoplay) and records `ended` in the DOM, which --dump-dom prints.

#include <catch2/catch.hpp>

#include "export/video/video_writer.h"
#include "tests/export/video/browser_util.h"
#include "tests/export/video/video_test_util.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using namespace spicetap::video;

namespace {

void write_clip(const std::string& path, bool fragmented) {
    VideoOptions opt;
    opt.preset = "ultrafast";
    opt.audio = true;
    opt.fragmented = fragmented;
    auto w = VideoWriter::open(path, opt);
    REQUIRE(w);
    size_t pos = 0;
    for (int i = 0; i < 75; ++i) {  // 1.5 s: a state every 20 ms with its 20 ms of tone
        const int64_t t = int64_t{i} * 20'000;
        if (i % 2 == 0) {
            REQUIRE((*w)->push_frame(test::gradient_picture(320, 240, i), t));
        }
        auto pcm = test::tone(440, 48000, 2, 960, pos);
        pos += 960;
        REQUIRE((*w)->push_audio(pcm, 2, 48000, t));
    }
    REQUIRE((*w)->finish(1'500'000));
}

}  // namespace

TEST_CASE("headless Chromium plays the MP4, the fragmented MP4 and the WebM to the end",
          "[video][browser]") {
    REQUIRE(test::have_program("chromium"));  // scripts/setup installs it
    test::TempDir dir;
    const std::vector<std::string> clips = {"plain.mp4", "fragmented.mp4", "clip.webm"};
    write_clip((dir / clips[0]).string(), false);
    write_clip((dir / clips[1]).string(), true);
    write_clip((dir / clips[2]).string(), false);

    const test::BrowserPlayback played = test::play_in_chromium(dir.path(), clips);
    const std::string& state = played.state;
    INFO(state);
    CHECK(played.released);
    for (const std::string& clip : clips) {
        // ended, at the end of the 1.5 s clip
        CHECK(state.find(clip + ":ended@1.") != std::string::npos);
    }
}
