// Usbredir channel (type 9): spicevmc DATA/COMPRESSED_DATA messages whose bytes, joined per
// direction, form a usbredir protocol stream (usbredirproto.h): header {type u32, length u32,
// id u32 — u64 once both peers' hello announced the 64bits_ids capability}, then `length`
// bytes of type-specific header and data. This is a passive header decoder, not a USB stack.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "decode/channels/spicevmc_channel.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/json_writer.h"
#include "decode/wire/protocol_names.h"
#include "decode/wire/result.h"

namespace spicetap::channels::usbredir {

// The SPICE messages are the spicevmc ones.
using ServerMessage = spicevmc::ServerMessage;  // the same type as ClientMessage
using ClientMessage = spicevmc::ClientMessage;
Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps);
Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps);
void write_json(const ServerMessage& msg, JsonWriter& w);

// usbredir packet type name ("hello", "device_connect", "bulk_packet", ...) or "unknown".
std::string_view packet_type_name(uint32_t type);
// usb_redir status name ("success", "stall", ...) or "unknown".
std::string_view status_name(uint8_t status);

inline constexpr unsigned kCapConnectDeviceVersion = 1;
inline constexpr unsigned kCap64BitIds = 5;
inline constexpr unsigned kCap32BitBulkLength = 6;

struct Hello {
    std::string version;
    std::vector<uint32_t> caps;
};

struct DeviceConnect {
    uint8_t speed = 0;
    uint8_t device_class = 0;
    uint8_t device_subclass = 0;
    uint8_t device_protocol = 0;
    uint16_t vendor_id = 0;
    uint16_t product_id = 0;
    std::optional<uint16_t> device_version_bcd;  // with the connect_device_version cap
};

// The leading fields of control/bulk/iso/interrupt/buffered-bulk packet headers.
struct DataPacketHeader {
    uint8_t endpoint = 0;
    uint8_t status = 0;
    uint32_t data_length = 0;                      // as the type-specific header states it
    std::optional<uint8_t> request, request_type;  // control
    std::optional<uint16_t> value, index;          // control
    std::optional<uint32_t> stream_id;             // bulk, buffered bulk
    uint32_t data_size = 0;                        // bytes after the type-specific header
};

struct Packet {
    uint32_t type = 0;
    uint32_t length = 0;
    uint64_t id = 0;
    uint8_t id_bits = 32;
    uint64_t stream_offset = 0;  // of the packet header in this direction's stream
    std::optional<Hello> hello;
    std::optional<DeviceConnect> device_connect;
    std::optional<DataPacketHeader> data;
};

// Both directions of one usbredir channel; the id width depends on both hellos.
class UsbredirSession {
public:
    // Limit on one packet's length field; larger ones are reported as errors.
    explicit UsbredirSession(uint32_t max_packet = 64u << 20) : max_packet_(max_packet) {}

    // Appends stream bytes of one direction (a DATA body, or a decompressed COMPRESSED_DATA)
    // and returns the packets completed by them. After an error that direction's buffer is
    // dropped and decoding resumes with the next call (assumed to start on a packet).
    Result<std::vector<Packet>> feed(wire::Direction dir, ByteView bytes);

    bool uses_64bit_ids() const;

    const std::optional<Hello>& hello(wire::Direction dir) const { return side(dir).hello; }

private:
    struct Side {
        std::vector<uint8_t> buffer;
        uint64_t consumed = 0;  // stream offset of buffer[0]
        std::optional<Hello> hello;
    };

    Side& side(wire::Direction dir) { return sides_[static_cast<int>(dir)]; }

    const Side& side(wire::Direction dir) const { return sides_[static_cast<int>(dir)]; }

    bool both_have(unsigned bit) const;

    Side sides_[2];
    uint32_t max_packet_;
};

void write_json(const Packet& p, JsonWriter& w);

}  // namespace spicetap::channels::usbredir
