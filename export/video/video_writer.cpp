// VideoWriter: a producer half (the caller's thread: time mapping, frame-rate pacing, copying
// pictures) and an encoder half (its own thread: colour conversion, scaling, audio resampling,
// encoding, muxing). They talk through a queue bounded by bytes.
#include "export/video/video_writer.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "export/video/letterbox.h"
#include "decode/codec/ffmpeg_calls.h"  // last: routes the FFmpeg calls above

namespace spicetap::video {

namespace {

constexpr int kAudioRate = 48000;
constexpr int kAudioChannels = 2;
// Capture times of audio packets jitter; a gap shorter than this is jitter, not silence.
constexpr int64_t kAudioGapUs = 30'000;
constexpr AVRational kMicros{1, 1'000'000};
// VFR timestamps are kept in milliseconds: the WebM muxer stores nothing finer anyway.
constexpr AVRational kVfrTimeBase{1, 1000};

enum class Container : uint8_t { Mp4, WebM, Mkv };

DecodeError av_fail(const std::string& call, int err, const std::string& path) {
    return make_error(Errc::Io, 0,
                      call + " failed for " + path + ": " + codec::ffmpeg_error_text(err));
}

struct FormatCloser {
    void operator()(AVFormatContext* f) const {
        if (f != nullptr && f->pb != nullptr && !(f->oformat->flags & AVFMT_NOFILE)) {
            avio_closep(&f->pb);
        }
        avformat_free_context(f);
    }
};

using FormatPtr = std::unique_ptr<AVFormatContext, FormatCloser>;
using CodecPtr = codec::FfmpegPtr<AVCodecContext>;
using FramePtr = codec::FfmpegPtr<AVFrame>;
using PacketPtr = codec::FfmpegPtr<AVPacket>;
using SwsPtr = codec::FfmpegPtr<SwsContext>;
using SwrPtr = codec::FfmpegPtr<SwrContext>;
using FifoPtr = codec::FfmpegPtr<AVAudioFifo>;

Result<Container> container_of(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".mp4") {
        return Container::Mp4;
    }
    if (ext == ".webm") {
        return Container::WebM;
    }
    if (ext == ".mkv") {
        return Container::Mkv;
    }
    return make_error(Errc::Unsupported, 0,
                      "cannot tell the container of " + path + " from its extension \"" + ext +
                          "\": use .mp4, .webm or .mkv");
}

const char* muxer_name(Container c) {
    switch (c) {
        case Container::Mp4:
            return "mp4";
        case Container::WebM:
            return "webm";
        case Container::Mkv:
            return "matroska";
    }
    return "";
}

const char* encoder_name(VideoCodec c) {
    switch (c) {
        case VideoCodec::H264:
            return "libx264";
        case VideoCodec::H265:
            return "libx265";
        case VideoCodec::Vp9:
            return "libvpx-vp9";
        case VideoCodec::Vp8:
            return "libvpx";
        case VideoCodec::Auto:
            break;
    }
    return "";
}

bool is_vpx(VideoCodec c) {
    return c == VideoCodec::Vp8 || c == VideoCodec::Vp9;
}

AVPixelFormat pixel_format_of(Chroma c) {
    return c == Chroma::Yuv444 ? AV_PIX_FMT_YUV444P : AV_PIX_FMT_YUV420P;
}

// x264-style preset names onto libvpx's (deadline, cpu-used), fastest first.
struct VpxSpeed {
    const char* preset;
    const char* deadline;
    int cpu_used;
};

constexpr VpxSpeed kVpxSpeeds[] = {
    {"ultrafast", "realtime", 8}, {"superfast", "realtime", 7}, {"veryfast", "realtime", 6},
    {"faster", "good", 5},        {"fast", "good", 4},          {"medium", "good", 3},
    {"slow", "good", 2},          {"slower", "good", 1},        {"veryslow", "good", 0},
};

const VpxSpeed* vpx_speed(const std::string& preset) {
    for (const auto& s : kVpxSpeeds) {
        if (preset == s.preset) {
            return &s;
        }
    }
    return nullptr;
}

}  // namespace

bool is_known_preset(const std::string& preset, VideoCodec codec) {
    return vpx_speed(preset) != nullptr || (preset == "placebo" && !is_vpx(codec));
}

namespace {

// ---------------------------------------------------------------------------------------------
// The queue between the two halves.

struct Job {
    enum class Kind : uint8_t { Picture, Repeat, Audio, End } kind = Kind::End;
    int64_t t_us = 0;             // output time (relative, idle cut applied)
    std::vector<uint8_t> pixels;  // Picture: BGRX rows, stride width * 4
    uint32_t width = 0;
    uint32_t height = 0;
    std::vector<int16_t> samples;  // Audio
    int channels = 0;
    int rate = 0;

    size_t bytes() const { return pixels.size() + samples.size() * sizeof(int16_t); }
};

class JobQueue {
public:
    explicit JobQueue(size_t limit) : limit_(limit) {}

    // Blocks while the queue holds `limit` bytes or kMaxPictures pictures; one job always fits.
    // A few pictures ahead keep both threads busy (x264 buffers its own look-ahead); more only
    // cost memory that is cold by the time the encoder reads it.
    void push(Job&& job) {
        std::unique_lock lock(mu_);
        const size_t b = job.bytes();
        const bool picture = !job.pixels.empty();
        space_.wait(lock, [&] {
            return jobs_.empty() ||
                   (bytes_ + b <= limit_ && (!picture || pictures_ < kMaxPictures));
        });
        bytes_ += b;
        pictures_ += picture ? 1 : 0;
        jobs_.push_back(std::move(job));
        ready_.notify_one();
    }

    Job pop() {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [&] { return !jobs_.empty(); });
        Job job = std::move(jobs_.front());
        jobs_.pop_front();
        bytes_ -= job.bytes();
        pictures_ -= job.pixels.empty() ? 0 : 1;
        space_.notify_one();
        return job;
    }

    // Picture buffers go round: the encoder hands them back, the producer reuses them. As many
    // are kept as the queue can hold (by bytes): the producer runs up to that far ahead, and a
    // fresh multi-MB buffer per picture cost ~15% of the CPU time in page faults, zeroing and
    // unmapping (perf, QEMU session, 720x400).
    void recycle(std::vector<uint8_t>&& buf) {
        std::lock_guard lock(mu_);
        if (spare_bytes_ + buf.capacity() <= limit_) {
            spare_bytes_ += buf.capacity();
            spare_.push_back(std::move(buf));
        }
    }

