#include "daemon/metrics/metrics_publisher.hpp"

#include <fmt/format.h>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "daemon/metrics/message_ids.hpp"

namespace exhibit::metrics {

namespace {

constexpr std::chrono::seconds kTick{1};
// node_exporter runs as another user (prometheus): the file must be readable by it whatever
// exhibitd's umask (0077 under its unit).
constexpr unsigned kFileMode = 0644;

}  // namespace

MetricsPublisher::MetricsPublisher(store::Store& store, PublisherOptions options,
                                   Collect collect, StoreFigures figures)
    : store_(&store),
      options_(std::move(options)),
      collect_(std::move(collect)),
      figures_(std::move(figures)) {}

Result<std::unique_ptr<MetricsPublisher>> MetricsPublisher::start(loop::EventLoop& loop,
                                                                  store::Store& store,
                                                                  PublisherOptions options,
                                                                  Collect collect) {
    auto figures = StoreFigures::prepare(store);
    if (!figures)
        return std::unexpected(figures.error());
    std::unique_ptr<MetricsPublisher> p(
        new MetricsPublisher(store, std::move(options), std::move(collect), std::move(*figures)));
    p->check_audit();
    (void)p->write();  // problems are logged; tried again every interval
    auto timer = loop.add_periodic_timer(
        kTick, [raw = p.get()] { raw->tick(); }, "metrics");
    if (!timer)
        return std::unexpected(timer.error());
    p->timer_ = std::move(*timer);
    return p;
}

void MetricsPublisher::check_audit() {
    last_audit_check_ = std::chrono::steady_clock::now();
    auto report = store_->audit().verify();
    last_.audit_checked_at = options_.clock->now();
    if (!report) {
        last_.audit_chain_ok = false;
        log::event(log::Level::warning, message_id::kAuditCheckFailed,
                   fmt::format("cannot check the audit log for the metrics: {}",
                               report.error().describe()),
                   {log::field::error_class(report.error())});
        return;
    }
    const bool was_ok = last_.audit_chain_ok.value_or(true);
    last_.audit_chain_ok = report->ok();
    if (!report->ok() && was_ok)
        log::event(log::Level::error, message_id::kAuditChainBroken,
                   fmt::format("the audit log's hash chain is broken at entry {}: {}",
                               report->first_broken.value_or(0), report->problem),
                   {{"EXHIBIT_AUDIT_SEQ", std::to_string(report->first_broken.value_or(0))}});
}

void MetricsPublisher::tick() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_audit_check_ >= options_.audit_recheck) {
        check_audit();
        dirty_ = true;
    }
    if (dirty_ || now - last_write_ >= options_.interval)
        (void)write();
}

Result<KioskFigures> MetricsPublisher::read_figures() {
    if (auto r = figures_.read(last_); !r)
        return std::unexpected(r.error());
    if (collect_)
        collect_(last_);
    return last_;
}

Status MetricsPublisher::write(bool up) {
    dirty_ = false;
    last_write_ = std::chrono::steady_clock::now();
    if (options_.directory.empty())
        return {};
    auto s = [&]() -> Status {
        if (auto r = read_figures(); !r)
            return std::unexpected(r.error());
        auto text = prom::render(kiosk_families(last_, options_.version, options_.clock->now(), up));
        // Not fsynced: figures are rewritten every few seconds, and a sync on the loop thread
        // would stall the daemon behind an extraction's writes.
        return fs::write_file_atomic(file(), text, kFileMode, fs::Durability::none);
    }();
    if (!s) {
        auto problem = s.error().describe();
        if (problem != last_problem_)
            log::event(log::Level::warning, message_id::kMetricsWriteFailed,
                       fmt::format("cannot write the metrics to {}: {} (trying again every {} s)",
                                   file().string(), problem, options_.interval.count()),
                       {{"EXHIBIT_METRICS_FILE", file().string()},
                        log::field::error_class(s.error())});
        last_problem_ = std::move(problem);
        return s;
    }
    if (!last_problem_.empty())
        log::event(log::Level::info, message_id::kMetricsWritten,
                   fmt::format("metrics written to {} again", file().string()),
                   {{"EXHIBIT_METRICS_FILE", file().string()}});
    last_problem_.clear();
    return {};
}

}  // namespace exhibit::metrics
