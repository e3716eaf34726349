// One entry point for "decode this message and write its fields": dispatches on the channel type
// (and on base message ids < 100) to the channel demarshallers. Used by `dump --decode` and the
// timeline writers.
#pragma once

#include <cstdint>

#include "decode/wire/byte_reader.h"
#include "decode/wire/caps.h"
#include "decode/wire/protocol_names.h"
#include "decode/wire/result.h"

namespace spicetap {
class JsonWriter;
}

namespace spicetap::channels {

// True if messages of this channel type and id range have a demarshaller in this build.
bool has_decoder(uint8_t channel_type, uint16_t type);

// Decodes `body` and writes its fields into the open JSON object `w`. On failure nothing is
// written and the error carries the byte offset within the body.
Result<void> write_message_fields(uint8_t channel_type, wire::Direction dir, uint16_t type,
                                  ByteView body, const wire::ChannelCaps& caps, JsonWriter& w);

}  // namespace spicetap::channels