    std::vector<uint8_t> buffer(size_t size) {
        std::vector<uint8_t> buf;
        {
            std::lock_guard lock(mu_);
            if (!spare_.empty()) {
                buf = std::move(spare_.back());
                spare_.pop_back();
                spare_bytes_ -= buf.capacity();
            }
        }
        buf.resize(size);
        return buf;
    }

private:
    std::mutex mu_;
    std::condition_variable ready_, space_;
    std::deque<Job> jobs_;
    std::vector<std::vector<uint8_t>> spare_;
    static constexpr size_t kMaxPictures = 6;
    size_t spare_bytes_ = 0;
    size_t bytes_ = 0;
    size_t pictures_ = 0;
    size_t limit_;
};

// ---------------------------------------------------------------------------------------------
// The encoder half. Every libav call happens here (and in open(), before the thread starts).

class Encoder {
public:
    Encoder(std::string path, Container container, VideoCodec codec, const VideoOptions& opt)
        : path_(std::move(path)), container_(container), codec_(codec), opt_(opt) {}

    Result<void> open_file();
    Result<void> start(uint32_t width, uint32_t height);

    bool started() const { return started_; }

    Result<void> picture(const Job& job);
    Result<void> repeat(int64_t t_us);
    Result<void> audio(const Job& job);
    Result<void> end(int64_t end_us);
    // After an error: close the file, keeping what was written.
    void abandon();

    uint64_t frames_out() const { return frames_out_; }

private:
    Result<void> open_video(uint32_t width, uint32_t height);
    Result<void> open_audio();
    Result<void> encode_video(int64_t t_us);
    Result<void> drain_video(bool final);
    Result<void> receive_audio();
    Result<void> write(AVPacket* pkt, AVCodecContext* enc, AVStream* st, const char* what);
    Result<void> reset_resampler(int channels, int rate);
    Result<void> flush_resampler();
    Result<void> add_silence(int64_t samples);
    Result<void> encode_audio_fifo(bool final);

    std::string path_;
    Container container_;
    VideoCodec codec_;
    VideoOptions opt_;

    FormatPtr fmt_;
    bool started_ = false;
    bool header_written_ = false;

    CodecPtr venc_;
    AVStream* vst_ = nullptr;
    FramePtr yuv_;
    SwsPtr sws_;
    uint32_t sws_src_w_ = 0, sws_src_h_ = 0;
    Rect fit_{};
    bool have_picture_ = false;
    int64_t last_pts_ = AV_NOPTS_VALUE;
    std::map<int64_t, int64_t> durations_;  // video pts -> duration, once the next pts is known
    std::deque<PacketPtr> held_;            // encoded video waiting for its duration
    uint64_t frames_out_ = 0;

    CodecPtr aenc_;
    AVStream* ast_ = nullptr;
    SwrPtr swr_;
    int swr_channels_ = 0, swr_rate_ = 0;
    FifoPtr fifo_;
    int64_t audio_pos_ = 0;  // samples (output rate) that entered the FIFO, silence included
    int64_t audio_pts_ = 0;  // samples sent to the encoder
    std::vector<uint8_t> convert_buf_;
};

Result<void> Encoder::open_file() {
    AVFormatContext* raw = nullptr;
    int err = avformat_alloc_output_context2(&raw, nullptr, muxer_name(container_), path_.c_str());
    if (err < 0 || raw == nullptr) {
        return av_fail("avformat_alloc_output_context2", err, path_);
    }
    fmt_.reset(raw);
    if (opt_.fragmented) {
        fmt_->flush_packets = 1;  // each fragment reaches the disk at once
    }
    err = avio_open(&fmt_->pb, path_.c_str(), AVIO_FLAG_WRITE);
    if (err < 0) {
        return av_fail("avio_open", err, path_);
    }
    return {};
}

