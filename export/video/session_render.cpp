// The render loop. Events are applied one capture instant at a time; after each instant the
// primary versions of the shown displays tell whether the screen changed. A change is pushed at
// once when the previous push is at least one frame interval old, otherwise it waits (and later
// changes replace it) until the next instant past that interval: a throttle with a trailing
// edge, so bursts cost one copy per frame and the last state of a burst is the one shown.
// Audio is handed to the writer just before each picture, so both reach it in capture order.
#include "export/video/session_render.h"

#include <fmt/core.h>
#include <spice/enums.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <span>

#include "decode/channels/display_channel.h"
#include "decode/codec/image_cache.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "export/video/contact_sheet.h"
#include "export/video/png_frames.h"
#include "export/video/session_audio.h"
#include "replay/canvas/cursor.h"
#include "replay/display_state.h"
#include "replay/session_replay.h"

namespace spicetap::video {

namespace {

namespace display = channels::display;

struct ScreenSize {
    uint32_t width = 0;
    uint32_t height = 0;

    bool operator==(const ScreenSize&) const = default;
};

// The primary size each display has at `at_us` (or, if none yet, its first one later), read
// from SURFACE_CREATE / MODE alone without replaying: the output size must be known before the
// first picture, and the first picture may come before a second monitor's primary exists.
Result<std::map<int, ScreenSize>> primary_sizes(const log::SessionLogReader& reader, int64_t at_us,
                                                int64_t to_us) {
    std::map<int, ScreenSize> before, after;
    for (const log::ConnectionInfo& c : reader.connections()) {
        if (c.channel_type != SPICE_CHANNEL_DISPLAY) {
            continue;
        }
        const int id = std::max(c.channel_id, 0);
        const wire::ChannelCaps caps{c.client_common_caps, c.client_channel_caps,
                                     c.server_common_caps, c.server_channel_caps};
        log::SessionLogReader::MessageFilter filter;
        filter.connection = c.id;
        filter.to_us = to_us;
        Result<void> failed;
        auto ok = reader.for_each_message(filter, [&](const log::MessageRecord& m) {
            if (m.dir != wire::Direction::ServerToClient ||
                (m.type != display::SurfaceCreate::kType && m.type != display::Mode::kType)) {
                return true;
            }
            if (m.ts_us > at_us && after.contains(id)) {
                return false;
            }
            auto body = reader.read_stream(m.connection, m.dir, m.offset + m.header_size, m.size);
            if (!body) {
                if (body.error().code == Errc::Io || body.error().code == Errc::Corrupt) {
                    failed = body.error();
                    return false;
                }
                return true;  // cut short: the replay reports it
            }
            auto msg = display::parse_server(m.type, *body, caps);
            if (!msg) {
                return true;
            }
            std::optional<ScreenSize> size;
            if (const auto* sc = std::get_if<display::SurfaceCreate>(&*msg)) {
                if (sc->flags & 1) {
                    size = ScreenSize{sc->width, sc->height};
                }
            } else if (const auto* mode = std::get_if<display::Mode>(&*msg)) {
                size = ScreenSize{mode->x_res, mode->y_res};
            }
            if (size && size->width > 0 && size->height > 0) {
                (m.ts_us <= at_us ? before : after)[id] = *size;
                if (m.ts_us > at_us) {
                    return false;
                }
            }
            return true;
        });
        if (!ok) {
            return ok.error();
        }
        if (!failed) {
            return failed.error();
        }
    }
    for (const auto& [id, size] : after) {
        before.try_emplace(id, size);
    }
    return before;
}

// VideoWriter's allowance: an audio packet starting within this of the previous one's end
// follows it directly (capture times jitter).
constexpr int64_t kAudioJitterUs = 30'000;

uint32_t even_up(uint32_t v) {
    return (v + 1) & ~1u;
}

// The screen as the viewer sees it: the shown displays' primaries side by side, top-aligned, in
// channel order, each with its cursor drawn over it. A single 32-bit primary with no cursor on it
// is shown without a copy.
class Screen {
public:
    Screen(std::vector<int> displays, bool cursor)
        : displays_(std::move(displays)), cursor_(cursor), seen_(displays_.size()) {}

    const std::vector<int>& displays() const { return displays_; }

