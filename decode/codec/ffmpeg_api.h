// FFmpeg, opened when a session first needs it (a video stream, Opus audio, a video export)
// rather than at program start.
//
// Why: libavformat and libavcodec pull in some 140 shared libraries (every codec, muxer and
// network protocol Debian builds them with). Binding them at start-up costs ~60 ms of CPU on
// every `spicetap` run, most of what `info`, `dump` or `report` of a small session take. So the
// binary does not link FFmpeg; its five libraries are dlopen()ed by soname on first use and the
// functions we call are looked up into one table.
//
// Use: a .cpp that calls FFmpeg includes the FFmpeg headers it needs, then this header, then
// "decode/codec/ffmpeg_calls.h" last; its calls stay written as plain FFmpeg calls. Every entry
// point that is about to use FFmpeg calls ffmpeg_load() first and returns its error.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

#include "decode/wire/result.h"

// X(library, function): every FFmpeg function spicetap calls, with the library that exports it.
#define SPICETAP_FFMPEG_FUNCTIONS(X)            \
    X(avutil, av_audio_fifo_alloc)              \
    X(avutil, av_audio_fifo_free)               \
    X(avutil, av_audio_fifo_read)               \
    X(avutil, av_audio_fifo_size)               \
    X(avutil, av_audio_fifo_write)              \
    X(avutil, av_channel_layout_copy)           \
    X(avutil, av_channel_layout_default)        \
    X(avutil, av_channel_layout_uninit)         \
    X(avutil, av_d2q)                           \
    X(avutil, av_dict_free)                     \
    X(avutil, av_dict_set)                      \
    X(avutil, av_frame_alloc)                   \
    X(avutil, av_frame_free)                    \
    X(avutil, av_frame_get_buffer)              \
    X(avutil, av_frame_make_writable)           \
    X(avutil, av_frame_unref)                   \
    X(avutil, av_get_bytes_per_sample)          \
    X(avutil, av_get_sample_fmt_name)           \
    X(avutil, av_log_get_level)                 \
    X(avutil, av_log_set_level)                 \
    X(avutil, av_opt_set)                       \
    X(avutil, av_opt_set_int)                   \
    X(avutil, av_rescale)                       \
    X(avutil, av_rescale_q_rnd)                 \
    X(avutil, av_sample_fmt_is_planar)          \
    X(avutil, av_samples_set_silence)           \
    X(avutil, av_strerror)                      \
    X(avcodec, av_packet_alloc)                 \
    X(avcodec, av_packet_free)                  \
    X(avcodec, av_packet_rescale_ts)            \
    X(avcodec, avcodec_alloc_context3)          \
    X(avcodec, avcodec_find_decoder)            \
    X(avcodec, avcodec_find_decoder_by_name)    \
    X(avcodec, avcodec_find_encoder_by_name)    \
    X(avcodec, avcodec_flush_buffers)           \
    X(avcodec, avcodec_free_context)            \
    X(avcodec, avcodec_open2)                   \
    X(avcodec, avcodec_parameters_from_context) \
    X(avcodec, avcodec_receive_frame)           \
    X(avcodec, avcodec_receive_packet)          \
    X(avcodec, avcodec_send_frame)              \
    X(avcodec, avcodec_send_packet)             \
    X(avformat, av_interleaved_write_frame)     \
    X(avformat, av_write_trailer)               \
    X(avformat, avformat_alloc_output_context2) \
    X(avformat, avformat_free_context)          \
    X(avformat, avformat_new_stream)            \
    X(avformat, avformat_write_header)          \
    X(avformat, avio_closep)                    \
    X(avformat, avio_open)                      \
    X(swresample, swr_alloc_set_opts2)          \
    X(swresample, swr_convert)                  \
    X(swresample, swr_free)                     \
    X(swresample, swr_get_delay)                \
    X(swresample, swr_get_out_samples)          \
    X(swresample, swr_init)                     \
    X(swscale, sws_freeContext)                 \
    X(swscale, sws_getCachedContext)            \
    X(swscale, sws_getCoefficients)             \
    X(swscale, sws_scale)                       \
    X(swscale, sws_setColorspaceDetails)

namespace spicetap::codec {

struct FfmpegApi {
#define SPICETAP_FFMPEG_MEMBER(library, function) decltype(&::function) function = nullptr;
    SPICETAP_FFMPEG_FUNCTIONS(SPICETAP_FFMPEG_MEMBER)
#undef SPICETAP_FFMPEG_MEMBER
};

// Opens FFmpeg's libraries once per process (thread-safe); later calls return the first
// outcome. The error names the library or function that is missing, e.g. "FFmpeg:
// libavcodec.so.59 cannot be loaded: ...".
Result<void> ffmpeg_load();

// The table; only valid after ffmpeg_load() succeeded (aborts with a message otherwise, a
// programming error: an entry point forgot to call ffmpeg_load()).
const FfmpegApi& ffmpeg();

// An FFmpeg error code as text ("Invalid data found when processing input").
std::string ffmpeg_error_text(int err);

// unique_ptr deleter for what FFmpeg allocates: FfmpegPtr<AVFrame> frees with av_frame_free...
struct FfmpegDeleter {
    void operator()(AVCodecContext* c) const;
    void operator()(AVFrame* f) const;
    void operator()(AVPacket* p) const;
    void operator()(SwsContext* s) const;
    void operator()(SwrContext* s) const;
    void operator()(AVAudioFifo* f) const;
};

template <typename T>
using FfmpegPtr = std::unique_ptr<T, FfmpegDeleter>;

}  // namespace spicetap::codec
