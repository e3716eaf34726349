// Test-only: crafts frames (link + IP + TCP headers) and writes them as pcap or pcapng files,
// so capture tests can describe exactly the packets they need.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace spicetap::test {

using Bytes = std::vector<uint8_t>;

// DLT_* numbers as they appear in files and in pcap_datalink().
namespace dlt {
inline constexpr int kNull = 0;
inline constexpr int kEthernet = 1;
inline constexpr int kRaw = 12;
inline constexpr int kLinktypeRaw = 101;
inline constexpr int kLoop = 108;
inline constexpr int kLinuxSll = 113;
inline constexpr int kIpv4 = 228;
inline constexpr int kIpv6 = 229;
inline constexpr int kLinuxSll2 = 276;
}  // namespace dlt

namespace tcp {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
}  // namespace tcp

inline Bytes to_bytes(std::string_view s) {
    return Bytes(s.begin(), s.end());
}

inline void put16(Bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

inline void put32(Bytes& b, uint32_t v) {
    put16(b, static_cast<uint16_t>(v >> 16));
    put16(b, static_cast<uint16_t>(v));
}

inline void put16le(Bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v));
    b.push_back(static_cast<uint8_t>(v >> 8));
}

inline void put32le(Bytes& b, uint32_t v) {
    put16le(b, static_cast<uint16_t>(v));
    put16le(b, static_cast<uint16_t>(v >> 16));
}

inline void append(Bytes& b, const Bytes& more) {
    b.insert(b.end(), more.begin(), more.end());
}

inline bool is_ipv6(const std::string& address) {
    return address.find(':') != std::string::npos;
}

inline Bytes address_bytes(const std::string& address) {
    Bytes out(is_ipv6(address) ? 16 : 4);
    if (inet_pton(is_ipv6(address) ? AF_INET6 : AF_INET, address.c_str(), out.data()) != 1) {
        throw std::invalid_argument("bad address " + address);
    }
    return out;
}

inline Bytes tcp_segment(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                         const Bytes& payload, uint16_t window = 65535) {
    Bytes b;
    put16(b, sport);
    put16(b, dport);
    put32(b, seq);
    put32(b, ack);
    b.push_back(5 << 4);  // data offset: 20 bytes, checksums and options are not our concern
    b.push_back(flags);
    put16(b, window);
    put16(b, 0);  // checksum
    put16(b, 0);  // urgent pointer
    append(b, payload);
    return b;
}

struct Ipv4Options {
    Bytes options;                 // IP options, padded by the caller to 4 bytes
    uint16_t fragment_offset = 0;  // in 8-byte units
    bool more_fragments = false;
    uint8_t protocol = 6;
    bool zero_total_length = false;  // as a TSO super-packet is captured
};

inline Bytes ipv4_packet(const std::string& src, const std::string& dst, const Bytes& l4,
                         const Ipv4Options& o = {}) {
    Bytes b;
    size_t header = 20 + o.options.size();
    b.push_back(static_cast<uint8_t>(0x40 | (header / 4)));
    b.push_back(0);
    put16(b, o.zero_total_length ? 0 : static_cast<uint16_t>(header + l4.size()));
    put16(b, 0x1234);
    put16(b, static_cast<uint16_t>((o.more_fragments ? 0x2000 : 0) | o.fragment_offset));
    b.push_back(64);
    b.push_back(o.protocol);
    put16(b, 0);
    append(b, address_bytes(src));
    append(b, address_bytes(dst));
    append(b, o.options);
    append(b, l4);
    return b;
}

// One IPv6 extension header: its type (the "next header" value announcing it) and body
// (everything after its own next-header and length bytes, already padded).
struct Ipv6Extension {
    uint8_t type;
    Bytes body;
};

inline Bytes ipv6_packet(const std::string& src, const std::string& dst, const Bytes& l4,
                         const std::vector<Ipv6Extension>& extensions = {}, uint8_t protocol = 6) {
    Bytes chain;
    for (size_t i = 0; i < extensions.size(); ++i) {
        const auto& e = extensions[i];
        uint8_t next = i + 1 < extensions.size() ? extensions[i + 1].type : protocol;
        chain.push_back(next);
        size_t total = e.body.size() + 2;
        if (e.type == 51) {
            chain.push_back(static_cast<uint8_t>(total / 4 - 2));
        } else if (e.type == 44) {
            chain.push_back(0);  // fragment header: reserved
        } else {
            chain.push_back(static_cast<uint8_t>(total / 8 - 1));
        }
        append(chain, e.body);
    }
    Bytes b;
    put32(b, 0x60000000);
    put16(b, static_cast<uint16_t>(chain.size() + l4.size()));
    b.push_back(extensions.empty() ? protocol : extensions[0].type);
    b.push_back(64);
    append(b, address_bytes(src));
    append(b, address_bytes(dst));
    append(b, chain);
    append(b, l4);
    return b;
}

