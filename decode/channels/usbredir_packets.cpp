#include "decode/channels/usbredir_packets.h"

#include <algorithm>

#include "decode/channels/message_parse.h"

namespace spicetap::channels::usbredir {

namespace {

constexpr std::string_view kControlTypes[] = {
    "hello",
    "device_connect",
    "device_disconnect",
    "reset",
    "interface_info",
    "ep_info",
    "set_configuration",
    "get_configuration",
    "configuration_status",
    "set_alt_setting",
    "get_alt_setting",
    "alt_setting_status",
    "start_iso_stream",
    "stop_iso_stream",
    "iso_stream_status",
    "start_interrupt_receiving",
    "stop_interrupt_receiving",
    "interrupt_receiving_status",
    "alloc_bulk_streams",
    "free_bulk_streams",
    "bulk_streams_status",
    "cancel_data_packet",
    "filter_reject",
    "filter_filter",
    "device_disconnect_ack",
    "start_bulk_receiving",
    "stop_bulk_receiving",
    "bulk_receiving_status",
};
constexpr uint32_t kFirstDataType = 100;
constexpr std::string_view kDataTypes[] = {
    "control_packet", "bulk_packet", "iso_packet", "interrupt_packet", "buffered_bulk_packet",
};
constexpr std::string_view kStatus[] = {"success", "cancelled", "inval", "ioerror",
                                        "stall",   "timeout",   "babble"};

constexpr uint32_t kTypeHello = 0;
constexpr uint32_t kTypeDeviceConnect = 1;
constexpr uint32_t kTypeControl = 100;
constexpr uint32_t kTypeBulk = 101;
constexpr uint32_t kTypeIso = 102;
constexpr uint32_t kTypeInterrupt = 103;
constexpr uint32_t kTypeBufferedBulk = 104;
constexpr size_t kHelloVersionSize = 64;

bool has_cap(const std::optional<Hello>& h, unsigned bit) {
    return h && wire::cap_bit(h->caps, bit);
}

// Type-specific fields of a complete packet body. Fields the body is too short for stay
// unset rather than failing: the packet framing itself is already validated.
void decode_body(Packet& p, ByteView body, bool connect_version, bool bulk_32bit_length) {
    ByteReader r(body);
    switch (p.type) {
        case kTypeHello: {
            Hello h;
            h.version = detail::text_until_nul(r.bytes(std::min(body.size(), kHelloVersionSize)));
            while (r.remaining() >= 4) {
                h.caps.push_back(r.u32());
            }
            p.hello = std::move(h);
            return;
        }
        case kTypeDeviceConnect: {
            DeviceConnect d;
            d.speed = r.u8();
            d.device_class = r.u8();
            d.device_subclass = r.u8();
            d.device_protocol = r.u8();
            d.vendor_id = r.u16();
            d.product_id = r.u16();
            if (connect_version && r.remaining() >= 2) {
                d.device_version_bcd = r.u16();
            }
            if (r.ok()) {
                p.device_connect = d;
            }
            return;
        }
        case kTypeControl: {
            DataPacketHeader d;
            d.endpoint = r.u8();
            d.request = r.u8();
            d.request_type = r.u8();
            d.status = r.u8();
            d.value = r.u16();
            d.index = r.u16();
            d.data_length = r.u16();
            d.data_size = static_cast<uint32_t>(r.remaining());
            if (r.ok()) {
                p.data = d;
            }
            return;
        }
        case kTypeBulk: {
            DataPacketHeader d;
            d.endpoint = r.u8();
            d.status = r.u8();
            d.data_length = r.u16();
            d.stream_id = r.u32();
            if (bulk_32bit_length) {
                d.data_length |= uint32_t{r.u16()} << 16;
            }
            d.data_size = static_cast<uint32_t>(r.remaining());
            if (r.ok()) {
                p.data = d;
            }
            return;
        }
        case kTypeIso:
        case kTypeInterrupt: {
            DataPacketHeader d;
            d.endpoint = r.u8();
            d.status = r.u8();
            d.data_length = r.u16();
            d.data_size = static_cast<uint32_t>(r.remaining());
            if (r.ok()) {
                p.data = d;
            }
            return;
        }
        case kTypeBufferedBulk: {
            DataPacketHeader d;
            d.stream_id = r.u32();
            d.data_length = r.u32();
            d.endpoint = r.u8();
            d.status = r.u8();
            d.data_size = static_cast<uint32_t>(r.remaining());
            if (r.ok()) {
                p.data = d;
            }
            return;
        }
        default:
            return;
    }
}

}  // namespace

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps) {
    return spicevmc::parse_server(type, body, caps);
}

Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps) {
    return spicevmc::parse_client(type, body, caps);
}

