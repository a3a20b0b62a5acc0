// Real tus peers for the upload tests, run as child processes on 127.0.0.1 and stopped by
// PID: @tus/server + @tus/file-store (tests/peers/tus-server/server.mjs), the in-tree checksum
// server (tests/peers/tus-checksum-server.mjs) and the fault proxy (tests/peers/fault-proxy.mjs). TLS
// material (a CA, a server certificate for 127.0.0.1 and a client certificate) is made with
// the openssl command at test time.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace exhibit::testing {

struct TlsFiles {
    std::filesystem::path ca_cert, ca_key;
    std::filesystem::path server_cert, server_key;
    std::filesystem::path client_cert, client_key;
};

// A new CA named `name` in `dir`, with a server certificate (127.0.0.1, localhost) and a
// client certificate signed by it. Aborts the test process if openssl fails.
TlsFiles make_tls(const std::filesystem::path& dir, const std::string& name);

// libcurl's pin for a certificate's public key: "sha256//<base64>".
std::string public_key_pin(const std::filesystem::path& cert);

enum class PeerKind { tus_server, checksum_server };

class TusPeer {
  public:
    // Starts the peer serving `storage` with `tls` (server cert, client CA = tls.ca_cert) on
    // `port` (0: any) and waits until it listens.
    TusPeer(PeerKind kind, std::filesystem::path storage, TlsFiles tls, std::uint16_t port = 0,
            std::vector<std::string> extra_args = {});
    bool ok() const { return port_ != 0; }
    std::uint16_t port() const { return port_; }
    std::string endpoint() const;
    Process& process() { return process_; }

    void kill9();    // SIGKILL, reaped
    bool restart();  // on the same port

  private:
    bool launch();
    PeerKind kind_;
    std::filesystem::path storage_;
    TlsFiles tls_;
    std::uint16_t port_;
    std::vector<std::string> extra_;
    Process process_;
};

class FaultProxy {
  public:
    FaultProxy(std::uint16_t target, std::vector<std::string> args);
    bool ok() const { return port_ != 0; }
    std::uint16_t port() const { return port_; }
    Process& process() { return process_; }

  private:
    Process process_;
    std::uint16_t port_ = 0;
};

// One upload as the @tus/file-store or checksum server keeps it on disk.
struct StoredUpload {
    std::string id;
    std::uint64_t length = 0;                                   // Upload-Length
    bool length_known = false;  // false while a creation-defer-length upload has none
    std::uint64_t data_size = 0;                                // bytes on disk
    std::string sha256;                                         // of the data file
    std::vector<std::pair<std::string, std::string>> metadata;  // decoded
    std::string meta(const std::string& key) const;
    std::filesystem::path data;
};
std::vector<StoredUpload> stored_uploads(const std::filesystem::path& storage);
// Bytes in the data files of `storage`, without hashing.
std::uint64_t stored_bytes(const std::filesystem::path& storage);

std::filesystem::path source_dir();
std::string node_binary();

}  // namespace exhibit::testing
