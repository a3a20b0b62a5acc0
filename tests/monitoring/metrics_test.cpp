// The metrics: the text format, the catalog's running totals (they must agree with a count of
// the rows after any sequence of changes), the families exhibitd writes, and the publisher's
// file (atomic, readable by node_exporter, exhibit_up 0 at a clean stop).
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/fs.hpp"
#include "daemon/loop/event_loop.hpp"
#include "daemon/metrics/kiosk_metrics.hpp"
#include "daemon/metrics/metrics_publisher.hpp"
#include "common/prometheus_text.hpp"
#include "daemon/upload/upload_queue.hpp"
#include "tests/support/upload_fixture.hpp"

namespace exhibit::metrics {
namespace {

using prom::Family;
using prom::MetricType;
using prom::is_valid_label_name;
using prom::is_valid_metric_name;
using prom::render;

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PrometheusText, WritesHelpTypeAndEscapedLabels) {
    std::vector<Family> families;
    families.push_back(Family{"exhibit_x_bytes", "Bytes of \\ things\nacross lines", MetricType::gauge, {}});
    families.back().add({{"lane", "urgent"}, {"note", "a \"quoted\" \\ value\nnext"}}, 1536);
    families.push_back(Family{"exhibit_y_total", "A counter.", MetricType::counter, {}});
    families.back().add(0.25);
    EXPECT_EQ(render(families),
              "# HELP exhibit_x_bytes Bytes of \\\\ things\\nacross lines\n"
              "# TYPE exhibit_x_bytes gauge\n"
              "exhibit_x_bytes{lane=\"urgent\",note=\"a \\\"quoted\\\" \\\\ value\\nnext\"} 1536\n"
              "# HELP exhibit_y_total A counter.\n"
              "# TYPE exhibit_y_total counter\n"
              "exhibit_y_total 0.25\n");
}

TEST(PrometheusText, WritesLargeCountsExactlyAndSpecialValuesByName) {
    std::vector<Family> f{{"exhibit_z", "z", MetricType::gauge, {}}};
    f[0].add({{"k", "a"}}, 1099511627776.0)
        .add({{"k", "b"}}, std::numeric_limits<double>::infinity())
        .add({{"k", "c"}}, std::nan(""));
    auto text = render(f);
    EXPECT_THAT(text, HasSubstr("exhibit_z{k=\"a\"} 1099511627776\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_z{k=\"b\"} +Inf\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_z{k=\"c\"} NaN\n"));
}

TEST(PrometheusText, RefusesNamesPrometheusWouldNotRead) {
    EXPECT_TRUE(is_valid_metric_name("exhibit_up"));
    EXPECT_TRUE(is_valid_metric_name("job:exhibit_up:sum"));
    EXPECT_FALSE(is_valid_metric_name("2xx_total"));
    EXPECT_FALSE(is_valid_metric_name("exhibit-up"));
    EXPECT_FALSE(is_valid_metric_name(""));
    EXPECT_FALSE(is_valid_label_name("__name__"));
    EXPECT_FALSE(is_valid_label_name("a:b"));
    std::vector<Family> bad{{"exhibit up", "", MetricType::gauge, {}}};
    EXPECT_THROW(render(bad), std::invalid_argument);
    std::vector<Family> bad_label{{"exhibit_up", "", MetricType::gauge, {}}};
    bad_label[0].add({{"bad-label", "x"}}, 1);
    EXPECT_THROW(render(bad_label), std::invalid_argument);
}

// A store with a case, sessions, items and their uploads, driven through the same APIs
// exhibitd uses; the figures are compared with a plain count of the rows.
class StoreTotalsTest : public ::testing::Test {
  protected:
    testing::FakeClock clock_{testing::utc_time(2026, 12, 5, 10, 0)};
    testing::EvidenceStore es_{clock_};
    upload::UploadQueue queue_{es_.store(), clock_};

