// The state one display channel keeps, as spice-gtk's channel-display.c keeps it: surfaces
// (primary and off-screen), the palette cache, video streams, monitors config and the mark; plus
// what a passive replay adds: per surface, the region whose pixels are possibly wrong because a
// message could not be applied exactly (cleared again when a later draw covers it for sure).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "decode/channels/display_channel.h"
#include "decode/codec/palette_cache.h"
#include "decode/codec/video_stream_decoder.h"
#include "replay/canvas/surface.h"
#include "replay/checkpoint.h"
#include "replay/image_source.h"
#include "replay/mm_clock.h"
#include "replay/region.h"
#include "replay/replay_report.h"

namespace spicetap::replay {

// Where the message being applied came from, for issues.
struct MessageContext {
    int64_t ts_us = 0;
    int64_t connection = 0;
    int channel_id = -1;
    uint16_t msg_type = 0;
    size_t event = 0;  // index of the message in the replay's event list
    // The full header's serial; under the mini header the server message's 1-based position on
    // its connection, which is the serial the server counted but did not send.
    uint64_t serial = 0;
};

// Collects statistics and issues for the whole replay.
class ReplayRecorder {
public:
    void issue(const MessageContext& ctx, std::string kind, std::string text);
    // A primary surface changed at ctx.ts_us.
    void primary_changed(const MessageContext& ctx);

    ReplayStats stats;
    std::vector<ReplayIssue> issues;
    size_t max_issues = 100000;  // beyond this only the per-kind counts grow

    // Checkpoints. Issues are not copied into each checkpoint: the replay is deterministic, so
    // the issues up to a checkpoint are a prefix of the longest list ever recorded, which is
    // kept aside when a seek goes back.
    void save(StateWriter& w) const;
    Result<void> load(ByteReader& r);
    // Back to the start of the session (the issues seen so far are kept aside).
    void restart();

private:
    std::optional<int64_t> last_update_us_;
    std::vector<ReplayIssue> longest_;
};

class DisplayState {
public:
    // `clock` is the session's multimedia clock (kept by the replay from the main channel):
    // video frames are shown when it reaches their multi_media_time, as spice-gtk shows them.
    DisplayState(int channel_id, ImageSource& images, ReplayRecorder& recorder,
                 const MmClock& clock);
    ~DisplayState();
    DisplayState(const DisplayState&) = delete;
    DisplayState& operator=(const DisplayState&) = delete;

    // Applies one server message. Returns true when it was applied exactly (nothing possibly
    // wrong came of it).
    bool apply(const channels::display::ServerMessage& msg, const MessageContext& ctx);

    // Shows the video frames that are due at or before capture time t_us (and drops those the
    // client would drop as too late). Called with a time that never goes back.
    void present_until(int64_t t_us);

    // Video frames received but not yet shown (their multimedia time is still ahead).
    size_t pending_frames() const;
    // The capture time at which present_until() next has something to do, if any.
    std::optional<int64_t> next_due() const;

    // Something the replay cannot see changed this channel (a capture gap, a message cut short,
    // an undecodable message): every surface becomes possibly wrong.
    void mark_all_unsure();

    int channel_id() const { return channel_id_; }

    const canvas::Surface* surface(uint32_t id) const;

    std::optional<uint32_t> primary_id() const { return primary_; }

    const canvas::Surface* primary() const;
    const PixelRegion* unsure(uint32_t surface_id) const;

    bool mark() const { return mark_; }

    const std::vector<channels::display::Head>& monitors() const { return monitors_; }

    // Grows whenever the primary surface's pixels may have changed, or it came or went: a
    // consumer that saw version v and sees v again knows the screen is unchanged.
    uint64_t primary_version() const { return primary_version_; }

    size_t stream_count() const { return streams_.size(); }

    // Checkpoints: the whole channel state as bytes, and back. A live stream's decoder cannot be
    // copied; `refeed` rebuilds it from the frames it was given since STREAM_CREATE (event
    // indices; none for MJPEG, whose frames are independent JPEGs).
    using Refeed = std::function<Result<void>(uint32_t stream_id, const std::vector<size_t>& events,
                                              codec::VideoStreamDecoder& decoder)>;
    void save(StateWriter& w) const;
    Result<void> load(ByteReader& r, const Refeed& refeed);

private:
    struct SurfaceSlot {
        canvas::Surface surface;
        PixelRegion unsure;
    };
    struct Stream;
    struct PendingFrame;

    SurfaceSlot* slot(uint32_t id);
    void primary_touched(const MessageContext& ctx);
    ImageSource::SurfaceLookup lookup() const;

    // Shared epilogue of every draw: bookkeeping of damage and of the unsure region.
    enum class Effect { Overwrites, ReadsDest };
    bool finish_draw(const MessageContext& ctx, uint32_t surface_id, const canvas::Rect& box,
                     const canvas::Clip& clip, const Result<canvas::Damage>& result, Effect effect,
                     const std::vector<const ResolvedImage*>& sources, const char* name);
    bool fail_draw(const MessageContext& ctx, uint32_t surface_id, const canvas::Rect& box,
                   const canvas::Clip& clip, const std::string& kind, const std::string& text);

    template <typename Op>
    bool draw(const Op& op, const MessageContext& ctx);

    bool surface_create(const channels::display::SurfaceCreate& m, const MessageContext& ctx);
    bool surface_destroy(const channels::display::SurfaceDestroy& m, const MessageContext& ctx);
    bool stream_create(const channels::display::StreamCreate& m, const MessageContext& ctx);
    bool stream_frame(uint32_t id, ByteView data, uint32_t mm_time,
                      const std::optional<canvas::Rect>& sized_dest, const MessageContext& ctx);
    bool stream_clip(const channels::display::StreamClip& m, const MessageContext& ctx);
    void stream_destroy(uint32_t id);
    void queue_frame(Stream& st, PendingFrame frame);
    void present(uint32_t id, Stream& st, int64_t t_us);
    void show_frame(uint32_t id, Stream& st, PendingFrame& frame, int64_t at_us);
    void drop_pending(Stream& st);

    int channel_id_;
    ImageSource& images_;
    ReplayRecorder& rec_;
    const MmClock& clock_;
    std::map<uint32_t, SurfaceSlot> surfaces_;
    std::optional<uint32_t> primary_;
    codec::PaletteCache palettes_;
    std::map<uint32_t, std::unique_ptr<Stream>> streams_;
    std::vector<channels::display::Head> monitors_;
    bool mark_ = false;
    uint64_t primary_version_ = 0;
};

}  // namespace spicetap::replay
