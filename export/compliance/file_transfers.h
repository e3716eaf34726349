// File transfers through the agent (VD_AGENT_FILE_XFER_*), followed from start to their end:
// START names the file and its size (key file metadata), the receiver answers STATUS
// can_send_data, DATA messages carry the bytes, and a final STATUS (success, cancelled, error,
// ...) from either side ends it. A transfer with no final status when its main connection ends
// was cut short (or, with every byte seen, is unconfirmed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "export/compliance/agent_walk.h"

namespace spicetap::compliance {

enum class TransferState : uint8_t {
    InProgress,   // no final status yet
    Complete,     // success reported and every declared byte seen
    Cancelled,    // either side cancelled
    Failed,       // error, not_enough_space, session_locked, vdagent_not_connected, disabled
    CutShort,     // ended (connection, recording, or a success without all bytes) short of its size
    Unconfirmed,  // every declared byte seen, but no final status before the connection ended
};

// "in_progress", "complete", "cancelled", "failed", "cut_short", "unconfirmed".
const char* transfer_state_name(TransferState s);

struct FileTransfer {
    int64_t connection = 0;
    uint32_t id = 0;
    log::Direction dir = log::Direction::ClientToServer;  // the sender
    std::optional<std::string> name;                      // from the START key file
    std::optional<uint64_t> declared_size;
    bool start_seen = false;  // false: the recording began after its START
    uint64_t received = 0;    // DATA bytes seen
    uint64_t data_messages = 0;
    uint64_t cut_bytes = 0;  // of `received`, from a DATA message cut by the end
    int64_t start_us = 0;
    int64_t end_us = 0;
    TransferState state = TransferState::InProgress;
    std::optional<uint32_t> result;  // the final VD_AGENT_FILE_XFER_STATUS_*
    std::string note;                // why it is not complete, in words
};

// File bytes of a DATA message that the end of a main connection (or of the recording) cut:
// what a ConnectionEnd record's partial messages carried after the DATA header.
struct CutFileData {
    log::Direction dir = log::Direction::ClientToServer;
    uint32_t id = 0;
    ByteView bytes;
};

std::vector<CutFileData> cut_file_data(const AgentRecord& rec);

class FileTransferTracker {
public:
    // Follows one walk record. Returns the index (in transfers()) of the transfer a START,
    // STATUS or DATA message belongs to, or -1.
    int on_record(const AgentRecord& rec);

    const std::vector<FileTransfer>& transfers() const { return transfers_; }

private:
    int find(int64_t connection, uint32_t id) const;

    std::vector<FileTransfer> transfers_;
};

}  // namespace spicetap::compliance
