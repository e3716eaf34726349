// Packet sources: pcap/pcapng files and live interfaces through libpcap. The libpcap handle
// stays behind PIMPL; callers see RawPacket only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::capture {

struct RawPacket {
    uint64_t number = 0;     // 1-based frame number in the file / capture
    int64_t ts_us = 0;       // capture time, microseconds since the Unix epoch
    uint32_t orig_len = 0;   // length on the wire (may exceed data.size() when snapped)
    int linktype = 0;        // DLT_* of the source
    ByteView data;           // valid until the next call to next()
};

struct LiveOptions {
    std::string interface;
    std::string filter;      // BPF; empty = everything
    int snaplen = 262144;
    int buffer_mib = 64;
};

struct SourceStats {
    uint64_t packets = 0;
    uint64_t dropped = 0;          // live: kernel drops reported by libpcap
    uint64_t if_dropped = 0;       // live: interface drops
};

enum class PollResult { Packet, Idle, End };

class PacketSource {
public:
    virtual ~PacketSource() = default;

    // A pcap or pcapng file. Errors: Io (cannot open), BadMagic (not a capture file).
    static Result<std::unique_ptr<PacketSource>> open_file(const std::filesystem::path& path);

    // A live capture in immediate mode.
    static Result<std::unique_ptr<PacketSource>> open_live(const LiveOptions& options);

    // Next packet: true and `out` filled; false at the end of a file. A truncated or corrupt
    // file ends with an error that says where (frame number and file offset where known).
    // Live sources return false only after interrupt() was called.
    virtual Result<bool> next(RawPacket& out) = 0;

    // Like next(), but a live source also returns Idle when no packet came within its read
    // timeout (200 ms), so the caller can do timed work while the link is quiet.
    virtual Result<PollResult> poll(RawPacket& out);

    // Makes a blocked live next() return (safe from a signal handler).
    virtual void interrupt() = 0;

    virtual SourceStats stats() const = 0;
    virtual int linktype() const = 0;
};

}  // namespace spicetap::capture
