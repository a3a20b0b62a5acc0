#include "dfu_store.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/fs.hpp"
#include "common/sha256.hpp"

namespace exhibit::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A file whole, or empty when it cannot be read (the referee's objects are tens of MiB).
std::string read_file(const fs::path& path) {
    return exhibit::fs::read_file(path, std::size_t{1} << 30).value_or(std::string());
}

}  // namespace

CephCluster::CephCluster(fs::path dir) : dir_(std::move(dir)) {
    const auto started = std::chrono::steady_clock::now();
    auto [status, out] = run_command(
        {(source_dir() / "dfu" / "ceph-single-node").string(), "start", dir_.string()}, 180s);
    start_time_ = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (status != 0) {
        error_ = "dfu/ceph-single-node start failed: " + out;
        return;
    }
    std::istringstream lines(read_file(s3_env_file()));
    for (std::string line; std::getline(lines, line);) {
        if (line.empty())
            continue;
        env_.push_back(line);
        if (line.starts_with("S3_BUCKET="))
            bucket_ = line.substr(10);
    }
    ok_ = !bucket_.empty();
    if (!ok_)
        error_ = "the cluster wrote no S3_BUCKET in " + s3_env_file().string();
}

CephCluster::~CephCluster() {
    run_command({(source_dir() / "dfu" / "ceph-single-node").string(), "stop", dir_.string()},
                60s);
}

std::pair<int, std::string> CephCluster::s3cmd(std::vector<std::string> args) const {
    args.insert(args.begin(), {"s3cmd", "-c", (dir_ / "s3cfg").string()});
    return run_command(args, 120s);
}

std::optional<fs::path> CephCluster::new_bucket(const std::string& name,
                                               const fs::path& dir) const {
    if (s3cmd({"mb", "s3://" + name}).first != 0)
        return std::nullopt;
    fs::create_directories(dir);
    const auto file = dir / "s3.env";
    std::ofstream out(file);
    for (const auto& line : env_)
        out << (line.starts_with("S3_BUCKET=") ? "S3_BUCKET=" + name : line) << "\n";
    return file;
}

std::vector<std::string> CephCluster::keys(const std::string& bucket) const {
    // "2026-12-07 17:44  12000000  s3://bucket/key": the key is what follows the bucket.
    auto [status, out] = s3cmd({"ls", "s3://" + bucket + "/"});
    std::vector<std::string> keys;
    const std::string prefix = "s3://" + bucket + "/";
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);)
        if (auto at = line.find(prefix); at != std::string::npos && status == 0)
            keys.push_back(line.substr(at + prefix.size()));
    std::ranges::sort(keys);
    return keys;
}

std::optional<std::string> CephCluster::get(const std::string& bucket,
                                            const std::string& key) const {
    const auto file = dir_ / "referee-get";
    fs::remove(file);
    auto [status, out] =
        s3cmd({"get", "--force", "s3://" + bucket + "/" + key, file.string()});
    if (status != 0)
        return std::nullopt;
    auto bytes = read_file(file);
    fs::remove(file);
    return bytes;
}

std::optional<std::string> CephCluster::sha256(const std::string& bucket,
                                               const std::string& key) const {
    auto bytes = get(bucket, key);
    if (!bytes)
        return std::nullopt;
    return to_hex(Sha256::of(*bytes));
}

bool CephCluster::put(const std::string& bucket, const std::string& key,
                      const std::string& bytes) const {
    const auto file = dir_ / "referee-put";
    std::ofstream(file, std::ios::binary) << bytes;
    auto [status, out] = s3cmd({"put", file.string(), "s3://" + bucket + "/" + key});
    fs::remove(file);
    return status == 0;
}

DfuServer::DfuServer(const fs::path& s3_env, const TlsFiles& tls, fs::path dir, int workers,
                     std::vector<std::string> extra_args)
    : dir_(std::move(dir)) {
    fs::create_directories(dir_);
    // The server logs to stderr; the shell keeps it in a file the test reads.
    std::vector<std::string> argv = {
        "/bin/sh",
        "-c",
        "exec \"$@\" 2>>\"$EXHIBIT_DFU_LOG\"",
        "sh",
        node_binary(),
        (source_dir() / "dfu" / "server" / "exhibit-dfu-server.mjs").string(),
        "--listen",
        "127.0.0.1:0",
        "--workers",
        std::to_string(workers),
        "--tmp",
        (dir_ / "tmp").string(),
        "--s3-env",
        s3_env.string(),
        "--cert",
        tls.server_cert.string(),
        "--key",
        tls.server_key.string(),
        "--client-ca",
        tls.ca_cert.string()};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    process_ = Process::start(
        argv, {"EXHIBIT_DFU_LOG=" + (dir_ / "server.log").string(),
               "EXHIBIT_DFU_NODE_DEPS=" + (source_dir() / ".node-deps" / "dfu").string()});
    auto line = process_.wait_for_line("listening ", 30s);
    if (line)
        port_ = static_cast<std::uint16_t>(std::stoi(line->substr(line->find(' ') + 1)));
}

std::string DfuServer::endpoint() const {
    return "https://127.0.0.1:" + std::to_string(port_) + "/files/";
}

std::vector<pid_t> DfuServer::workers() const {
    std::vector<pid_t> pids;
    const std::string parent = std::to_string(process_.pid());
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
        const auto stat = read_file(entry.path() / "stat");
        const auto close = stat.rfind(')');
        if (close == std::string::npos)
            continue;
        std::istringstream rest(stat.substr(close + 1));
        std::string state, ppid;
        rest >> state >> ppid;
        if (ppid == parent && state != "Z")
            pids.push_back(static_cast<pid_t>(std::stoi(name)));
    }
    return pids;
}

std::string DfuServer::log() const {
    return read_file(dir_ / "server.log");
}

}  // namespace exhibit::testing