void write_json(const ServerMessage& msg, JsonWriter& w) {
    spicevmc::write_json(msg, w);
}

std::string_view packet_type_name(uint32_t type) {
    if (type >= kFirstDataType) {
        return detail::enum_name(kDataTypes, type - kFirstDataType);
    }
    return detail::enum_name(kControlTypes, type);
}

std::string_view status_name(uint8_t status) {
    return detail::enum_name(kStatus, status);
}

bool UsbredirSession::uses_64bit_ids() const {
    return both_have(kCap64BitIds);
}

bool UsbredirSession::both_have(unsigned bit) const {
    return has_cap(sides_[0].hello, bit) && has_cap(sides_[1].hello, bit);
}

Result<std::vector<Packet>> UsbredirSession::feed(wire::Direction dir, ByteView bytes) {
    Side& s = side(dir);
    s.buffer.insert(s.buffer.end(), bytes.begin(), bytes.end());
    std::vector<Packet> out;
    size_t pos = 0;
    for (;;) {
        const bool wide = uses_64bit_ids();
        const size_t header = wide ? 16 : 12;
        if (s.buffer.size() - pos < header) {
            break;
        }
        ByteReader r(ByteView(s.buffer).subspan(pos), s.consumed + pos);
        Packet p;
        p.stream_offset = s.consumed + pos;
        p.type = r.u32();
        p.length = r.u32();
        p.id = wide ? r.u64() : r.u32();
        p.id_bits = wide ? 64 : 32;
        if (p.length > max_packet_) {
            const uint64_t at = p.stream_offset + 4;
            s.consumed += s.buffer.size();
            s.buffer.clear();
            return make_error(Errc::LimitExceeded, at,
                              "usbredir " + std::string(packet_type_name(p.type)) +
                                  " packet length " + std::to_string(p.length) +
                                  " above the limit " + std::to_string(max_packet_));
        }
        if (r.remaining() < p.length) {
            break;
        }
        const ByteView body = r.bytes(p.length);
        decode_body(p, body, both_have(kCapConnectDeviceVersion), both_have(kCap32BitBulkLength));
        if (p.hello) {
            s.hello = p.hello;
        }
        pos += header + p.length;
        out.push_back(std::move(p));
    }
    s.buffer.erase(s.buffer.begin(), s.buffer.begin() + static_cast<std::ptrdiff_t>(pos));
    s.consumed += pos;
    return out;
}

void write_json(const Packet& p, JsonWriter& w) {
    w.field("packet_type", p.type)
        .field("packet_type_name", packet_type_name(p.type))
        .field("length", p.length)
        .field("id", p.id)
        .field("id_bits", p.id_bits)
        .field("stream_offset", p.stream_offset);
    if (p.hello) {
        w.field("version", p.hello->version).key("caps").begin_array();
        for (uint32_t c : p.hello->caps) {
            w.value(c);
        }
        w.end_array();
    }
    if (p.device_connect) {
        const auto& d = *p.device_connect;
        w.field("speed", d.speed)
            .field("device_class", d.device_class)
            .field("device_subclass", d.device_subclass)
            .field("device_protocol", d.device_protocol)
            .field("vendor_id", d.vendor_id)
            .field("product_id", d.product_id);
        if (d.device_version_bcd) {
            w.field("device_version_bcd", *d.device_version_bcd);
        }
    }
    if (p.data) {
        const auto& d = *p.data;
        w.field("endpoint", d.endpoint)
            .field("status", d.status)
            .field("status_name", status_name(d.status))
            .field("data_length", d.data_length);
        if (d.request) {
            w.field("request", *d.request).field("request_type", *d.request_type);
            w.field("value", *d.value).field("index", *d.index);
        }
        if (d.stream_id) {
            w.field("stream_id", *d.stream_id);
        }
        w.field("data_size", d.data_size);
    }
}

}  // namespace spicetap::channels::usbredir
