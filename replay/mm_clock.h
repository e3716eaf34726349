// The client's multimedia clock, as spice-gtk keeps it for its session: the value of the last
// MAIN_INIT.multi_media_time or MAIN_MULTI_MEDIA_TIME, running on in milliseconds from the moment
// it arrived. Video frames carry the multimedia time at which the client is to show them.
#pragma once

#include <cstdint>

#include "replay/checkpoint.h"

namespace spicetap::replay {

class MmClock {
public:
    void set(uint32_t mm_time, int64_t at_us) {
        known_ = true;
        mm_ = mm_time;
        at_us_ = at_us;
    }

    // No main channel seen (a capture of the display channel alone): frames show on arrival.
    bool known() const { return known_; }

    // The clock's reading at capture time ts_us (whole milliseconds, as the client counts).
    uint32_t at(int64_t ts_us) const { return mm_ + uint32_t(int64_t((ts_us - at_us_) / 1000)); }

    // The capture time at which the clock reads mm_time (mm-times wrap; differences are
    // signed 32-bit, as spice_mmtime_diff takes them).
    int64_t when(uint32_t mm_time) const { return at_us_ + int64_t(int32_t(mm_time - mm_)) * 1000; }

    void save(StateWriter& w) const {
        w.u8(known_ ? 1 : 0);
        w.u32(mm_);
        w.i64(at_us_);
    }

    void load(ByteReader& r) {
        known_ = r.u8() != 0;
        mm_ = r.u32();
        at_us_ = r.i64();
    }

private:
    bool known_ = false;
    uint32_t mm_ = 0;
    int64_t at_us_ = 0;
};

}  // namespace spicetap::replay
