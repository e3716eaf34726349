#include "capture/pcap/tcp_segment.h"

#include <algorithm>
#include <cstring>

namespace spicetap::capture::detail {
namespace {

// DLT_* values as libpcap reports them (pcap_datalink), plus LINKTYPE_RAW as stored in files.
constexpr int kDltNull = 0;
constexpr int kDltEthernet = 1;
constexpr int kDltRaw = 12;
constexpr int kDltRawOpenBsd = 14;
constexpr int kLinktypeRaw = 101;
constexpr int kDltLoop = 108;
constexpr int kDltLinuxSll = 113;
constexpr int kDltIpv4 = 228;
constexpr int kDltIpv6 = 229;
constexpr int kDltLinuxSll2 = 276;

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88a8;
constexpr uint16_t kEtherQinQOld = 0x9100;

constexpr uint8_t kProtoTcp = 6;

// Stacked VLAN tags beyond this are treated as malformed (real networks use one or two).
constexpr int kMaxVlanTags = 8;
constexpr int kMaxIpv6ExtensionHeaders = 16;

uint16_t be16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

uint32_t be32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
           static_cast<uint32_t>(p[2]) << 8 | p[3];
}

// The TCP header and payload. `captured` bytes are present, `wire` bytes the IP layer claims.
ParseOutcome parse_tcp(const uint8_t* p, size_t captured, size_t wire, TcpSegment& out) {
    if (captured < 20 || wire < 20) {
        return ParseOutcome::Malformed;
    }
    size_t header = static_cast<size_t>(p[12] >> 4) * 4;
    if (header < 20 || header > captured || header > wire) {
        return ParseOutcome::Malformed;
    }
    out.src_port = be16(p);
    out.dst_port = be16(p + 2);
    out.seq = be32(p + 4);
    out.ack = be32(p + 8);
    out.flags = p[13];
    out.payload = ByteView(p + header, captured - header);
    out.missing_tail = static_cast<uint32_t>(wire - captured);
    return ParseOutcome::Tcp;
}

ParseOutcome parse_ipv4(const uint8_t* p, size_t n, TcpSegment& out) {
    if (n < 20 || (p[0] >> 4) != 4) {
        return ParseOutcome::Malformed;
    }
    size_t header = static_cast<size_t>(p[0] & 0x0f) * 4;
    if (header < 20 || header > n) {
        return ParseOutcome::Malformed;
    }
    size_t total = be16(p + 2);
    if (total == 0) {
        total = n;  // a TSO super-packet captured before segmentation reports length 0
    } else if (total < header) {
        return ParseOutcome::Malformed;
    }
    uint16_t fragment = be16(p + 6);
    uint16_t fragment_offset = fragment & 0x1fff;
    bool more_fragments = (fragment & 0x2000) != 0;
    if (fragment_offset != 0) {
        return ParseOutcome::Fragment;
    }
    if (p[9] != kProtoTcp) {
        return ParseOutcome::NotTcp;
    }
    out.ipv6 = false;
    std::memcpy(out.src, p + 12, 4);
    std::memcpy(out.dst, p + 16, 4);
    out.first_fragment = more_fragments;
    // Ethernet pads short frames: the IP total length, not the frame, says where data ends.
    size_t captured = std::min(n, total) - header;
    return parse_tcp(p + header, captured, total - header, out);
}

ParseOutcome parse_ipv6(const uint8_t* p, size_t n, TcpSegment& out) {
    if (n < 40 || (p[0] >> 4) != 6) {
        return ParseOutcome::Malformed;
    }
    size_t payload_length = be16(p + 4);
    // 0 means a jumbogram (or a TSO super-packet): the frame says where it ends.
    size_t wire_end = payload_length == 0 ? n : 40 + payload_length;
    size_t end = std::min(n, wire_end);
    uint8_t next = p[6];
    size_t off = 40;
    bool first_fragment = false;
    for (int i = 0; i <= kMaxIpv6ExtensionHeaders; ++i) {
        switch (next) {
            case kProtoTcp: {
                if (off > end) {
                    return ParseOutcome::Malformed;
                }
                out.ipv6 = true;
                std::memcpy(out.src, p + 8, 16);
                std::memcpy(out.dst, p + 24, 16);
                out.first_fragment = first_fragment;
                return parse_tcp(p + off, end - off, wire_end - off, out);
            }
            case 0:      // hop-by-hop options
            case 43:     // routing
            case 60:     // destination options
            case 135:    // mobility
            case 139:    // HIP
            case 140: {  // shim6
                if (off + 2 > end) {
                    return ParseOutcome::Malformed;
                }
                next = p[off];
                off += (static_cast<size_t>(p[off + 1]) + 1) * 8;
                break;
            }
            case 51: {  // authentication header: length in 4-byte units, minus 2
                if (off + 2 > end) {
                    return ParseOutcome::Malformed;
                }
                next = p[off];
                off += (static_cast<size_t>(p[off + 1]) + 2) * 4;
                break;
            }
            case 44: {  // fragment
                if (off + 8 > end) {
                    return ParseOutcome::Malformed;
                }
                uint16_t field = be16(p + off + 2);
                if ((field >> 3) != 0) {
                    return ParseOutcome::Fragment;
                }
                first_fragment = (field & 1) != 0;
                next = p[off];
                off += 8;
                break;
            }
            default:  // no next header (59), ESP (50), ICMPv6, UDP, ...
                return ParseOutcome::NotTcp;
        }
    }
    return ParseOutcome::Malformed;
}

ParseOutcome parse_ip_by_version(const uint8_t* p, size_t n, TcpSegment& out) {
    if (n < 1) {
        return ParseOutcome::Malformed;
    }
    switch (p[0] >> 4) {
        case 4:
            return parse_ipv4(p, n, out);
        case 6:
            return parse_ipv6(p, n, out);
        default:
            return ParseOutcome::NotTcp;
    }
}

ParseOutcome parse_ethertype(uint16_t type, const uint8_t* p, size_t n, TcpSegment& out) {
    // 802.1Q / 802.1ad tags, possibly stacked: 2 bytes TCI then the next type.
    for (int tags = 0; type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld; ++tags) {
        if (tags == kMaxVlanTags || n < 4) {
            return ParseOutcome::Malformed;
        }
        type = be16(p + 2);
        p += 4;
        n -= 4;
    }
    switch (type) {
        case kEtherIpv4:
            return parse_ipv4(p, n, out);
        case kEtherIpv6:
            return parse_ipv6(p, n, out);
        default:
            return ParseOutcome::NotTcp;
    }
}

// BSD loopback: the address family in the byte order of the capturing host (DLT_NULL) or in
// network order (DLT_LOOP, but writers get that wrong too), so accept both.
ParseOutcome parse_loopback(const uint8_t* p, size_t n, TcpSegment& out) {
    if (n < 4) {
        return ParseOutcome::Malformed;
    }
    uint32_t family = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                      static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
    if (family > 0xffff) {
        family = __builtin_bswap32(family);
    }
    switch (family) {
        case 2:  // AF_INET everywhere
            return parse_ipv4(p + 4, n - 4, out);
        case 10:  // AF_INET6: Linux
        case 24:  // NetBSD, OpenBSD
        case 28:  // FreeBSD
        case 30:  // macOS
            return parse_ipv6(p + 4, n - 4, out);
        default:
            return ParseOutcome::NotTcp;
    }
}

}  // namespace