Result<void> Encoder::open_video(uint32_t width, uint32_t height) {
    const char* name = encoder_name(codec_);
    const AVCodec* codec = avcodec_find_encoder_by_name(name);
    if (codec == nullptr) {
        return make_error(Errc::Unsupported, 0,
                          std::string("encoder ") + name + " is not in this libavcodec");
    }
    venc_.reset(avcodec_alloc_context3(codec));
    AVCodecContext* c = venc_.get();
    c->width = static_cast<int>(width);
    c->height = static_cast<int>(height);
    // 4:4:4 makes x264 pick High 4:4:4 Predictive, libvpx VP9 profile 1, x265 Main 4:4:4.
    c->pix_fmt = pixel_format_of(opt_.chroma);
    c->sample_aspect_ratio = AVRational{1, 1};
    const AVRational fps = av_d2q(opt_.fps, 100'000);
    c->framerate = fps;
    c->time_base = opt_.cfr ? av_inv_q(fps) : kVfrTimeBase;
    c->gop_size = std::max(1, static_cast<int>(std::lround(opt_.keyframe_interval_s * opt_.fps)));
    // Screen content is sRGB: BT.709, limited range, tagged so players convert back. VP8's
    // bitstream defines its matrix as BT.601 and decoders apply that whatever the container says.
    c->colorspace = codec_ == VideoCodec::Vp8 ? AVCOL_SPC_SMPTE170M : AVCOL_SPC_BT709;
    c->color_primaries = AVCOL_PRI_BT709;
    c->color_trc = AVCOL_TRC_BT709;
    c->color_range = AVCOL_RANGE_MPEG;
    c->thread_count = 0;
    if (fmt_->oformat->flags & AVFMT_GLOBALHEADER) {
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    }
    const std::string preset = opt_.preset.empty() ? "medium" : opt_.preset;
    if (is_vpx(codec_)) {
        const VpxSpeed* speed = vpx_speed(preset);  // validated in open()
        av_opt_set(c->priv_data, "deadline", speed->deadline, 0);
        av_opt_set_int(c->priv_data, "cpu-used", speed->cpu_used, 0);
        const int crf = opt_.crf >= 0 ? opt_.crf : (codec_ == VideoCodec::Vp9 ? 32 : 10);
        av_opt_set_int(c->priv_data, "crf", crf, 0);
        if (codec_ == VideoCodec::Vp9) {
            c->bit_rate = 0;  // with crf: constant quality
            av_opt_set_int(c->priv_data, "row-mt", 1, 0);
        } else {
            // VP8's crf is constrained quality under a bitrate ceiling, and libvpx budgets each
            // frame as lasting one time-base tick: with millisecond ticks (VFR) the ceiling
            // must be scaled up so a frame still gets ~20 Mbit/s worth of bits.
            const double ticks_per_frame =
                opt_.cfr ? 1.0 : static_cast<double>(kVfrTimeBase.den) / opt_.fps;
            c->bit_rate = static_cast<int64_t>(20e6 * ticks_per_frame);
        }
    } else {
        av_opt_set(c->priv_data, "preset", preset.c_str(), 0);
        av_opt_set_int(c->priv_data, "crf", opt_.crf >= 0 ? opt_.crf : 23, 0);
        if (!opt_.cfr) {
            // VFR: the last state must last until the end, and the containers take a track's
            // end from the last packet in decode order. B-frames put an earlier picture there
            // (and, over an idle stretch, shift every dts by seconds), so the file would end
            // early; screen content loses little without them.
            c->max_b_frames = 0;
        }
        if (codec_ == VideoCodec::H265) {
            av_opt_set(c->priv_data, "x265-params", "log-level=error", 0);
        }
    }
    int err = avcodec_open2(c, codec, nullptr);
    if (err < 0) {
        return av_fail(std::string("avcodec_open2(") + name + ", preset " + preset + ")", err,
                       path_);
    }
    vst_ = avformat_new_stream(fmt_.get(), nullptr);
    if (vst_ == nullptr) {
        return av_fail("avformat_new_stream(video)", AVERROR(ENOMEM), path_);
    }
    err = avcodec_parameters_from_context(vst_->codecpar, c);
    if (err < 0) {
        return av_fail("avcodec_parameters_from_context(video)", err, path_);
    }
    if (codec_ == VideoCodec::H265 && container_ == Container::Mp4) {
        vst_->codecpar->codec_tag = MKTAG('h', 'v', 'c', '1');  // what browsers and QuickTime want
    }
    vst_->time_base = c->time_base;
    vst_->avg_frame_rate = opt_.cfr ? fps : AVRational{0, 1};

    yuv_.reset(av_frame_alloc());
    yuv_->format = c->pix_fmt;
    yuv_->width = c->width;
    yuv_->height = c->height;
    err = av_frame_get_buffer(yuv_.get(), 0);
    if (err < 0) {
        return av_fail("av_frame_get_buffer(video)", err, path_);
    }
    return {};
}

Result<void> Encoder::open_audio() {
    const char* name = container_ == Container::Mp4 ? "aac" : "libopus";
    const AVCodec* codec = avcodec_find_encoder_by_name(name);
    if (codec == nullptr) {
        return make_error(Errc::Unsupported, 0,
                          std::string("audio encoder ") + name + " is not in this libavcodec");
    }
    aenc_.reset(avcodec_alloc_context3(codec));
    AVCodecContext* c = aenc_.get();
    c->sample_fmt = codec->sample_fmts ? codec->sample_fmts[0] : AV_SAMPLE_FMT_FLTP;
    for (const AVSampleFormat* f = codec->sample_fmts; f && *f != AV_SAMPLE_FMT_NONE; ++f) {
        if (*f == AV_SAMPLE_FMT_FLTP || *f == AV_SAMPLE_FMT_FLT) {
            c->sample_fmt = *f;
            break;
        }
    }
    c->sample_rate = kAudioRate;
    av_channel_layout_default(&c->ch_layout, kAudioChannels);
    c->bit_rate = container_ == Container::Mp4 ? 128'000 : 96'000;
    c->time_base = AVRational{1, kAudioRate};
    if (fmt_->oformat->flags & AVFMT_GLOBALHEADER) {
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    }
    int err = avcodec_open2(c, codec, nullptr);
    if (err < 0) {
        return av_fail(std::string("avcodec_open2(") + name + ")", err, path_);
    }
    ast_ = avformat_new_stream(fmt_.get(), nullptr);
    if (ast_ == nullptr) {
        return av_fail("avformat_new_stream(audio)", AVERROR(ENOMEM), path_);
    }
    err = avcodec_parameters_from_context(ast_->codecpar, c);
    if (err < 0) {
        return av_fail("avcodec_parameters_from_context(audio)", err, path_);
    }
    ast_->time_base = c->time_base;
    fifo_.reset(av_audio_fifo_alloc(c->sample_fmt, kAudioChannels, std::max(c->frame_size, 1024)));
    if (!fifo_) {
        return av_fail("av_audio_fifo_alloc", AVERROR(ENOMEM), path_);
    }
    return {};
}

Result<void> Encoder::start(uint32_t width, uint32_t height) {
    if (auto r = open_video(width, height); !r) {
        return r;
    }
    if (opt_.audio) {
        if (auto r = open_audio(); !r) {
            return r;
        }
    }
    AVDictionary* mux_opts = nullptr;
    if (container_ == Container::Mp4) {
        av_dict_set(&mux_opts, "movflags",
                    opt_.fragmented ? "frag_keyframe+empty_moov+default_base_moof" : "+faststart",
                    0);
    }
    const int err = avformat_write_header(fmt_.get(), &mux_opts);
    av_dict_free(&mux_opts);
    if (err < 0) {
        return av_fail("avformat_write_header", err, path_);
    }
    header_written_ = true;
    started_ = true;
    return {};
}

Result<void> Encoder::picture(const Job& job) {
    int err = av_frame_make_writable(yuv_.get());
    if (err < 0) {
        return av_fail("av_frame_make_writable", err, path_);
    }
    const Rect fit = fit_rect(job.width, job.height, static_cast<uint32_t>(yuv_->width),
                              static_cast<uint32_t>(yuv_->height));
    const bool layout_changed =
        job.width != sws_src_w_ || job.height != sws_src_h_ || !(fit == fit_);
    if (layout_changed) {
        // 4:4:4 is asked for fidelity: exact rounding (BGR0 -> YUV444P has no fast path that
        // would be lost). For 4:2:0 the rounding flags change PSNR by < 0.1 dB against the
        // ~30 dB subsampling costs on sharp colour edges, so the fast path stays.
        const int flags = opt_.chroma == Chroma::Yuv444
                              ? SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP
                              : SWS_BICUBIC;
        SwsContext* s = sws_getCachedContext(
            sws_.release(), static_cast<int>(job.width), static_cast<int>(job.height),
            AV_PIX_FMT_BGR0, static_cast<int>(fit.w), static_cast<int>(fit.h),
            pixel_format_of(opt_.chroma), flags, nullptr, nullptr, nullptr);
        if (s == nullptr) {
            sws_src_w_ = sws_src_h_ = 0;
            return make_error(Errc::Unsupported, 0,
                              "sws_getCachedContext failed for " + path_ + ": cannot scale " +
                                  std::to_string(job.width) + "x" + std::to_string(job.height));
        }
        sws_.reset(s);
        const int* matrix =
            sws_getCoefficients(codec_ == VideoCodec::Vp8 ? SWS_CS_ITU601 : SWS_CS_ITU709);
        sws_setColorspaceDetails(s, matrix, 1, matrix, 0, 0, 1 << 16, 1 << 16);
        sws_src_w_ = job.width;
        sws_src_h_ = job.height;
        fit_ = fit;
    }
    const int sub = opt_.chroma == Chroma::Yuv444 ? 0 : 1;  // chroma subsampling shift
    if (fit.w != static_cast<uint32_t>(yuv_->width) ||
        fit.h != static_cast<uint32_t>(yuv_->height)) {
        // Black bars: Y 16, Cb/Cr 128 (limited range).
        for (int y = 0; y < yuv_->height; ++y) {
            std::memset(yuv_->data[0] + ptrdiff_t{y} * yuv_->linesize[0], 16, yuv_->width);
        }
        for (int p = 1; p < 3; ++p) {
            for (int y = 0; y < yuv_->height >> sub; ++y) {
                std::memset(yuv_->data[p] + ptrdiff_t{y} * yuv_->linesize[p], 128,
                            yuv_->width >> sub);
            }
        }
    }
    const uint8_t* src[4] = {job.pixels.data(), nullptr, nullptr, nullptr};
    const int src_stride[4] = {static_cast<int>(job.width * 4), 0, 0, 0};
    uint8_t* dst[4] = {
        yuv_->data[0] + ptrdiff_t{fit.y} * yuv_->linesize[0] + fit.x,
        yuv_->data[1] + ptrdiff_t{fit.y >> sub} * yuv_->linesize[1] + (fit.x >> sub),
        yuv_->data[2] + ptrdiff_t{fit.y >> sub} * yuv_->linesize[2] + (fit.x >> sub),
        nullptr,
    };
    sws_scale(sws_.get(), src, src_stride, 0, static_cast<int>(job.height), dst, yuv_->linesize);
    have_picture_ = true;
    return encode_video(job.t_us);
}

Result<void> Encoder::repeat(int64_t t_us) {
    if (!have_picture_) {
        return {};
    }
    return encode_video(t_us);
}

Result<void> Encoder::encode_video(int64_t t_us) {
    AVCodecContext* c = venc_.get();
    int64_t pts =
        av_rescale_q_rnd(t_us, kMicros, c->time_base, static_cast<AVRounding>(AV_ROUND_NEAR_INF));
    if (last_pts_ != AV_NOPTS_VALUE) {
        pts = std::max(pts, last_pts_ + 1);
        durations_[last_pts_] = pts - last_pts_;
    }
    last_pts_ = pts;
    yuv_->pts = pts;
    yuv_->pict_type = AV_PICTURE_TYPE_NONE;
    const int err = avcodec_send_frame(c, yuv_.get());
    if (err < 0) {
        return av_fail(std::string("avcodec_send_frame(") + encoder_name(codec_) + ")", err, path_);
    }
    ++frames_out_;
    return drain_video(false);
}

// Pulls what the video encoder has ready, then writes every held packet whose duration is
// known: a packet's duration is the gap to the next frame's pts, which is only known once that
// frame is sent (or at the end). Correct durations make the last frame last to the end.
Result<void> Encoder::drain_video(bool final) {
    AVCodecContext* c = venc_.get();
    for (;;) {
        PacketPtr pkt(av_packet_alloc());
        const int err = avcodec_receive_packet(c, pkt.get());
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) {
            break;
        }
        if (err < 0) {
            return av_fail(std::string("avcodec_receive_packet(") + encoder_name(codec_) + ")", err,
                           path_);
        }
        held_.push_back(std::move(pkt));
    }
    while (!held_.empty()) {
        AVPacket* pkt = held_.front().get();
        auto it = durations_.find(pkt->pts);
        if (it == durations_.end() && !final) {
            break;
        }
        if (it != durations_.end()) {
            pkt->duration = it->second;
            durations_.erase(it);
        }
        if (auto r = write(pkt, c, vst_, "video"); !r) {
            return r;
        }
        held_.pop_front();
    }
    return {};
}

