#include "export/compliance/extract.h"

#include <fmt/core.h>
#include <openssl/evp.h>

#include <fstream>
#include <map>
#include <memory>
#include <system_error>
#include <variant>

#include "decode/agent/agent_messages.h"
#include "decode/wire/json_writer.h"
#include "export/compliance/clipboard_content.h"
#include "export/compliance/file_transfers.h"
#include "export/summary/session_summary.h"

namespace spicetap::compliance {

namespace {

class Sha256 {
public:
    Sha256() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
        EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
    }

    void update(ByteView bytes) { EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()); }

    std::string hex() {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        EVP_DigestFinal_ex(ctx_.get(), md, &n);
        std::string out;
        for (unsigned i = 0; i < n; ++i) {
            out += fmt::format("{:02x}", md[i]);
        }
        return out;
    }

private:
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

std::string sha256_of(ByteView bytes) {
    Sha256 h;
    h.update(bytes);
    return h.hex();
}

// A file being received: its item, the open output and the running hash.
struct OpenTransfer {
    size_t item = 0;
    std::filesystem::path path;
    std::ofstream out;
    Sha256 hash;
};

}  // namespace

std::string safe_file_name(std::string_view name) {
    const size_t slash = name.find_last_of("/\\");
    if (slash != std::string_view::npos) {
        name.remove_prefix(slash + 1);
    }
    std::string out;
    for (char ch : name) {
        const auto c = static_cast<unsigned char>(ch);
        const bool reserved = c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == ':' ||
                              c == '"' || c == '|' || c == '?' || c == '*';
        out.push_back(reserved ? '_' : ch);
    }
    for (size_t i = 0; i < out.size() && out[i] == '.'; ++i) {
        out[i] = '_';
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == '.')) {
        out.pop_back();
    }
    if (out.size() > 180) {
        size_t cut = 180;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) {
            --cut;  // not inside a UTF-8 sequence
        }
        out.resize(cut);
    }
    return out.empty() ? "unnamed" : out;
}

Result<ExtractReport> extract_agent_content(const log::SessionLogReader& reader,
                                            const std::filesystem::path& out_dir) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (ec) {
        return make_error(Errc::Io, 0, "cannot create " + out_dir.string() + ": " + ec.message());
    }
    ExtractReport report;
    report.out_dir = out_dir;
    FileTransferTracker tracker;
    std::map<int, OpenTransfer> open;  // by tracker index
    std::optional<DecodeError> io_error;

    auto start_file = [&](int ti, const AgentRecord& rec) {
        const FileTransfer& t = tracker.transfers()[static_cast<size_t>(ti)];
        ExtractedItem item;
        item.ts_us = item.end_us = rec.ts_us;
        item.dir = t.dir;
        item.kind = "file";
        item.name = t.name ? *t.name : fmt::format("transfer-{}", t.id);
        item.declared_size = t.declared_size;
        item.file =
            fmt::format("file-{:03}-{}", report.items.size() + 1, safe_file_name(item.name));
        OpenTransfer& o = open[ti];
        o.item = report.items.size();
        o.path = out_dir / item.file;
        o.out.open(o.path, std::ios::binary | std::ios::trunc);
        if (!o.out && !io_error) {
            io_error = make_error(Errc::Io, 0, "cannot write " + o.path.string());
        }
        report.items.push_back(std::move(item));
    };

    auto walked = walk_agent(reader, [&](const AgentRecord& rec) {
        if (io_error) {
            return;
        }
        const int ti = tracker.on_record(rec);
        // Bytes of a DATA message the end of the recording cut are still the file's bytes.
        for (const CutFileData& d : cut_file_data(rec)) {
            for (auto& [index, o] : open) {
                const FileTransfer& t = tracker.transfers()[static_cast<size_t>(index)];
                if (t.connection == rec.connection && t.id == d.id && t.dir == d.dir &&
                    t.cut_bytes == d.bytes.size()) {
                    o.out.write(reinterpret_cast<const char*>(d.bytes.data()),
                                static_cast<std::streamsize>(d.bytes.size()));
                    o.hash.update(d.bytes);
                }
            }
        }
        if (rec.kind != AgentRecord::Kind::Message || !rec.message->body) {
            return;
        }
        const agent::Body& body = *rec.message->body;
        if (const auto* c = std::get_if<agent::Clipboard>(&body)) {
            ExtractedItem item;
            item.ts_us = item.end_us = rec.ts_us;
            item.dir = rec.dir;
            item.kind = "clipboard";
            item.name = c->selection ? std::string(agent::selection_name(*c->selection))
                                     : std::string("clipboard");
            item.type = std::string(agent::clipboard_type_name(c->type));
            item.size = c->data.size();
            item.sha256 = sha256_of(c->data);
            item.status = "complete";
            const std::string stem = fmt::format("clipboard-{:03}-{}", report.items.size() + 1,
                                                 agent_direction_key(rec.dir));
            auto saved = save_clipboard(c->type, c->data, out_dir / stem);
            if (!saved) {
                io_error = saved.error();
                return;
            }
            item.file = saved->path.filename().string();
            item.note = saved->note;
            report.items.push_back(std::move(item));
            return;
        }
        if (ti < 0) {
            return;
        }
        if (std::holds_alternative<agent::FileXferStart>(body) ||
            (std::holds_alternative<agent::FileXferData>(body) && !open.count(ti))) {
            start_file(ti, rec);
        }
        if (const auto* d = std::get_if<agent::FileXferData>(&body)) {
            OpenTransfer& o = open[ti];
            o.out.write(reinterpret_cast<const char*>(d->data.data()),
                        static_cast<std::streamsize>(d->data.size()));
            if (!o.out && !io_error) {
                io_error = make_error(Errc::Io, 0, "cannot write " + o.path.string());
            }
            o.hash.update(d->data);
        }
    });
    if (!walked) {
        return walked.error();
    }
    report.stats = *walked;
    for (auto& [ti, o] : open) {
        const FileTransfer& t = tracker.transfers()[static_cast<size_t>(ti)];
        ExtractedItem& item = report.items[o.item];
        o.out.close();
        if (!o.out && !io_error) {
            io_error = make_error(Errc::Io, 0, "cannot write " + o.path.string());
        }
        item.size = t.received;
        item.end_us = t.end_us;
        item.sha256 = o.hash.hex();
        item.status = transfer_state_name(t.state);
        item.note = t.note;
        if (t.state != TransferState::Complete) {
            std::filesystem::path partial = o.path;
            partial += ".partial";
            std::filesystem::rename(o.path, partial, ec);
            if (ec && !io_error) {
                io_error = make_error(Errc::Io, 0, "cannot rename " + o.path.string());
            }
            item.file += ".partial";
        }
    }
    if (io_error) {
        return *io_error;
    }
    const std::string manifest = format_extract_manifest(report, reader.session().start_us);
    std::ofstream m(out_dir / "manifest.json", std::ios::trunc);
    m << manifest;
    m.close();
    if (!m) {
        return make_error(Errc::Io, 0, "cannot write " + (out_dir / "manifest.json").string());
    }
    return report;
}

