// SessionReplay: a headless SPICE client over a session log. It walks the display and cursor
// channels' messages (and the capture gaps in them) in capture-time order, keeps the state
// spice-gtk keeps (surfaces, caches, GLZ window, streams per display channel; the image cache and
// GLZ window shared by the session), and can show any display's primary surface at the current
// time. Whatever it cannot apply is reported (ReplayIssue) and the pixels concerned are marked
// possibly wrong until a later draw covers them for sure.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "capture/log/session_log.h"
#include "decode/wire/result.h"
#include "replay/canvas/cursor.h"
#include "replay/canvas/surface.h"
#include "replay/display_state.h"
#include "replay/image_source.h"
#include "replay/region.h"
#include "replay/replay_report.h"

namespace spicetap::replay {

class CursorState;
class DisplayState;
// Every image operand the replay resolves, with the message that carried it.
using ImageMessageObserver = std::function<void(const MessageContext&, const ImageEvent&)>;

struct ReplayOptions {
    // Checkpoints of the whole state, taken on the first pass over the session every
    // checkpoint_interval_us of session time or checkpoint_bytes of server traffic (whichever
    // comes first); seek() starts from the last one before its target.
    bool checkpoints = true;
    int64_t checkpoint_interval_us = 10'000'000;
    uint64_t checkpoint_bytes = uint64_t{32} << 20;
    // Compressed checkpoints kept in memory; older ones go to an anonymous temporary file.
    size_t checkpoint_memory = size_t{64} << 20;
};

struct CheckpointStats {
    size_t count = 0;
    size_t memory_bytes = 0;     // compressed, in memory
    uint64_t spilled_bytes = 0;  // compressed, in the temporary file
    uint64_t raw_bytes = 0;      // before compression
    uint64_t taken = 0;
    uint64_t restores = 0;
    double save_ms = 0;
    double restore_ms = 0;
};

class SessionReplay {
public:
    // Reads the message index and gaps of the log's display and cursor connections. The reader
    // must outlive the replay.
    static Result<std::unique_ptr<SessionReplay>> open(const log::SessionLogReader& reader,
                                                       const ReplayOptions& options = {});
    ~SessionReplay();
    SessionReplay(const SessionReplay&) = delete;
    SessionReplay& operator=(const SessionReplay&) = delete;

    // Called for every image operand from now on (also after a seek back to the start).
    void set_image_observer(ImageMessageObserver observer);

    // Applies the next message (or gap). False at the end of the session. An error is returned
    // only when the log itself cannot be read; bad SPICE data becomes issues.
    Result<bool> step();
    // Applies every message captured at or before t_us.
    Result<void> run_until(int64_t t_us);
    Result<void> run_to_end();
    // The state at t_us (as run_until(t_us) from the start would leave it), from the nearest
    // checkpoint at or before t_us when that is closer than where the replay is now.
    Result<void> seek(int64_t t_us);

    CheckpointStats checkpoint_stats() const;
    size_t event_count() const;  // messages and gaps in the walk
    size_t next_event() const;   // how many of them are applied

    // Capture time of the last applied message (the session start before any).
    int64_t now_us() const;
    // Capture time of what step() applies next: a message, a gap, or a video frame that comes
    // due (frames show at their multimedia time); nullopt at the end.
    std::optional<int64_t> next_event_us() const;
    int64_t start_us() const;
    int64_t end_us() const;
    bool at_end() const;

    // Display channel ids seen in the log, ascending.
    std::vector<int> displays() const;
    // The primary surface of display `channel_id` now, or null when it has none.
    const canvas::Surface* primary(int channel_id) const;
    // Its possibly-wrong pixels (empty region when all are exact).
    PixelRegion primary_unsure(int channel_id) const;
    const DisplayState* display(int channel_id) const;

    // The cursor over display `channel_id` now (its cursor channel has the same id): picture,
    // hot spot, position, visibility; nullopt when no cursor channel or no shape yet.
    std::optional<canvas::CursorView> cursor(int channel_id) const;
    const CursorState* cursor_state(int channel_id) const;
    // A copy of display `channel_id`'s primary surface, with the cursor drawn over it when
    // `with_cursor` (and it is visible); nullopt when the display has no primary surface.
    std::optional<canvas::Surface> frame(int channel_id, bool with_cursor) const;

    const ReplayStats& stats() const;
    const std::vector<ReplayIssue>& issues() const;
    ReplayReport report() const;

private:
    struct Impl;
    explicit SessionReplay(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace spicetap::replay
