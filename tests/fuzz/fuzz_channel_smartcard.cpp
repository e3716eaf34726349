#include "decode/channels/smartcard_channel.h"
#include "tests/fuzz/fuzz_channel_common.h"

namespace ch = spicetap::channels::smartcard;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    spicetap::fuzz::run_channel(
        data, size,
        [](uint16_t type, spicetap::ByteView body, const auto& caps, spicetap::JsonWriter& w) {
            if (auto m = ch::parse_server(type, body, caps)) {
                ch::write_json(*m, w);
            }
        },
        [](uint16_t type, spicetap::ByteView body, const auto& caps, spicetap::JsonWriter& w) {
            if (auto m = ch::parse_client(type, body, caps)) {
                ch::write_json(*m, w);
            }
        });
    return 0;
}
