// Test helper that drives the evidence store from a separate process.
//
//   store_tool crash-writer STATE_DIR SEED
//       Streams items of random sizes and chunkings into the store forever, printing
//       "committed <id>" after each; a test SIGKILLs it at random points.
//   store_tool fixture STATE_DIR
//       Fills a new store with a case, a session and a few items: the source of the
//       catalog fixtures kept in tests/fixtures/catalog/.
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "daemon/store/store.hpp"

using namespace exhibit;
using namespace exhibit::store;

namespace {

int die(const Error& e) {
    std::fprintf(stderr, "store_tool: %s\n", e.describe().c_str());
    return 1;
}

int crash_writer(const char* dir, unsigned seed) {
    auto opened = Store::open(
        {.state_directory = dir, .kiosk_id = "crash-test", .verify = VerifyDepth::none});
    if (!opened)
        return die(opened.error());
    auto& store = **opened;
    auto case_id = store.catalog().create_case({.case_reference = "CR-1",
                                                .exhibit_reference = "EX-1",
                                                .officer_id = "PC-1",
                                                .scope = {{"categories", {"photos"}}}},
                                               "officer:PC-1");
    if (!case_id)
        return die(case_id.error());
    auto session = store.catalog().create_session(*case_id, {{"model", "sim"}}, "SIM1",
                                                  Priority::normal, "exhibitd");
    if (!session)
        return die(session.error());
    std::fprintf(stdout, "ready\n");
    std::fflush(stdout);

    std::mt19937_64 rng(seed);
    std::vector<std::byte> data;
    for (std::uint64_t n = 0;; ++n) {
        // Sizes from empty to 2 MiB; every fifth item repeats earlier content (dedup path).
        std::size_t size = rng() % 4 == 0 ? rng() % 64 : rng() % (2u << 20);
        unsigned content_seed = n % 5 == 4 ? 7u : static_cast<unsigned>(rng());
        data.resize(size);
        std::mt19937 fill(content_seed);
        for (auto& b : data)
            b = static_cast<std::byte>(fill());
        auto writer = store.begin_item({.session_id = *session,
                                        .category = "photos",
                                        .source_path = fmt::format("/sdcard/DCIM/{}.jpg", n),
                                        .declared_size = size});
        if (!writer)
            return die(writer.error());
        for (std::size_t off = 0; off < size;) {
            std::size_t chunk = std::min<std::size_t>(size - off, 1 + rng() % 300'000);
            if (auto s = writer->append(std::span(data.data() + off, chunk)); !s)
                return die(s.error());
            off += chunk;
        }
        auto rec = writer->finish();
        if (!rec)
            return die(rec.error());
        std::fprintf(stdout, "committed %lld\n", static_cast<long long>(rec->id));
        std::fflush(stdout);
    }
}

int fixture(const char* dir) {
    auto opened = Store::open({.state_directory = dir, .kiosk_id = "fixture"});
    if (!opened)
        return die(opened.error());
    auto& store = **opened;
    auto case_id = store.catalog().create_case(
        {.case_reference = "CR/2026/0001",
         .exhibit_reference = "JD/1",
         .officer_id = "PC 1234",
         .basis = LawfulBasis::consent,
         .basis_detail = {{"notice_version", "2026-1"}, {"agreed_by", "owner"}},
         .scope = {{"categories", {"photos", "messages"}},
                   {"from", "2026-01-01"},
                   {"to", "2026-06-30"}}},
        "officer:PC 1234");
    if (!case_id)
        return die(case_id.error());
    auto session = store.catalog().create_session(
        *case_id, {{"model", "Pixel 7"}}, "SIM0001", Priority::urgent, "officer:PC 1234",
        {{"software", {{"name", "exhibit"}, {"version", "0.1.0"}}},
         {"driver", {{"name", "adb"}, {"version", "1.0"}, {"function", "usb:adb"}}},
         {"configuration", {{"adb.authorisation_wait_seconds", 120}}}});
    if (!session)
        return die(session.error());
    if (auto s = store.catalog().set_session_state(*session, SessionState::running, std::nullopt,
                                                   "exhibitd");
        !s)
        return die(s.error());
    struct Item {
        const char* path;
        const char* category;
        std::string body;
        std::optional<std::uint64_t> declared;
    };
    std::vector<Item> items = {
        {"/sdcard/DCIM/Camera/IMG_0001.jpg", "photos", std::string(5000, 'p'), 5000},
        {"/sdcard/Download/\xff\xfe-odd.pdf", "documents", "%PDF-1.4 tiny", 13},
        {"/sdcard/DCIM/Camera/VID_0002.mp4", "videos", "short", 100},  // phone said 100: incomplete
        {"messages.jsonl", "messages", "{\"body\":\"hi, there = x\"}\n", std::nullopt},
    };
    for (const auto& it : items) {
        auto w = store.begin_item({.session_id = *session,
                                   .category = it.category,
                                   .source_path = it.path,
                                   .declared_size = it.declared,
                                   .source_mtime_ms = 1767225600000});
        if (!w)
            return die(w.error());
        if (auto s = w->append(std::as_bytes(std::span(it.body))); !s)
            return die(s.error());
        if (auto r = w->finish(); !r)
            return die(r.error());
    }
    if (auto s = store.catalog().set_session_state(*session, SessionState::completed, std::nullopt,
                                                   "exhibitd");
        !s)
        return die(s.error());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::strcmp(argv[1], "crash-writer") == 0)
        return crash_writer(argv[2], static_cast<unsigned>(std::stoul(argv[3])));
    if (argc == 3 && std::strcmp(argv[1], "fixture") == 0)
        return fixture(argv[2]);
    std::fprintf(stderr, "usage: store_tool crash-writer DIR SEED | fixture DIR\n");
    return 2;
}
