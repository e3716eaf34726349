#include "decode/wire/link.h"

#include <fmt/core.h>

namespace spicetap::wire {

namespace {

// Reads the caps words at caps_offset (measured from the start of the body).
bool read_caps(ByteReader& r, uint32_t num_common, uint32_t num_channel, uint32_t caps_offset,
               std::vector<uint32_t>& common, std::vector<uint32_t>& channel) {
    // Each word is 4 bytes; the header's size limit keeps counts small, but a hostile count
    // must not make us reserve memory before the bounds check.
    const uint64_t words = uint64_t{num_common} + num_channel;
    if (caps_offset > r.size() || words * 4 > r.size() - caps_offset) {
        r.seek(r.size());
        r.skip(1);  // marks the reader failed at the end of the body
        return false;
    }
    r.seek(caps_offset);
    common.resize(num_common);
    for (auto& w : common) {
        w = r.u32();
    }
    channel.resize(num_channel);
    for (auto& w : channel) {
        w = r.u32();
    }
    return r.ok();
}

}  // namespace

bool starts_with_link_magic(ByteView data) {
    return data.size() >= 4 && data[0] == 'R' && data[1] == 'E' && data[2] == 'D' &&
           data[3] == 'Q';
}

Result<LinkHeader> parse_link_header(ByteView data, uint64_t base_offset) {
    ByteReader r(data, base_offset);
    LinkHeader h;
    h.magic = r.u32();
    h.major_version = r.u32();
    h.minor_version = r.u32();
    h.size = r.u32();
    if (!r.ok()) {
        return r.error("link header");
    }
    if (h.magic != kLinkMagic) {
        return make_error(Errc::BadMagic, base_offset,
                          fmt::format("link header: magic 0x{:08x} is not \"REDQ\"", h.magic));
    }
    if (h.major_version != 2) {
        return make_error(Errc::Unsupported, base_offset + 4,
                          fmt::format("link header: protocol major version {} (only 2 is "
                                      "supported)",
                                      h.major_version));
    }
    if (h.size > kMaxLinkSize) {
        return make_error(Errc::BadValue, base_offset + 12,
                          fmt::format("link header: size {} exceeds {}", h.size, kMaxLinkSize));
    }
    return h;
}

Result<LinkMess> parse_link_mess(ByteView body, uint64_t base_offset) {
    ByteReader r(body, base_offset);
    LinkMess m;
    m.connection_id = r.u32();
    m.channel_type = r.u8();
    m.channel_id = r.u8();
    const uint32_t num_common = r.u32();
    const uint32_t num_channel = r.u32();
    const uint32_t caps_offset = r.u32();
    if (!r.ok()) {
        return r.error("link message");
    }
    if (!read_caps(r, num_common, num_channel, caps_offset, m.common_caps, m.channel_caps)) {
        return r.error(fmt::format("link message: {}+{} caps words at offset {}", num_common,
                                   num_channel, caps_offset));
    }
    return m;
}

Result<LinkReply> parse_link_reply(ByteView body, uint64_t base_offset) {
    ByteReader r(body, base_offset);
    LinkReply m;
    m.error = r.u32();
    const ByteView key = r.bytes(kPubKeySize);
    if (r.ok()) {
        std::copy(key.begin(), key.end(), m.pub_key.begin());
    }
    const uint32_t num_common = r.u32();
    const uint32_t num_channel = r.u32();
    const uint32_t caps_offset = r.u32();
    if (!r.ok()) {
        return r.error("link reply");
    }
    if (m.error != 0) {
        return m;  // an error reply carries no caps worth reading
    }
    if (!read_caps(r, num_common, num_channel, caps_offset, m.common_caps, m.channel_caps)) {
        return r.error(fmt::format("link reply: {}+{} caps words at offset {}", num_common,
                                   num_channel, caps_offset));
    }
    return m;
}

}  // namespace spicetap::wire