    std::uint64_t count(const std::string& sql) {
        return static_cast<std::uint64_t>(es_.query_int(sql));
    }

    void expect_figures_match_rows() {
        auto reader = StoreFigures::prepare(es_.store());
        ASSERT_TRUE(reader) << reader.error().describe();
        KioskFigures f;
        ASSERT_TRUE(reader->read(f));
        EXPECT_EQ(f.items_complete, count("SELECT count(*) FROM items WHERE state = 'complete'"));
        EXPECT_EQ(f.items_incomplete,
                  count("SELECT count(*) FROM items WHERE state = 'incomplete'"));
        EXPECT_EQ(f.items_flagged, count("SELECT count(*) FROM items WHERE integrity != 'ok'"));
        for (auto lane : kLanes)
            for (auto state : kUploadStates) {
                const auto where =
                    fmt::format("u.lane = '{}' AND u.state = '{}'", lane, state);
                QueueFigure q;
                if (auto it = f.queue.find({std::string(lane), std::string(state)});
                    it != f.queue.end())
                    q = it->second;
                EXPECT_EQ(q.jobs, count("SELECT count(*) FROM uploads u WHERE " + where)) << where;
                EXPECT_EQ(q.bytes, count("SELECT coalesce(sum(i.size), 0) FROM uploads u JOIN "
                                         "items i ON i.id = u.item_id WHERE " +
                                         where))
                    << where;
            }
        EXPECT_EQ(f.delivered_bytes,
                  count("SELECT coalesce(sum(i.size), 0) FROM uploads u JOIN items i ON "
                        "i.id = u.item_id WHERE u.state = 'received'"));
        for (auto result : kExtractionResults)
            EXPECT_EQ(f.sessions_by_state[std::string(result)],
                      count(fmt::format("SELECT count(*) FROM sessions WHERE state = '{}'",
                                        result)))
                << result;
        auto oldest = es_.query(
            "SELECT min(queued_at_ms) FROM (SELECT queued_at_ms FROM uploads WHERE state IN "
            "('queued', 'uploading') UNION ALL SELECT queued_at_ms FROM manifests WHERE state "
            "IN ('queued', 'uploading'))");
        if (oldest.empty())
            EXPECT_FALSE(f.oldest_unsent);
        else
            EXPECT_EQ(f.oldest_unsent, from_unix_ms(std::stoll(oldest)));
        auto newest = es_.query(
            "SELECT max(t) FROM (SELECT received_at_ms AS t FROM uploads UNION ALL SELECT "
            "received_at_ms FROM manifests)");
        if (newest.empty())
            EXPECT_FALSE(f.last_delivery);
        else
            EXPECT_EQ(f.last_delivery, from_unix_ms(std::stoll(newest)));
        EXPECT_GT(f.free_bytes, 0u);
    }
};

TEST_F(StoreTotalsTest, AgreeWithTheRowsAfterEveryKindOfChange) {
    expect_figures_match_rows();  // empty

    std::mt19937_64 random(20261205);
    std::vector<std::int64_t> items;
    for (int i = 0; i < 40; ++i) {
        clock_.advance(std::chrono::seconds(7));
        if (i == 20)
            es_.new_session(store::Priority::urgent);
        items.push_back(es_.add_item(random() % 5000 + 1, i).id);
    }
    ASSERT_TRUE(queue_.enqueue_new_items());
    expect_figures_match_rows();

    auto key = [](std::int64_t id) { return upload::JobKey{upload::JobKind::item, id}; };
    // Some go up and arrive, some fail, one is cancelled, lanes change, blobs get flagged.
    for (std::size_t i = 0; i < items.size(); ++i) {
        clock_.advance(std::chrono::seconds(3));
        const auto k = key(items[i]);
        switch (i % 6) {
            case 0:
            case 1: {
                ASSERT_TRUE(queue_.mark_uploading(k));
                upload::Receipt r{.url = fmt::format("https://dfu/files/{}", items[i]),
                                  .received_at = clock_.now()};
                ASSERT_TRUE(queue_.mark_received(k, r));
                break;
            }
            case 2:
                ASSERT_TRUE(queue_.mark_uploading(k));
                ASSERT_TRUE(queue_.mark_failed(k, "HTTP 400"));
                break;
            case 3:
                // Items of the second (urgent) session move the other way.
                ASSERT_TRUE(queue_.set_lane(items[i], i < 20 ? upload::Lane::urgent
                                                             : upload::Lane::normal,
                                            "admin:0"));
                break;
            case 4:
                ASSERT_TRUE(queue_.mark_uploading(k));
                break;
            case 5:
                ASSERT_TRUE(es_.store().catalog().set_integrity(
                    items[i], i % 12 == 5 ? store::Integrity::missing : store::Integrity::mismatch));
                break;
        }
    }
    ASSERT_TRUE(queue_.cancel(items[3], "admin:0"));
    expect_figures_match_rows();

    // Flags cleared again, failures retried, a session ended and one interrupted.
    ASSERT_TRUE(es_.store().catalog().set_integrity(items[5], store::Integrity::ok));
    ASSERT_TRUE(queue_.retry_failed("admin:0"));
    es_.end_session();
    const auto other = es_.new_session(store::Priority::normal);
    ASSERT_TRUE(es_.store().catalog().set_session_state(
        other, store::SessionState::interrupted, "device disconnected", "exhibitd"));
    expect_figures_match_rows();
}

TEST_F(StoreTotalsTest, FamiliesCarryEveryFixedLabelAndNothingElse) {
    es_.add_item(1000, 1);
    ASSERT_TRUE(queue_.enqueue_new_items());
    auto reader = StoreFigures::prepare(es_.store());
    ASSERT_TRUE(reader);
    KioskFigures f;
    ASSERT_TRUE(reader->read(f));
    f.devices["android_adb"] = 1;
    f.upload_failures["tls"] = 2;
    f.evidence_wait_limit = std::chrono::hours(24);
    f.audit_chain_ok = true;
    f.audit_checked_at = clock_.now();
    clock_.advance(std::chrono::minutes(90));
    const auto text = render(kiosk_families(f, "9.9.9", clock_.now(), true));

    EXPECT_THAT(text, HasSubstr("exhibit_build_info{version=\"9.9.9\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_up 1\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_items{state=\"complete\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_upload_queue_items{lane=\"normal\",state=\"queued\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_upload_queue_bytes{lane=\"normal\",state=\"queued\"} 1000\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_upload_queue_items{lane=\"urgent\",state=\"failed\"} 0\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_upload_oldest_unsent_age_seconds 5400\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_evidence_wait_limit_seconds 86400\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_upload_last_success_timestamp_seconds 0\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_upload_failures_total{reason=\"tls\"} 2\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_upload_failures_total{reason=\"network\"} 0\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_devices_connected{class=\"android_adb\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_devices_connected{class=\"apple\"} 0\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_extractions_total{result=\"completed\"} 0\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_audit_chain_verified 1\n"));
    EXPECT_THAT(text, HasSubstr("exhibit_store_damaged 0\n"));
    // The case, the officer and the phone's serial of the fixture never appear.
    EXPECT_THAT(text, Not(HasSubstr("SERIAL0001")));
    EXPECT_THAT(text, Not(HasSubstr("4711")));
    EXPECT_THAT(render(kiosk_families(f, "9.9.9", clock_.now(), false)),
                HasSubstr("exhibit_up 0\n"));

    // Every label is one of the fixed vocabularies: no free text ever reaches a label.
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with('#') || line.find('{') == std::string::npos)
            continue;
        const auto labels = line.substr(line.find('{') + 1, line.find('}') - line.find('{') - 1);
        EXPECT_TRUE(labels.starts_with("version=") || labels.starts_with("state=") ||
                    labels.starts_with("lane=") || labels.starts_with("reason=") ||
                    labels.starts_with("result=") || labels.starts_with("class="))
            << line;
    }
}