bool linktype_supported(int linktype) {
    switch (linktype) {
        case kDltNull:
        case kDltEthernet:
        case kDltRaw:
        case kDltRawOpenBsd:
        case kLinktypeRaw:
        case kDltLoop:
        case kDltLinuxSll:
        case kDltIpv4:
        case kDltIpv6:
        case kDltLinuxSll2:
            return true;
        default:
            return false;
    }
}

ParseOutcome parse_tcp_segment(int linktype, ByteView frame, TcpSegment& out) {
    const uint8_t* p = frame.data();
    size_t n = frame.size();
    switch (linktype) {
        case kDltEthernet:
            if (n < 14) {
                return ParseOutcome::Malformed;
            }
            return parse_ethertype(be16(p + 12), p + 14, n - 14, out);
        case kDltLinuxSll:  // packet type, ARPHRD, address length, 8 address bytes, protocol
            if (n < 16) {
                return ParseOutcome::Malformed;
            }
            return parse_ethertype(be16(p + 14), p + 16, n - 16, out);
        case kDltLinuxSll2:  // protocol first, then 18 bytes of interface and address fields
            if (n < 20) {
                return ParseOutcome::Malformed;
            }
            return parse_ethertype(be16(p), p + 20, n - 20, out);
        case kDltNull:
        case kDltLoop:
            return parse_loopback(p, n, out);
        case kDltRaw:
        case kDltRawOpenBsd:
        case kLinktypeRaw:
            return parse_ip_by_version(p, n, out);
        case kDltIpv4:
            return parse_ipv4(p, n, out);
        case kDltIpv6:
            return parse_ipv6(p, n, out);
        default:
            return ParseOutcome::Unsupported;
    }
}

}  // namespace spicetap::capture::detail
