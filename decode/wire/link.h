// The SPICE link stage: SpiceLinkHeader, SpiceLinkMess (client), SpiceLinkReply (server).
// Layouts: spice-protocol protocol.h; all fields little-endian and packed.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::wire {

inline constexpr uint32_t kLinkMagic = 0x51444552;  // "REDQ"
inline constexpr size_t kLinkHeaderSize = 16;
inline constexpr size_t kLinkMessFixedSize = 18;
inline constexpr size_t kLinkReplyFixedSize = 178;
inline constexpr size_t kPubKeySize = 162;
inline constexpr size_t kEncryptedTicketSize = 128;
// spice-server refuses link messages larger than this; we use it as a sanity bound.
inline constexpr uint32_t kMaxLinkSize = 4096;

struct LinkHeader {
    uint32_t magic = 0;
    uint32_t major_version = 0;
    uint32_t minor_version = 0;
    uint32_t size = 0;  // bytes that follow
};

struct LinkMess {
    uint32_t connection_id = 0;
    uint8_t channel_type = 0;
    uint8_t channel_id = 0;
    std::vector<uint32_t> common_caps;
    std::vector<uint32_t> channel_caps;
};

struct LinkReply {
    uint32_t error = 0;
    std::array<uint8_t, kPubKeySize> pub_key{};
    std::vector<uint32_t> common_caps;
    std::vector<uint32_t> channel_caps;
};

// True if the bytes start with the link magic (enough to recognise SPICE on any port).
bool starts_with_link_magic(ByteView data);

// Parses the 16-byte header; checks magic and that size is plausible.
Result<LinkHeader> parse_link_header(ByteView data, uint64_t base_offset = 0);

// Parses the body that follows the header (header.size bytes).
Result<LinkMess> parse_link_mess(ByteView body, uint64_t base_offset = 0);
Result<LinkReply> parse_link_reply(ByteView body, uint64_t base_offset = 0);

}  // namespace spicetap::wire
