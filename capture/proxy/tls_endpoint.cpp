#include "capture/proxy/tls_endpoint.h"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace spicetap::proxy {

namespace {

// Drains OpenSSL's error queue into one line.
std::string openssl_errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) {
            out += "; ";
        }
        out += buf;
    }
    return out.empty() ? "unknown TLS error" : out;
}

DecodeError tls_error(const std::string& what) {
    return make_error(Errc::Io, 0, fmt::format("{}: {}", what, openssl_errors()));
}

bool is_ip_address(const std::string& host) {
    unsigned char buf[16];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

SSL_CTX* new_context(const SSL_METHOD* method) {
    SSL_CTX* ctx = SSL_CTX_new(method);
    if (!ctx) {
        return nullptr;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // Writes are retried from the relay buffer, whose address moves as it compacts.
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // SPICE peers often close the socket without close_notify: treat that as an end, not an
    // error.
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    return ctx;
}

}  // namespace

TlsContext::~TlsContext() {
    SSL_CTX_free(ctx_);
}

Result<std::shared_ptr<TlsContext>> TlsContext::server(const std::filesystem::path& cert,
                                                       const std::filesystem::path& key) {
    SSL_CTX* ctx = new_context(TLS_server_method());
    if (!ctx) {
        return tls_error("cannot create a TLS context");
    }
    std::shared_ptr<TlsContext> out(new TlsContext(ctx, false));
    if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
        return tls_error(fmt::format("cannot load the certificate {}", cert.string()));
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
        return tls_error(fmt::format("cannot load the private key {}", key.string()));
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        return tls_error(fmt::format("{} does not match {}", key.string(), cert.string()));
    }
    return out;
}

Result<std::shared_ptr<TlsContext>> TlsContext::client(const std::filesystem::path& ca,
                                                       bool insecure) {
    SSL_CTX* ctx = new_context(TLS_client_method());
    if (!ctx) {
        return tls_error("cannot create a TLS context");
    }
    std::shared_ptr<TlsContext> out(new TlsContext(ctx, !insecure));
    if (insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
        return out;
    }
    const int ok = ca.empty() ? SSL_CTX_set_default_verify_paths(ctx)
                              : SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr);
    if (ok != 1) {
        return tls_error(ca.empty() ? std::string("cannot load the system's CA certificates")
                                    : fmt::format("cannot load the CA file {}", ca.string()));
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    return out;
}

Stream::Stream(int fd) : fd_(fd) {}

Stream::~Stream() {
    if (ssl_) {
        SSL_free(ssl_);
    }
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

Result<void> Stream::start_tls(const TlsContext& tls, bool accept_side,
                               const std::string& peer_host) {
    ssl_ = SSL_new(tls.get());
    if (!ssl_) {
        return tls_error("SSL_new");
    }
    accept_side_ = accept_side;
    SSL_set_fd(ssl_, fd_);
    if (accept_side) {
        SSL_set_accept_state(ssl_);
        return {};
    }
    SSL_set_connect_state(ssl_);
    if (!is_ip_address(peer_host)) {
        SSL_set_tlsext_host_name(ssl_, peer_host.c_str());
    }
    if (tls.verifies()) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
        const int ok = is_ip_address(peer_host)
                           ? X509_VERIFY_PARAM_set1_ip_asc(param, peer_host.c_str())
                           : X509_VERIFY_PARAM_set1_host(param, peer_host.c_str(), 0);
        if (ok != 1) {
            return tls_error(fmt::format("cannot check the upstream name {}", peer_host));
        }
    }
    return {};
}

std::string Stream::tls_description() const {
    if (!ssl_) {
        return {};
    }
    return fmt::format("{} {}", SSL_get_version(ssl_), SSL_get_cipher_name(ssl_));
}

IoResult Stream::ssl_result(int ret, const char* op) {
    const int err = SSL_get_error(ssl_, ret);
    switch (err) {
        case SSL_ERROR_WANT_READ:
            return {IoStatus::WantRead, 0, {}};
        case SSL_ERROR_WANT_WRITE:
            return {IoStatus::WantWrite, 0, {}};
        case SSL_ERROR_ZERO_RETURN:
            return {IoStatus::Eof, 0, {}};
        case SSL_ERROR_SYSCALL:
            if (errno == 0 || errno == EPIPE) {
                ERR_clear_error();
                return {IoStatus::Eof, 0, {}};
            }
            ERR_clear_error();
            return {IoStatus::Error, 0, fmt::format("TLS {}: {}", op, std::strerror(errno))};
        default: {
            std::string what = openssl_errors();
            if (!accept_side_ && SSL_get_verify_result(ssl_) != X509_V_OK) {
                what = fmt::format("certificate verification failed: {}",
                                   X509_verify_cert_error_string(SSL_get_verify_result(ssl_)));
            }
            return {IoStatus::Error, 0, fmt::format("TLS {}: {}", op, what)};
        }
    }
}

IoResult Stream::handshake() {
    if (!ssl_) {
        return {};
    }
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_do_handshake(ssl_);
    if (ret == 1) {
        return {};
    }
    IoResult r = ssl_result(ret, "handshake");
    if (r.status == IoStatus::Eof) {
        r = {IoStatus::Error, 0, "TLS handshake: the peer closed the connection"};
    }
    return r;
}

IoResult Stream::read(uint8_t* out, size_t capacity) {
    if (ssl_) {
        ERR_clear_error();
        errno = 0;
        size_t n = 0;
        const int ret = SSL_read_ex(ssl_, out, capacity, &n);
        if (ret == 1) {
            return {IoStatus::Ok, n, {}};
        }
        return ssl_result(ret, "read");
    }
    for (;;) {
        const ssize_t n = ::recv(fd_, out, capacity, 0);
        if (n > 0) {
            return {IoStatus::Ok, static_cast<size_t>(n), {}};
        }
        if (n == 0) {
            return {IoStatus::Eof, 0, {}};
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return {IoStatus::WantRead, 0, {}};
        }
        return {IoStatus::Error, 0, std::strerror(errno)};
    }
}

IoResult Stream::write(const uint8_t* data, size_t size) {
    if (ssl_) {
        ERR_clear_error();
        errno = 0;
        size_t n = 0;
        const int ret = SSL_write_ex(ssl_, data, size, &n);
        if (ret == 1) {
            return {IoStatus::Ok, n, {}};
        }
        IoResult r = ssl_result(ret, "write");
        if (r.status == IoStatus::Eof) {
            r = {IoStatus::Error, 0, "TLS write: the peer closed the connection"};
        }
        return r;
    }
    for (;;) {
        const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
        if (n >= 0) {
            return {IoStatus::Ok, static_cast<size_t>(n), {}};
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return {IoStatus::WantWrite, 0, {}};
        }
        return {IoStatus::Error, 0, std::strerror(errno)};
    }
}

bool Stream::has_buffered_input() const {
    return ssl_ && SSL_pending(ssl_) > 0;
}

void Stream::shutdown_write() {
    if (ssl_) {
        // One attempt: a close_notify that cannot be sent now is not worth waiting for.
        ERR_clear_error();
        SSL_shutdown(ssl_);
        ERR_clear_error();
    }
    ::shutdown(fd_, SHUT_WR);
}

}  // namespace spicetap::proxy
