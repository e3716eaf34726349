// The usbredir channel: spicevmc messages, and their bytes as a usbredir stream split into
// the pieces the input's length bytes choose.
#include "decode/channels/usbredir_packets.h"
#include "tests/fuzz/fuzz_channel_common.h"

namespace vmc = spicetap::channels::spicevmc;
namespace usb = spicetap::channels::usbredir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto one = [](uint16_t type, spicetap::ByteView body, const auto& caps,
                  spicetap::JsonWriter& w) {
        if (auto m = usb::parse_server(type, body, caps)) {
            usb::write_json(*m, w);
            if (const auto* c = std::get_if<vmc::CompressedData>(&*m)) {
                (void)vmc::decompress(*c, 1 << 20);
            }
        }
    };
    spicetap::fuzz::run_channel(data, size, one, one);

    usb::UsbredirSession session(1 << 20);
    size_t pos = 0;
    while (pos < size) {
        const size_t n = std::min<size_t>(1 + data[pos] % 64, size - pos);
        const auto dir = (data[pos] & 0x80) ? spicetap::wire::Direction::ClientToServer
                                            : spicetap::wire::Direction::ServerToClient;
        if (auto packets = session.feed(dir, spicetap::ByteView(data + pos, n))) {
            std::string out;
            spicetap::JsonWriter w(out);
            for (const auto& p : *packets) {
                w.begin_object();
                usb::write_json(p, w);
                w.end_object();
            }
        }
        pos += n;
    }
    return 0;
}
