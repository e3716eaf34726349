// One leg of a relayed connection: a non-blocking TCP socket, optionally wrapped in TLS
// (OpenSSL). The relay reads and writes through Stream without caring which it is; TlsContext
// holds the certificate (listening side) or the trust anchors (upstream side).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "decode/wire/result.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace spicetap::proxy {

class TlsContext {
public:
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    // Terminates client TLS with this certificate chain (PEM) and private key (PEM).
    static Result<std::shared_ptr<TlsContext>> server(const std::filesystem::path& cert,
                                                      const std::filesystem::path& key);
    // Speaks TLS to the upstream server, verifying its certificate against `ca` (PEM; the
    // system store when empty) and its name or address, unless `insecure`.
    static Result<std::shared_ptr<TlsContext>> client(const std::filesystem::path& ca,
                                                      bool insecure);

    SSL_CTX* get() const { return ctx_; }

    bool verifies() const { return verify_; }

private:
    explicit TlsContext(SSL_CTX* ctx, bool verify) : ctx_(ctx), verify_(verify) {}

    SSL_CTX* ctx_;
    bool verify_;
};

enum class IoStatus : uint8_t {
    Ok,         // `bytes` moved (handshake: done)
    WantRead,   // try again when the socket is readable
    WantWrite,  // try again when the socket is writable
    Eof,        // the peer finished sending
    Error,      // reset, protocol error, failed verification: `error` says which
};

struct IoResult {
    IoStatus status = IoStatus::Ok;
    size_t bytes = 0;
    std::string error;
};

class Stream {
public:
    // Takes ownership of `fd` (non-blocking, connected or accepted).
    explicit Stream(int fd);
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    // Wraps the socket in TLS: accept side when `tls.get()` is a server context, else connect
    // side checking `peer_host` (a name or an IP address) when the context verifies.
    Result<void> start_tls(const TlsContext& tls, bool accept_side, const std::string& peer_host);

    int fd() const { return fd_; }

    bool tls() const { return ssl_ != nullptr; }

    // "TLSv1.3 TLS_AES_256_GCM_SHA384" once the handshake is done; empty for plain TCP.
    std::string tls_description() const;

    IoResult handshake();
    IoResult read(uint8_t* out, size_t capacity);
    IoResult write(const uint8_t* data, size_t size);
    // Bytes TLS already decrypted and holds: they will not make the socket readable again.
    bool has_buffered_input() const;
    // Ends our sending direction (TLS close_notify, then a TCP FIN).
    void shutdown_write();

private:
    IoResult ssl_result(int ret, const char* op);
    int fd_ = -1;
    SSL* ssl_ = nullptr;
    bool accept_side_ = false;
};

}  // namespace spicetap::proxy