inline uint16_t ethertype_of(const Bytes& ip) {
    return (ip[0] >> 4) == 6 ? 0x86dd : 0x0800;
}

// Ethernet with optional VLAN tags, outermost first, each given by its TPID (0x8100, 0x88a8).
inline Bytes ethernet_frame(const Bytes& ip, const std::vector<uint16_t>& vlan_tpids = {},
                            size_t min_frame = 60) {
    Bytes b = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
    uint16_t vid = 100;
    for (uint16_t tpid : vlan_tpids) {
        put16(b, tpid);
        put16(b, vid++);
    }
    put16(b, ethertype_of(ip));
    append(b, ip);
    if (b.size() < min_frame) {
        b.resize(min_frame, 0xee);  // padding a real NIC adds to short frames
    }
    return b;
}

inline Bytes sll_frame(const Bytes& ip) {
    Bytes b;
    put16(b, 0);  // packet type: to us
    put16(b, 1);  // ARPHRD_ETHER
    put16(b, 6);  // address length
    for (int i = 0; i < 8; ++i) {
        b.push_back(static_cast<uint8_t>(i < 6 ? 0x10 + i : 0));
    }
    put16(b, ethertype_of(ip));
    append(b, ip);
    return b;
}

inline Bytes sll2_frame(const Bytes& ip) {
    Bytes b;
    put16(b, ethertype_of(ip));
    put16(b, 0);     // reserved
    put32(b, 1);     // interface index
    put16(b, 1);     // ARPHRD_ETHER
    b.push_back(0);  // packet type
    b.push_back(6);  // address length
    for (int i = 0; i < 8; ++i) {
        b.push_back(static_cast<uint8_t>(i < 6 ? 0x20 + i : 0));
    }
    append(b, ip);
    return b;
}

// BSD loopback header; `family_v6` is the platform's AF_INET6 (24, 28, 30, ...).
inline Bytes loopback_frame(const Bytes& ip, bool big_endian, uint32_t family_v6 = 30) {
    uint32_t family = (ip[0] >> 4) == 6 ? family_v6 : 2;
    Bytes b;
    if (big_endian) {
        put32(b, family);
    } else {
        put32le(b, family);
    }
    append(b, ip);
    return b;
}

// Wraps an IP packet in the link header of `linktype`.
inline Bytes link_frame(int linktype, const Bytes& ip, const std::vector<uint16_t>& vlans = {}) {
    switch (linktype) {
        case dlt::kEthernet:
            return ethernet_frame(ip, vlans);
        case dlt::kLinuxSll:
            return sll_frame(ip);
        case dlt::kLinuxSll2:
            return sll2_frame(ip);
        case dlt::kNull:
            return loopback_frame(ip, false);
        case dlt::kLoop:
            return loopback_frame(ip, true);
        case dlt::kRaw:
        case dlt::kLinktypeRaw:
        case dlt::kIpv4:
        case dlt::kIpv6:
            return ip;
        default:
            throw std::invalid_argument("link type not supported by the builder");
    }
}

// A TCP conversation between a client and a server; frames are built with explicit sequence
// numbers so tests can reorder, repeat and drop them at will.
struct TcpFlow {
    int linktype = dlt::kEthernet;
    std::string client = "10.0.0.1";
    std::string server = "10.0.0.2";
    uint16_t client_port = 40000;
    uint16_t server_port = 5900;
    std::vector<uint16_t> vlans;

    Bytes ip(bool from_client, uint32_t seq, uint32_t ack, uint8_t flags,
             const Bytes& payload = {}) const {
        const std::string& src = from_client ? client : server;
        const std::string& dst = from_client ? server : client;
        uint16_t sport = from_client ? client_port : server_port;
        uint16_t dport = from_client ? server_port : client_port;
        Bytes l4 = tcp_segment(sport, dport, seq, ack, flags, payload);
        return is_ipv6(src) ? ipv6_packet(src, dst, l4) : ipv4_packet(src, dst, l4);
    }

