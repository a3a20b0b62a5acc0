// Benchmark driver: pulls everything in scope from an ADB device over TCP into a fresh
// evidence store, exactly as an extraction session does (hash, spool, blob, catalog, audit),
// and prints bytes and seconds. Used by bench/adb_pull and bench/driver_host_cost; not
// installed.
//
//   exhibit-bench-pull [--hosted DRIVER_HOST] HOST:PORT STATE_DIR [categories,comma,separated]
//
// --hosted: the family runs as exhibitd runs it, in exhibit-driver-host (drivers/host/): the
// network link connected here and handed to the child, the phone's bytes framed over a
// socket to this process, which hashes and stores them. Without it, in this process. The
// kiosk's key is STATE_DIR/keys/adb (made when missing).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "bench/bench_extraction.hpp"
#include "drivers/adb/adb_driver.hpp"
#include "drivers/adb/hosted_adb.hpp"

using namespace exhibit;

int main(int argc, char** argv) {
    std::string hosted;
    if (argc > 2 && std::strcmp(argv[1], "--hosted") == 0) {
        hosted = argv[2];
        argc -= 2;
        argv += 2;
    }
    if (argc < 3) {
        std::fprintf(stderr, "usage: exhibit-bench-pull [--hosted DRIVER_HOST] HOST:PORT "
                             "STATE_DIR [categories]\n");
        return 2;
    }
    const auto scope = bench::scope_of(argc > 3 ? argv[3] : "photos,videos,audio,documents");
    auto store = store::Store::open({.state_directory = argv[2], .kiosk_id = "bench"});
    if (!store) return std::fprintf(stderr, "%s\n", store.error().describe().c_str()), 1;
    auto key = adb::AdbHostKey::load_or_create(std::filesystem::path(argv[2]) / "keys/adb", "exhibit@bench");
    if (!key) return std::fprintf(stderr, "%s\n", key.error().describe().c_str()), 1;
    std::shared_ptr<const adb::AdbHostKey> host_key = std::move(*key);
    auto start = std::chrono::steady_clock::now();
    std::unique_ptr<drivers::Driver> driver;
    if (hosted.empty())
        driver = std::make_unique<adb::AdbDriver>(adb::AdbDriverOptions{.host_key = host_key});
    else
        driver = adb::hosted_adb_driver({.program = hosted, .host_key = host_key});
    drivers::Device device{.id = "d1",
                           .functions = {adb::tcp_function()},
                           .address = std::string("tcp:") + argv[1]};
    auto opened = driver->open(device, {});
    if (!opened) return std::fprintf(stderr, "%s\n", opened.error().describe().c_str()), 1;
    return bench::extract_and_report(**store, **opened, scope, start);
}
