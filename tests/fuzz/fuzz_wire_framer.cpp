// The connection framer on arbitrary bytes: the input is split at "\xffDIR\xff" markers into
// pieces fed alternately to the client and the server direction, with gaps between some.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "decode/wire/framer.h"

namespace {
struct Sink : spicetap::wire::FramerCallbacks {
    void on_message(const spicetap::wire::FramedMessage& m) override { total += m.body.size(); }
    size_t total = 0;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using spicetap::wire::Direction;
    Sink sink;
    spicetap::wire::FramerOptions opt;
    opt.max_message_size = 1 << 20;
    spicetap::wire::ConnectionFramer framer(sink, opt);
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    uint64_t offset[2] = {0, 0};
    size_t start = 0;
    for (int i = 0; start <= all.size(); ++i) {
        size_t end = all.find("\xff" "DIR\xff", start);
        if (end == std::string_view::npos) {
            end = all.size();
        }
        const int d = i % 2;
        const auto piece = spicetap::ByteView(data + start, end - start);
        if (i % 5 == 4) {
            framer.gap(static_cast<Direction>(d), offset[d], 7);
            offset[d] += 7;
        }
        framer.feed(static_cast<Direction>(d), offset[d], piece);
        offset[d] += piece.size();
        start = end + 5;
    }
    framer.finish();
    return 0;
}
