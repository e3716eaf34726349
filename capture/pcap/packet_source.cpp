#include "capture/pcap/packet_source.h"

#include <fmt/core.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>

namespace spicetap::capture {
namespace {

// Magic numbers as they appear when the first four bytes are read little-endian.
constexpr uint32_t kPcapMicro = 0xa1b2c3d4;
constexpr uint32_t kPcapNano = 0xa1b23c4d;
constexpr uint32_t kPcapKuznetzov = 0xa1b2cd34;
constexpr uint32_t kPcapngBlock = 0x0a0d0d0a;  // palindromic: same in both byte orders

bool is_capture_magic(uint32_t le) {
    for (uint32_t m : {kPcapMicro, kPcapNano, kPcapKuznetzov}) {
        if (le == m || le == __builtin_bswap32(m)) {
            return true;
        }
    }
    return le == kPcapngBlock;
}

int64_t to_us(const timeval& tv) {
    return static_cast<int64_t>(tv.tv_sec) * 1'000'000 + static_cast<int64_t>(tv.tv_usec);
}

class FileSource final : public PacketSource {
public:
    FileSource(pcap_t* pcap, std::string name) : pcap_(pcap), name_(std::move(name)) {}

    ~FileSource() override { pcap_close(pcap_); }

    Result<bool> next(RawPacket& out) override {
        if (error_) {
            return *error_;
        }
        if (done_) {
            return false;
        }
        // Where this record starts, so a cut can be located. libpcap reads through stdio, so
        // ftell() is the logical position (glibc caches it; no syscall per packet).
        long record_offset = std::ftell(pcap_file(pcap_));
        pcap_pkthdr* header = nullptr;
        const u_char* data = nullptr;
        int rc = pcap_next_ex(pcap_, &header, &data);
        if (rc == 1) {
            ++packets_;
            out.number = packets_;
            out.ts_us = to_us(header->ts);
            out.orig_len = header->len;
            out.linktype = linktype_;
            out.data = ByteView(data, header->caplen);
            return true;
        }
        if (rc == PCAP_ERROR_BREAK) {
            done_ = true;
            return false;
        }
        // PCAP_ERROR: a cut or corrupt record. Frames read so far were delivered already.
        std::string why = pcap_geterr(pcap_);
        Errc code = why.find("truncated") != std::string::npos ? Errc::Truncated : Errc::Corrupt;
        uint64_t offset = record_offset >= 0 ? static_cast<uint64_t>(record_offset) : 0;
        std::string where = record_offset >= 0 ? fmt::format("frame {} (record at file offset {})",
                                                             packets_ + 1, record_offset)
                                               : fmt::format("frame {}", packets_ + 1);
        std::string what = code == Errc::Truncated
                               ? fmt::format("{}: file cut short in {}: {}", name_, where, why)
                               : fmt::format("{}: corrupt {}: {}", name_, where, why);
        error_ = make_error(code, offset, std::move(what));
        return *error_;
    }

    void interrupt() override {}

    SourceStats stats() const override {
        SourceStats s;
        s.packets = packets_;
        return s;
    }

    int linktype() const override { return linktype_; }

private:
    pcap_t* pcap_;
    std::string name_;
    int linktype_ = pcap_datalink(pcap_);
    uint64_t packets_ = 0;
    bool done_ = false;
    std::optional<DecodeError> error_;
};

class LiveSource final : public PacketSource {
public:
    explicit LiveSource(pcap_t* pcap) : pcap_(pcap) {}

    ~LiveSource() override { pcap_close(pcap_); }

    Result<bool> next(RawPacket& out) override {
        while (!stop_.load(std::memory_order_relaxed)) {
            pcap_pkthdr* header = nullptr;
            const u_char* data = nullptr;
            int rc = pcap_next_ex(pcap_, &header, &data);
            if (rc == 1) {
                ++packets_;
                out.number = packets_;
                out.ts_us = to_us(header->ts);
                out.orig_len = header->len;
                out.linktype = linktype_;
                out.data = ByteView(data, header->caplen);
                return true;
            }
            if (rc == 0) {
                wait_readable();
                continue;
            }
            if (rc == PCAP_ERROR_BREAK) {
                continue;  // breakloop: the loop condition decides
            }
            return make_error(Errc::Io, 0,
                              fmt::format("live capture failed: {}", pcap_geterr(pcap_)));
        }
        return false;
    }

