// What exhibitctl's read commands print: stable JSON keys and aligned text.
#include "tools/exhibitctl/views.hpp"

#include <gtest/gtest.h>

namespace exhibit::ctl {
namespace {

ValueMap a_session(std::uint64_t id) {
    return {{"Id", id},
            {"Device", std::string("d1")},
            {"State", std::string("running")},
            {"Reason", std::string()},
            {"Progress", 0.25},
            {"BytesDone", std::uint64_t{1024}},
            {"BytesTotal", std::uint64_t{4096}},
            {"Rate", 2048.0},
            {"ItemsDone", std::uint64_t{1}},
            {"ItemsTotal", std::uint64_t{4}},
            {"ItemsIncomplete", std::uint64_t{0}},
            {"ItemsSkipped", std::uint64_t{2}},
            {"CurrentItem", std::string("/sdcard/DCIM/IMG_1.jpg")}};
}

TEST(ExhibitctlViews, SessionJsonHasEveryKeyInSnakeCase) {
    auto j = session_json("/org/exhibit/Exhibit1/sessions/3", a_session(3));
    for (const char* key :
         {"path", "id", "device", "state", "reason", "progress", "bytes_done", "bytes_total",
          "rate", "items_done", "items_total", "items_incomplete", "items_skipped", "current_item"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_EQ(j["id"], 3);
    EXPECT_EQ(j["bytes_done"], 1024);
    EXPECT_EQ(j["current_item"], "/sdcard/DCIM/IMG_1.jpg");
    EXPECT_EQ(j.size(), 14u);
    // A property the daemon does not send still gives its key, with a zero value.
    auto sparse = session_json("/p", {{"Id", std::uint64_t{1}}});
    EXPECT_EQ(sparse["state"], "");
    EXPECT_EQ(sparse["items_total"], 0);
}

TEST(ExhibitctlViews, StatusWithAndWithoutAQueue) {
    ValueMap health = {{"KioskId", std::string("kiosk-7")},
                       {"FreeBytes", std::uint64_t{3} << 30},
                       {"StoreState", std::string("ok")}};
    auto j = status_json(health, std::nullopt);
    EXPECT_EQ(j["health"]["kiosk_id"], "kiosk-7");
    EXPECT_EQ(j["health"]["free_bytes"], std::uint64_t{3} << 30);
    EXPECT_TRUE(j["queue"].is_null());
    ValueMap queue = {{"ItemsQueued", std::uint64_t{3}},
                      {"OldestUnsentSince", std::int64_t{1795953600000}},
                      {"WindowOpen", true}};
    j = status_json(health, queue);
    EXPECT_EQ(j["queue"]["items_queued"], 3);
    EXPECT_EQ(j["queue"]["oldest_unsent_since_ms"], 1795953600000);
    EXPECT_EQ(j["queue"]["window_open"], true);
    EXPECT_EQ(j["queue"]["sync_requested"], false);

    auto text = render_status(health, queue);
    EXPECT_NE(text.find("kiosk          kiosk-7\n"), std::string::npos) << text;
    EXPECT_NE(text.find("disk free      3.0 GiB"), std::string::npos) << text;
    EXPECT_NE(text.find("queue          3 queued"), std::string::npos) << text;
    EXPECT_NE(text.find("sync window    open\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("failed   "), std::string::npos) << "no failed line when none failed";
}

TEST(ExhibitctlViews, FailedUploadsAreListedOnePerLineAndSanitised) {
    ValueMap queue = {{"ItemsFailed", std::uint64_t{2}},
                      {"FailedUploads", std::vector<std::string>{"item 7: HTTP 403: forbidden",
                                                                 "item 9: HTTP 400: \x1b[2Jbad"}}};
    auto text = render_queue(queue);
    EXPECT_NE(text.find("failed         item 7: HTTP 403: forbidden\n"), std::string::npos) << text;
    EXPECT_NE(text.find("failed         item 9: HTTP 400: "), std::string::npos) << text;
    EXPECT_EQ(text.find('\x1b'), std::string::npos) << "no terminal control from a server";
    auto j = queue_json(queue);
    EXPECT_EQ(j["failed_uploads"].size(), 2u);
    EXPECT_EQ(j["failed_uploads"][0], "item 7: HTTP 403: forbidden");
}

TEST(ExhibitctlViews, ListsAreSortedAndAligned) {
    Objects devices = {{"/org/exhibit/Exhibit1/devices/d10", {{"Id", std::string("d10")}}},
                       {"/org/exhibit/Exhibit1/devices/d2",
                        {{"Id", std::string("d2")},
                         {"State", std::string("ready")},
                         {"Classes", std::vector<std::string>{"android_adb", "mass_storage"}}}}};
    sort_devices(devices);
    EXPECT_EQ(devices[0].first, "/org/exhibit/Exhibit1/devices/d2");
    auto j = devices_json(devices);
    EXPECT_EQ(j[0]["classes"][1], "mass_storage");
    EXPECT_EQ(j[1]["path"], "/org/exhibit/Exhibit1/devices/d10");
    EXPECT_EQ(
        render_devices(devices),
        "ID   STATE  CLASSES                   TRANSPORT  MANUFACTURER  PRODUCT  SERIAL  DETAIL\n"
        "d2   ready  android_adb,mass_storage  -          -             -        -\n"
        "d10  -      -                         -          -             -        -\n");
    EXPECT_EQ(render_devices({}), "no devices\n");

    Objects sessions = {{"/s/10", a_session(10)}, {"/s/9", a_session(9)}};
    sort_sessions(sessions);
    EXPECT_EQ(sessions[0].first, "/s/9");
    EXPECT_NE(render_sessions(sessions).find("9   d1      running  25.0%     1.0 KiB/4.0 KiB  "
                                             "1/4, 2 skipped"),
              std::string::npos)
        << render_sessions(sessions);
}

TEST(ExhibitctlViews, PreviewTotals) {
    std::vector<PreviewRow> rows = {{"photos", 24, 1100272}, {"videos", 1, 8u << 20}};
    auto j = preview_json("/org/exhibit/Exhibit1/devices/d1", rows);
    EXPECT_EQ(j["categories"]["photos"]["count"], 24);
    EXPECT_EQ(j["total"]["count"], 25);
    EXPECT_EQ(j["total"]["bytes"], 1100272 + (8u << 20));
    EXPECT_EQ(render_preview(rows),
              "CATEGORY  ITEMS  SIZE\n"
              "photos    24     1.0 MiB\n"
              "videos    1      8.0 MiB\n"
              "total     25     9.0 MiB\n");
}

TEST(ExhibitctlViews, ReceiptParsesTheDeviceAndKeepsUnknownKeys) {
    ValueMap r = {
        {"case_reference", std::string("CR/2026/0042")},
        {"state", std::string("completed")},
        {"items", std::uint64_t{40}},
        {"bytes", std::uint64_t{1234}},
        {"started", std::int64_t{1795953600000}},
        {"device", std::string(R"({"manufacturer":"Google","model":"Pixel 7","serial":"S1"})")},
        {"items_received_by_dfu", std::uint64_t{40}},
        {"seal_sha256", std::string(64, 'a')}};
    auto j = receipt_json("/org/exhibit/Exhibit1/sessions/1", r);
    EXPECT_EQ(j["seal_sha256"], std::string(64, 'a'));
    EXPECT_EQ(j["device"]["model"], "Pixel 7");
    EXPECT_EQ(j["started_ms"], 1795953600000);
    EXPECT_FALSE(j.contains("started"));
    EXPECT_EQ(j["items_received_by_dfu"], 40) << "newer keys pass through";
    EXPECT_EQ(j["manifest_sha256"], "");
    auto text = render_receipt("/org/exhibit/Exhibit1/sessions/1", r);
    EXPECT_NE(text.find("device           Google Pixel 7 (serial S1)\n"), std::string::npos)
        << text;
    EXPECT_NE(text.find("manifest sha256  not made yet\n"), std::string::npos) << text;
    EXPECT_NE(text.find("seal             " + std::string(64, 'a') + "\n"), std::string::npos)
        << text;
    EXPECT_NE(text.find("started          2026-11-29 12:00:00 UTC\n"), std::string::npos) << text;
}

TEST(ExhibitctlViews, AuditAndJsonThatSurvivesBadBytes) {
    EXPECT_EQ(render_audit({.ok = true, .entries = 60}),
              "audit chain intact: 60 entries verified\n");
    auto broken = render_audit({.ok = false, .entries = 60, .first_broken = 7, .problem = "hash"});
    EXPECT_EQ(broken, "audit chain BROKEN at entry 7 of 60: hash\n");
    EXPECT_EQ(audit_json({.ok = false, .first_broken = 7})["first_broken"], 7);
    auto j = session_json("/p", {{"CurrentItem", std::string("bad\xff name")}});
    EXPECT_NE(dump_json(j).find("bad\xef\xbf\xbd name"), std::string::npos)
        << "invalid UTF-8 is replaced, not fatal";
    EXPECT_EQ(dump_json_line({{"a", 1}}), "{\"a\":1}\n");
}

}  // namespace
}  // namespace exhibit::ctl
