#include "replay/checkpoint.h"

#include <fmt/core.h>
#include <lz4.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace spicetap::replay {

void StateWriter::f64(double v) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    u64(bits);
}

void StateWriter::blob(ByteView bytes) {
    u64(bytes.size());
    out_.insert(out_.end(), bytes.begin(), bytes.end());
}

void StateWriter::str(const std::string& s) {
    blob(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

double read_f64(ByteReader& r) {
    const uint64_t bits = r.u64();
    double v = 0;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

ByteView read_blob(ByteReader& r) {
    const uint64_t n = r.u64();
    if (n > r.remaining()) {
        r.fail();
        return {};
    }
    return r.bytes(size_t(n));
}

std::string read_str(ByteReader& r) {
    const ByteView b = read_blob(r);
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

CheckpointStore::CheckpointStore(Options options) : options_(options) {}

CheckpointStore::~CheckpointStore() {
    if (file_) {
        std::fclose(file_);
    }
}

Result<void> CheckpointStore::spill(Entry& e) {
    if (!file_) {
        // Anonymous: gone with the process, whatever happens.
        file_ = std::tmpfile();
        if (!file_) {
            return make_error(
                Errc::Io, 0,
                fmt::format("checkpoints: no temporary file: {}", std::strerror(errno)));
        }
    }
    if (std::fseek(file_, 0, SEEK_END) != 0) {
        return make_error(Errc::Io, 0, "checkpoints: cannot seek the temporary file");
    }
    const long at = std::ftell(file_);
    if (at < 0 ||
        std::fwrite(e.compressed.data(), 1, e.compressed.size(), file_) != e.compressed.size()) {
        return make_error(
            Errc::Io, 0,
            fmt::format("checkpoints: cannot write the temporary file: {}", std::strerror(errno)));
    }
    e.file_offset = uint64_t(at);
    e.file_size = e.compressed.size();
    e.spilled = true;
    memory_ -= e.compressed.size();
    spilled_ += e.compressed.size();
    std::vector<uint8_t>().swap(e.compressed);
    return {};
}

Result<void> CheckpointStore::add(size_t event, std::vector<uint8_t> state) {
    if (state.size() > size_t(LZ4_MAX_INPUT_SIZE)) {
        return make_error(Errc::LimitExceeded, 0,
                          fmt::format("checkpoint of {} bytes is too large", state.size()));
    }
    Entry e;
    e.event = event;
    e.raw_size = state.size();
    e.compressed.resize(size_t(LZ4_compressBound(int(state.size()))));
    const int n = LZ4_compress_default(reinterpret_cast<const char*>(state.data()),
                                       reinterpret_cast<char*>(e.compressed.data()),
                                       int(state.size()), int(e.compressed.size()));
    if (n <= 0) {
        return make_error(Errc::Corrupt, 0, "checkpoint: LZ4 compression failed");
    }
    e.compressed.resize(size_t(n));
    e.compressed.shrink_to_fit();
    memory_ += e.compressed.size();
    raw_ += e.raw_size;
    entries_.push_back(std::move(e));
    // Oldest first out of memory: seeks near the end of what was replayed stay fast.
    for (Entry& old : entries_) {
        if (memory_ <= options_.memory_budget) {
            break;
        }
        if (!old.spilled) {
            if (auto ok = spill(old); !ok) {
                return ok;
            }
        }
    }
    return {};
}

std::optional<size_t> CheckpointStore::find(size_t event) const {
    auto it = std::upper_bound(entries_.begin(), entries_.end(), event,
                               [](size_t ev, const Entry& e) { return ev < e.event; });
    if (it == entries_.begin()) {
        return std::nullopt;
    }
    return size_t(std::distance(entries_.begin(), it) - 1);
}

Result<std::vector<uint8_t>> CheckpointStore::load(size_t index) const {
    const Entry& e = entries_.at(index);
    std::vector<uint8_t> compressed;
    const std::vector<uint8_t>* src = &e.compressed;
    if (e.spilled) {
        compressed.resize(e.file_size);
        if (std::fseek(file_, long(e.file_offset), SEEK_SET) != 0 ||
            std::fread(compressed.data(), 1, compressed.size(), file_) != compressed.size()) {
            return make_error(Errc::Io, 0, "checkpoints: cannot read the temporary file back");
        }
        src = &compressed;
    }
    std::vector<uint8_t> out(e.raw_size);
    const int n =
        LZ4_decompress_safe(reinterpret_cast<const char*>(src->data()),
                            reinterpret_cast<char*>(out.data()), int(src->size()), int(out.size()));
    if (n < 0 || size_t(n) != out.size()) {
        return make_error(Errc::Corrupt, 0, "checkpoint does not decompress");
    }
    return out;
}

}  // namespace spicetap::replay
