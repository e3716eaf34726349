// Checkpoints for seeking: the replay's whole state at an event, serialized to bytes
// (StateWriter / ByteReader), LZ4-compressed and kept by a CheckpointStore that holds them in
// memory up to a budget and spills the rest to an anonymous temporary file, so memory stays flat
// however long the session is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "decode/wire/byte_reader.h"
#include "decode/wire/result.h"

namespace spicetap::replay {

// Little-endian fields appended to a byte buffer; the matching reads use ByteReader.
class StateWriter {
public:
    void u8(uint8_t v) { out_.push_back(v); }

    void u16(uint16_t v) { le(v, 2); }

    void u32(uint32_t v) { le(v, 4); }

    void u64(uint64_t v) { le(v, 8); }

    void i32(int32_t v) { le(uint32_t(v), 4); }

    void i64(int64_t v) { le(uint64_t(v), 8); }

    void f64(double v);
    // A length (u64) and the bytes.
    void blob(ByteView bytes);
    void str(const std::string& s);

    std::vector<uint8_t>& buffer() { return out_; }

private:
    void le(uint64_t v, int n) {
        for (int i = 0; i < n; ++i) {
            out_.push_back(uint8_t(v >> (8 * i)));
        }
    }

    std::vector<uint8_t> out_;
};

double read_f64(ByteReader& r);
ByteView read_blob(ByteReader& r);
std::string read_str(ByteReader& r);

class CheckpointStore {
public:
    struct Options {
        size_t memory_budget = size_t{64} << 20;  // compressed bytes kept in memory
    };

    CheckpointStore() : CheckpointStore(Options{}) {}

    explicit CheckpointStore(Options options);
    ~CheckpointStore();
    CheckpointStore(const CheckpointStore&) = delete;
    CheckpointStore& operator=(const CheckpointStore&) = delete;

    // A checkpoint taken before event `event` (events [0, event) applied), in increasing order.
    Result<void> add(size_t event, std::vector<uint8_t> state);

    // The last checkpoint at or before `event`, as an index.
    std::optional<size_t> find(size_t event) const;

    size_t event(size_t index) const { return entries_[index].event; }

    size_t size() const { return entries_.size(); }

    // The state bytes of checkpoint `index`.
    Result<std::vector<uint8_t>> load(size_t index) const;

    size_t memory_bytes() const { return memory_; }

    uint64_t spilled_bytes() const { return spilled_; }

    uint64_t raw_bytes() const { return raw_; }

private:
    struct Entry {
        size_t event = 0;
        size_t raw_size = 0;
        std::vector<uint8_t> compressed;  // empty once spilled
        uint64_t file_offset = 0;
        size_t file_size = 0;
        bool spilled = false;
    };

    Result<void> spill(Entry& e);

    Options options_;
    std::vector<Entry> entries_;
    size_t memory_ = 0;
    uint64_t spilled_ = 0;
    uint64_t raw_ = 0;
    std::FILE* file_ = nullptr;
};

}  // namespace spicetap::replay
