// Display channel (type 2): typed demarshallers for every channel-specific message in both
// directions (ids >= 101; base messages 1..99 belong to the common decoder), laid out as
// spice-common's spice.proto declares them. Pointer fields (uint32 offsets from the first body
// byte, 0 = NULL) are followed with bounds checks; image payloads are views into the body.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "decode/channels/display_types.h"
#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/result.h"

namespace spicetap {
class JsonWriter;
}

namespace spicetap::channels::display {

// Display channel capability bits (spice-protocol's SPICE_DISPLAY_CAP_*).
namespace cap {
inline constexpr unsigned kSizedStream = 0;
inline constexpr unsigned kMonitorsConfig = 1;
inline constexpr unsigned kComposite = 2;
inline constexpr unsigned kA8Surface = 3;
inline constexpr unsigned kStreamReport = 4;
inline constexpr unsigned kLz4Compression = 5;
inline constexpr unsigned kPrefCompression = 6;
inline constexpr unsigned kGlScanout = 7;
inline constexpr unsigned kMultiCodec = 8;
inline constexpr unsigned kPrefVideoCodecType = 12;
}  // namespace cap

// ---- server -> client -------------------------------------------------------------------

// Messages with no body. The id makes each a distinct type.
template <uint16_t Id>
struct Empty {
    static constexpr uint16_t kType = Id;
};

struct Mode {
    static constexpr uint16_t kType = 101;
    uint32_t x_res = 0;
    uint32_t y_res = 0;
    uint32_t bits = 0;
};

using Mark = Empty<102>;
using Reset = Empty<103>;

struct CopyBits {
    static constexpr uint16_t kType = 104;
    DisplayBase base;
    Point src_pos;
};

struct InvalList {
    static constexpr uint16_t kType = 105;
    std::vector<ResourceId> resources;
};

struct InvalAllPixmaps {
    static constexpr uint16_t kType = 106;
    std::vector<WaitForChannel> wait_list;
};

struct InvalPalette {
    static constexpr uint16_t kType = 107;
    uint64_t id = 0;
};

using InvalAllPalettes = Empty<108>;

struct StreamCreate {
    static constexpr uint16_t kType = 122;
    uint32_t surface_id = 0;
    uint32_t id = 0;
    uint8_t flags = 0;       // 1 = TOP_DOWN
    uint8_t codec_type = 0;  // 1 MJPEG, 2 VP8, 3 H264, 4 VP9, 5 H265
    uint64_t stamp = 0;
    uint32_t stream_width = 0;
    uint32_t stream_height = 0;
    uint32_t src_width = 0;
    uint32_t src_height = 0;
    Rect dest;
    Clip clip;
};

struct StreamData {
    static constexpr uint16_t kType = 123;
    uint32_t id = 0;
    uint32_t multi_media_time = 0;
    ByteView data;  // one encoded frame; data_size = data.size()
};

struct StreamClip {
    static constexpr uint16_t kType = 124;
    uint32_t id = 0;
    Clip clip;
};

struct StreamDestroy {
    static constexpr uint16_t kType = 125;
    uint32_t id = 0;
};

using StreamDestroyAll = Empty<126>;

struct DrawFill {
    static constexpr uint16_t kType = 302;
    DisplayBase base;
    Brush brush;
    uint16_t rop_descriptor = 0;
    QMask mask;
};

struct DrawOpaque {
    static constexpr uint16_t kType = 303;
    DisplayBase base;
    std::optional<Image> src_bitmap;
    Rect src_area;
    Brush brush;
    uint16_t rop_descriptor = 0;
    uint8_t scale_mode = 0;
    QMask mask;
};

// DRAW_COPY and DRAW_BLEND share one layout.
template <uint16_t Id>
struct CopyLike {
    static constexpr uint16_t kType = Id;
    DisplayBase base;
    std::optional<Image> src_bitmap;
    Rect src_area;
    uint16_t rop_descriptor = 0;
    uint8_t scale_mode = 0;
    QMask mask;
};

using DrawCopy = CopyLike<304>;
using DrawBlend = CopyLike<305>;

// DRAW_BLACKNESS, DRAW_WHITENESS and DRAW_INVERS: a mask only.
template <uint16_t Id>
struct MaskOnly {
    static constexpr uint16_t kType = Id;
    DisplayBase base;
    QMask mask;
};

using DrawBlackness = MaskOnly<306>;
using DrawWhiteness = MaskOnly<307>;
using DrawInvers = MaskOnly<308>;

struct DrawRop3 {
    static constexpr uint16_t kType = 309;
    DisplayBase base;
    std::optional<Image> src_bitmap;
    Rect src_area;
    Brush brush;
    uint8_t rop3 = 0;
    uint8_t scale_mode = 0;
    QMask mask;
};

struct DrawStroke {
    static constexpr uint16_t kType = 310;
    DisplayBase base;
    Path path;
    LineAttr attr;
    Brush brush;
    uint16_t fore_mode = 0;
    uint16_t back_mode = 0;
};

struct DrawText {
    static constexpr uint16_t kType = 311;
    DisplayBase base;
    GlyphString str;
    Rect back_area;
    Brush fore_brush;
    Brush back_brush;
    uint16_t fore_mode = 0;
    uint16_t back_mode = 0;
};

struct DrawTransparent {
    static constexpr uint16_t kType = 312;
    DisplayBase base;
    std::optional<Image> src_bitmap;
    Rect src_area;
    uint32_t src_color = 0;
    uint32_t true_color = 0;
};

struct DrawAlphaBlend {
    static constexpr uint16_t kType = 313;
    DisplayBase base;
    uint8_t alpha_flags = 0;  // 1 DEST_HAS_ALPHA, 2 SRC_SURFACE_HAS_ALPHA
    uint8_t alpha = 0;
    std::optional<Image> src_bitmap;
    Rect src_area;
};

struct SurfaceCreate {
    static constexpr uint16_t kType = 314;
    uint32_t surface_id = 0;
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t format = 0;  // SpiceSurfaceFmt
    uint32_t flags = 0;   // 1 PRIMARY, 2 STREAMING_MODE
};

struct SurfaceDestroy {
    static constexpr uint16_t kType = 315;
    uint32_t surface_id = 0;
};

struct StreamDataSized {
    static constexpr uint16_t kType = 316;
    uint32_t id = 0;
    uint32_t multi_media_time = 0;
    uint32_t width = 0;
    uint32_t height = 0;
    Rect dest;
    ByteView data;
};

struct MonitorsConfig {
    static constexpr uint16_t kType = 317;
    uint16_t max_allowed = 0;
    std::vector<Head> heads;  // count = heads.size()
};

struct DrawComposite {
    static constexpr uint16_t kType = 318;
    DisplayBase base;
    uint32_t flags = 0;  // composite_flags
    std::optional<Image> src_bitmap;
    std::optional<Image> mask_bitmap;  // the pointer is on the wire only with HAS_MASK
    std::optional<Transform> src_transform;
    std::optional<Transform> mask_transform;
    Point16 src_origin;
    Point16 mask_origin;
};

struct StreamActivateReport {
    static constexpr uint16_t kType = 319;
    uint32_t stream_id = 0;
    uint32_t unique_id = 0;
    uint32_t max_window_size = 0;
    uint32_t timeout_ms = 0;
};

// The dma-buf fd travels as SCM_RIGHTS ancillary data and takes no body bytes.
struct GlScanoutUnix {
    static constexpr uint16_t kType = 320;
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t stride = 0;
    uint32_t drm_fourcc_format = 0;
    uint32_t flags = 0;  // 1 = Y0TOP
};

struct GlDraw {
    static constexpr uint16_t kType = 321;
    uint32_t x = 0;
    uint32_t y = 0;
    uint32_t w = 0;
    uint32_t h = 0;
};

// spice.proto declares it as opaque Data: the rest of the body.
struct QualityIndicator {
    static constexpr uint16_t kType = 322;
    ByteView data;
};

using ServerMessage =
    std::variant<Mode, Mark, Reset, CopyBits, InvalList, InvalAllPixmaps, InvalPalette,
                 InvalAllPalettes, StreamCreate, StreamData, StreamClip, StreamDestroy,
                 StreamDestroyAll, DrawFill, DrawOpaque, DrawCopy, DrawBlend, DrawBlackness,
                 DrawWhiteness, DrawInvers, DrawRop3, DrawStroke, DrawText, DrawTransparent,
                 DrawAlphaBlend, SurfaceCreate, SurfaceDestroy, StreamDataSized, MonitorsConfig,
                 DrawComposite, StreamActivateReport, GlScanoutUnix, GlDraw, QualityIndicator>;

// ---- client -> server -------------------------------------------------------------------

struct Init {
    static constexpr uint16_t kType = 101;
    uint8_t pixmap_cache_id = 0;
    int64_t pixmap_cache_size = 0;  // pixels
    uint8_t glz_dictionary_id = 0;
    int32_t glz_dictionary_window_size = 0;  // pixels
};

struct StreamReport {
    static constexpr uint16_t kType = 102;
    uint32_t stream_id = 0;
    uint32_t unique_id = 0;
    uint32_t start_frame_mm_time = 0;
    uint32_t end_frame_mm_time = 0;
    uint32_t num_frames = 0;
    uint32_t num_drops = 0;
    int32_t last_frame_delay = 0;
    uint32_t audio_delay = 0;  // 0xffffffff = no audio
};

struct PreferredCompression {
    static constexpr uint16_t kType = 103;
    uint8_t image_compression = 0;  // SpiceImageCompression
};

using GlDrawDone = Empty<104>;

struct PreferredVideoCodecType {
    static constexpr uint16_t kType = 105;
    std::vector<uint8_t> codecs;  // in order of preference; num_of_codecs = codecs.size()
};

using ClientMessage =
    std::variant<Init, StreamReport, PreferredCompression, GlDrawDone, PreferredVideoCodecType>;

// ---- API --------------------------------------------------------------------------------

// Decodes a server message body. Errors carry the byte offset within `body` and name the
// structure. An unknown type gives Errc::Unsupported; a message (or LZ4 image) that needs a
// capability the client did not announce gives Errc::BadValue — unless the client's display
// caps are unknown (empty), e.g. for a capture that started after the link stage.
// Bytes after the layout's end are allowed (full-header sub-messages follow the body).
Result<ServerMessage> parse_server(uint16_t type, ByteView body, const wire::ChannelCaps& caps);

// Decodes a client message body (same rules; see docs/dump-format.md for the caps each needs).
Result<ClientMessage> parse_client(uint16_t type, ByteView body, const wire::ChannelCaps& caps);

uint16_t message_type(const ServerMessage& msg);
uint16_t message_type(const ClientMessage& msg);

// Writes the message's fields as key/value pairs into an already open JSON object.
void write_json(const ServerMessage& msg, JsonWriter& w);
void write_json(const ClientMessage& msg, JsonWriter& w);

}  // namespace spicetap::channels::display
