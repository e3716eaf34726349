// Every VDAgent message of a session in capture-time order, for `agent` and `extract`: the main
// channels' AGENT_DATA bodies go through one agent::AgentSession per main connection, and the
// main channel's own agent events (agent connected / disconnected) and the end of each main
// connection are reported alongside.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "capture/log/session_log.h"
#include "decode/agent/agent_messages.h"
#include "decode/agent/agent_stream.h"

namespace spicetap::compliance {

struct AgentRecord {
    enum class Kind {
        Message,            // `message` is set
        AgentConnected,     // MAIN_INIT with agent_connected, AGENT_CONNECTED(_TOKENS)
        AgentDisconnected,  // AGENT_DISCONNECTED; `text` holds the error code
        StreamError,        // a framing error or a body missing from the recording; `text`
        ConnectionEnd,      // the main connection's last byte; `text` is its end reason
    };
    Kind kind = Kind::Message;
    int64_t ts_us = 0;
    int64_t connection = 0;  // the main channel's connection id
    // Message / StreamError: who sent it. ClientToServer = client -> guest agent.
    log::Direction dir = log::Direction::ClientToServer;
    const agent::AgentMessage* message = nullptr;
    std::string text;
    // ConnectionEnd: a message was only partly recorded in that direction when it ended.
    bool partial_c2s = false;
    bool partial_s2c = false;
    // ConnectionEnd: the message each direction was receiving, when its header was complete.
    std::optional<agent::PartialMessage> cut_c2s, cut_s2c;
};

struct AgentWalkStats {
    uint64_t agent_data = 0;   // AGENT_DATA bodies fed
    uint64_t messages = 0;     // VDAgent messages reassembled
    uint64_t undecodable = 0;  // messages whose body did not decode
    uint64_t stream_errors = 0;
};

// Calls fn for every record in time order; ConnectionEnd records come last, one per main
// connection, at the connection's end time.
Result<AgentWalkStats> walk_agent(const log::SessionLogReader& reader,
                                  const std::function<void(const AgentRecord&)>& fn);

// "client->guest" / "guest->client".
const char* agent_direction_arrow(log::Direction dir);
// "client_to_guest" / "guest_to_client".
const char* agent_direction_key(log::Direction dir);

}  // namespace spicetap::compliance