Result<void> Encoder::write(AVPacket* pkt, AVCodecContext* enc, AVStream* st, const char* what) {
    av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
    pkt->stream_index = st->index;
    const int err = av_interleaved_write_frame(fmt_.get(), pkt);
    if (err < 0) {
        return av_fail(std::string("av_interleaved_write_frame(") + what + ")", err, path_);
    }
    return {};
}

Result<void> Encoder::reset_resampler(int channels, int rate) {
    if (swr_) {
        if (auto r = flush_resampler(); !r) {
            return r;
        }
    }
    AVChannelLayout in_layout;
    av_channel_layout_default(&in_layout, channels);
    SwrContext* s = nullptr;
    int err = swr_alloc_set_opts2(&s, &aenc_->ch_layout, aenc_->sample_fmt, kAudioRate, &in_layout,
                                  AV_SAMPLE_FMT_S16, rate, 0, nullptr);
    av_channel_layout_uninit(&in_layout);
    if (err < 0) {
        return av_fail("swr_alloc_set_opts2(" + std::to_string(channels) + " ch, " +
                           std::to_string(rate) + " Hz)",
                       err, path_);
    }
    swr_.reset(s);
    err = swr_init(s);
    if (err < 0) {
        return av_fail(
            "swr_init(" + std::to_string(channels) + " ch, " + std::to_string(rate) + " Hz)", err,
            path_);
    }
    swr_channels_ = channels;
    swr_rate_ = rate;
    return {};
}

