// Writes the kiosk's figures for node_exporter's textfile collector: <directory>/exhibit.prom,
// replaced atomically (a temporary file in the same directory, then rename) every `interval`
// and within a second of any change the daemon reports, and once more with exhibit_up 0 when
// exhibitd stops. Also checks the audit chain at start and every few hours, for
// exhibit_audit_chain_verified.
//
// Thread-bound: created and used on the loop thread, with the loop thread's Store.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "daemon/loop/event_loop.hpp"
#include "daemon/metrics/kiosk_metrics.hpp"
#include "daemon/store/store.hpp"

namespace exhibit::metrics {

inline constexpr std::string_view kMetricsFileName = "exhibit.prom";

struct PublisherOptions {
    // node_exporter's --collector.textfile.directory; empty: no file, the figures are kept
    // for the heartbeats only.
    std::filesystem::path directory;
    std::chrono::seconds interval{15};
    std::chrono::hours audit_recheck{6};
    std::string version;
    const Clock* clock = &Clock::system();
};

class MetricsPublisher {
  public:
    // Fills in the figures that are not the store's (devices, upload failures, limits).
    using Collect = std::function<void(KioskFigures&)>;

    // Checks the audit chain and writes the first file before returning. A directory that is
    // missing or not writable is not an error here: it is logged, and writing is tried again
    // every interval (node_exporter may be installed later).
    static Result<std::unique_ptr<MetricsPublisher>> start(loop::EventLoop& loop,
                                                           store::Store& store,
                                                           PublisherOptions options,
                                                           Collect collect);

    MetricsPublisher(const MetricsPublisher&) = delete;
    MetricsPublisher& operator=(const MetricsPublisher&) = delete;
    ~MetricsPublisher() = default;

    // Something changed: write within a second (several changes, one write).
    void changed() { dirty_ = true; }
    // Writes now; `up` false for the last file, when exhibitd stops.
    Status write(bool up = true);
    // Checks the audit chain now (also done at start and every options.audit_recheck).
    void check_audit();
    // The figures now (for a heartbeat).
    Result<KioskFigures> read_figures();

    std::filesystem::path file() const { return options_.directory / kMetricsFileName; }

  private:
    MetricsPublisher(store::Store& store, PublisherOptions options, Collect collect,
                     StoreFigures figures);
    void tick();

    store::Store* store_;
    PublisherOptions options_;
    Collect collect_;
    StoreFigures figures_;
    KioskFigures last_;
    loop::EventSource timer_;
    bool dirty_ = false;
    std::chrono::steady_clock::time_point last_write_{};
    std::chrono::steady_clock::time_point last_audit_check_{};
    std::string last_problem_;  // logged once, until it changes or writing works again
};

}  // namespace exhibit::metrics
