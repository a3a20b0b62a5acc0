#include "daemon/metrics/kiosk_metrics.hpp"

#include <algorithm>

#include "common/fs.hpp"

namespace exhibit::metrics {

namespace {

// The oldest unsent item or manifest, one indexed lookup per (state, lane) of each table.
constexpr std::string_view kOldestUnsent = R"sql(
SELECT min(t) FROM (
    SELECT min(queued_at_ms) AS t FROM uploads WHERE state = 'queued' AND lane = 'urgent'
    UNION ALL SELECT min(queued_at_ms) FROM uploads WHERE state = 'queued' AND lane = 'normal'
    UNION ALL SELECT min(queued_at_ms) FROM uploads WHERE state = 'uploading' AND lane = 'urgent'
    UNION ALL SELECT min(queued_at_ms) FROM uploads WHERE state = 'uploading' AND lane = 'normal'
    UNION ALL SELECT min(queued_at_ms) FROM manifests WHERE state = 'queued' AND lane = 'urgent'
    UNION ALL SELECT min(queued_at_ms) FROM manifests WHERE state = 'queued' AND lane = 'normal'
    UNION ALL SELECT min(queued_at_ms) FROM manifests WHERE state = 'uploading' AND lane = 'urgent'
    UNION ALL SELECT min(queued_at_ms) FROM manifests WHERE state = 'uploading' AND lane = 'normal'
))sql";

// The newest receipt: the items' through their index; manifests are one per session.
constexpr std::string_view kNewestReceipt = R"sql(
SELECT max(t) FROM (
    SELECT max(received_at_ms) AS t FROM uploads WHERE received_at_ms IS NOT NULL
    UNION ALL SELECT max(received_at_ms) FROM manifests
))sql";

double seconds(TimePoint t) {
    return static_cast<double>(to_unix_ms(t)) / 1000.0;
}

std::uint64_t value_or_zero(const std::map<std::string, std::uint64_t>& m, std::string_view key) {
    auto it = m.find(std::string(key));
    return it == m.end() ? 0 : it->second;
}

}  // namespace

Result<StoreFigures> StoreFigures::prepare(store::Store& store) {
    StoreFigures f(store);
    auto& db = store.database();
    auto prep = [&](store::Statement& into, std::string_view sql) -> Status {
        auto s = db.prepare(sql);
        if (!s)
            return std::unexpected(s.error());
        into = std::move(*s);
        return {};
    };
    for (auto [into, sql] : {std::pair{&f.items_, std::string_view(
                                                      "SELECT name, items FROM item_totals")},
                             {&f.queue_, "SELECT lane, state, jobs, bytes FROM queue_totals "
                                         "WHERE kind = 'item'"},
                             {&f.sessions_, "SELECT state, sessions FROM session_totals"},
                             {&f.oldest_, kOldestUnsent},
                             {&f.newest_, kNewestReceipt}})
        if (auto s = prep(*into, sql); !s)
            return std::unexpected(s.error());
    return f;
}

Status StoreFigures::read(KioskFigures& out) {
    items_.reset();
    auto s = items_.each([&](store::Statement& row) {
        const auto name = row.column_text(0);
        const auto n = static_cast<std::uint64_t>(row.column_int(1));
        if (name == "complete")
            out.items_complete = n;
        else if (name == "incomplete")
            out.items_incomplete = n;
        else if (name == "flagged")
            out.items_flagged = n;
    });
    if (!s)
        return s;

    out.queue.clear();
    out.delivered_bytes = 0;
    queue_.reset();
    s = queue_.each([&](store::Statement& row) {
        QueueFigure q{static_cast<std::uint64_t>(row.column_int(2)),
                      static_cast<std::uint64_t>(row.column_int(3))};
        auto state = row.column_text(1);
        if (state == "received")
            out.delivered_bytes += q.bytes;
        out.queue[{row.column_text(0), std::move(state)}] = q;
    });
    if (!s)
        return s;

    out.sessions_by_state.clear();
    sessions_.reset();
    s = sessions_.each([&](store::Statement& row) {
        out.sessions_by_state[row.column_text(0)] = static_cast<std::uint64_t>(row.column_int(1));
    });
    if (!s)
        return s;

    auto one_time = [](store::Statement& stmt,
                       std::optional<TimePoint>& into) -> Status {
        stmt.reset();
        auto row = stmt.step();
        if (!row)
            return std::unexpected(row.error());
        auto ms = *row ? stmt.column_optional_int(0) : std::nullopt;
        into = ms ? std::optional(from_unix_ms(*ms)) : std::nullopt;
        stmt.reset();
        return {};
    };
    if (auto r = one_time(oldest_, out.oldest_unsent); !r)
        return r;
    if (auto r = one_time(newest_, out.last_delivery); !r)
        return r;

    if (auto free = fs::free_bytes(store_->options().state_directory))
        out.free_bytes = *free;
    return {};
}