// Converts `in` (nullptr: flush) into the FIFO.
static Result<void> convert_into(SwrContext* swr, AVAudioFifo* fifo, AVSampleFormat fmt,
                                 const int16_t* in, int in_samples, std::vector<uint8_t>& buf,
                                 int64_t& pos, const std::string& path) {
    const int out_max = swr_get_out_samples(swr, in_samples);
    if (out_max <= 0) {
        return {};
    }
    const int planes = av_sample_fmt_is_planar(fmt) ? kAudioChannels : 1;
    const int plane_bytes =
        out_max * av_get_bytes_per_sample(fmt) * (planes == 1 ? kAudioChannels : 1);
    buf.resize(size_t(plane_bytes) * planes);
    uint8_t* out[kAudioChannels] = {buf.data(), buf.data() + plane_bytes};
    const uint8_t* src[1] = {reinterpret_cast<const uint8_t*>(in)};
    const int n = swr_convert(swr, out, out_max, in ? src : nullptr, in_samples);
    if (n < 0) {
        return av_fail("swr_convert", n, path);
    }
    if (n > 0) {
        const int w = av_audio_fifo_write(fifo, reinterpret_cast<void**>(out), n);
        if (w < n) {
            return av_fail("av_audio_fifo_write", w < 0 ? w : AVERROR(ENOMEM), path);
        }
        pos += n;
    }
    return {};
}

Result<void> Encoder::flush_resampler() {
    return convert_into(swr_.get(), fifo_.get(), aenc_->sample_fmt, nullptr, 0, convert_buf_,
                        audio_pos_, path_);
}

Result<void> Encoder::add_silence(int64_t samples) {
    const int chunk = 4096;
    const AVSampleFormat fmt = aenc_->sample_fmt;
    const int planes = av_sample_fmt_is_planar(fmt) ? kAudioChannels : 1;
    const int plane_bytes =
        chunk * av_get_bytes_per_sample(fmt) * (planes == 1 ? kAudioChannels : 1);
    std::vector<uint8_t> zero(size_t(plane_bytes) * planes, 0);  // 0 is silence for flt and s16
    void* data[kAudioChannels] = {zero.data(), zero.data() + plane_bytes};
    while (samples > 0) {
        const int n = static_cast<int>(std::min<int64_t>(samples, chunk));
        const int w = av_audio_fifo_write(fifo_.get(), data, n);
        if (w < n) {
            return av_fail("av_audio_fifo_write", w < 0 ? w : AVERROR(ENOMEM), path_);
        }
        samples -= n;
        audio_pos_ += n;
        if (auto r = encode_audio_fifo(false); !r) {
            return r;
        }
    }
    return {};
}

Result<void> Encoder::encode_audio_fifo(bool final) {
    AVCodecContext* c = aenc_.get();
    const int frame_size = c->frame_size > 0 ? c->frame_size : 1024;
    while (av_audio_fifo_size(fifo_.get()) >= frame_size ||
           (final && av_audio_fifo_size(fifo_.get()) > 0)) {
        FramePtr f(av_frame_alloc());
        f->nb_samples = frame_size;
        f->format = c->sample_fmt;
        f->sample_rate = c->sample_rate;
        av_channel_layout_copy(&f->ch_layout, &c->ch_layout);
        int err = av_frame_get_buffer(f.get(), 0);
        if (err < 0) {
            return av_fail("av_frame_get_buffer(audio)", err, path_);
        }
        const int n =
            av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(f->data), frame_size);
        if (n < frame_size) {
            av_samples_set_silence(f->data, std::max(n, 0), frame_size - std::max(n, 0),
                                   kAudioChannels, c->sample_fmt);
        }
        f->pts = audio_pts_;
        audio_pts_ += frame_size;
        err = avcodec_send_frame(c, f.get());
        if (err < 0) {
            return av_fail(std::string("avcodec_send_frame(") + c->codec->name + ")", err, path_);
        }
        if (auto r = receive_audio(); !r) {
            return r;
        }
    }
    return {};
}

Result<void> Encoder::receive_audio() {
    PacketPtr pkt(av_packet_alloc());
    for (;;) {
        const int err = avcodec_receive_packet(aenc_.get(), pkt.get());
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) {
            return {};
        }
        if (err < 0) {
            return av_fail(std::string("avcodec_receive_packet(") + aenc_->codec->name + ")", err,
                           path_);
        }
        if (auto r = write(pkt.get(), aenc_.get(), ast_, "audio"); !r) {
            return r;
        }
    }
}

Result<void> Encoder::audio(const Job& job) {
    if (!aenc_) {
        return {};
    }
    if (!swr_ || job.channels != swr_channels_ || job.rate != swr_rate_) {
        if (auto r = reset_resampler(job.channels, job.rate); !r) {
            return r;
        }
    }
    // Where this packet belongs on the output; a later start than where we are is a stretch
    // where nothing played: fill it with silence.
    const int64_t expected = av_rescale(job.t_us, kAudioRate, 1'000'000);
    const int64_t pending = swr_get_delay(swr_.get(), kAudioRate);
    if (expected - (audio_pos_ + pending) > kAudioGapUs * kAudioRate / 1'000'000) {
        if (auto r = add_silence(expected - audio_pos_ - pending); !r) {
            return r;
        }
    }
    const int in_samples = static_cast<int>(job.samples.size() / size_t(job.channels));
    if (auto r = convert_into(swr_.get(), fifo_.get(), aenc_->sample_fmt, job.samples.data(),
                              in_samples, convert_buf_, audio_pos_, path_);
        !r) {
        return r;
    }
    return encode_audio_fifo(false);
}

Result<void> Encoder::end(int64_t end_us) {
    AVCodecContext* v = venc_.get();
    if (last_pts_ != AV_NOPTS_VALUE) {
        const int64_t end_pts = av_rescale_q_rnd(end_us, kMicros, v->time_base,
                                                 static_cast<AVRounding>(AV_ROUND_NEAR_INF));
        durations_[last_pts_] = std::max<int64_t>(1, end_pts - last_pts_);
    }
    int err = avcodec_send_frame(v, nullptr);
    if (err < 0) {
        return av_fail(std::string("avcodec_send_frame(flush ") + encoder_name(codec_) + ")", err,
                       path_);
    }
    if (auto r = drain_video(true); !r) {
        return r;
    }
    if (aenc_) {
        if (swr_) {
            if (auto r = flush_resampler(); !r) {
                return r;
            }
        }
        // The audio track runs to the end: pad with silence, never past the end.
        const int64_t end_samples = av_rescale(end_us, kAudioRate, 1'000'000);
        const int frame_size = aenc_->frame_size > 0 ? aenc_->frame_size : 1024;
        const int64_t target = end_samples / frame_size * frame_size;
        if (target > audio_pos_) {
            if (auto r = add_silence(target - audio_pos_); !r) {
                return r;
            }
        }
        if (auto r = encode_audio_fifo(true); !r) {
            return r;
        }
        err = avcodec_send_frame(aenc_.get(), nullptr);
        if (err < 0) {
            return av_fail(std::string("avcodec_send_frame(flush ") + aenc_->codec->name + ")", err,
                           path_);
        }
        if (auto r = receive_audio(); !r) {
            return r;
        }
    }
    err = av_write_trailer(fmt_.get());
    if (err < 0) {
        return av_fail("av_write_trailer", err, path_);
    }
    err = avio_closep(&fmt_->pb);
    if (err < 0) {
        return av_fail("avio_closep", err, path_);
    }
    return {};
}

