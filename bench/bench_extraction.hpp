// What the benchmark drivers (exhibit-bench-*) share: the scope from a comma-separated list
// of categories, and one extraction into an evidence store exactly as an extraction session
// runs it (hash, spool, blob, catalog, audit), reported on stdout as
// "items N bytes N seconds S" — the fields the scripts in bench/ read.
#pragma once

#include <chrono>
#include <cstdio>
#include <stop_token>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "daemon/extract/extraction.hpp"

namespace exhibit::bench {

// "photos,videos" → those categories; names the kiosk does not know are left out.
inline drivers::Scope scope_of(std::string_view categories) {
    drivers::Scope scope;
    for (std::size_t pos = 0; pos <= categories.size();) {
        auto end = std::min(categories.find(',', pos), categories.size());
        if (auto c = drivers::category_from(categories.substr(pos, end - pos)))
            scope.categories.insert(*c);
        pos = end + 1;
    }
    return scope;
}

// Extracts `scope` from `device` into a new case and session of `store`, then prints the
// report with the seconds since `start` (taken before the device was reached). 0 when the
// session completed; otherwise 1, with the reason on stderr.
inline int extract_and_report(store::Store& store, drivers::DriverSession& device,
                              const drivers::Scope& scope,
                              std::chrono::steady_clock::time_point start) {
    auto case_id = store.catalog().create_case({.case_reference = "BENCH",
                                                .exhibit_reference = "B1",
                                                .officer_id = "bench",
                                                .scope = extract::scope_to_json(scope)},
                                               "bench");
    if (!case_id)
        return std::fprintf(stderr, "%s\n", case_id.error().describe().c_str()), 1;
    auto session = store.catalog().create_session(*case_id, {}, std::nullopt,
                                                  store::Priority::normal, "bench");
    if (!session)
        return std::fprintf(stderr, "%s\n", session.error().describe().c_str()), 1;
    std::stop_source stop;
    auto outcome = extract::run_extraction(store, device, *session, scope, stop.get_token());
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

}  // namespace exhibit::bench