    // True when something visible changed since the last call: a primary's version (versions
    // only grow) or, with the cursor shown, its shape, position or visibility.
    bool changed(const replay::SessionReplay& r) {
        bool any = false;
        for (size_t i = 0; i < displays_.size(); ++i) {
            Seen now;
            if (const replay::DisplayState* d = r.display(displays_[i])) {
                now.version = d->primary_version();
            }
            if (cursor_) {
                if (auto c = r.cursor(displays_[i]); c && c->visible && c->image) {
                    now.cursor_image = c->image.get();
                    now.cursor_at = c->box();
                }
            }
            if (!(now == seen_[i])) {
                any = true;
                seen_[i] = now;
            }
        }
        return any;
    }

    bool any_primary(const replay::SessionReplay& r) const {
        return std::any_of(displays_.begin(), displays_.end(),
                           [&](int id) { return r.primary(id) != nullptr; });
    }

    bool unsure(const replay::SessionReplay& r) const {
        return std::any_of(displays_.begin(), displays_.end(), [&](int id) {
            if (!r.primary_unsure(id).empty()) {
                return true;
            }
            auto c = cursor_ ? r.cursor(id) : std::nullopt;
            return c && c->visible && !c->exact;
        });
    }

    // The current picture; valid until the next call. Black of the last size when no display
    // has a primary (the client's window is empty then).
    Result<codec::PixelView> compose(const replay::SessionReplay& r) {
        if (displays_.size() == 1) {
            const canvas::Surface* p = r.primary(displays_.front());
            if (p && is_32bit(*p) && !cursor_over(r, displays_.front())) {
                last_ = ScreenSize{p->width(), p->height()};
                return codec::PixelView{const_cast<uint8_t*>(p->row(0)), p->width(), p->height(),
                                        p->stride(), codec::PixelFormat::Xrgb32};
            }
        }
        uint32_t w = 0, h = 0;
        for (int id : displays_) {
            if (const canvas::Surface* p = r.primary(id)) {
                w += p->width();
                h = std::max(h, p->height());
            }
        }
        if (w == 0) {
            w = last_.width ? last_.width : 2;
            h = last_.height ? last_.height : 2;
        }
        last_ = ScreenSize{w, h};
        if (!canvas_ || canvas_->width() != w || canvas_->height() != h) {
            auto s = canvas::Surface::create(0, w, h, canvas::SurfaceFormat::Rgb32);
            if (!s) {
                return s.error();
            }
            canvas_.emplace(std::move(*s));
        }
        // Black where no display covers the canvas; one display covers it whole, and clearing
        // it would cost a pass over every pixel per state for nothing.
        const canvas::Surface* only =
            displays_.size() == 1 ? r.primary(displays_.front()) : nullptr;
        if (!(only && only->width() == w && only->height() == h)) {
            for (uint32_t y = 0; y < h; ++y) {
                std::memset(canvas_->row(y), 0, canvas_->bytes_per_row());
            }
        }
        int32_t x0 = 0;
        for (int id : displays_) {
            const canvas::Surface* p = r.primary(id);
            if (!p) {
                continue;
            }
            const size_t row = size_t{p->width()} * 4;
            if (is_32bit(*p)) {
                for (uint32_t y = 0; y < p->height(); ++y) {
                    std::memcpy(canvas_->row(y) + size_t(x0) * 4, p->row(y), row);
                }
            } else {
                p->read_argb32(argb_);
                for (uint32_t y = 0; y < p->height(); ++y) {
                    std::memcpy(canvas_->row(y) + size_t(x0) * 4,
                                argb_.data() + size_t{y} * p->width(), row);
                }
            }
            if (cursor_) {
                if (auto c = r.cursor(id); c && c->visible && c->image) {
                    // Drawn within its own display only, as the client's window clips it.
                    canvas::CursorView at = *c;
                    at.position.x += x0;
                    const canvas::Rect display{x0, 0, x0 + int32_t(p->width()),
                                               int32_t(p->height())};
                    const canvas::Rect box = at.box();
                    if (displays_.size() == 1 ||
                        (box.left >= display.left && box.right <= display.right &&
                         box.bottom <= display.bottom)) {
                        canvas::compose_cursor(*canvas_, at);
                    } else {
                        compose_clipped(at, display);
                    }
                }
            }
            x0 += int32_t(p->width());
        }
        return codec::PixelView{canvas_->row(0), w, h, canvas_->stride(),
                                codec::PixelFormat::Xrgb32};
    }

private:
    struct Seen {
        uint64_t version = 0;
        const void* cursor_image = nullptr;
        canvas::Rect cursor_at;

