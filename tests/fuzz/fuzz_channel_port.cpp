// Port/WebDAV channels: port messages, and the bytes as a WebDAV mux stream.
#include "decode/channels/port_channel.h"
#include "decode/channels/webdav_mux.h"
#include "tests/fuzz/fuzz_channel_common.h"

namespace port = spicetap::channels::port;
namespace webdav = spicetap::channels::webdav;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    spicetap::fuzz::run_channel(
        data, size,
        [](uint16_t type, spicetap::ByteView body, const auto& caps, spicetap::JsonWriter& w) {
            if (auto m = port::parse_server(type, body, caps)) {
                port::write_json(*m, w);
            }
        },
        [](uint16_t type, spicetap::ByteView body, const auto& caps, spicetap::JsonWriter& w) {
            if (auto m = port::parse_client(type, body, caps)) {
                port::write_json(*m, w);
            }
        });
    webdav::WebdavDemux demux;
    size_t pos = 0;
    std::string out;
    spicetap::JsonWriter w(out);
    while (pos < size) {
        const size_t n = std::min<size_t>(1 + data[pos] % 97, size - pos);
        for (const auto& f : demux.feed(spicetap::ByteView(data + pos, n))) {
            w.begin_object();
            webdav::write_json(f, w);
            w.end_object();
        }
        pos += n;
    }
    return 0;
}
