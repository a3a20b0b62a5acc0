// Benchmark driver: pulls everything in scope from an ADB device over TCP into a fresh
// evidence store, exactly as an extraction session does (hash, spool, blob, catalog, audit),
// and prints bytes and seconds. Used by bench/adb_pull; not installed.
//
//   exhibit-bench-pull HOST:PORT STATE_DIR [categories,comma,separated]
#include <chrono>
#include <cstdio>
#include <string>

#include "bench/bench_extraction.hpp"
#include "drivers/adb/adb_driver.hpp"

using namespace exhibit;

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: exhibit-bench-pull HOST:PORT STATE_DIR [categories]\n");
        return 2;
    }
    std::string target = argv[1];
    auto colon = target.rfind(':');
    auto port = static_cast<std::uint16_t>(std::stoi(target.substr(colon + 1)));
    const auto scope = bench::scope_of(argc > 3 ? argv[3] : "photos,videos,audio,documents");
    auto store = store::Store::open({.state_directory = argv[2], .kiosk_id = "bench"});
    if (!store) return std::fprintf(stderr, "%s\n", store.error().describe().c_str()), 1;
    auto key = adb::AdbHostKey::load_or_create(std::filesystem::path(argv[2]) / "keys/adb", "exhibit@bench");
    if (!key) return std::fprintf(stderr, "%s\n", key.error().describe().c_str()), 1;
    auto start = std::chrono::steady_clock::now();
    auto transport = adb::TcpTransport::connect(target.substr(0, colon), port, std::chrono::seconds(5));
    if (!transport) return std::fprintf(stderr, "%s\n", transport.error().describe().c_str()), 1;
    auto conn = adb::Connection::open(std::move(*transport), {.key = key->get()});
    if (!conn) return std::fprintf(stderr, "%s\n", conn.error().describe().c_str()), 1;
    adb::AdbSession device(std::move(*conn), Clock::system());
    return bench::extract_and_report(**store, device, scope, start);
}
