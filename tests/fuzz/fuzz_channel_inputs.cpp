#include "decode/channels/inputs_channel.h"
#include "tests/fuzz/fuzz_channel_common.h"

namespace ch = spicetap::channels::inputs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return spicetap::fuzz::run_parsers(data, size, ch::parse_server, ch::parse_client);
}
