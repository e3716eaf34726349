// TcpReassembler: turns captured packets into ordered byte streams per TCP connection and
// direction, PcapPlusPlus-style: a small object fed packets that calls back. It knows nothing
// about SPICE. Link types: Ethernet (with VLAN tags), Linux cooked SLL and SLL2, BSD
// loopback/NULL, raw IPv4/IPv6. Handles reordering, retransmission, overlap (first copy wins),
// streams first seen mid-way (no SYN), FIN and RST. A range that never arrives is reported as
// a gap, never glued over.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "capture/pcap/packet_source.h"
#include "decode/wire/byte_reader.h"

namespace spicetap::capture {

struct Endpoint {
    std::string address;  // printable: "127.0.0.1", "::1"
    uint16_t port = 0;

    std::string to_string() const;  // "127.0.0.1:5900", "[::1]:5900"
};

// Initiator = the side that sent the SYN (or, without a SYN, the source of the first packet
// seen); Responder = the other side.
enum class Side : uint8_t { Initiator = 0, Responder = 1 };

enum class CloseReason : uint8_t {
    Fin,          // both sides sent FIN (or one FIN and the capture ended)
    Rst,          // a RST was seen
    EndOfCapture, // still open when the input ended
    Idle,         // no packet for longer than the idle timeout
};

const char* close_reason_name(CloseReason r);

using ConnectionId = uint64_t;  // unique per reassembler, in order of first appearance

class TcpCallbacks {
public:
    virtual ~TcpCallbacks() = default;
    virtual void on_open(ConnectionId id, const Endpoint& initiator, const Endpoint& responder,
                         int64_t ts_us, bool saw_syn) = 0;
    // In-order bytes of one direction. stream_offset counts from the first byte of that
    // direction (after the SYN, or the first byte seen when the SYN was missed), gaps included.
    virtual void on_data(ConnectionId id, Side side, int64_t ts_us, uint64_t stream_offset,
                         ByteView data) = 0;
    // [stream_offset, stream_offset + length) never arrived.
    virtual void on_gap(ConnectionId id, Side side, int64_t ts_us, uint64_t stream_offset,
                        uint64_t length) = 0;
    virtual void on_close(ConnectionId id, int64_t ts_us, CloseReason reason) = 0;
};

struct ReassemblyOptions {
    // Bytes buffered out of order per direction before the hole is declared a gap.
    uint64_t max_out_of_order_bytes = 8u << 20;
    // A connection with no packet for this long is closed (live capture); 0 = never.
    int64_t idle_timeout_us = 0;
};

struct ReassemblyStats {
    uint64_t packets = 0;
    uint64_t tcp_packets = 0;
    uint64_t non_tcp_packets = 0;     // not IP, or IP but not TCP
    uint64_t malformed_packets = 0;   // headers cut short or inconsistent
    uint64_t retransmitted_bytes = 0;
    uint64_t gap_bytes = 0;
    uint64_t connections = 0;
    // IP fragments other than the first (also in non_tcp_packets): IP reassembly is not
    // supported. A first fragment is used as a TCP segment, so the bytes of the later
    // fragments are reported as a gap.
    uint64_t ip_fragments = 0;
    // TCP packets that open nothing and belong to no open connection: stray ACK/FIN/RST for an
    // unknown 4-tuple, late packets after a FIN or RST close.
    uint64_t ignored_packets = 0;
};

class TcpReassembler {
public:
    TcpReassembler(TcpCallbacks& callbacks, ReassemblyOptions options = {});
    ~TcpReassembler();
    TcpReassembler(const TcpReassembler&) = delete;
    TcpReassembler& operator=(const TcpReassembler&) = delete;

    // Feeds one packet. Malformed or non-TCP packets are counted and skipped.
    void feed(const RawPacket& packet);

    // Called with the current time on a live capture so idle connections can be closed.
    void tick(int64_t now_us);

    // End of input: delivers what is still buffered (reporting holes as gaps) and closes every
    // open connection with CloseReason::EndOfCapture.
    void finish(int64_t ts_us);

    const ReassemblyStats& stats() const;

    // Whether feed() understands packets of this DLT_* link type (others count as non-TCP).
    static bool supports_linktype(int linktype);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace spicetap::capture
