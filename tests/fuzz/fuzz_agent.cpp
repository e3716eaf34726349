// VDAgent: the input is a sequence of AGENT_DATA bodies {dir+len byte, bytes}, fed to one
// session in both framings; every decoded message is written as JSON.
#include <algorithm>
#include <string>

#include "decode/agent/agent_stream.h"

using namespace spicetap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    for (auto framing : {agent::Framing::Wire, agent::Framing::VirtioChunks}) {
        agent::AgentSession session(framing);
        size_t pos = 0;
        while (pos < size) {
            const uint8_t ctl = data[pos++];
            const auto dir =
                (ctl & 0x80) ? wire::Direction::ClientToServer : wire::Direction::ServerToClient;
            const size_t n = std::min<size_t>(ctl & 0x7f, size - pos);
            auto fed = session.feed(dir, ByteView(data + pos, n));
            std::string out;
            JsonWriter w(out);
            for (const auto& m : fed.messages) {
                w.begin_object();
                agent::write_json(m, w);
                w.end_object();
            }
            pos += n;
        }
    }
    // Direct body decoding with every capability combination.
    if (size >= 1) {
        for (int c = 0; c < 4; ++c) {
            agent::ParseCaps caps;
            caps.clipboard_selection = (c & 1) != 0;
            caps.clipboard_grab_serial = (c & 2) != 0;
            (void)agent::parse_body(data[0] % 18, ByteView(data + 1, size - 1), caps);
        }
    }
    return 0;
}
