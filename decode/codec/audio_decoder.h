// Playback and record channel audio: one DATA message payload in, interleaved signed 16-bit
// samples out. The mode comes from MODE (SpiceAudioDataMode), channels and frequency from
// START. RAW is little-endian S16 PCM; OPUS is one Opus packet per message, always stereo
// (spice-common's snd_codec uses 2 channels whatever START says); CELT 0.5.1 is recognised
// and refused (its bit-stream predates Opus and no maintained decoder exists).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::codec {

// SpiceAudioDataMode.
enum class AudioMode : uint8_t { Invalid = 0, Raw = 1, Celt051 = 2, Opus = 3 };

const char* audio_mode_name(uint8_t mode);

struct AudioChunk {
    uint32_t time = 0;       // the DATA message's mm_time (ms)
    uint32_t frequency = 0;  // sample rate of `samples`
    uint8_t channels = 0;
    std::vector<int16_t> samples;  // interleaved

    size_t frames() const { return channels ? samples.size() / channels : 0; }
};

class AudioDecoder {
public:
    // `audio_format` is START.format (1 = S16, the only one SPICE defines).
    static Result<std::unique_ptr<AudioDecoder>> create(uint8_t mode, uint32_t channels,
                                                        uint32_t frequency,
                                                        uint8_t audio_format = 1);
    ~AudioDecoder();
    AudioDecoder(const AudioDecoder&) = delete;
    AudioDecoder& operator=(const AudioDecoder&) = delete;

    AudioMode mode() const;

    // Decodes one DATA payload. `base_offset` is where `data` starts in the message.
    Result<AudioChunk> decode(ByteView data, uint32_t time, uint64_t base_offset = 0);

    // Forgets codec state (playback START / MODE restart a stream).
    void reset();

private:
    struct Impl;
    explicit AudioDecoder(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace spicetap::codec