        bool operator==(const Seen&) const = default;
    };

    static bool is_32bit(const canvas::Surface& s) {
        return s.format() == canvas::SurfaceFormat::Rgb32 ||
               s.format() == canvas::SurfaceFormat::Argb32;
    }

    bool cursor_over(const replay::SessionReplay& r, int id) const {
        if (!cursor_) {
            return false;
        }
        auto c = r.cursor(id);
        return c && c->visible && c->image;
    }

    // A cursor that sticks out of its display into the next one: drawn on a scratch copy of
    // the display's area, then copied back inside the display only.
    void compose_clipped(const canvas::CursorView& at, const canvas::Rect& display) {
        const uint32_t w = uint32_t(display.right - display.left);
        const uint32_t h = uint32_t(display.bottom - display.top);
        auto scratch = canvas::Surface::create(0, w, h, canvas::SurfaceFormat::Rgb32);
        if (!scratch) {
            return;
        }
        for (uint32_t y = 0; y < h; ++y) {
            std::memcpy(scratch->row(y), canvas_->row(y) + size_t(display.left) * 4, size_t{w} * 4);
        }
        canvas::CursorView local = at;
        local.position.x -= display.left;
        canvas::compose_cursor(*scratch, local);
        for (uint32_t y = 0; y < h; ++y) {
            std::memcpy(canvas_->row(y) + size_t(display.left) * 4, scratch->row(y), size_t{w} * 4);
        }
    }

    std::vector<int> displays_;
    bool cursor_;
    std::vector<Seen> seen_;
    ScreenSize last_;
    std::optional<canvas::Surface> canvas_;
    std::vector<uint32_t> argb_;
};

codec::DecodedImage copy_picture(const codec::PixelView& v) {
    auto img = codec::DecodedImage::allocate(v.width, v.height, codec::PixelFormat::Xrgb32);
    for (uint32_t y = 0; y < v.height; ++y) {
        std::memcpy(img.pixels.data() + size_t{y} * img.stride, v.row(y), size_t{v.width} * 4);
    }
    return img;
}

class Renderer {
public:
    Renderer(const log::SessionLogReader& reader, const RenderOptions& opt)
        : reader_(reader), opt_(opt) {}

    Result<RenderResult> run();

private:
    int64_t out_time(int64_t t) const {
        return from_ + std::llround(double(t - from_) / opt_.speed);
    }

    Result<void> open_video(uint32_t width, uint32_t height, int64_t t);
    Result<void> finish_video(int64_t t);
    Result<void> push_audio_until(int64_t t);
    Result<void> emit(int64_t t);
    void snapshot(int64_t sample_t);
    void report_progress(int64_t t);

