#include "decode/channels/spicevmc_channel.h"

#include <lz4.h>
#include <spice/enums.h>

#include <limits>

#include "decode/channels/message_parse.h"

namespace spicetap::channels::spicevmc {

namespace {

constexpr std::string_view kCompression[] = {"none", "lz4"};

}  // namespace

std::string_view compression_name(uint8_t type) {
    return detail::enum_name(kCompression, type);
}

Result<Data> parse_data(ByteView body) {
    return Data{body};
}

Result<CompressedData> parse_compressed_data(ByteView body) {
    ByteReader r(body);
    CompressedData m;
    m.type = r.u8();
    if (m.type != kCompressionNone) {
        m.uncompressed_size = r.u32();
    }
    if (!r.ok()) {
        return r.error("compressed_data header");
    }
    m.data = r.rest();
    return m;
}

Result<std::vector<uint8_t>> decompress(const CompressedData& msg, uint32_t max_size) {
    if (msg.type == kCompressionNone) {
        return std::vector<uint8_t>(msg.data.begin(), msg.data.end());
    }
    if (msg.type != kCompressionLz4) {
        return make_error(Errc::Unsupported, 0,
                          "compressed_data compression type " + std::to_string(msg.type));
    }
    const uint32_t size = msg.uncompressed_size.value_or(0);
    if (size > max_size) {
        return make_error(Errc::LimitExceeded, 1,
                          "compressed_data uncompressed_size " + std::to_string(size) +
                              " above the limit " + std::to_string(max_size));
    }
    if (msg.data.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
        return make_error(Errc::LimitExceeded, 5, "compressed_data: LZ4 block too large");
    }
    std::vector<uint8_t> out(size);
    const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(msg.data.data()),
                                      reinterpret_cast<char*>(out.data()),
                                      static_cast<int>(msg.data.size()), static_cast<int>(size));
    if (n < 0) {
        return make_error(Errc::Corrupt, 5, "compressed_data: invalid LZ4 block");
    }
    if (static_cast<uint32_t>(n) != size) {
        return make_error(Errc::Corrupt, 5,
                          "compressed_data: LZ4 block gave " + std::to_string(n) +
                              " bytes, uncompressed_size says " + std::to_string(size));
    }
    return out;
}

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    switch (type) {
        case SPICE_MSG_SPICEVMC_DATA:
            return detail::lift<ServerMessage>(parse_data(body));
        case SPICE_MSG_SPICEVMC_COMPRESSED_DATA:
            return detail::lift<ServerMessage>(parse_compressed_data(body));
        default:
            return detail::unknown_type("spicevmc", type);
    }
}

Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps&) {
    switch (type) {
        case SPICE_MSGC_SPICEVMC_DATA:
            return detail::lift<ClientMessage>(parse_data(body));
        case SPICE_MSGC_SPICEVMC_COMPRESSED_DATA:
            return detail::lift<ClientMessage>(parse_compressed_data(body));
        default:
            return detail::unknown_type("spicevmc", type);
    }
}

void write_fields(const Data& m, JsonWriter& w) {
    w.field("data_size", uint64_t{m.data.size()});
}

void write_fields(const CompressedData& m, JsonWriter& w) {
    w.field("compression", m.type).field("compression_name", compression_name(m.type));
    if (m.uncompressed_size) {
        w.field("uncompressed_size", *m.uncompressed_size);
    }
    w.field("data_size", uint64_t{m.data.size()});
}

void write_json(const ServerMessage& msg, JsonWriter& w) {
    std::visit([&w](const auto& m) { write_fields(m, w); }, msg);
}

}  // namespace spicetap::channels::spicevmc