TEST_F(StoreTotalsTest, APublisherWritesAReadableFileAtomicallyAndUpZeroWhenStopping) {
    testing::TempDir dir;
    es_.add_item(10, 1);
    auto loop = loop::EventLoop::create();
    ASSERT_TRUE(loop);
    ::umask(0077);  // as under exhibitd.service
    int collected = 0;
    auto p = MetricsPublisher::start(*loop, es_.store(),
                                     {.directory = dir.path(), .version = "1.2.3", .clock = &clock_},
                                     [&](KioskFigures& f) {
                                         ++collected;
                                         f.devices["mass_storage"] = 2;
                                     });
    ::umask(0022);
    ASSERT_TRUE(p) << p.error().describe();
    const auto file = dir.path() / "exhibit.prom";
    EXPECT_EQ((*p)->file(), file);
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0) << "written at start";
    EXPECT_EQ(st.st_mode & 0777, 0644u) << "node_exporter runs as another user";
    EXPECT_EQ(collected, 1);
    auto text = fs::read_file(file, 1 << 20);
    ASSERT_TRUE(text);
    EXPECT_THAT(*text, HasSubstr("exhibit_up 1\n"));
    EXPECT_THAT(*text, HasSubstr("exhibit_devices_connected{class=\"mass_storage\"} 2\n"));
    EXPECT_THAT(*text, HasSubstr("exhibit_audit_chain_verified 1\n"));
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
        if (!line.starts_with('#')) {  // "name{labels} value": no third field, no timestamp
            EXPECT_EQ(std::count(line.begin(), line.end(), ' '), 1) << line;
        }
    }

    ASSERT_TRUE((*p)->write(false));
    text = fs::read_file(file, 1 << 20);
    ASSERT_TRUE(text);
    EXPECT_THAT(*text, HasSubstr("exhibit_up 0\n"));
    int files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path()))
        ++files;
    EXPECT_EQ(files, 1) << "no temporary file is left beside exhibit.prom";
}

