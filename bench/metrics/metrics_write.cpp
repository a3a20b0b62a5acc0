// bench/metrics: the CPU cost of one metrics write (read the figures, render, write the file
// atomically) with a large store, against the same figures counted by scanning the catalog
// (what the write would cost without the running totals of schema v4).
//
// Usage: exhibit-bench-metrics [--items N] [--writes N] [--dir DIR]
// Prints per-write CPU time (this thread: CLOCK_THREAD_CPUTIME_ID) as median and range, for
// both, alternating them, and their ratio.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/fs.hpp"
#include "daemon/loop/event_loop.hpp"
#include "daemon/metrics/metrics_publisher.hpp"
#include "daemon/store/store.hpp"

namespace {

using namespace exhibit;

double thread_cpu_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "exhibit-bench-metrics: %s\n", what.c_str());
    std::exit(1);
}

template <class T>
T check(Result<T> r, std::string_view what) {
    if (!r)
        die(fmt::format("{}: {}", what, r.error().describe()));
    return std::move(*r);
}
void check(Status s, std::string_view what) {
    if (!s)
        die(fmt::format("{}: {}", what, s.error().describe()));
}

// A catalog as a busy kiosk's after months: `items` items in sessions of 500, their uploads
// (most received, some queued in both lanes, a few failed), one manifest per ended session.
// Rows are inserted directly (no blobs): a metrics write never reads a blob.
void fill(store::Store& s, int items) {
    auto& db = s.database();
    check(db.exec("BEGIN"), "begin");
    check(db.exec("INSERT INTO cases (id, case_reference, exhibit_reference, officer_id, basis, "
                  "scope, created_at_ms) VALUES (1, 'CR/1', 'EX/1', 'PC 1', 'consent', '{}', 0)"),
          "case");
    const int sessions = (items + 499) / 500;
    for (int i = 1; i <= sessions; ++i)
        check(db.exec(fmt::format(
                  "INSERT INTO sessions (id, case_id, state, priority, started_at_ms, "
                  "ended_at_ms) VALUES ({0}, 1, '{1}', 'normal', {0}000, {0}500)",
                  i, i % 20 == 0 ? "interrupted" : "completed")),
              "session");
    auto item = check(db.prepare("INSERT INTO items (id, session_id, category, source_path, size, "
                                 "sha256, blob, state, created_at_ms) VALUES (?1, ?2, 'photos', "
                                 "?3, ?4, ?5, ?6, 'complete', ?7)"),
                      "prepare item");
    auto upload = check(db.prepare("INSERT INTO uploads (item_id, lane, state, queued_at_ms, "
                                   "received_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)"),
                        "prepare upload");
    for (int i = 1; i <= items; ++i) {
        const auto sha = fmt::format("{:064x}", i);
        item.reset();
        item.bind(1, std::int64_t{i})
            .bind(2, std::int64_t{(i - 1) / 500 + 1})
            .bind(3, fmt::format("/sdcard/DCIM/Camera/IMG_{:06}.jpg", i))
            .bind(4, std::int64_t{1000 + i % 5000000})
            .bind(5, sha)
            .bind(6, "blobs/" + sha.substr(0, 2) + "/" + sha)
            .bind(7, std::int64_t{i} * 1000);
        check(item.run(), "item");
        const int r = i % 100;
        const char* state = r < 85 ? "received" : r < 97 ? "queued" : r < 99 ? "failed" : "uploading";
        upload.reset();
        upload.bind(1, std::int64_t{i})
            .bind(2, r % 7 == 0 ? "urgent" : "normal")
            .bind(3, state)
            .bind(4, std::int64_t{i} * 1000)
            .bind(5, r < 85 ? std::optional<std::int64_t>(std::int64_t{i} * 1000 + 60000)
                            : std::nullopt);
        check(upload.run(), "upload");
    }
    check(db.exec("COMMIT"), "commit");
}

// The same figures by counting the rows each time (no running totals).
void scan_once(store::Store& s) {
    auto& db = s.database();
    for (const char* sql :
         {"SELECT state, integrity != 'ok', count(*) FROM items GROUP BY 1, 2",
          "SELECT u.lane, u.state, count(*), sum(i.size) FROM uploads u JOIN items i ON "
          "i.id = u.item_id GROUP BY 1, 2",
          "SELECT state, count(*) FROM sessions GROUP BY 1",
          "SELECT min(queued_at_ms) FROM uploads WHERE state IN ('queued', 'uploading')",
          "SELECT max(received_at_ms) FROM uploads"}) {
        auto stmt = check(db.prepare(sql), "prepare scan");
        check(stmt.each([](store::Statement&) {}), "scan");
    }
}

struct Stats {
    double median, min, max;
};
Stats stats(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return {v[v.size() / 2], v.front(), v.back()};
}

}  // namespace

int main(int argc, char** argv) {
    int items = 100000, writes = 200;
    std::filesystem::path dir;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--items")
            items = std::atoi(argv[i + 1]);
        else if (a == "--writes")
            writes = std::atoi(argv[i + 1]);
        else if (a == "--dir")
            dir = argv[i + 1];
        else
            die("usage: exhibit-bench-metrics [--items N] [--writes N] [--dir DIR]");
    }
    if (dir.empty())
        die("--dir DIR is required (an empty directory for the store and the metrics file)");
    std::filesystem::create_directories(dir / "textfile");

    auto store = check(store::Store::open({.state_directory = dir / "state",
                                           .kiosk_id = "bench-kiosk",
                                           .verify = store::VerifyDepth::none,
                                           .reconcile = false}),
                       "open the store");
    const auto t0 = std::chrono::steady_clock::now();
    fill(*store, items);
    std::printf("store: %d items, %d sessions, filled in %.1f s\n", items, (items + 499) / 500,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

    auto loop = check(loop::EventLoop::create(), "event loop");
    auto publisher = check(metrics::MetricsPublisher::start(
                               loop, *store,
                               {.directory = dir / "textfile", .version = "bench"},
                               [](metrics::KioskFigures& f) { f.devices["android_adb"] = 1; }),
                           "start the publisher");

    std::vector<double> write_ms, scan_ms;
    for (int i = 0; i < writes; ++i) {  // alternated, so both see the same machine
        double a = thread_cpu_ms();
        check(publisher->write(), "write");
        write_ms.push_back(thread_cpu_ms() - a);
        a = thread_cpu_ms();
        scan_once(*store);
        scan_ms.push_back(thread_cpu_ms() - a);
    }
    const auto w = stats(write_ms), s = stats(scan_ms);
    const auto size = std::filesystem::file_size(publisher->file());
    std::printf("metrics write (running totals, render, atomic replace of a %ju-byte file):\n",
                static_cast<std::uintmax_t>(size));
    std::printf("  CPU per write: median %.3f ms (range %.3f-%.3f) over %d writes\n", w.median,
                w.min, w.max, writes);
    std::printf("counting the same figures by scanning the catalog:\n");
    std::printf("  CPU per count: median %.3f ms (range %.3f-%.3f)\n", s.median, s.min, s.max);
    std::printf("ratio (scan / write): %.1fx; target: write under 1 ms -> %s\n",
                s.median / w.median, w.median < 1.0 ? "met" : "NOT met");
    return 0;
}
