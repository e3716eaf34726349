// Link, IP and TCP header parsing for the reassembler: one captured frame in, the TCP segment
// it carries out (or why it carries none). Private to capture/pcap.
#pragma once

#include <cstdint>

#include "decode/wire/byte_reader.h"

namespace spicetap::capture::detail {

enum TcpFlags : uint8_t {
    kFin = 0x01,
    kSyn = 0x02,
    kRst = 0x04,
    kPsh = 0x08,
    kAck = 0x10,
};

struct TcpSegment {
    bool ipv6 = false;
    uint8_t src[16] = {};  // IPv4 uses the first four bytes
    uint8_t dst[16] = {};
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    uint32_t seq = 0;
    uint32_t ack = 0;
    uint8_t flags = 0;
    ByteView payload;           // the captured payload bytes
    uint32_t missing_tail = 0;  // payload bytes the IP header announces but the capture cut off
    bool first_fragment = false;
};

enum class ParseOutcome : uint8_t {
    Tcp,
    NotTcp,       // another link protocol, not IP, or IP but not TCP
    Fragment,     // an IP fragment other than the first
    Malformed,    // headers cut short or inconsistent
    Unsupported,  // a link type we do not decode
};

bool linktype_supported(int linktype);

ParseOutcome parse_tcp_segment(int linktype, ByteView frame, TcpSegment& out);

}  // namespace spicetap::capture::detail
