// What the playback channel played, as PCM at capture times: the session log's playback
// messages walked in order (MODE and START pick and reset the decoder, DATA is decoded with
// decode/codec's AudioDecoder), for the video export to mux beside the pictures.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "capture/log/session_log.h"
#include "decode/wire/result.h"

namespace spicetap::video {

struct PlaybackPacket {
    int64_t t_us = 0;  // capture time of the DATA message
    int channels = 0;
    int sample_rate = 0;
    std::vector<int16_t> samples;  // interleaved S16
};

class PlaybackAudio {
public:
    // Indexes the playback connections' messages; DATA captured in [from_us, to_us] counts.
    // The reader must outlive this object.
    static Result<std::unique_ptr<PlaybackAudio>> open(const log::SessionLogReader& reader,
                                                       int64_t from_us, int64_t to_us);
    ~PlaybackAudio();
    PlaybackAudio(const PlaybackAudio&) = delete;
    PlaybackAudio& operator=(const PlaybackAudio&) = delete;

    // True when the session played anything in the range: the export then carries an audio
    // track (silence where nothing played), and none otherwise.
    bool has_playback() const;
    uint64_t data_messages() const;  // DATA in the range

    // Decodes every DATA captured at or before t_us (and after what was taken before) and hands
    // each to `sink` in capture order. Undecodable packets are skipped and noted in warnings();
    // an error comes back only when the log cannot be read or the sink fails.
    Result<void> take_until(int64_t t_us,
                            const std::function<Result<void>(const PlaybackPacket&)>& sink);

    // One line per kind of trouble (first occurrence, with its time and a count).
    std::vector<std::string> warnings() const;

private:
    struct Impl;
    explicit PlaybackAudio(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace spicetap::video