TEST_F(StoreTotalsTest, AMissingDirectoryIsReportedAndTriedAgainNotFatal) {
    testing::TempDir dir;
    auto loop = loop::EventLoop::create();
    ASSERT_TRUE(loop);
    const auto missing = dir.path() / "not-yet";
    auto p = MetricsPublisher::start(*loop, es_.store(), {.directory = missing, .version = "1"},
                                     nullptr);
    ASSERT_TRUE(p) << "node_exporter may be installed later";
    auto s = (*p)->write();
    ASSERT_FALSE(s);
    EXPECT_THAT(s.error().describe(), HasSubstr("not-yet"));
    std::filesystem::create_directory(missing);
    EXPECT_TRUE((*p)->write());
    EXPECT_TRUE(std::filesystem::exists(missing / "exhibit.prom"));
}

TEST_F(StoreTotalsTest, APlantedLinkInPlaceOfTheTemporaryFileIsNotFollowed) {
    testing::TempDir dir;
    const auto victim = dir.path() / "victim";
    { std::ofstream(victim) << "keep me"; }
    const auto tmp = dir.path() / fmt::format("exhibit.prom.tmp.{}", ::getpid());
    std::filesystem::create_symlink(victim, tmp);
    auto loop = loop::EventLoop::create();
    ASSERT_TRUE(loop);
    auto p = MetricsPublisher::start(*loop, es_.store(), {.directory = dir.path(), .version = "1"},
                                     nullptr);
    ASSERT_TRUE(p);
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "exhibit.prom"));
    EXPECT_EQ(fs::read_file(victim, 100).value_or(""), "keep me");
}

}  // namespace
}  // namespace exhibit::metrics