    // After interrupt() the packets the kernel had captured by then are still delivered (the
    // handle is non-blocking, so this drains what is buffered and stops at the first later
    // one): a stop signal keeps everything that went over the wire before it.
    Result<PollResult> poll(RawPacket& out) override {
        const bool stopping = stop_.load(std::memory_order_acquire);
        pcap_pkthdr* header = nullptr;
        const u_char* data = nullptr;
        const int rc = pcap_next_ex(pcap_, &header, &data);
        if (rc == 1) {
            out.ts_us = to_us(header->ts);
            if (stopping && out.ts_us > stop_us_.load(std::memory_order_relaxed)) {
                return PollResult::End;
            }
            ++packets_;
            out.number = packets_;
            out.orig_len = header->len;
            out.linktype = linktype_;
            out.data = ByteView(data, header->caplen);
            return PollResult::Packet;
        }
        if (rc == 0) {
            if (stopping) {
                return PollResult::End;
            }
            wait_readable();
            return PollResult::Idle;
        }
        if (rc == PCAP_ERROR_BREAK) {
            return PollResult::Idle;  // breakloop: the next poll drains and ends
        }
        return make_error(Errc::Io, 0, fmt::format("live capture failed: {}", pcap_geterr(pcap_)));
    }

    // Only clock_gettime, atomic stores and pcap_breakloop (a flag plus an eventfd write in
    // libpcap 1.10): all async-signal-safe.
    void interrupt() override {
        timespec now{};
        ::clock_gettime(CLOCK_REALTIME, &now);
        stop_us_.store(static_cast<int64_t>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000,
                       std::memory_order_relaxed);
        stop_.store(true, std::memory_order_release);
        pcap_breakloop(pcap_);
    }

    SourceStats stats() const override {
        SourceStats s;
        s.packets = packets_;
        pcap_stat ps{};
        if (pcap_stats(pcap_, &ps) == 0) {
            s.dropped = ps.ps_drop;
            s.if_dropped = ps.ps_ifdrop;
        }
        return s;
    }

