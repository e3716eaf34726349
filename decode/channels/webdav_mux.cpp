#include "decode/channels/webdav_mux.h"

#include <array>
#include <string_view>

namespace spicetap::channels::webdav {

namespace {

// The first line of an HTTP message, if `data` begins one (requests by method, responses by
// the version prefix); used only to make dumps readable.
std::string_view http_line(const std::vector<uint8_t>& data) {
    static constexpr std::array<std::string_view, 14> kStarts = {
        "HTTP/",     "GET ",       "PUT ",   "POST ", "HEAD ", "DELETE ", "OPTIONS ",
        "PROPFIND ", "PROPPATCH ", "MKCOL ", "COPY ", "MOVE ", "LOCK ",   "UNLOCK "};
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    bool starts = false;
    for (auto s : kStarts) {
        starts = starts || text.starts_with(s);
    }
    if (!starts) {
        return {};
    }
    const size_t end = text.find("\r\n");
    return end == std::string_view::npos ? std::string_view() : text.substr(0, end);
}

}  // namespace

Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps) {
    return port::parse_server(type, body, caps);
}

Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps) {
    return port::parse_client(type, body, caps);
}

void write_json(const ServerMessage& msg, JsonWriter& w) {
    port::write_json(msg, w);
}

void write_json(const ClientMessage& msg, JsonWriter& w) {
    port::write_json(msg, w);
}

std::vector<Frame> WebdavDemux::feed(ByteView bytes) {
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    std::vector<Frame> out;
    size_t pos = 0;
    while (buffer_.size() - pos >= kFrameHeaderSize) {
        ByteReader r(ByteView(buffer_).subspan(pos));
        Frame f;
        f.client_id = r.i64();
        const uint16_t size = r.u16();
        if (r.remaining() < size) {
            break;
        }
        const ByteView data = r.bytes(size);
        f.data.assign(data.begin(), data.end());
        f.stream_offset = consumed_ + pos;
        pos += kFrameHeaderSize + size;
        out.push_back(std::move(f));
    }
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(pos));
    consumed_ += pos;
    return out;
}

void write_json(const Frame& f, JsonWriter& w) {
    w.field("client_id", f.client_id)
        .field("stream_offset", f.stream_offset)
        .field("data_size", uint64_t{f.data.size()})
        .field("closed", f.closed());
    const auto line = http_line(f.data);
    if (!line.empty()) {
        w.field("http_line", line);
    }
}

}  // namespace spicetap::channels::webdav