    const log::SessionLogReader& reader_;
    const RenderOptions& opt_;
    RenderResult res_;
    int64_t from_ = 0;
    int64_t to_ = 0;
    int64_t interval_ = 0;  // capture time between pushes
    std::unique_ptr<replay::SessionReplay> replay_;
    std::unique_ptr<Screen> screen_;
    std::unique_ptr<PlaybackAudio> audio_;
    std::unique_ptr<VideoWriter> video_;
    ScreenSize video_size_;
    std::unique_ptr<PngFrameWriter> frames_;
    std::vector<int64_t> sheet_times_;
    std::vector<codec::DecodedImage> sheet_pictures_;
    std::vector<int64_t> sheet_taken_;
    size_t sheet_next_ = 0;
    int64_t last_emit_ = 0;
    bool emitted_ = false;
    int64_t sound_end_ = INT64_MIN / 2;  // output time where the sound pushed so far ends
};

Result<void> Renderer::open_video(uint32_t width, uint32_t height, int64_t t) {
    VideoOptions vo = opt_.video;
    vo.audio = res_.audio;
    vo.start_us = out_time(t);
    if (vo.size.width == 0) {
        vo.size = Size{even_up(width), even_up(height)};
    }
    const int part = static_cast<int>(res_.videos.size()) + 1;
    const std::string path = part == 1 ? opt_.output : split_part_path(opt_.output, part);
    auto w = VideoWriter::open(path, vo);
    if (!w) {
        return w.error();
    }
    video_ = std::move(*w);
    res_.codec = video_->codec();
    res_.chroma = vo.chroma;
    video_size_ = ScreenSize{width, height};
    res_.videos.push_back(RenderedVideo{path, vo.size.width, vo.size.height, t, t, {}});
    return {};
}

Result<void> Renderer::finish_video(int64_t t) {
    if (!video_) {
        return {};
    }
    auto stats = video_->finish(out_time(t));
    video_.reset();
    if (!stats) {
        return stats.error();
    }
    res_.videos.back().stats = *stats;
    res_.videos.back().to_us = t;
    return {};
}

Result<void> Renderer::push_audio_until(int64_t t) {
    if (!audio_ || !res_.audio) {
        return {};
    }
    return audio_->take_until(t, [&](const PlaybackPacket& p) -> Result<void> {
        ++res_.audio_packets;
        if (!video_) {
            return {};
        }
        // Faster or slower, like a tape: the same samples at a scaled rate.
        const int rate = static_cast<int>(std::lround(p.sample_rate * opt_.speed));
        const int64_t at = out_time(p.t_us);
        // Servers send sound in bursts, ahead of time; the writer lays packets that touch end
        // to end (as a client's buffer plays them), so the sound can run past the range.
        // Whatever would is cut, so the file ends with the range.
        const int64_t start = at - sound_end_ <= kAudioJitterUs ? std::max(at, sound_end_) : at;
        const int64_t room_us = out_time(to_) - start;
        if (room_us <= 0) {
            return {};
        }
        const size_t channels = static_cast<size_t>(p.channels);
        const size_t frames = p.samples.size() / channels;
        const size_t keep = std::min(frames, static_cast<size_t>(room_us * rate / 1'000'000));
        sound_end_ = start + static_cast<int64_t>(keep) * 1'000'000 / rate;
        if (keep == 0) {
            return {};
        }
        return video_->push_audio(std::span(p.samples.data(), keep * channels), p.channels, rate,
                                  at);
    });
}

Result<void> Renderer::emit(int64_t t) {
    auto composed = screen_->compose(*replay_);
    if (!composed) {
        return composed.error();
    }
    const codec::PixelView picture = *composed;
    if (!opt_.output.empty()) {
        const ScreenSize size{picture.width, picture.height};
        if (video_ && opt_.split_on_resize && !(size == video_size_)) {
            // The sound up to here belongs to the part that ends here.
            if (auto ok = push_audio_until(t); !ok) {
                return ok;
            }
            if (auto ok = finish_video(t); !ok) {
                return ok;
            }
        }
        if (!video_) {
            if (auto ok = open_video(size.width, size.height, res_.videos.empty() ? from_ : t);
                !ok) {
                return ok;
            }
        }
    }
    if (auto ok = push_audio_until(t); !ok) {
        return ok;
    }
    if (video_) {
        if (auto ok = video_->push_frame(picture, out_time(t)); !ok) {
            return ok;
        }
    }
    if (frames_) {
        if (auto ok = frames_->push_frame(picture, out_time(t)); !ok) {
            return ok;
        }
    }
    ++res_.states;
    if (screen_->unsure(*replay_)) {
        ++res_.states_unsure;
    }
    last_emit_ = t;
    emitted_ = true;
    report_progress(t);
    return {};
}

void Renderer::snapshot(int64_t sample_t) {
    if (!screen_->any_primary(*replay_)) {
        return;
    }
    auto composed = screen_->compose(*replay_);
    if (!composed) {
        return;
    }
    sheet_pictures_.push_back(copy_picture(*composed));
    sheet_taken_.push_back(sample_t);
}

void Renderer::report_progress(int64_t t) {
    if (opt_.progress) {
        opt_.progress(RenderProgress{std::clamp<int64_t>(t - from_, 0, to_ - from_), to_ - from_,
                                     res_.states});
    }
}

Result<RenderResult> Renderer::run() {
    const log::SessionInfo& si = reader_.session();
    from_ = opt_.from_us.value_or(si.start_us);
    to_ = opt_.to_us.value_or(si.end_us);
    res_.session_start_us = si.start_us;
    res_.speed = opt_.speed;
    if (to_ <= from_) {
        return make_error(
            Errc::BadValue, 0,
            fmt::format("the range {:.3f} s .. {:.3f} s is empty",
                        double(from_ - si.start_us) / 1e6, double(to_ - si.start_us) / 1e6));
    }
    if (auto ok = check_render_options(opt_); !ok) {
        return ok.error();
    }
    res_.from_us = from_;
    res_.to_us = to_;
    const double fps = opt_.video.fps;
    interval_ = std::llround(1e6 / fps * opt_.speed);

    replay::ReplayOptions ro;
    ro.checkpoints = false;  // one pass forward: nothing to seek back to
    auto replay = replay::SessionReplay::open(reader_, ro);
    if (!replay) {
        return replay.error();
    }
    replay_ = std::move(*replay);
    const std::vector<int> all = replay_->displays();
    if (all.empty()) {
        return make_error(Errc::BadValue, 0, "the session has no display channel: nothing to show");
    }
    std::vector<int> shown = all;
    if (opt_.display) {
        if (std::find(all.begin(), all.end(), *opt_.display) == all.end()) {
            std::string ids;
            for (int id : all) {
                ids += (ids.empty() ? "" : ", ") + std::to_string(id);
            }
            return make_error(
                Errc::BadValue, 0,
                fmt::format("no display {} in the session (displays: {})", *opt_.display, ids));
        }
        shown = {*opt_.display};
    }
    res_.displays = shown;
    screen_ = std::make_unique<Screen>(shown, opt_.cursor);

    if (opt_.audio) {
        auto audio = PlaybackAudio::open(reader_, from_, to_);
        if (!audio) {
            return audio.error();
        }
        audio_ = std::move(*audio);
        res_.audio = audio_->has_playback() && !opt_.output.empty();
        const double rate = 48000 * opt_.speed;
        if (res_.audio && (rate < 1000 || rate > 384000)) {
            res_.audio = false;
            res_.warnings.push_back(
                fmt::format("no audio track: at speed {} the sound would be outside what the "
                            "encoder takes (1 .. 384 kHz)",
                            opt_.speed));
        }
    }
    if (!opt_.output.empty() && !opt_.split_on_resize) {
        // The size of the whole range, known up front (letterboxing fits later sizes into it).
        auto sizes = primary_sizes(reader_, from_, to_);
        if (!sizes) {
            return sizes.error();
        }
        uint32_t w = 0, h = 0;
        for (int id : shown) {
            if (auto it = sizes->find(id); it != sizes->end()) {
                w += it->second.width;
                h = std::max(h, it->second.height);
            }
        }
        if (w == 0 && opt_.video.size.width == 0) {
            return make_error(Errc::BadValue, 0,
                              "no primary surface is ever created on the displays shown: nothing "
                              "to render");
        }
        if (auto ok = open_video(w, h, from_); !ok) {
            return ok.error();
        }
    }
    if (!opt_.frames_dir.empty()) {
        PngFramesOptions po;
        po.max_fps = fps;
        po.start_us = from_;
        auto f = PngFrameWriter::open(opt_.frames_dir, po);
        if (!f) {
            return f.error();
        }
        frames_ = std::move(*f);
    }
    if (!opt_.contact_sheet.empty()) {
        const uint32_t n = opt_.sheet_columns * opt_.sheet_rows;
        // The middle of each of n equal slices of the range.
        for (uint32_t i = 0; i < n; ++i) {
            sheet_times_.push_back(from_ + (to_ - from_) * (2 * int64_t{i} + 1) / (2 * int64_t{n}));
        }
    }

    // The state at `from`: everything before it applied, nothing pushed.
    if (auto ok = replay_->run_until(from_); !ok) {
        return ok.error();
    }
    screen_->changed(*replay_);
    if (screen_->any_primary(*replay_)) {
        if (auto ok = emit(from_); !ok) {
            return ok.error();
        }
    }
    bool dirty = false;
    int64_t dirty_t = 0;
    uint64_t instants = 0;
    int64_t stop = to_;
    for (;;) {
        if (opt_.cancel && opt_.cancel->load(std::memory_order_relaxed)) {
            res_.interrupted = true;
            stop = std::clamp(replay_->now_us(), from_, to_);
            break;
        }
        const std::optional<int64_t> next = replay_->next_event_us();
        if (!next || *next > to_) {
            break;
        }
        const int64_t g = std::max(*next, from_);
        if (dirty && g >= last_emit_ + interval_) {
            if (auto ok = emit(dirty_t); !ok) {
                return ok.error();
            }
            dirty = false;
        }
        while (sheet_next_ < sheet_times_.size() && sheet_times_[sheet_next_] < g) {
            snapshot(sheet_times_[sheet_next_++]);
        }
        while (replay_->next_event_us() == next) {
            if (auto ok = replay_->step(); !ok) {
                return ok.error();
            }
        }
        if (screen_->changed(*replay_)) {
            if (screen_->any_primary(*replay_) || emitted_) {
                dirty = true;
                dirty_t = g;
                if (!emitted_ || g >= last_emit_ + interval_) {
                    if (auto ok = emit(g); !ok) {
                        return ok.error();
                    }
                    dirty = false;
                }
            }
        }
        if (++instants % 16 == 0) {
            report_progress(g);
        }
    }
    if (dirty) {
        if (auto ok = emit(dirty_t); !ok) {
            return ok.error();
        }
    }
    while (sheet_next_ < sheet_times_.size() && sheet_times_[sheet_next_] <= stop) {
        snapshot(sheet_times_[sheet_next_++]);
    }
    if (auto ok = push_audio_until(stop); !ok) {
        return ok.error();
    }
    res_.to_us = stop;
    if (auto ok = finish_video(stop); !ok) {
        return ok.error();
    }
    if (frames_) {
        auto stats = frames_->finish(out_time(stop));
        if (!stats) {
            return stats.error();
        }
        res_.frames = *stats;
    }
    if (!sheet_pictures_.empty()) {
        std::vector<SheetFrame> sheet;
        for (size_t i = 0; i < sheet_pictures_.size(); ++i) {
            sheet.push_back(SheetFrame{sheet_pictures_[i].view(), sheet_taken_[i] - si.start_us});
        }
        ContactSheetOptions co;
        co.columns = opt_.sheet_columns;
        if (auto ok = write_contact_sheet(opt_.contact_sheet, sheet, co); !ok) {
            return ok.error();
        }
        res_.contact_sheet = opt_.contact_sheet;
        res_.sheet_frames = static_cast<uint32_t>(sheet.size());
    } else if (!opt_.contact_sheet.empty()) {
        res_.warnings.push_back("no contact sheet: no display had a picture at the sample times");
    }
    report_progress(stop);
    res_.replay_issues = replay_->issues().size();
    if (audio_) {
        for (std::string& w : audio_->warnings()) {
            res_.warnings.push_back(std::move(w));
        }
    }
    return std::move(res_);
}

}  // namespace

Result<void> check_render_options(const RenderOptions& o) {
    const auto bad = [](std::string text) {
        return make_error(Errc::BadValue, 0, std::move(text));
    };
    if (o.output.empty() && o.frames_dir.empty() && o.contact_sheet.empty()) {
        return bad("nothing to write: no video, frames or contact sheet");
    }
    if (!(o.speed >= 0.01 && o.speed <= 100)) {
        return bad(fmt::format("speed {} is outside 0.01..100", o.speed));
    }
    if (!(o.video.fps >= 1 && o.video.fps <= 240)) {
        return bad(fmt::format("frame rate {} is outside 1..240", o.video.fps));
    }
    if (o.video.crf > 63) {
        return bad(fmt::format("crf {} is above 63", o.video.crf));
    }
    if (!(o.video.max_idle_s >= 0)) {
        return bad("max idle must be 0 (off) or more seconds");
    }
    if (o.split_on_resize && o.video.size.width != 0) {
        return bad(
            "a fixed output size and a new file per size (split on resize) exclude each "
            "other");
    }
    if (o.split_on_resize && o.output.empty()) {
        return bad("split on resize needs a video output");
    }
    if (!o.contact_sheet.empty() &&
        (o.sheet_columns * o.sheet_rows == 0 || o.sheet_columns * o.sheet_rows > 1000)) {
        return bad("the contact sheet grid must hold 1..1000 pictures");
    }
    if (!o.output.empty()) {
        std::string ext = std::filesystem::path(o.output).extension().string();
        std::transform(ext.begin(), ext.end(), ext.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (ext != ".mp4" && ext != ".webm" && ext != ".mkv") {
            return bad("cannot tell the container of " + o.output +
                       " from its extension: use .mp4, .webm or .mkv");
        }
        const VideoCodec c = o.video.codec;
        const bool vpx = c == VideoCodec::Vp8 || c == VideoCodec::Vp9;
        if ((ext == ".webm" && c != VideoCodec::Auto && !vpx) ||
            (ext == ".mp4" && c == VideoCodec::Vp8)) {
            return bad(fmt::format("{} cannot go into {}", video_codec_name(c), ext));
        }
        if (o.video.fragmented && ext != ".mp4") {
            return bad("fragmented output is for .mp4 only");
        }
        const VideoCodec resolved =
            c != VideoCodec::Auto ? c : (ext == ".webm" ? VideoCodec::Vp9 : VideoCodec::H264);
        if (!o.video.preset.empty() && !is_known_preset(o.video.preset, resolved)) {
            return bad(fmt::format(
                "unknown preset \"{}\" for {} (ultrafast .. veryslow{})", o.video.preset,
                video_codec_name(resolved),
                resolved == VideoCodec::Vp8 || resolved == VideoCodec::Vp9 ? "" : ", placebo"));
        }
        if (c == VideoCodec::Vp8 && o.video.chroma == Chroma::Yuv444) {
            return bad("VP8 has no 4:4:4 profile: use vp9, h264 or h265 for chroma 444");
        }
    }
    return {};
}

Result<RenderResult> render_session(const log::SessionLogReader& reader,
                                    const RenderOptions& options) {
    Renderer r(reader, options);
    return r.run();
}

std::string split_part_path(const std::string& path, int n) {
    const std::filesystem::path p(path);
    return (p.parent_path() /
            (p.stem().string() + "-" + std::to_string(n) + p.extension().string()))
        .string();
}

std::string render_result_json(const RenderResult& r) {
    std::string out;
    JsonWriter w(out);
    const auto rel = [&](int64_t t) { return double(t - r.session_start_us) / 1e6; };
    w.begin_object();
    w.key("videos").begin_array();
    for (const RenderedVideo& v : r.videos) {
        w.begin_object()
            .field("path", v.path)
            .field("codec", video_codec_name(r.codec))
            .field("chroma", chroma_name(r.chroma))
            .field("width", v.width)
            .field("height", v.height)
            .field("from_s", rel(v.from_us))
            .field("to_s", rel(v.to_us))
            .field("duration_s", double(v.stats.duration_us) / 1e6)
            .field("frames", v.stats.frames_out)
            .field("frames_merged", v.stats.frames_merged)
            .field("idle_removed_s", double(v.stats.idle_removed_us) / 1e6)
            .field("bytes", v.stats.bytes)
            .end_object();
    }
    w.end_array();
    if (r.frames) {
        w.field("png_frames", r.frames->frames_out);
    }
    if (!r.contact_sheet.empty()) {
        w.field("contact_sheet", r.contact_sheet).field("sheet_frames", r.sheet_frames);
    }
    w.key("displays").begin_array();
    for (int d : r.displays) {
        w.value(int64_t{d});
    }
    w.end_array();
    w.field("from_s", rel(r.from_us))
        .field("to_s", rel(r.to_us))
        .field("speed", r.speed)
        .field("interrupted", r.interrupted)
        .field("states", r.states)
        .field("states_unsure", r.states_unsure)
        .field("audio", r.audio)
        .field("audio_packets", r.audio_packets)
        .field("replay_issues", r.replay_issues);
    w.key("warnings").begin_array();
    for (const std::string& s : r.warnings) {
        w.value(s);
    }
    w.end_array();
    w.end_object();
    return out;
}

}  // namespace spicetap::video
