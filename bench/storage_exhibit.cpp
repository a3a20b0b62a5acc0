// Benchmark driver: extracts everything in scope from a disk image (standing for a USB stick)
// into a fresh evidence store, exactly as an extraction session does (libtsk, hash, spool,
// blob, catalog, audit), and prints items, bytes and seconds. Used by bench/stick_read; not
// installed.
//
//   exhibit-bench-storage IMAGE STATE_DIR [categories,comma,separated]
#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "daemon/extract/extraction.hpp"
#include "drivers/storage/storage_driver.hpp"

using namespace exhibit;

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: exhibit-bench-storage IMAGE STATE_DIR [categories]\n");
        return 2;
    }
    drivers::Scope scope;
    std::string cats = argc > 3 ? argv[3] : "photos,videos,audio,documents";
    for (std::size_t pos = 0; pos <= cats.size();) {
        auto end = std::min(cats.find(',', pos), cats.size());
        if (auto c = drivers::category_from(cats.substr(pos, end - pos)))
            scope.categories.insert(*c);
        pos = end + 1;
    }
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
    auto case_id = (*store)->catalog().create_case({.case_reference = "BENCH",
                                                    .exhibit_reference = "B1",
                                                    .officer_id = "bench",
                                                    .scope = extract::scope_to_json(scope)},
                                                   "bench");
    auto session = (*store)->catalog().create_session(*case_id, {}, std::nullopt,
                                                      store::Priority::normal, "bench");
    std::stop_source stop;
    auto outcome = extract::run_extraction(**store, **opened, *session, scope, stop.get_token());
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (outcome.state != store::SessionState::completed) {
        std::fprintf(stderr, "session ended %s: %s\n",
                     std::string(store::to_string(outcome.state)).c_str(),
                     outcome.reason.value_or("").c_str());
        return 1;
    }
    fmt::print("items {} bytes {} seconds {:.3f}\n", outcome.progress.items_done,
               outcome.progress.bytes_done, secs);
    return 0;
}