    Bytes frame(bool from_client, uint32_t seq, uint32_t ack, uint8_t flags,
                const Bytes& payload = {}) const {
        return link_frame(linktype, ip(from_client, seq, ack, flags, payload), vlans);
    }

    Bytes frame(bool from_client, uint32_t seq, uint32_t ack, uint8_t flags,
                std::string_view payload) const {
        return frame(from_client, seq, ack, flags, to_bytes(payload));
    }
};

struct Frame {
    int64_t ts_us = 0;
    Bytes data;
    uint32_t orig_len = 0;  // 0: same as data.size()
};

// Classic pcap, little-endian, microsecond (or nanosecond) timestamps.
inline Bytes pcap_file(int linktype, const std::vector<Frame>& frames, uint32_t snaplen = 262144,
                       bool nanoseconds = false) {
    Bytes b;
    put32le(b, nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4);
    put16le(b, 2);
    put16le(b, 4);
    put32le(b, 0);  // thiszone
    put32le(b, 0);  // sigfigs
    put32le(b, snaplen);
    put32le(b, static_cast<uint32_t>(linktype));
    for (const Frame& f : frames) {
        put32le(b, static_cast<uint32_t>(f.ts_us / 1'000'000));
        put32le(b, static_cast<uint32_t>(f.ts_us % 1'000'000 * (nanoseconds ? 1000 : 1)));
        put32le(b, static_cast<uint32_t>(f.data.size()));
        put32le(b, f.orig_len ? f.orig_len : static_cast<uint32_t>(f.data.size()));
        append(b, f.data);
    }
    return b;
}

inline void pcapng_block(Bytes& b, uint32_t type, const Bytes& body) {
    uint32_t total = static_cast<uint32_t>(12 + (body.size() + 3) / 4 * 4);
    put32le(b, type);
    put32le(b, total);
    append(b, body);
    b.resize(b.size() + (4 - body.size() % 4) % 4, 0);
    put32le(b, total);
}

// pcapng: one section, one interface, enhanced packets. Timestamps in microseconds (the
// default resolution) or, with `nanoseconds`, an if_tsresol option of 10^-9.
inline Bytes pcapng_file(int linktype, const std::vector<Frame>& frames, uint32_t snaplen = 262144,
                         bool nanoseconds = false) {
    Bytes b;
    Bytes shb;
    put32le(shb, 0x1a2b3c4d);
    put16le(shb, 1);
    put16le(shb, 0);
    put32le(shb, 0xffffffff);  // section length unknown
    put32le(shb, 0xffffffff);
    pcapng_block(b, 0x0a0d0d0a, shb);
    Bytes idb;
    put16le(idb, static_cast<uint16_t>(linktype));
    put16le(idb, 0);
    put32le(idb, snaplen);
    if (nanoseconds) {
        put16le(idb, 9);  // if_tsresol
        put16le(idb, 1);
        append(idb, {9, 0, 0, 0});
        put32le(idb, 0);  // opt_endofopt
    }
    pcapng_block(b, 1, idb);
    for (const Frame& f : frames) {
        Bytes epb;
        auto ts = static_cast<uint64_t>(f.ts_us) * (nanoseconds ? 1000 : 1);
        put32le(epb, 0);
        put32le(epb, static_cast<uint32_t>(ts >> 32));
        put32le(epb, static_cast<uint32_t>(ts));
        put32le(epb, static_cast<uint32_t>(f.data.size()));
        put32le(epb, f.orig_len ? f.orig_len : static_cast<uint32_t>(f.data.size()));
        append(epb, f.data);
        pcapng_block(b, 6, epb);
    }
    return b;
}

inline void write_file(const std::filesystem::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        throw std::runtime_error("cannot write " + path.string());
    }
}

// A fresh directory under the system temp dir, removed when the object goes.
class TempDir {
public:
    explicit TempDir(const std::string& tag) {
        std::string pattern =
            (std::filesystem::temp_directory_path() / ("spicetap-" + tag + "-XXXXXX")).string();
        std::vector<char> buf(pattern.begin(), pattern.end());
        buf.push_back('\0');
        if (!mkdtemp(buf.data())) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = buf.data();
    }

    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }

    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

}  // namespace spicetap::test