    int linktype() const override { return linktype_; }

private:
    // The handle is non-blocking (in immediate mode libpcap would otherwise wait for a packet
    // however long that takes): wait here for one, at most 200 ms, so callers get to run timed
    // work and see interrupt() soon.
    void wait_readable() {
        pollfd pfd{pcap_get_selectable_fd(pcap_), POLLIN, 0};
        if (pfd.fd >= 0) {
            ::poll(&pfd, 1, 200);
        } else {
            ::usleep(10'000);
        }
    }

    pcap_t* pcap_;
    int linktype_ = pcap_datalink(pcap_);
    uint64_t packets_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int64_t> stop_us_{0};  // wall clock of interrupt(), as packet times are
};

DecodeError activate_error(pcap_t* pcap, int rc, const std::string& interface) {
    std::string detail = pcap_geterr(pcap);
    std::string status = pcap_statustostr(rc);
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
        status = "no such interface";
    } else if (rc == PCAP_ERROR_PERM_DENIED) {
        status = "permission denied (needs root or CAP_NET_RAW)";
    }
    std::string what = fmt::format("cannot open interface {}: {}", interface, status);
    if (!detail.empty()) {
        what += fmt::format(" ({})", detail);
    }
    return make_error(Errc::Io, 0, std::move(what));
}

}  // namespace

Result<PollResult> PacketSource::poll(RawPacket& out) {
    auto more = next(out);
    if (!more) {
        return more.error();
    }
    return *more ? PollResult::Packet : PollResult::End;
}

Result<std::unique_ptr<PacketSource>> PacketSource::open_file(const std::filesystem::path& path) {
    const std::string name = path.string();
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        return make_error(Errc::Io, 0, fmt::format("cannot open {}: is a directory", name));
    }
    FILE* f = std::fopen(name.c_str(), "rb");
    if (!f) {
        return make_error(Errc::Io, 0,
                          fmt::format("cannot open {}: {}", name, std::strerror(errno)));
    }
    // Check the magic ourselves: libpcap's wording for "not a capture" varies by version.
    unsigned char magic[4];
    size_t got = std::fread(magic, 1, sizeof magic, f);
    if (got < sizeof magic) {
        std::fclose(f);
        return make_error(
            Errc::BadMagic, got,
            got == 0 ? fmt::format("{} is not a pcap or pcapng file: it is empty", name)
                     : fmt::format("{} is not a pcap or pcapng file: only {} bytes", name, got));
    }
    uint32_t le = static_cast<uint32_t>(magic[0]) | static_cast<uint32_t>(magic[1]) << 8 |
                  static_cast<uint32_t>(magic[2]) << 16 | static_cast<uint32_t>(magic[3]) << 24;
    if (!is_capture_magic(le)) {
        std::fclose(f);
        return make_error(Errc::BadMagic, 0,
                          fmt::format("{} is not a pcap or pcapng file (starts with {:02x} {:02x} "
                                      "{:02x} {:02x})",
                                      name, magic[0], magic[1], magic[2], magic[3]));
    }
    std::rewind(f);
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    // On success libpcap owns `f` and pcap_close() closes it.
    pcap_t* pcap = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (!pcap) {
        std::fclose(f);
        std::string why = errbuf;
        Errc code = why.find("truncated") != std::string::npos ? Errc::Truncated : Errc::Corrupt;
        return make_error(code, 0, fmt::format("{}: bad capture file header: {}", name, why));
    }
    return std::unique_ptr<PacketSource>(new FileSource(pcap, name));
}

Result<std::unique_ptr<PacketSource>> PacketSource::open_live(const LiveOptions& options) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    const std::string& iface = options.interface;
    if (iface.empty()) {
        return make_error(Errc::BadValue, 0, "cannot open live capture: no interface given");
    }
    pcap_t* pcap = pcap_create(iface.c_str(), errbuf);
    if (!pcap) {
        return make_error(Errc::Io, 0, fmt::format("cannot open interface {}: {}", iface, errbuf));
    }
    auto fail = [&](DecodeError e) {
        pcap_close(pcap);
        return e;
    };
    if (options.snaplen <= 0 || options.buffer_mib <= 0 || options.buffer_mib > 4095) {
        return fail(make_error(Errc::BadValue, 0,
                               fmt::format("cannot open interface {}: bad snaplen {} or buffer "
                                           "size {} MiB",
                                           iface, options.snaplen, options.buffer_mib)));
    }
    pcap_set_snaplen(pcap, options.snaplen);
    pcap_set_immediate_mode(pcap, 1);
    pcap_set_buffer_size(pcap, options.buffer_mib * 1024 * 1024);
    // A read timeout as a safety net; reads are non-blocking anyway (see wait_readable()).
    pcap_set_timeout(pcap, 200);
    int rc = pcap_activate(pcap);
    if (rc < 0) {
        return fail(activate_error(pcap, rc, iface));
    }
    if (pcap_setnonblock(pcap, 1, errbuf) != 0) {
        return fail(
            make_error(Errc::Io, 0, fmt::format("cannot open interface {}: {}", iface, errbuf)));
    }
    if (!options.filter.empty()) {
        bpf_program program{};
        if (pcap_compile(pcap, &program, options.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
            return fail(make_error(
                Errc::BadValue, 0,
                fmt::format("bad capture filter '{}': {}", options.filter, pcap_geterr(pcap))));
        }
        int set = pcap_setfilter(pcap, &program);
        pcap_freecode(&program);
        if (set != 0) {
            return fail(make_error(Errc::Io, 0,
                                   fmt::format("cannot set capture filter '{}' on {}: {}",
                                               options.filter, iface, pcap_geterr(pcap))));
        }
    }
    return std::unique_ptr<PacketSource>(new LiveSource(pcap));
}

}  // namespace spicetap::capture
