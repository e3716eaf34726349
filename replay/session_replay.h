// SessionReplay: a headless SPICE client over a session log. It walks the display channels'
// messages (and the capture gaps in them) in capture-time order, keeps the state spice-gtk keeps
// (surfaces, caches, GLZ window, streams per display channel; the image cache and GLZ window
// shared by the session), and can show any display's primary surface at the current time.
// Whatever it cannot apply is reported (ReplayIssue) and the pixels concerned are marked
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
#include "replay/canvas/surface.h"
#include "replay/display_state.h"
#include "replay/image_source.h"
#include "replay/region.h"
#include "replay/replay_report.h"

namespace spicetap::replay {

// Every image operand the replay resolves, with the message that carried it.
using ImageMessageObserver = std::function<void(const MessageContext&, const ImageEvent&)>;

class SessionReplay {
public:
    // Reads the message index and gaps of the log's display connections. The reader must
    // outlive the replay.
    static Result<std::unique_ptr<SessionReplay>> open(const log::SessionLogReader& reader);
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
    // The state at t_us, going back to the start when t_us is earlier than now.
    Result<void> seek(int64_t t_us);

    // Capture time of the last applied message (the session start before any).
    int64_t now_us() const;
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

    const ReplayStats& stats() const;
    const std::vector<ReplayIssue>& issues() const;
    ReplayReport report() const;

private:
    struct Impl;
    explicit SessionReplay(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace spicetap::replay