std::vector<prom::Family> kiosk_families(const KioskFigures& f, std::string_view version, TimePoint now,
                                   bool up) {
    std::vector<prom::Family> out;
    auto family = [&](std::string name, std::string help,
                      prom::MetricType type = prom::MetricType::gauge) -> prom::Family& {
        out.push_back(prom::Family{std::move(name), std::move(help), type, {}});
        return out.back();
    };
    auto flag = [](bool b) { return b ? 1.0 : 0.0; };

    family("exhibit_build_info", "The exhibit version running on this kiosk (always 1).")
        .add({{"version", std::string(version)}}, 1);
    family("exhibit_up", "1 while exhibitd runs; 0 written when it stops cleanly.").add(flag(up));
    family("exhibit_metrics_written_timestamp_seconds",
           "When exhibitd wrote these figures, by the kiosk's clock.")
        .add(seconds(now));

    family("exhibit_store_damaged",
           "1 when an item's stored copy is missing or no longer matches its SHA-256.")
        .add(flag(f.items_flagged > 0));
    family("exhibit_store_free_bytes", "Free space on the evidence store's file system.")
        .add(static_cast<double>(f.free_bytes));
    family("exhibit_store_min_free_bytes",
           "The low-disk limit: below it exhibitd refuses new extractions.")
        .add(static_cast<double>(f.min_free_bytes));
    family("exhibit_items", "Items in the evidence store, by state.")
        .add({{"state", "complete"}}, static_cast<double>(f.items_complete))
        .add({{"state", "incomplete"}}, static_cast<double>(f.items_incomplete))
        .add({{"state", "flagged"}}, static_cast<double>(f.items_flagged));

    // Filled side by side, added after: a reference into `out` would not survive a second
    // push_back.
    prom::Family items{"exhibit_upload_queue_items",
                 "Items in the upload queue to the DFU store, by lane and state.",
                 prom::MetricType::gauge,
                 {}};
    prom::Family bytes{"exhibit_upload_queue_bytes",
                 "Bytes of the items in the upload queue, by lane and state.", prom::MetricType::gauge,
                 {}};
    for (auto lane : kLanes)
        for (auto state : kUploadStates) {
            QueueFigure q;
            if (auto it = f.queue.find({std::string(lane), std::string(state)}); it != f.queue.end())
                q = it->second;
            items.add({{"lane", std::string(lane)}, {"state", std::string(state)}},
                      static_cast<double>(q.jobs));
            bytes.add({{"lane", std::string(lane)}, {"state", std::string(state)}},
                      static_cast<double>(q.bytes));
        }
    out.push_back(std::move(items));
    out.push_back(std::move(bytes));
    double oldest_age = 0;
    if (f.oldest_unsent)
        oldest_age = std::max(0.0, seconds(now) - seconds(*f.oldest_unsent));
    family("exhibit_upload_oldest_unsent_age_seconds",
           "How long the oldest item or manifest not yet confirmed by the DFU store has waited "
           "(0 when nothing waits).")
        .add(oldest_age);
    family("exhibit_evidence_wait_limit_seconds",
           "How long evidence may wait for delivery before the DFU is alerted ([monitoring] "
           "evidence_wait_limit_hours).")
        .add(static_cast<double>(f.evidence_wait_limit.count()));
    family("exhibit_upload_last_success_timestamp_seconds",
           "When the DFU store last confirmed an item or manifest (0: never).")
        .add(f.last_delivery ? seconds(*f.last_delivery) : 0);
    family("exhibit_upload_delivered_bytes_total",
           "Bytes of items the DFU store has confirmed receiving.", prom::MetricType::counter)
        .add(static_cast<double>(f.delivered_bytes));
    auto& failures = family("exhibit_upload_failures_total",
                            "Failed upload attempts since exhibitd started, by reason class.",
                            prom::MetricType::counter);
    for (auto reason : kFailureReasons)
        failures.add({{"reason", std::string(reason)}},
                     static_cast<double>(value_or_zero(f.upload_failures, reason)));
    family("exhibit_uploads_configured",
           "1 when a DFU store is configured; 0: evidence stays on this kiosk.")
        .add(flag(f.uploads_configured));

    auto& extractions = family("exhibit_extractions_total", "Extractions ended, by result.",
                               prom::MetricType::counter);
    for (auto result : kExtractionResults)
        extractions.add({{"result", std::string(result)}},
                        static_cast<double>(value_or_zero(f.sessions_by_state, result)));
    auto& devices = family("exhibit_devices_connected", "Devices connected now, by class.");
    for (auto cls : kDeviceClasses)
        devices.add({{"class", std::string(cls)}},
                    static_cast<double>(value_or_zero(f.devices, cls)));

    family("exhibit_audit_chain_verified",
           "1 when exhibitd's last check found its hash-chained audit log intact; 0 when broken "
           "or not yet checked.")
        .add(flag(f.audit_chain_ok.value_or(false)));
    family("exhibit_audit_chain_verified_timestamp_seconds",
           "When exhibitd last checked its audit log (0: not yet).")
        .add(f.audit_checked_at ? seconds(*f.audit_checked_at) : 0);
    return out;
}

}  // namespace exhibit::metrics
