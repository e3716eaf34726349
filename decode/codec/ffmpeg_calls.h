// Routes a .cpp's plain FFmpeg calls through the table of decode/codec/ffmpeg_api.h: after this
// header, `avcodec_open2(ctx, codec, nullptr)` means `ffmpeg().avcodec_open2(ctx, codec,
// nullptr)`, so call sites read as ordinary FFmpeg code. Include it last, after every other
// header, and only in .cpp files. The macros are object-like and name themselves in their
// replacement, which the preprocessor does not expand again. (A preprocessor cannot generate
// #defines from SPICETAP_FFMPEG_FUNCTIONS, hence the second list. The build keeps the two in
// step: a name here without a table entry does not compile, and a call not routed here does not
// link, as the spicetap binary does not link FFmpeg.)
#pragma once

#include "decode/codec/ffmpeg_api.h"

#define av_audio_fifo_alloc ::spicetap::codec::ffmpeg().av_audio_fifo_alloc
#define av_audio_fifo_free ::spicetap::codec::ffmpeg().av_audio_fifo_free
#define av_audio_fifo_read ::spicetap::codec::ffmpeg().av_audio_fifo_read
#define av_audio_fifo_size ::spicetap::codec::ffmpeg().av_audio_fifo_size
#define av_audio_fifo_write ::spicetap::codec::ffmpeg().av_audio_fifo_write
#define av_channel_layout_copy ::spicetap::codec::ffmpeg().av_channel_layout_copy
#define av_channel_layout_default ::spicetap::codec::ffmpeg().av_channel_layout_default
#define av_channel_layout_uninit ::spicetap::codec::ffmpeg().av_channel_layout_uninit
#define av_d2q ::spicetap::codec::ffmpeg().av_d2q
#define av_dict_free ::spicetap::codec::ffmpeg().av_dict_free
#define av_dict_set ::spicetap::codec::ffmpeg().av_dict_set
#define av_frame_alloc ::spicetap::codec::ffmpeg().av_frame_alloc
#define av_frame_free ::spicetap::codec::ffmpeg().av_frame_free
#define av_frame_get_buffer ::spicetap::codec::ffmpeg().av_frame_get_buffer
#define av_frame_make_writable ::spicetap::codec::ffmpeg().av_frame_make_writable
#define av_frame_unref ::spicetap::codec::ffmpeg().av_frame_unref
#define av_get_bytes_per_sample ::spicetap::codec::ffmpeg().av_get_bytes_per_sample
#define av_get_sample_fmt_name ::spicetap::codec::ffmpeg().av_get_sample_fmt_name
#define av_log_get_level ::spicetap::codec::ffmpeg().av_log_get_level
#define av_log_set_level ::spicetap::codec::ffmpeg().av_log_set_level
#define av_opt_set ::spicetap::codec::ffmpeg().av_opt_set
#define av_opt_set_int ::spicetap::codec::ffmpeg().av_opt_set_int
#define av_rescale ::spicetap::codec::ffmpeg().av_rescale
#define av_rescale_q_rnd ::spicetap::codec::ffmpeg().av_rescale_q_rnd
#define av_sample_fmt_is_planar ::spicetap::codec::ffmpeg().av_sample_fmt_is_planar
#define av_samples_set_silence ::spicetap::codec::ffmpeg().av_samples_set_silence
#define av_strerror ::spicetap::codec::ffmpeg().av_strerror
#define av_packet_alloc ::spicetap::codec::ffmpeg().av_packet_alloc
#define av_packet_free ::spicetap::codec::ffmpeg().av_packet_free
#define av_packet_rescale_ts ::spicetap::codec::ffmpeg().av_packet_rescale_ts
#define avcodec_alloc_context3 ::spicetap::codec::ffmpeg().avcodec_alloc_context3
#define avcodec_find_decoder ::spicetap::codec::ffmpeg().avcodec_find_decoder
#define avcodec_find_decoder_by_name ::spicetap::codec::ffmpeg().avcodec_find_decoder_by_name
#define avcodec_find_encoder_by_name ::spicetap::codec::ffmpeg().avcodec_find_encoder_by_name
#define avcodec_flush_buffers ::spicetap::codec::ffmpeg().avcodec_flush_buffers
#define avcodec_free_context ::spicetap::codec::ffmpeg().avcodec_free_context
#define avcodec_open2 ::spicetap::codec::ffmpeg().avcodec_open2
#define avcodec_parameters_from_context ::spicetap::codec::ffmpeg().avcodec_parameters_from_context
#define avcodec_receive_frame ::spicetap::codec::ffmpeg().avcodec_receive_frame
#define avcodec_receive_packet ::spicetap::codec::ffmpeg().avcodec_receive_packet
#define avcodec_send_frame ::spicetap::codec::ffmpeg().avcodec_send_frame
#define avcodec_send_packet ::spicetap::codec::ffmpeg().avcodec_send_packet
#define av_interleaved_write_frame ::spicetap::codec::ffmpeg().av_interleaved_write_frame
#define av_write_trailer ::spicetap::codec::ffmpeg().av_write_trailer
#define avformat_alloc_output_context2 ::spicetap::codec::ffmpeg().avformat_alloc_output_context2
#define avformat_free_context ::spicetap::codec::ffmpeg().avformat_free_context
#define avformat_new_stream ::spicetap::codec::ffmpeg().avformat_new_stream
#define avformat_write_header ::spicetap::codec::ffmpeg().avformat_write_header
#define avio_closep ::spicetap::codec::ffmpeg().avio_closep
#define avio_open ::spicetap::codec::ffmpeg().avio_open
#define swr_alloc_set_opts2 ::spicetap::codec::ffmpeg().swr_alloc_set_opts2
#define swr_convert ::spicetap::codec::ffmpeg().swr_convert
#define swr_free ::spicetap::codec::ffmpeg().swr_free
#define swr_get_delay ::spicetap::codec::ffmpeg().swr_get_delay
#define swr_get_out_samples ::spicetap::codec::ffmpeg().swr_get_out_samples
#define swr_init ::spicetap::codec::ffmpeg().swr_init
#define sws_freeContext ::spicetap::codec::ffmpeg().sws_freeContext
#define sws_getCachedContext ::spicetap::codec::ffmpeg().sws_getCachedContext
#define sws_getCoefficients ::spicetap::codec::ffmpeg().sws_getCoefficients
#define sws_scale ::spicetap::codec::ffmpeg().sws_scale
#define sws_setColorspaceDetails ::spicetap::codec::ffmpeg().sws_setColorspaceDetails
