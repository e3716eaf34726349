#include "export/compliance/file_transfers.h"

#include <fmt/core.h>
#include <spice/vd_agent.h>

#include <variant>

namespace spicetap::compliance {

const char* transfer_state_name(TransferState s) {
    switch (s) {
        case TransferState::InProgress:
            return "in_progress";
        case TransferState::Complete:
            return "complete";
        case TransferState::Cancelled:
            return "cancelled";
        case TransferState::Failed:
            return "failed";
        case TransferState::CutShort:
            return "cut_short";
        case TransferState::Unconfirmed:
            return "unconfirmed";
    }
    return "unknown";
}

int FileTransferTracker::find(int64_t connection, uint32_t id) const {
    // The latest transfer with that id: ids may be reused after a transfer ended.
    for (size_t i = transfers_.size(); i-- > 0;) {
        if (transfers_[i].connection == connection && transfers_[i].id == id) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

namespace {

std::string bytes_of(const FileTransfer& t) {
    return t.declared_size ? fmt::format("{} of {} bytes", t.received, *t.declared_size)
                           : fmt::format("{} bytes (size not declared)", t.received);
}

}  // namespace

std::vector<CutFileData> cut_file_data(const AgentRecord& rec) {
    std::vector<CutFileData> out;
    if (rec.kind != AgentRecord::Kind::ConnectionEnd) {
        return out;
    }
    for (const auto* cut : {&rec.cut_c2s, &rec.cut_s2c}) {
        if (!*cut || (*cut)->header.type != VD_AGENT_FILE_XFER_DATA) {
            continue;
        }
        // VDAgentFileXferDataMessage: id u32, size u64, then the bytes.
        ByteReader r((*cut)->payload);
        CutFileData d;
        d.dir =
            cut == &rec.cut_c2s ? log::Direction::ClientToServer : log::Direction::ServerToClient;
        d.id = r.u32();
        const uint64_t size = r.u64();
        if (!r.ok()) {
            continue;
        }
        d.bytes = r.rest();
        if (d.bytes.size() > size) {
            d.bytes = d.bytes.first(static_cast<size_t>(size));
        }
        out.push_back(d);
    }
    return out;
}

int FileTransferTracker::on_record(const AgentRecord& rec) {
    if (rec.kind == AgentRecord::Kind::ConnectionEnd) {
        for (const CutFileData& d : cut_file_data(rec)) {
            const int i = find(rec.connection, d.id);
            if (i >= 0 && transfers_[static_cast<size_t>(i)].state == TransferState::InProgress &&
                transfers_[static_cast<size_t>(i)].dir == d.dir) {
                transfers_[static_cast<size_t>(i)].received += d.bytes.size();
                transfers_[static_cast<size_t>(i)].cut_bytes += d.bytes.size();
            }
        }
        for (auto& t : transfers_) {
            if (t.connection != rec.connection || t.state != TransferState::InProgress) {
                continue;
            }
            t.end_us = rec.ts_us;
            const std::string why =
                rec.text == "end_of_capture" || rec.text == "cut_short" || rec.text.empty()
                    ? std::string("the recording ended")
                    : "the main connection ended (" + rec.text + ")";
            if (t.declared_size && t.received >= *t.declared_size) {
                t.state = TransferState::Unconfirmed;
                t.note = "all " + bytes_of(t) + " sent; no result before " + why;
            } else {
                t.state = TransferState::CutShort;
                t.note = bytes_of(t) + " before " + why;
                if (t.cut_bytes) {
                    t.note +=
                        fmt::format(", the last {} from a data message cut short", t.cut_bytes);
                }
            }
        }
        return -1;
    }
    if (rec.kind != AgentRecord::Kind::Message || !rec.message->body) {
        return -1;
    }
    const agent::Body& body = *rec.message->body;
    if (const auto* s = std::get_if<agent::FileXferStart>(&body)) {
        FileTransfer t;
        t.connection = rec.connection;
        t.id = s->id;
        t.dir = rec.dir;
        t.name = s->name;
        t.declared_size = s->size;
        t.start_seen = true;
        t.start_us = t.end_us = rec.ts_us;
        transfers_.push_back(std::move(t));
        return static_cast<int>(transfers_.size() - 1);
    }
    if (const auto* d = std::get_if<agent::FileXferData>(&body)) {
        int i = find(rec.connection, d->id);
        if (i < 0 || transfers_[static_cast<size_t>(i)].state != TransferState::InProgress) {
            FileTransfer t;
            t.connection = rec.connection;
            t.id = d->id;
            t.dir = rec.dir;
            t.start_us = rec.ts_us;
            t.note = "its start was not recorded";
            transfers_.push_back(std::move(t));
            i = static_cast<int>(transfers_.size() - 1);
        }
        FileTransfer& t = transfers_[static_cast<size_t>(i)];
        t.received += d->size;
        ++t.data_messages;
        t.end_us = rec.ts_us;
        return i;
    }
    if (const auto* st = std::get_if<agent::FileXferStatus>(&body)) {
        const int i = find(rec.connection, st->id);
        if (i < 0) {
            return -1;
        }
        FileTransfer& t = transfers_[static_cast<size_t>(i)];
        if (st->result == VD_AGENT_FILE_XFER_STATUS_CAN_SEND_DATA ||
            t.state != TransferState::InProgress) {
            return i;
        }
        t.result = st->result;
        t.end_us = rec.ts_us;
        const std::string by =
            rec.dir == log::Direction::ClientToServer ? "the client" : "the guest";
        switch (st->result) {
            case VD_AGENT_FILE_XFER_STATUS_SUCCESS:
                if (t.declared_size && t.received < *t.declared_size) {
                    t.state = TransferState::CutShort;
                    t.note = "success reported by " + by + " after " + bytes_of(t);
                } else {
                    t.state = TransferState::Complete;
                }
                break;
            case VD_AGENT_FILE_XFER_STATUS_CANCELLED:
                t.state = TransferState::Cancelled;
                t.note = "cancelled by " + by + " after " + bytes_of(t);
                break;
            default:
                t.state = TransferState::Failed;
                t.note = std::string(agent::file_xfer_status_name(st->result)) + " reported by " +
                         by + " after " + bytes_of(t);
                if (st->error_code) {
                    t.note += fmt::format(" (error code {})", *st->error_code);
                }
        }
        return i;
    }
    return -1;
}

}  // namespace spicetap::compliance
