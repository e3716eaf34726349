#include "tests/fuzz/fuzz_channel_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Only the base ids: both callbacks ignore channel ids.
    auto ignore = [](uint16_t, spicetap::ByteView, const auto&, spicetap::JsonWriter&) {};
    spicetap::fuzz::run_channel(data, size, ignore, ignore);
    if (size >= 4) {
        const uint32_t offset = data[0] | (data[1] << 8);
        (void)spicetap::channels::base::parse_sub_message_list(
            spicetap::ByteView(data + 2, size - 2), offset);
    }
    return 0;
}
