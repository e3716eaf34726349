// The playback channel as spice-gtk's channel-playback.c follows it: MODE names the codec of
// what follows, START opens a stream (channels, rate), DATA carries one encoded packet, STOP
// ends the stream. Only DATA inside the range is decoded; everything before it still sets the
// mode and stream parameters.
#include "export/video/session_audio.h"

#include <fmt/core.h>
#include <spice/enums.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "decode/channels/playback_channel.h"
#include "decode/codec/audio_decoder.h"
#include "decode/wire/caps.h"

namespace spicetap::video {

namespace playback = channels::playback;

namespace {

// Per playback connection (a client that reconnects gets a new one).
struct StreamState {
    wire::ChannelCaps caps;
    uint16_t mode = static_cast<uint16_t>(codec::AudioMode::Raw);  // until MODE says otherwise
    std::optional<playback::Start> start;
    std::unique_ptr<codec::AudioDecoder> decoder;
    bool decoder_failed = false;  // for this START/MODE: reported once, packets skipped
};

struct Trouble {
    int64_t first_us = 0;
    std::string text;
    uint64_t count = 0;
};

}  // namespace

struct PlaybackAudio::Impl {
    const log::SessionLogReader& reader;
    int64_t from_us = 0;
    int64_t to_us = 0;
    int64_t session_start_us = 0;
    std::map<int64_t, StreamState> streams;
    std::vector<log::MessageRecord> messages;  // playback, server -> client, capture order
    size_t next = 0;
    uint64_t data_in_range = 0;
    std::map<std::string, Trouble> troubles;

    explicit Impl(const log::SessionLogReader& r) : reader(r) {}

    void note(const std::string& kind, int64_t t_us, std::string text) {
        Trouble& t = troubles[kind];
        if (t.count++ == 0) {
            t.first_us = t_us;
            t.text = std::move(text);
        }
    }

    void open_decoder(StreamState& s, int64_t t_us) {
        s.decoder.reset();
        s.decoder_failed = false;
        if (!s.start) {
            return;
        }
        auto d =
            codec::AudioDecoder::create(static_cast<uint8_t>(s.mode), s.start->channels,
                                        s.start->frequency, static_cast<uint8_t>(s.start->format));
        if (!d) {
            s.decoder_failed = true;
            note("decoder:" + d.error().what, t_us,
                 fmt::format("playback stream ({} mode, {} channels, {} Hz) cannot be decoded: {}",
                             codec::audio_mode_name(static_cast<uint8_t>(s.mode)),
                             s.start->channels, s.start->frequency, d.error().message()));
            return;
        }
        s.decoder = std::move(*d);
    }

    Result<void> apply(const log::MessageRecord& m,
                       const std::function<Result<void>(const PlaybackPacket&)>& sink) {
        StreamState& s = streams.at(m.connection);
        const bool in_range = m.ts_us >= from_us && m.ts_us <= to_us;
        if (m.type == SPICE_MSG_PLAYBACK_DATA && !in_range) {
            return {};  // not needed: each packet decodes on its own or nearly so
        }
        if (m.type < SPICE_MSG_PLAYBACK_DATA || m.type > SPICE_MSG_PLAYBACK_STOP) {
            return {};  // base messages, volume, mute, latency: nothing to hear here
        }
        auto body = reader.read_stream(m.connection, m.dir, m.offset + m.header_size, m.size);
        if (!body) {
            if (body.error().code == Errc::Io || body.error().code == Errc::Corrupt) {
                return body.error();
            }
            note("truncated", m.ts_us, "playback message cut short: " + body.error().message());
            return {};
        }
        auto msg = playback::parse_server(m.type, *body, s.caps);
        if (!msg) {
            note("parse", m.ts_us, "playback message: " + msg.error().message());
            return {};
        }
        if (const auto* mode = std::get_if<playback::Mode>(&*msg)) {
            s.mode = mode->mode;
            if (s.start) {
                open_decoder(s, m.ts_us);
            }
        } else if (const auto* start = std::get_if<playback::Start>(&*msg)) {
            s.start = *start;
            open_decoder(s, m.ts_us);
        } else if (std::holds_alternative<playback::Stop>(*msg)) {
            s.start.reset();
            s.decoder.reset();
        } else if (const auto* data = std::get_if<playback::Data>(&*msg)) {
            if (!s.decoder) {
                if (!s.decoder_failed) {
                    note("no_start", m.ts_us, "playback DATA before START: no format to decode it");
                }
                return {};
            }
            auto chunk = s.decoder->decode(data->data, data->time, 4);
            if (!chunk) {
                note("undecodable", m.ts_us, "playback packet: " + chunk.error().message());
                return {};
            }
            if (chunk->frames() == 0) {
                return {};
            }
            PlaybackPacket p{m.ts_us, chunk->channels, static_cast<int>(chunk->frequency),
                             std::move(chunk->samples)};
            return sink(p);
        }
        return {};
    }
};

PlaybackAudio::PlaybackAudio(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PlaybackAudio::~PlaybackAudio() = default;

Result<std::unique_ptr<PlaybackAudio>> PlaybackAudio::open(const log::SessionLogReader& reader,
                                                           int64_t from_us, int64_t to_us) {
    auto impl = std::make_unique<Impl>(reader);
    impl->from_us = from_us;
    impl->to_us = to_us;
    impl->session_start_us = reader.session().start_us;
    for (const log::ConnectionInfo& c : reader.connections()) {
        if (c.channel_type == SPICE_CHANNEL_PLAYBACK) {
            StreamState s;
            s.caps = wire::ChannelCaps{c.client_common_caps, c.client_channel_caps,
                                       c.server_common_caps, c.server_channel_caps};
            impl->streams.emplace(c.id, std::move(s));
        }
    }
    for (const auto& [id, s] : impl->streams) {
        log::SessionLogReader::MessageFilter filter;
        filter.connection = id;
        filter.to_us = to_us;
        auto ok = reader.for_each_message(filter, [&](const log::MessageRecord& m) {
            if (m.dir == wire::Direction::ServerToClient) {
                impl->messages.push_back(m);
                if (m.type == SPICE_MSG_PLAYBACK_DATA && m.ts_us >= from_us) {
                    ++impl->data_in_range;
                }
            }
            return true;
        });
        if (!ok) {
            return ok.error();
        }
    }
    std::stable_sort(
        impl->messages.begin(), impl->messages.end(),
        [](const log::MessageRecord& a, const log::MessageRecord& b) { return a.ts_us < b.ts_us; });
    return std::unique_ptr<PlaybackAudio>(new PlaybackAudio(std::move(impl)));
}

bool PlaybackAudio::has_playback() const {
    return impl_->data_in_range > 0;
}

uint64_t PlaybackAudio::data_messages() const {
    return impl_->data_in_range;
}

Result<void> PlaybackAudio::take_until(
    int64_t t_us, const std::function<Result<void>(const PlaybackPacket&)>& sink) {
    while (impl_->next < impl_->messages.size() && impl_->messages[impl_->next].ts_us <= t_us) {
        if (auto ok = impl_->apply(impl_->messages[impl_->next++], sink); !ok) {
            return ok;
        }
    }
    return {};
}

std::vector<std::string> PlaybackAudio::warnings() const {
    std::vector<std::string> out;
    for (const auto& [kind, t] : impl_->troubles) {
        out.push_back(fmt::format("audio at {:.3f} s: {}{}",
                                  double(t.first_us - impl_->session_start_us) / 1e6, t.text,
                                  t.count > 1 ? fmt::format(" ({} times)", t.count) : ""));
    }
    return out;
}

}  // namespace spicetap::video
