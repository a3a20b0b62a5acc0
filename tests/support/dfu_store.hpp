// The DFU's receiving end for tests (label "dfu"): a single-node Ceph cluster started with the
// project's own dfu/ceph-single-node in a temporary folder, exhibit-dfu-server (dfu/server) in
// front of it on 127.0.0.1 with mutual TLS, and s3cmd as the referee that reads what the
// store holds. Everything is started and stopped by PID.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/tus_peer.hpp"

namespace exhibit::testing {

class CephCluster {
  public:
    // Creates and starts the cluster in `dir` (absent or empty); ok() says whether it came up,
    // error() why not.
    explicit CephCluster(std::filesystem::path dir);
    ~CephCluster();  // stops the daemons
    CephCluster(const CephCluster&) = delete;
    CephCluster& operator=(const CephCluster&) = delete;

    bool ok() const { return ok_; }
    const std::string& error() const { return error_; }
    std::chrono::milliseconds start_time() const { return start_time_; }
    // The store's settings as KEY=VALUE lines (S3_ENDPOINT, S3_BUCKET, S3_REGION,
    // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), and the file that holds them.
    const std::vector<std::string>& s3_env() const { return env_; }
    std::filesystem::path s3_env_file() const { return dir_ / "s3.env"; }
    std::string bucket() const { return bucket_; }
    // A new bucket, and a settings file like s3_env_file() naming it (in `dir`).
    std::optional<std::filesystem::path> new_bucket(const std::string& name,
                                                    const std::filesystem::path& dir) const;

    // The referee: s3cmd, reading a bucket as any S3 client would.
    std::vector<std::string> keys(const std::string& bucket) const;  // every key, sorted
    std::optional<std::string> get(const std::string& bucket, const std::string& key) const;
    std::optional<std::string> sha256(const std::string& bucket, const std::string& key) const;
    bool put(const std::string& bucket, const std::string& key, const std::string& bytes) const;
    // s3cmd with the cluster's configuration; (exit status, output).
    std::pair<int, std::string> s3cmd(std::vector<std::string> args) const;

  private:
    std::filesystem::path dir_;
    bool ok_ = false;
    std::string error_;
    std::chrono::milliseconds start_time_{0};
    std::vector<std::string> env_;
    std::string bucket_;
};

class DfuServer {
  public:
    // exhibit-dfu-server with `workers` workers in front of `ceph`'s store described by
    // `s3_env` (a settings file), its certificate and client CA from `tls`, its temporary
    // folder and log (stderr) in `dir`; waits until it listens.
    DfuServer(const std::filesystem::path& s3_env, const TlsFiles& tls, std::filesystem::path dir,
              int workers, std::vector<std::string> extra_args = {});
    bool ok() const { return port_ != 0; }
    std::uint16_t port() const { return port_; }
    std::string endpoint() const;  // https://127.0.0.1:<port>/files/
    // The workers' PIDs (the primary's children), in no order.
    std::vector<pid_t> workers() const;
    // What the primary and the workers logged so far.
    std::string log() const;
    Process& process() { return process_; }

  private:
    std::filesystem::path dir_;
    Process process_;
    std::uint16_t port_ = 0;
};

}  // namespace exhibit::testing
