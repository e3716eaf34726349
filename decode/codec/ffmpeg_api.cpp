#include "decode/codec/ffmpeg_api.h"

#include <dlfcn.h>
#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace spicetap::codec {
namespace {

#define SPICETAP_STRINGIFY2(x) #x
#define SPICETAP_STRINGIFY(x) SPICETAP_STRINGIFY2(x)

// The sonames of the FFmpeg we were compiled against: a different major version has a
// different ABI, so only these will do.
struct Library {
    const char* soname;
    void* handle = nullptr;
};

struct Loaded {
    FfmpegApi api;
    Result<void> outcome = Result<void>();
};

Loaded load_all() {
    Loaded out;
    // Dependencies first; each library's own DT_NEEDED entries find the others anyway.
    Library avutil{"libavutil.so." SPICETAP_STRINGIFY(LIBAVUTIL_VERSION_MAJOR)};
    Library swresample{"libswresample.so." SPICETAP_STRINGIFY(LIBSWRESAMPLE_VERSION_MAJOR)};
    Library swscale{"libswscale.so." SPICETAP_STRINGIFY(LIBSWSCALE_VERSION_MAJOR)};
    Library avcodec{"libavcodec.so." SPICETAP_STRINGIFY(LIBAVCODEC_VERSION_MAJOR)};
    Library avformat{"libavformat.so." SPICETAP_STRINGIFY(LIBAVFORMAT_VERSION_MAJOR)};
    for (Library* lib : {&avutil, &swresample, &swscale, &avcodec, &avformat}) {
        lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
        if (lib->handle == nullptr) {
            const char* why = dlerror();
            out.outcome = make_error(Errc::Io, 0,
                                     fmt::format("FFmpeg: {} cannot be loaded ({}); install "
                                                 "Debian's FFmpeg libraries (scripts/setup)",
                                                 lib->soname, why ? why : "unknown reason"));
            return out;
        }
    }
#define SPICETAP_FFMPEG_LOOKUP(library, function)                                                 \
    out.api.function = reinterpret_cast<decltype(&::function)>(dlsym(library.handle, #function)); \
    if (out.api.function == nullptr) {                                                            \
        out.outcome = make_error(Errc::Io, 0,                                            \
                                 fmt::format("FFmpeg: {} has no {}", library.soname, #function)); \
        return out;                                                                               \
    }
    SPICETAP_FFMPEG_FUNCTIONS(SPICETAP_FFMPEG_LOOKUP)
#undef SPICETAP_FFMPEG_LOOKUP
    // The handles stay open for the life of the process: FFmpeg keeps global state (codec
    // registries, log callbacks) that must outlive every context we made.
    return out;
}

const Loaded& loaded() {
    static const Loaded instance = load_all();
    return instance;
}

}  // namespace

Result<void> ffmpeg_load() {
    return loaded().outcome;
}

const FfmpegApi& ffmpeg() {
    const Loaded& l = loaded();
    if (!l.outcome) {
        std::fprintf(stderr, "spicetap: internal error: FFmpeg used without ffmpeg_load(): %s\n",
                     l.outcome.error().message().c_str());
        std::abort();
    }
    return l.api;
}

std::string ffmpeg_error_text(int err) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {};
    ffmpeg().av_strerror(err, buf, sizeof buf);
    return buf;
}

void FfmpegDeleter::operator()(AVCodecContext* c) const {
    ffmpeg().avcodec_free_context(&c);
}

void FfmpegDeleter::operator()(AVFrame* f) const {
    ffmpeg().av_frame_free(&f);
}

void FfmpegDeleter::operator()(AVPacket* p) const {
    ffmpeg().av_packet_free(&p);
}

void FfmpegDeleter::operator()(SwsContext* s) const {
    ffmpeg().sws_freeContext(s);
}

void FfmpegDeleter::operator()(SwrContext* s) const {
    ffmpeg().swr_free(&s);
}

void FfmpegDeleter::operator()(AVAudioFifo* f) const {
    ffmpeg().av_audio_fifo_free(f);
}

}  // namespace spicetap::codec
