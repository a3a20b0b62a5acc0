// Benchmark driver: pulls everything in scope from an ADB device over TCP into a fresh
// evidence store, exactly as an extraction session does (hash, spool, blob, catalog, audit),
// and prints bytes and seconds. Used by bench/adb_pull; not installed.
//
//   exhibit-bench-pull HOST:PORT STATE_DIR [categories,comma,separated]
#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "daemon/extract/extraction.hpp"
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
    drivers::Scope scope;
    std::string cats = argc > 3 ? argv[3] : "photos,videos,audio,documents";
    for (std::size_t pos = 0; pos <= cats.size();) {
        auto end = cats.find(',', pos);
        if (end == std::string::npos) end = cats.size();
        if (auto c = drivers::category_from(cats.substr(pos, end - pos))) scope.categories.insert(*c);
        pos = end + 1;
    }
    auto store = store::Store::open({.state_directory = argv[2], .kiosk_id = "bench"});
    if (!store) return std::fprintf(stderr, "%s\n", store.error().describe().c_str()), 1;
    auto key = adb::AdbHostKey::load_or_create(std::filesystem::path(argv[2]) / "keys/adb", "exhibit@bench");
    if (!key) return std::fprintf(stderr, "%s\n", key.error().describe().c_str()), 1;
    auto start = std::chrono::steady_clock::now();
    auto transport = adb::TcpTransport::connect(target.substr(0, colon), port, std::chrono::seconds(5));
    if (!transport) return std::fprintf(stderr, "%s\n", transport.error().describe().c_str()), 1;
    auto conn = adb::Connection::open(std::move(*transport), {.key = key->get()});
    if (!conn) return std::fprintf(stderr, "%s\n", conn.error().describe().c_str()), 1;
    auto case_id = (*store)->catalog().create_case(
        {.case_reference = "BENCH", .exhibit_reference = "B1", .officer_id = "bench", .scope = extract::scope_to_json(scope)},
        "bench");
    auto session = (*store)->catalog().create_session(*case_id, {}, std::nullopt, store::Priority::normal, "bench");
    std::stop_source stop;
    adb::AdbSession device(std::move(*conn), Clock::system());
    auto outcome = extract::run_extraction(**store, device, *session, scope, stop.get_token());
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (outcome.state != store::SessionState::completed) {
        std::fprintf(stderr, "session ended %s: %s\n", std::string(store::to_string(outcome.state)).c_str(),
                     outcome.reason.value_or("").c_str());
        return 1;
    }
    fmt::print("items {} bytes {} seconds {:.3f}\n", outcome.progress.items_done, outcome.progress.bytes_done, secs);
    return 0;
}
