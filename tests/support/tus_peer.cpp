#include "tus_peer.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/sha256.hpp"
#include "daemon/upload/tus_protocol.hpp"

namespace exhibit::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

fs::path source_dir() {
    return EXHIBIT_SOURCE_DIR;
}

std::string node_binary() {
    if (const char* n = std::getenv("EXHIBIT_NODE"))
        return n;
    return "node";
}

namespace {

void openssl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto [status, out] = run_command(argv, 30s);
    if (status != 0) {
        fprintf(stderr, "openssl failed: %s\n", out.c_str());
        std::abort();
    }
}

void issue(const fs::path& dir, const std::string& name, const std::string& cn,
           const fs::path& ca_cert, const fs::path& ca_key, const std::string& ext) {
    const auto key = dir / (name + ".key");
    const auto csr = dir / (name + ".csr");
    const auto cert = dir / (name + ".pem");
    const auto extfile = dir / (name + ".ext");
    std::ofstream(extfile) << ext << "\n";
    openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             key.string(), "-out", csr.string(), "-subj", "/CN=" + cn});
    openssl({"x509", "-req", "-in", csr.string(), "-CA", ca_cert.string(), "-CAkey",
             ca_key.string(), "-CAcreateserial", "-out", cert.string(), "-days", "2", "-extfile",
             extfile.string()});
}

std::uint16_t parse_listening(std::optional<std::string> line) {
    if (!line)
        return 0;
    auto pos = line->find("listening ");
    if (pos == std::string::npos)
        return 0;
    return static_cast<std::uint16_t>(std::stoi(line->substr(pos + 10)));
}

}  // namespace

TlsFiles make_tls(const fs::path& dir, const std::string& name) {
    fs::create_directories(dir);
    TlsFiles t;
    t.ca_cert = dir / (name + "-ca.pem");
    t.ca_key = dir / (name + "-ca.key");
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", t.ca_key.string(), "-out", t.ca_cert.string(), "-subj",
             "/CN=" + name + " test CA", "-days", "2"});
    issue(dir, name + "-server", "localhost", t.ca_cert, t.ca_key,
          "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth");
    issue(dir, name + "-client", "kiosk-test", t.ca_cert, t.ca_key, "extendedKeyUsage=clientAuth");
    t.server_cert = dir / (name + "-server.pem");
    t.server_key = dir / (name + "-server.key");
    t.client_cert = dir / (name + "-client.pem");
    t.client_key = dir / (name + "-client.key");
    return t;
}

std::string public_key_pin(const fs::path& cert) {
    auto [status, out] = run_command(
        {"sh", "-c",
         "openssl x509 -in '" + cert.string() +
             "' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary "
             "| openssl base64 -A"},
        30s);
    if (status != 0)
        std::abort();
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
        out.pop_back();
    return "sha256//" + out;
}

TusPeer::TusPeer(PeerKind kind, fs::path storage, TlsFiles tls, std::uint16_t port,
                 std::vector<std::string> extra_args)
    : kind_(kind),
      storage_(std::move(storage)),
      tls_(std::move(tls)),
      port_(port),
      extra_(std::move(extra_args)) {
    if (!launch())
        port_ = 0;
}

bool TusPeer::launch() {
    const auto script =
        source_dir() / "tests" / "peers" /
        (kind_ == PeerKind::tus_server ? "tus-server/server.mjs" : "tus-checksum-server.mjs");
    std::vector<std::string> argv = {
        node_binary(), script.string(),          "--port", std::to_string(port_),
        "--dir",       storage_.string(),        "--cert", tls_.server_cert.string(),
        "--key",       tls_.server_key.string(), "--ca",   tls_.ca_cert.string()};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    // A port freed by a killed server can take a moment to be free again.
    for (int attempt = 0; attempt < 20; ++attempt) {
        process_ = Process::start(argv);
        auto port = parse_listening(process_.wait_for_line("listening", 20s));
        if (port != 0) {
            port_ = port;
            return true;
        }
        process_.stop();
        std::this_thread::sleep_for(200ms);
    }
    return false;
}

std::string TusPeer::endpoint() const {
    return "https://127.0.0.1:" + std::to_string(port_) + "/files/";
}

void TusPeer::kill9() {
    process_.kill(SIGKILL);
    process_.wait(10s);
}

bool TusPeer::restart() {
    return launch();
}

FaultProxy::FaultProxy(std::uint16_t target, std::vector<std::string> args) {
    std::vector<std::string> argv = {
        node_binary(), (source_dir() / "tests/peers/fault-proxy.mjs").string(),
        "--port",      "0",
        "--target",    std::to_string(target)};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = Process::start(argv);
    port_ = parse_listening(process_.wait_for_line("listening", 20s));
}

std::string StoredUpload::meta(const std::string& key) const {
    for (const auto& [k, v] : metadata)
        if (k == key)
            return v;
    return {};
}

std::vector<StoredUpload> stored_uploads(const fs::path& storage) {
    std::vector<StoredUpload> out;
    if (!fs::exists(storage))
        return out;
    for (const auto& entry : fs::directory_iterator(storage)) {
        if (entry.path().extension() != ".json")
            continue;
        std::ifstream in(entry.path());
        std::stringstream text;
        text << in.rdbuf();
        auto j = nlohmann::json::parse(text.str(), nullptr, false);
        if (j.is_discarded())
            continue;
        StoredUpload u;
        u.id = entry.path().stem().string();
        u.data = storage / u.id;
        u.length_known = j.contains("size") && j["size"].is_number_unsigned();
        u.length = j.value("size", std::uint64_t{0});
        std::error_code ec;
        u.data_size = fs::file_size(u.data, ec);
        auto digest = Sha256::of_file(u.data);
        u.sha256 = digest ? to_hex(*digest) : "";
        const auto& meta = j["metadata"];
        if (meta.is_object()) {
            // @tus/file-store keeps metadata decoded.
            for (auto& [k, v] : meta.items())
                u.metadata.emplace_back(k, v.is_string() ? v.get<std::string>() : "");
        } else if (meta.is_string()) {
            if (auto pairs = upload::decode_metadata(meta.get<std::string>()))
                u.metadata = *pairs;
        }
        out.push_back(std::move(u));
    }
    return out;
}

std::uint64_t stored_bytes(const fs::path& storage) {
    std::uint64_t total = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(storage, ec))
        if (entry.path().extension() != ".json" && entry.is_regular_file(ec))
            total += entry.file_size(ec);
    return total;
}

}  // namespace exhibit::testing
