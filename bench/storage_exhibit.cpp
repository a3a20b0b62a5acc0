// Benchmark driver: extracts everything in scope from a disk image (standing for a USB stick)
// into a fresh evidence store, exactly as an extraction session does (libtsk, hash, spool,
// blob, catalog, audit), and prints items, bytes and seconds. Used by bench/stick_read; not
// installed.
//
//   exhibit-bench-storage IMAGE STATE_DIR [categories,comma,separated]
#include <chrono>
#include <cstdio>
#include <string>

#include "bench/bench_extraction.hpp"
#include "drivers/storage/storage_driver.hpp"

using namespace exhibit;

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: exhibit-bench-storage IMAGE STATE_DIR [categories]\n");
        return 2;
    }
    const auto scope = bench::scope_of(argc > 3 ? argv[3] : "photos,videos,audio,documents");
    auto store = store::Store::open({.state_directory = argv[2], .kiosk_id = "bench"});
    if (!store)
        return std::fprintf(stderr, "%s\n", store.error().describe().c_str()), 1;
    auto start = std::chrono::steady_clock::now();
    storage::StorageDriver driver;
    drivers::Device device{.id = "d1",
                           .functions = {storage::block_function()},
                           .address = std::string(storage::kAddressPrefix) + argv[1]};
    auto opened = driver.open(device, {});
    if (!opened)
        return std::fprintf(stderr, "%s\n", opened.error().describe().c_str()), 1;
    return bench::extract_and_report(**store, **opened, scope, start);
}
