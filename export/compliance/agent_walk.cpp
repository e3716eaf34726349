#include "export/compliance/agent_walk.h"

#include <spice/enums.h>

#include <map>
#include <variant>

#include "decode/agent/agent_stream.h"
#include "decode/channels/main_channel.h"

namespace spicetap::compliance {

const char* agent_direction_arrow(log::Direction dir) {
    return dir == log::Direction::ClientToServer ? "client->guest" : "guest->client";
}

const char* agent_direction_key(log::Direction dir) {
    return dir == log::Direction::ClientToServer ? "client_to_guest" : "guest_to_client";
}

Result<AgentWalkStats> walk_agent(const log::SessionLogReader& reader,
                                  const std::function<void(const AgentRecord&)>& fn) {
    struct MainConnection {
        const log::ConnectionInfo* info = nullptr;
        wire::ChannelCaps caps;
        agent::AgentSession session;
    };

    std::map<int64_t, MainConnection> mains;
    for (const auto& c : reader.connections()) {
        if (c.channel_type == SPICE_CHANNEL_MAIN) {
            auto& m = mains[c.id];
            m.info = &c;
            m.caps = wire::ChannelCaps{c.client_common_caps, c.client_channel_caps,
                                       c.server_common_caps, c.server_channel_caps};
        }
    }
    AgentWalkStats stats;
    auto r = reader.for_each_message({}, [&](const log::MessageRecord& m) {
        auto it = mains.find(m.connection);
        if (it == mains.end()) {
            return true;
        }
        MainConnection& mc = it->second;
        const bool s2c = m.dir == log::Direction::ServerToClient;
        const bool agent_data =
            s2c ? m.type == SPICE_MSG_MAIN_AGENT_DATA : m.type == SPICE_MSGC_MAIN_AGENT_DATA;
        const bool agent_state =
            s2c && (m.type == SPICE_MSG_MAIN_INIT || m.type == SPICE_MSG_MAIN_AGENT_CONNECTED ||
                    m.type == SPICE_MSG_MAIN_AGENT_CONNECTED_TOKENS ||
                    m.type == SPICE_MSG_MAIN_AGENT_DISCONNECTED);
        if (!agent_data && !agent_state) {
            return true;
        }
        AgentRecord rec;
        rec.ts_us = m.ts_us;
        rec.connection = m.connection;
        rec.dir = m.dir;
        auto body = reader.read_stream(m.connection, m.dir, m.offset + m.header_size, m.size);
        if (!body) {
            if (agent_data) {
                // The stream cannot be trusted past a missing body: restart at the next one.
                mc.session.restart(m.dir);
                ++stats.stream_errors;
                rec.kind = AgentRecord::Kind::StreamError;
                rec.text = "agent data missing from the recording: " + body.error().message();
                fn(rec);
            }
            return true;
        }
        if (agent_state) {
            auto msg = channels::main::parse_server(m.type, *body, mc.caps);
            if (!msg) {
                return true;
            }
            if (const auto* init = std::get_if<channels::main::Init>(&*msg)) {
                if (init->agent_connected == 0) {
                    return true;
                }
                rec.kind = AgentRecord::Kind::AgentConnected;
            } else if (const auto* d = std::get_if<channels::main::AgentDisconnected>(&*msg)) {
                rec.kind = AgentRecord::Kind::AgentDisconnected;
                rec.text = "error " + std::to_string(d->error_code);
            } else {
                rec.kind = AgentRecord::Kind::AgentConnected;
            }
            fn(rec);
            return true;
        }
        ++stats.agent_data;
        const agent::SessionFeed fed = mc.session.feed(m.dir, *body);
        for (const auto& msg : fed.messages) {
            ++stats.messages;
            if (!msg.body) {
                ++stats.undecodable;
            }
            rec.kind = AgentRecord::Kind::Message;
            rec.message = &msg;
            fn(rec);
        }
        rec.message = nullptr;
        if (fed.error) {
            ++stats.stream_errors;
            rec.kind = AgentRecord::Kind::StreamError;
            rec.text = fed.error->message();
            fn(rec);
        }
        return true;
    });
    if (!r) {
        return r.error();
    }
    for (auto& [id, mc] : mains) {
        AgentRecord rec;
        rec.kind = AgentRecord::Kind::ConnectionEnd;
        rec.ts_us = mc.info->end_us;
        rec.connection = id;
        rec.text = mc.info->end_reason;
        rec.partial_c2s = mc.session.stream(log::Direction::ClientToServer).mid_message();
        rec.partial_s2c = mc.session.stream(log::Direction::ServerToClient).mid_message();
        rec.cut_c2s = mc.session.stream(log::Direction::ClientToServer).partial();
        rec.cut_s2c = mc.session.stream(log::Direction::ServerToClient).partial();
        fn(rec);
    }
    return stats;
}

}  // namespace spicetap::compliance
