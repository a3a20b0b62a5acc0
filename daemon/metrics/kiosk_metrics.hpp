// What exhibitd tells the DFU's monitoring about this kiosk: the figures, read from the
// catalog's running totals and from the daemon's parts, and their Prometheus families.
//
// Nothing about content, cases or people is ever a figure or a label: only counts, bytes,
// times, states, lanes, device classes and reason classes from fixed vocabularies
// (docs/monitoring.md lists every family).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/prometheus_text.hpp"
#include "daemon/store/store.hpp"

namespace exhibit::metrics {

// The fixed label values (every one is written, zeros included, so that a series does not
// vanish and reappear; an alert on "no longer 0" needs the 0).
inline constexpr std::array<std::string_view, 2> kLanes = {"normal", "urgent"};
inline constexpr std::array<std::string_view, 5> kUploadStates = {"queued", "uploading", "received",
                                                                  "failed", "cancelled"};
inline constexpr std::array<std::string_view, 4> kExtractionResults = {"completed", "interrupted",
                                                                       "failed", "cancelled"};
inline constexpr std::array<std::string_view, 5> kFailureReasons = {"network", "tls", "server",
                                                                    "rejected", "local"};
inline constexpr std::array<std::string_view, 5> kDeviceClasses = {
    "android_adb", "android_mtp", "apple", "mass_storage", "unsupported"};

struct QueueFigure {
    std::uint64_t jobs = 0;
    std::uint64_t bytes = 0;
};

struct KioskFigures {
    // From the store.
    std::uint64_t items_complete = 0;
    std::uint64_t items_incomplete = 0;
    std::uint64_t items_flagged = 0;  // blob missing or not matching its hash
    std::uint64_t free_bytes = 0;
    // Items to upload, by (lane, state).
    std::map<std::pair<std::string, std::string>, QueueFigure> queue;
    std::optional<TimePoint> oldest_unsent;   // queued_at of the oldest item or manifest unsent
    std::optional<TimePoint> last_delivery;   // newest receipt of an item or manifest
    std::uint64_t delivered_bytes = 0;        // items the DFU store confirmed
    std::map<std::string, std::uint64_t> sessions_by_state;

    // From the rest of the daemon.
    std::uint64_t min_free_bytes = 0;
    bool uploads_configured = false;
    std::map<std::string, std::uint64_t> upload_failures;  // by reason class, since start
    std::map<std::string, std::uint64_t> devices;          // connected, by class
    std::optional<bool> audit_chain_ok;                    // unknown until first checked
    std::optional<TimePoint> audit_checked_at;
    std::chrono::seconds evidence_wait_limit{0};
};

// Reads the store's part of the figures: a handful of indexed lookups of the running totals
// the catalog keeps (schema v4), whatever the store's size. Thread-bound to `store`'s thread.
class StoreFigures {
  public:
    static Result<StoreFigures> prepare(store::Store& store);
    Status read(KioskFigures& out);

  private:
    explicit StoreFigures(store::Store& store) : store_(&store) {}
    store::Store* store_;
    store::Statement items_, queue_, sessions_, oldest_, newest_;
};

// The families, in a fixed order; `now` is when the file is written (the kiosk's clock).
std::vector<prom::Family> kiosk_families(const KioskFigures& f, std::string_view version, TimePoint now,
                                   bool up);

}  // namespace exhibit::metrics