std::string format_extract_text(const ExtractReport& r, int64_t start_us) {
    std::string out;
    for (const auto& i : r.items) {
        std::string what = i.kind == "file" ? fmt::format("file \"{}\"", i.name)
                                            : fmt::format("clipboard {} {}", i.name, i.type);
        std::string size = fmt::format("{} bytes", i.size);
        if (i.declared_size && *i.declared_size != i.size) {
            size = fmt::format("{} of {} bytes", i.size, *i.declared_size);
        }
        out += fmt::format("{:>12.6f}  {:<15}  {}  {}  {}  sha256 {}  -> {}{}\n",
                           static_cast<double>(i.ts_us - start_us) / 1e6,
                           agent_direction_key(i.dir), what, size, i.status, i.sha256.substr(0, 16),
                           i.file, i.note.empty() ? "" : "  (" + i.note + ")");
    }
    out += fmt::format("{} item(s) written to {} (manifest.json)\n", r.items.size(),
                       r.out_dir.string());
    return out;
}

std::string format_extract_manifest(const ExtractReport& r, int64_t start_us) {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.field("session_start", summary::format_utc(start_us));
    w.field("agent_messages", r.stats.messages).field("undecodable", r.stats.undecodable);
    w.field("stream_errors", r.stats.stream_errors);
    w.key("items").begin_array();
    for (const auto& i : r.items) {
        w.begin_object();
        w.field("t", static_cast<double>(i.ts_us - start_us) / 1e6);
        w.field("time", summary::format_utc(i.ts_us));
        w.field("end", static_cast<double>(i.end_us - start_us) / 1e6);
        w.field("direction", agent_direction_key(i.dir)).field("kind", i.kind);
        w.field("name", i.name);
        if (i.type.empty()) {
            w.field_null("type");
        } else {
            w.field("type", i.type);
        }
        w.field("size", i.size);
        if (i.declared_size) {
            w.field("declared_size", *i.declared_size);
        } else {
            w.field_null("declared_size");
        }
        w.field("sha256", i.sha256).field("status", i.status).field("file", i.file);
        w.field("note", i.note);
        w.end_object();
    }
    w.end_array().end_object();
    out.push_back('\n');
    return out;
}

}  // namespace spicetap::compliance
