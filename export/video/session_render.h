// `spicetap render`: a session log replayed headlessly (SessionReplay) into a video file, PNG
// frames and/or a contact sheet. Only screen states that changed are pushed, each at its capture
// time (the replay's primary-surface versions say what changed), no more often than the frame
// rate; the playback channel's sound goes beside them; the encoder runs on its own thread
// (VideoWriter) while this one replays.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "capture/log/session_log.h"
#include "decode/wire/result.h"
#include "export/video/video_writer.h"

namespace spicetap::video {

struct RenderProgress {
    int64_t done_us = 0;   // capture time replayed, from the range start
    int64_t total_us = 0;  // length of the range
    uint64_t states = 0;   // screen states pushed so far
};

struct RenderOptions {
    std::string output;  // .mp4 / .webm / .mkv; empty: no video (frames or sheet only)
    // Codec, crf, preset, size, fps, cfr, fragmented, max_idle_s. `audio` and `start_us` are set
    // by the render (audio exactly when the range had playback).
    VideoOptions video;
    std::optional<int64_t> from_us;  // capture times; default: the session start / end
    std::optional<int64_t> to_us;
    double speed = 1;            // > 1 plays faster; the sound follows like a tape (pitch too)
    std::optional<int> display;  // one display channel; none: every display, side by side
    bool cursor = true;          // draw each display's mouse cursor (its cursor channel)
    bool audio = true;
    bool split_on_resize = false;  // a new file per output size instead of letterboxing
    std::string frames_dir;        // PNG per state (at most `fps` a second), if set
    std::string contact_sheet;     // PNG grid of states evenly spaced over the range, if set
    uint32_t sheet_columns = 4;
    uint32_t sheet_rows = 3;
    // Called now and then from the rendering thread.
    std::function<void(const RenderProgress&)> progress;
    // Set (e.g. from a SIGINT handler) to stop early: what was rendered is finished into
    // playable files.
    const std::atomic<bool>* cancel = nullptr;
};

struct RenderedVideo {
    std::string path;
    uint32_t width = 0;
    uint32_t height = 0;
    int64_t from_us = 0;  // capture-time span it covers
    int64_t to_us = 0;
    SinkStats stats;
};

struct RenderResult {
    std::vector<RenderedVideo> videos;  // one, or one per size with split_on_resize
    VideoCodec codec = VideoCodec::Auto;
    Chroma chroma = Chroma::Yuv420;
    std::optional<SinkStats> frames;  // PNG frames, when asked for
    std::string contact_sheet;        // path, when written
    uint32_t sheet_frames = 0;
    std::vector<int> displays;  // display channels shown, left to right
    int64_t session_start_us = 0;
    int64_t from_us = 0;  // the range rendered (to_us: where it stopped)
    int64_t to_us = 0;
    double speed = 1;
    bool interrupted = false;
    uint64_t states = 0;         // screen states pushed
    uint64_t states_unsure = 0;  // of which had possibly wrong pixels
    bool audio = false;          // an audio track was written
    uint64_t audio_packets = 0;
    uint64_t replay_issues = 0;         // see `spicetap replay --stats`
    std::vector<std::string> warnings;  // audio trouble, ...
};

// The checks that need no session: ranges of numbers, container and codec, option clashes.
// render_session makes them too; a CLI calls this first to tell usage errors from data errors.
Result<void> check_render_options(const RenderOptions& options);

Result<RenderResult> render_session(const log::SessionLogReader& reader,
                                    const RenderOptions& options);

// "out.mp4" -> "out-2.mp4": the name of the n-th file (n >= 2) of a split export.
std::string split_part_path(const std::string& path, int n);

// One JSON object (no trailing newline).
std::string render_result_json(const RenderResult& result);

}  // namespace spicetap::video