void Encoder::abandon() {
    if (fmt_ && header_written_ && fmt_->pb != nullptr) {
        av_write_trailer(fmt_.get());
    }
    fmt_.reset();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The producer half.

struct VideoWriter::Impl {
    std::string path;
    VideoOptions opt;
    VideoCodec codec = VideoCodec::Auto;
    std::unique_ptr<Encoder> enc;
    JobQueue queue;
    std::thread thread;

    std::mutex api_mu;  // one push or finish at a time
    bool finished = false;
    std::optional<Result<SinkStats>> result;
    SinkStats stats;

    std::mutex err_mu;
    std::optional<DecodeError> thread_error;

    // Time mapping: capture time -> output time.
    bool clock_started = false;
    int64_t start_us = 0;
    int64_t last_rel = 0;      // latest capture time seen, relative to the start
    int64_t activity_end = 0;  // end of the latest frame or audio packet, relative
    int64_t shift = 0;         // idle time cut so far
    int64_t audio_end = 0;     // output time where the latest audio packet ends

    // Pacing.
    int64_t interval_us = 0;
    std::vector<uint8_t> pending;
    uint32_t pending_w = 0, pending_h = 0;
    int64_t pending_t = 0;
    bool has_pending = false;
    bool any_shown = false;
    int64_t last_shown = 0;
    int64_t last_slot = -1;  // CFR

    Impl(std::string p, const VideoOptions& o, size_t queue_bytes)
        : path(std::move(p)), opt(o), queue(queue_bytes) {}

    int64_t map_time(int64_t t_us, int64_t busy_us);
    int64_t slot_of(int64_t t) const;
    int64_t slot_time(int64_t k) const;

    Result<void> check_thread() {
        std::lock_guard lock(err_mu);
        if (thread_error) {
            return *thread_error;
        }
        return {};
    }

    void show_pending();
    void run_encoder();
    Result<SinkStats> finish(std::optional<int64_t> end_us);
};

int64_t VideoWriter::Impl::map_time(int64_t t_us, int64_t busy_us) {
    if (!clock_started) {
        clock_started = true;
        start_us = opt.start_us.value_or(t_us);
    }
    int64_t rel = std::max(t_us - start_us, last_rel);
    last_rel = rel;
    if (opt.max_idle_s > 0) {
        const auto max_idle = static_cast<int64_t>(opt.max_idle_s * 1e6);
        if (rel - activity_end > max_idle) {
            const int64_t cut = rel - activity_end - max_idle;
            shift += cut;
            stats.idle_removed_us += cut;
        }
    }
    activity_end = std::max(activity_end, rel + busy_us);
    return rel - shift;
}

int64_t VideoWriter::Impl::slot_of(int64_t t) const {
    return static_cast<int64_t>(std::ceil(static_cast<double>(t) * opt.fps / 1e6 - 1e-6));
}

int64_t VideoWriter::Impl::slot_time(int64_t k) const {
    return std::llround(static_cast<double>(k) * 1e6 / opt.fps);
}

// Sends the pending state to the encoder at the time it is due: VFR, no sooner than one
// interval after the previous state; CFR, at its grid slot, with repeats filling the slots
// between. Before the first state the screen is black.
void VideoWriter::Impl::show_pending() {
    int64_t at = 0;
    if (opt.cfr) {
        const int64_t slot = slot_of(pending_t);
        if (!any_shown && slot > 0) {
            Job black{Job::Kind::Picture,
                      0,
                      std::vector<uint8_t>(size_t{pending_w} * pending_h * 4),
                      pending_w,
                      pending_h,
                      {},
                      0,
                      0};
            queue.push(std::move(black));
            ++stats.frames_out;
            last_slot = 0;
            any_shown = true;
        }
        for (int64_t k = last_slot + 1; k < slot; ++k) {
            queue.push(Job{Job::Kind::Repeat, slot_time(k), {}, 0, 0, {}, 0, 0});
            ++stats.frames_out;
        }
        last_slot = slot;
        at = slot_time(slot);
    } else if (!any_shown) {
        if (pending_t >= interval_us) {
            Job black{Job::Kind::Picture,
                      0,
                      std::vector<uint8_t>(size_t{pending_w} * pending_h * 4),
                      pending_w,
                      pending_h,
                      {},
                      0,
                      0};
            queue.push(std::move(black));
            ++stats.frames_out;
            at = pending_t;
        }
    } else {
        at = std::max(pending_t, last_shown + interval_us);
    }
    Job job{Job::Kind::Picture, at, std::move(pending), pending_w, pending_h, {}, 0, 0};
    queue.push(std::move(job));
    ++stats.frames_out;
    pending = {};
    has_pending = false;
    any_shown = true;
    last_shown = at;
}

void VideoWriter::Impl::run_encoder() {
    bool failed = false;
    std::vector<Job> early_audio;  // before the first picture: the muxer needs both streams
    for (;;) {
        Job job = queue.pop();
        const Job::Kind kind = job.kind;
        if (!failed) {
            Result<void> r;
            switch (kind) {
                case Job::Kind::Picture:
                    if (!enc->started()) {
                        const Size s = opt.size.width
                                           ? opt.size
                                           : Size{(job.width + 1) & ~1u, (job.height + 1) & ~1u};
                        r = enc->start(s.width, s.height);
                    }
                    for (const Job& a : early_audio) {
                        if (r) {
                            r = enc->audio(a);
                        }
                    }
                    early_audio.clear();
                    if (r) {
                        r = enc->picture(job);
                    }
                    break;
                case Job::Kind::Repeat:
                    r = enc->repeat(job.t_us);
                    break;
                case Job::Kind::Audio:
                    if (enc->started()) {
                        r = enc->audio(job);
                    } else {
                        early_audio.push_back(std::move(job));
                    }
                    break;
                case Job::Kind::End:
                    if (enc->started()) {
                        r = enc->end(job.t_us);
                    } else {
                        enc->abandon();
                    }
                    break;
            }
            if (!r) {
                failed = true;
                enc->abandon();
                std::lock_guard lock(err_mu);
                thread_error = r.error();
            }
        }
        if (kind == Job::Kind::Picture) {
            queue.recycle(std::move(job.pixels));
        }
        if (kind == Job::Kind::End) {
            return;
        }
    }
}

VideoWriter::VideoWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

VideoWriter::~VideoWriter() {
    if (impl_) {
        (void)finish(std::nullopt);
    }
}

const std::string& VideoWriter::path() const {
    return impl_->path;
}

VideoCodec VideoWriter::codec() const {
    return impl_->codec;
}

Result<std::unique_ptr<VideoWriter>> VideoWriter::open(const std::string& path,
                                                       const VideoOptions& options) {
    if (auto loaded = codec::ffmpeg_load(); !loaded) {
        return loaded.error();
    }
    // The encoders report every file's statistics at the info level; errors are ours to tell.
    av_log_set_level(std::min(av_log_get_level(), AV_LOG_ERROR));
    auto container = container_of(path);
    if (!container) {
        return container.error();
    }
    VideoCodec codec = options.codec;
    if (codec == VideoCodec::Auto) {
        codec = *container == Container::WebM ? VideoCodec::Vp9 : VideoCodec::H264;
    }
    const bool allowed = *container == Container::Mkv ||
                         (*container == Container::WebM && is_vpx(codec)) ||
                         (*container == Container::Mp4 && codec != VideoCodec::Vp8);
    if (!allowed) {
        return make_error(Errc::Unsupported, 0,
                          std::string(video_codec_name(codec)) + " cannot go into " +
                              muxer_name(*container) + " (" + path + ")");
    }
    if (avcodec_find_encoder_by_name(encoder_name(codec)) == nullptr) {
        return make_error(Errc::Unsupported, 0,
                          std::string("encoder ") + encoder_name(codec) +
                              " is not in this libavcodec (needed for " + path + ")");
    }
    if (!(options.fps >= 1 && options.fps <= 240)) {
        return make_error(Errc::BadValue, 0,
                          "frame rate " + std::to_string(options.fps) + " is outside 1..240");
    }
    if (options.crf > 63) {
        return make_error(Errc::BadValue, 0, "crf " + std::to_string(options.crf) + " is above 63");
    }
    if (options.fragmented && *container != Container::Mp4) {
        return make_error(Errc::BadValue, 0, "fragmented output is for .mp4 only (" + path + ")");
    }
    if ((options.size.width == 0) != (options.size.height == 0) || options.size.width % 2 != 0 ||
        options.size.height % 2 != 0 || options.size.width > 16384 || options.size.height > 16384) {
        return make_error(Errc::BadValue, 0,
                          "output size " + std::to_string(options.size.width) + "x" +
                              std::to_string(options.size.height) +
                              " must be even and at most 16384x16384");
    }
    if (codec == VideoCodec::Vp8 && options.chroma == Chroma::Yuv444) {
        return make_error(
            Errc::Unsupported, 0,
            "VP8 has no 4:4:4 profile: use vp9, h264 or h265 for chroma 444 (" + path + ")");
    }
    if (!options.preset.empty() && !is_known_preset(options.preset, codec)) {
        return make_error(Errc::BadValue, 0,
                          "unknown preset \"" + options.preset + "\" for " + path +
                              " (ultrafast, superfast, veryfast, faster, fast, medium, slow, "
                              "slower, veryslow" +
                              (is_vpx(codec) ? ")" : ", placebo)"));
    }
    auto impl = std::make_unique<Impl>(path, options, std::max<size_t>(options.queue_bytes, 1));
    impl->codec = codec;
    impl->opt.codec = codec;
    impl->interval_us = std::llround(1e6 / options.fps);
    impl->enc = std::make_unique<Encoder>(path, *container, codec, impl->opt);
    if (auto r = impl->enc->open_file(); !r) {
        return r.error();
    }
    if (options.size.width != 0) {
        if (auto r = impl->enc->start(options.size.width, options.size.height); !r) {
            impl->enc->abandon();
            std::error_code ec;
            std::filesystem::remove(path, ec);
            return r.error();
        }
    }
    Impl* raw = impl.get();
    impl->thread = std::thread([raw] { raw->run_encoder(); });
    return std::unique_ptr<VideoWriter>(new VideoWriter(std::move(impl)));
}

Result<void> VideoWriter::push_frame(const codec::PixelView& frame, int64_t t_us) {
    Impl& m = *impl_;
    std::lock_guard lock(m.api_mu);
    if (m.finished) {
        return make_error(Errc::BadValue, 0, "push_frame after finish (" + m.path + ")");
    }
    if (auto r = m.check_thread(); !r) {
        return r;
    }
    if (frame.format != codec::PixelFormat::Xrgb32 && frame.format != codec::PixelFormat::Argb32) {
        return make_error(Errc::Unsupported, 0, "video frames must be 32-bit xRGB or ARGB");
    }
    if (frame.width == 0 || frame.height == 0 || frame.width > 16384 || frame.height > 16384 ||
        frame.stride < size_t{frame.width} * 4 || frame.data == nullptr) {
        return make_error(Errc::BadValue, 0,
                          "bad frame " + std::to_string(frame.width) + "x" +
                              std::to_string(frame.height) + " stride " +
                              std::to_string(frame.stride));
    }
    ++m.stats.frames_in;
    const int64_t t = m.map_time(t_us, 0);
    if (m.has_pending) {
        // The pending state is shown if the new one comes after its due time; otherwise the
        // new one replaces it (the last state wins).
        const bool due =
            m.opt.cfr ? m.slot_of(t) > m.slot_of(m.pending_t)
                      : (!m.any_shown || t > std::max(m.pending_t, m.last_shown + m.interval_us));
        if (due) {
            m.show_pending();
        } else {
            ++m.stats.frames_merged;
        }
    }
    const size_t row = size_t{frame.width} * 4;
    if (m.pending.empty()) {
        m.pending = m.queue.buffer(row * frame.height);
    } else {
        m.pending.resize(row * frame.height);
    }
    for (uint32_t y = 0; y < frame.height; ++y) {
        std::memcpy(m.pending.data() + y * row, frame.row(y), row);
    }
    m.pending_w = frame.width;
    m.pending_h = frame.height;
    m.pending_t = t;
    m.has_pending = true;
    return {};
}

Result<void> VideoWriter::push_audio(std::span<const int16_t> interleaved, int channels,
                                     int sample_rate, int64_t t_us) {
    Impl& m = *impl_;
    std::lock_guard lock(m.api_mu);
    if (m.finished) {
        return make_error(Errc::BadValue, 0, "push_audio after finish (" + m.path + ")");
    }
    if (!m.opt.audio) {
        return {};
    }
    if (auto r = m.check_thread(); !r) {
        return r;
    }
    if (channels < 1 || channels > 8 || sample_rate < 1000 || sample_rate > 384000 ||
        interleaved.size() % size_t(channels) != 0) {
        return make_error(Errc::BadValue, 0,
                          "bad audio: " + std::to_string(interleaved.size()) + " samples, " +
                              std::to_string(channels) + " channels, " +
                              std::to_string(sample_rate) + " Hz");
    }
    const auto frames = static_cast<int64_t>(interleaved.size() / size_t(channels));
    const int64_t dur = frames * 1'000'000 / sample_rate;
    m.stats.audio_samples_in += static_cast<uint64_t>(frames);
    const int64_t t = m.map_time(t_us, dur);
    m.audio_end = std::max(m.audio_end, t + dur);
    Job job{Job::Kind::Audio,
            t,
            {},
            0,
            0,
            std::vector<int16_t>(interleaved.begin(), interleaved.end()),
            channels,
            sample_rate};
    m.queue.push(std::move(job));
    return {};
}

Result<SinkStats> VideoWriter::finish(std::optional<int64_t> end_us) {
    std::lock_guard lock(impl_->api_mu);
    if (!impl_->finished) {
        impl_->finished = true;
        impl_->result = impl_->finish(end_us);
    }
    return *impl_->result;
}

Result<SinkStats> VideoWriter::Impl::finish(std::optional<int64_t> end_us) {
    if (has_pending) {
        show_pending();
    }
    if (!any_shown && opt.size.width != 0) {
        // No picture at all, but the size is known: a black video (with the audio, if any).
        pending = std::vector<uint8_t>(size_t{opt.size.width} * opt.size.height * 4);
        pending_w = opt.size.width;
        pending_h = opt.size.height;
        pending_t = 0;
        show_pending();
    }
    int64_t end = 0;
    if (any_shown) {
        const int64_t one = opt.cfr ? slot_time(last_slot + 1) - slot_time(last_slot) : interval_us;
        end = last_shown + (end_us ? 1000 : one);
        if (end_us) {
            end = std::max(end, map_time(*end_us, 0));
        }
        end = std::max(end, audio_end);
        if (opt.cfr) {
            const int64_t slots = slot_of(end);
            for (int64_t k = last_slot + 1; k < slots; ++k) {
                queue.push(Job{Job::Kind::Repeat, slot_time(k), {}, 0, 0, {}, 0, 0});
                ++stats.frames_out;
            }
            end = slot_time(std::max(slots, last_slot + 1));
        }
    }
    queue.push(Job{Job::Kind::End, end, {}, 0, 0, {}, 0, 0});
    thread.join();
    if (!any_shown) {
        enc->abandon();
        std::error_code ec;
        std::filesystem::remove(path, ec);
        return make_error(Errc::BadValue, 0,
                          "no frames were pushed, so nothing was written to " + path +
                              " (give an output size to get a black video)");
    }
    if (auto r = check_thread(); !r) {
        return r.error();
    }
    stats.duration_us = end;
    std::error_code ec;
    stats.bytes = std::filesystem::file_size(path, ec);
    return stats;
}

const char* video_codec_name(VideoCodec c) {
    switch (c) {
        case VideoCodec::Auto:
            return "auto";
        case VideoCodec::H264:
            return "h264";
        case VideoCodec::Vp9:
            return "vp9";
        case VideoCodec::H265:
            return "h265";
        case VideoCodec::Vp8:
            return "vp8";
    }
    return "?";
}

Result<VideoCodec> parse_video_codec(std::string_view name) {
    for (VideoCodec c :
         {VideoCodec::Auto, VideoCodec::H264, VideoCodec::Vp9, VideoCodec::H265, VideoCodec::Vp8}) {
        if (name == video_codec_name(c)) {
            return c;
        }
    }
    if (name == "hevc") {
        return VideoCodec::H265;
    }
    return make_error(Errc::BadValue, 0,
                      "unknown video codec \"" + std::string(name) + "\" (h264, vp9, h265, vp8)");
}

const char* chroma_name(Chroma c) {
    return c == Chroma::Yuv444 ? "444" : "420";
}

Result<Chroma> parse_chroma(std::string_view name) {
    if (name == "420") {
        return Chroma::Yuv420;
    }
    if (name == "444") {
        return Chroma::Yuv444;
    }
    return make_error(Errc::BadValue, 0,
                      "unknown chroma sampling \"" + std::string(name) + "\" (420, 444)");
}

Result<Size> parse_size(std::string_view text) {
    const size_t x = text.find('x');
    Size s;
    auto number = [](std::string_view digits, uint32_t& out) {
        if (digits.empty() || digits.size() > 5) {
            return false;
        }
        uint32_t v = 0;
        for (char ch : digits) {
            if (ch < '0' || ch > '9') {
                return false;
            }
            v = v * 10 + uint32_t(ch - '0');
        }
        out = v;
        return true;
    };
    if (x == std::string_view::npos || !number(text.substr(0, x), s.width) ||
        !number(text.substr(x + 1), s.height) || s.width == 0 || s.height == 0 ||
        s.width % 2 != 0 || s.height % 2 != 0 || s.width > 16384 || s.height > 16384) {
        return make_error(
            Errc::BadValue, 0,
            "size \"" + std::string(text) + "\" is not WIDTHxHEIGHT with even numbers up to 16384");
    }
    return s;
}

}  // namespace spicetap::video
