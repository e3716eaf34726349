#include "decode/codec/glz_window.h"

#include <algorithm>

namespace spicetap::codec {

const char* glz_absence_name(GlzAbsence why) {
    switch (why) {
        case GlzAbsence::NotSeen:
            return "not seen (yet)";
        case GlzAbsence::Released:
            return "released by the stream's window";
        case GlzAbsence::EvictedByCap:
            return "evicted by the window's memory cap";
    }
    return "missing";
}

uint64_t GlzWindow::capacity_pixels() const {
    if (window_size_ == 0) {
        return config_.max_pixels;
    }
    // The server's window holds at most window_size pixels including the image being encoded;
    // twice that leaves room for images still in flight on other display connections.
    return std::min(config_.max_pixels, uint64_t{window_size_} * 2);
}

const GlzImage* GlzWindow::find(uint64_t id) const {
    auto it = images_.find(id);
    return it == images_.end() ? nullptr : it->second.get();
}

GlzAbsence GlzWindow::why_missing(uint64_t id) const {
    if (id < released_below_) {
        return GlzAbsence::Released;
    }
    if (id < capped_below_) {
        return GlzAbsence::EvictedByCap;
    }
    return GlzAbsence::NotSeen;
}

std::unique_ptr<GlzImage> GlzWindow::make_image() {
    if (spare_) {
        return std::move(spare_);
    }
    return std::make_unique<GlzImage>();
}

void GlzWindow::drop(std::map<uint64_t, std::unique_ptr<GlzImage>>::iterator it) {
    stored_pixels_ -= it->second->pixels.size();
    if (!spare_) {
        spare_ = std::move(it->second);
    }
    images_.erase(it);
}

void GlzWindow::insert(std::unique_ptr<GlzImage> image) {
    const uint64_t id = image->id;
    if (auto old = images_.find(id); old != images_.end()) {
        drop(old);
    }
    stored_pixels_ += image->pixels.size();
    images_.emplace(id, std::move(image));

    // Close the run of consecutive ids; the newest image of that run says how far back the
    // encoder can still reach.
    if (!tail_) {
        tail_ = id;  // a capture may start mid-session: count from the first image seen
    }
    while (images_.count(*tail_) != 0) {
        ++*tail_;
    }
    if (const GlzImage* newest = find(*tail_ - 1)) {
        const uint64_t reach = newest->id - std::min<uint64_t>(newest->win_head_dist, newest->id);
        if (reach > released_below_) {
            released_below_ = reach;
            while (!images_.empty() && images_.begin()->first < reach) {
                drop(images_.begin());
            }
        }
    }

    const uint64_t cap = capacity_pixels();
    auto it = images_.begin();
    while (stored_pixels_ > cap && it != images_.end()) {
        if (it->first == id) {
            ++it;
            continue;
        }
        capped_below_ = std::max(capped_below_, it->first + 1);
        auto next = std::next(it);
        drop(it);
        it = next;
    }
}

void GlzWindow::clear() {
    images_.clear();
    stored_pixels_ = 0;
    tail_.reset();
    released_below_ = 0;
    capped_below_ = 0;
}

std::optional<uint64_t> GlzWindow::oldest_id() const {
    if (images_.empty()) {
        return std::nullopt;
    }
    return images_.begin()->first;
}

std::optional<uint64_t> GlzWindow::newest_id() const {
    if (images_.empty()) {
        return std::nullopt;
    }
    return images_.rbegin()->first;
}

GlzWindow::Saved GlzWindow::save() const {
    Saved out;
    out.window_size = window_size_;
    out.tail = tail_;
    out.released_below = released_below_;
    out.capped_below = capped_below_;
    out.images.reserve(images_.size());
    for (const auto& [id, image] : images_) {
        out.images.push_back(image.get());
    }
    return out;
}

void GlzWindow::restore(uint32_t window_size, std::vector<std::unique_ptr<GlzImage>> images,
                        std::optional<uint64_t> tail, uint64_t released_below,
                        uint64_t capped_below) {
    clear();
    window_size_ = window_size;
    for (auto& image : images) {
        stored_pixels_ += image->pixels.size();
        const uint64_t id = image->id;
        images_.insert_or_assign(id, std::move(image));
    }
    tail_ = tail;
    released_below_ = released_below;
    capped_below_ = capped_below;
}

}  // namespace spicetap::codec
