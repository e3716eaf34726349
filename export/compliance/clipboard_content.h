// What a clipboard payload (VD_AGENT_CLIPBOARD data) holds, and how `extract` saves it: UTF-8
// text as .txt (trailing NULs some agents send dropped), PNG as is, BMP converted to PNG, TIFF
// and JPEG as they are (.tiff, .jpg), a file list as one entry per line, anything else as .bin.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::compliance {

struct ClipboardContent {
    std::string extension;  // of the saved file: "txt", "png", "bmp", "tiff", "jpg", "bin"
    uint32_t width = 0;     // images whose header we read (PNG, BMP); 0 otherwise
    uint32_t height = 0;
};

ClipboardContent describe_clipboard(uint32_t type, ByteView data);

// Quoted, escaped text of at most max_chars characters, "..." when cut.
std::string text_preview(ByteView text, size_t max_chars);

// The text without the trailing NULs some senders include.
ByteView clipboard_text(ByteView data);

struct SavedClipboard {
    std::filesystem::path path;  // what was written
    std::string note;            // conversion done, or why the raw bytes were kept
};

// Writes `data` of clipboard `type` as `stem` + extension (see above). A BMP that does not
// decode is kept raw (.bmp) with the reason in the note. Errors: Io.
Result<SavedClipboard> save_clipboard(uint32_t type, ByteView data,
                                      const std::filesystem::path& stem);

}  // namespace spicetap::compliance
