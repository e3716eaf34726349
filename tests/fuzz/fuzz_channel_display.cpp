// The display channel demarshallers on arbitrary bodies. Input: byte 0 picks the direction
// (bit 0) and whether caps are known (bit 1), byte 1 picks a message type from the defined
// ones (so most inputs reach a real parser), the rest is the body. Decoded messages are also
// written as JSON, which walks every pointer-derived view.
#include <cstddef>
#include <cstdint>
#include <string>

#include "decode/channels/display_channel.h"
#include "decode/wire/json_writer.h"

namespace {

constexpr uint16_t kServerTypes[] = {101, 102, 103, 104, 105, 106, 107, 108, 122, 123, 124, 125,
                                     126, 302, 303, 304, 305, 306, 307, 308, 309, 310, 311, 312,
                                     313, 314, 315, 316, 317, 318, 319, 320, 321, 322, 999};
constexpr uint16_t kClientTypes[] = {101, 102, 103, 104, 105, 106};

template <typename Message>
void to_json(const Message& m) {
    std::string out;
    spicetap::JsonWriter w(out);
    w.begin_object();
    spicetap::channels::display::write_json(m, w);
    w.end_object();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace sd = spicetap::channels::display;
    if (size < 2) {
        return 0;
    }
    const bool server = (data[0] & 1) != 0;
    spicetap::wire::ChannelCaps caps;
    if (data[0] & 2) {
        caps.client_channel = caps.server_channel = {static_cast<uint32_t>(data[0]) * 0x101u};
    }
    const spicetap::ByteView body(data + 2, size - 2);
    if (server) {
        const uint16_t type = kServerTypes[data[1] % std::size(kServerTypes)];
        if (auto m = sd::parse_server(type, body, caps)) {
            to_json(*m);
        }
    } else {
        const uint16_t type = kClientTypes[data[1] % std::size(kClientTypes)];
        if (auto m = sd::parse_client(type, body, caps)) {
            to_json(*m);
        }
    }
    return 0;
}
