// Capabilities of one connection as both peers announced them in the link stage. A feature is
// on only when both sides set it.
#pragma once

#include <cstdint>
#include <vector>

namespace spicetap::wire {

inline bool cap_bit(const std::vector<uint32_t>& words, unsigned bit) {
    const size_t word = bit / 32;
    return word < words.size() && ((words[word] >> (bit % 32)) & 1u) != 0;
}

struct ChannelCaps {
    std::vector<uint32_t> client_common, client_channel;
    std::vector<uint32_t> server_common, server_channel;

    bool common(unsigned bit) const {
        return cap_bit(client_common, bit) && cap_bit(server_common, bit);
    }
    bool channel(unsigned bit) const {
        return cap_bit(client_channel, bit) && cap_bit(server_channel, bit);
    }
};

}  // namespace spicetap::wire
