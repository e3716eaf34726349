// Test-only: TcpCallbacks that record every event and check the callback contract as it goes
// (offsets contiguous per direction, gaps and data never overlapping, nothing after close).
#pragma once

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "capture/pcap/tcp_reassembly.h"

namespace spicetap::test {

struct RecordedEvent {
    enum Kind { Open, Data, Gap, Close } kind;

    capture::ConnectionId id = 0;
    capture::Side side = capture::Side::Initiator;
    int64_t ts_us = 0;
    uint64_t offset = 0;
    uint64_t length = 0;
    std::string bytes;
};

struct RecordedConnection {
    capture::Endpoint initiator;
    capture::Endpoint responder;
    int64_t open_ts = 0;
    bool saw_syn = false;
    bool closed = false;
    capture::CloseReason reason = capture::CloseReason::EndOfCapture;
    int64_t close_ts = 0;
    // Per side: the bytes, with each gap shown as '?' repeated (for short gaps in tests).
    std::string text[2];
    std::string data[2];                                 // bytes only
    std::vector<std::pair<uint64_t, uint64_t>> gaps[2];  // offset, length
    uint64_t next[2] = {0, 0};
};

class StreamRecorder : public capture::TcpCallbacks {
public:
    std::vector<RecordedEvent> events;
    std::map<capture::ConnectionId, RecordedConnection> connections;
    bool check_contract = true;

    void on_open(capture::ConnectionId id, const capture::Endpoint& initiator,
                 const capture::Endpoint& responder, int64_t ts_us, bool saw_syn) override {
        CHECK(connections.count(id) == 0);
        RecordedConnection& c = connections[id];
        c.initiator = initiator;
        c.responder = responder;
        c.open_ts = ts_us;
        c.saw_syn = saw_syn;
        events.push_back({RecordedEvent::Open, id, capture::Side::Initiator, ts_us, 0, 0, {}});
    }

    void on_data(capture::ConnectionId id, capture::Side side, int64_t ts_us,
                 uint64_t stream_offset, ByteView data) override {
        RecordedConnection& c = live(id);
        int s = static_cast<int>(side);
        if (check_contract) {
            CHECK(stream_offset == c.next[s]);
            CHECK(!data.empty());
        }
        c.next[s] = stream_offset + data.size();
        std::string bytes(data.begin(), data.end());
        c.text[s] += bytes;
        c.data[s] += bytes;
        if (keep_bytes) {
            events.push_back({RecordedEvent::Data, id, side, ts_us, stream_offset, data.size(),
                              std::move(bytes)});
        } else {
            events.push_back(
                {RecordedEvent::Data, id, side, ts_us, stream_offset, data.size(), {}});
        }
    }

    void on_gap(capture::ConnectionId id, capture::Side side, int64_t ts_us, uint64_t stream_offset,
                uint64_t length) override {
        RecordedConnection& c = live(id);
        int s = static_cast<int>(side);
        if (check_contract) {
            CHECK(stream_offset == c.next[s]);
            CHECK(length > 0);
        }
        c.next[s] = stream_offset + length;
        c.gaps[s].emplace_back(stream_offset, length);
        if (length < 4096) {
            c.text[s] += std::string(length, '?');
        }
        events.push_back({RecordedEvent::Gap, id, side, ts_us, stream_offset, length, {}});
    }

    void on_close(capture::ConnectionId id, int64_t ts_us, capture::CloseReason reason) override {
        RecordedConnection& c = live(id);
        c.closed = true;
        c.reason = reason;
        c.close_ts = ts_us;
        events.push_back({RecordedEvent::Close, id, capture::Side::Initiator, ts_us, 0, 0, {}});
    }

    const RecordedConnection& at(capture::ConnectionId id) const {
        auto it = connections.find(id);
        REQUIRE(it != connections.end());
        return it->second;
    }

    size_t count(RecordedEvent::Kind kind) const {
        size_t n = 0;
        for (const auto& e : events) {
            n += e.kind == kind ? 1 : 0;
        }
        return n;
    }

    bool keep_bytes = true;

private:
    RecordedConnection& live(capture::ConnectionId id) {
        auto it = connections.find(id);
        REQUIRE(it != connections.end());
        CHECK(!it->second.closed);
        return it->second;
    }
};

}  // namespace spicetap::test
