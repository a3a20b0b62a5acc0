// Records (SMS, calls, contacts, packages, properties) and the AUTH handshake, against
// exhibit-phonesim over TCP.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "daemon/extract/extraction.hpp"
#include "drivers/adb/adb_driver.hpp"
#include "tests/support/phonesim.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit {
namespace {

using drivers::Category;

class PhoneFixture : public ::testing::Test {
  protected:
    void SetUp() override {
        auto [rc, out] =
            testing::run_command({testing::phonesim_binary(), "--generate", phone_.path().string()},
                                 std::chrono::seconds(60));
        ASSERT_EQ(rc, 0) << out;
        auto s = store::Store::open({.state_directory = state_.path(), .kiosk_id = "test"});
        ASSERT_TRUE(s) << s.error().describe();
        store_ = std::move(*s);
        auto key = adb::AdbHostKey::load_or_create(state_ / "keys/adb", "exhibit@test");
        ASSERT_TRUE(key);
        key_ = std::move(*key);
    }

    Result<std::unique_ptr<adb::Connection>> connect(testing::PhoneSim& sim,
                                                     adb::ConnectOptions options) {
        auto t = adb::TcpTransport::connect("127.0.0.1", sim.port(), std::chrono::seconds(5));
        if (!t)
            return std::unexpected(t.error());
        (*t)->set_read_timeout(std::chrono::milliseconds(500));
        return adb::Connection::open(std::move(*t), options);
    }

    std::int64_t new_session(const drivers::Scope& scope) {
        auto c = store_->catalog().create_case({.case_reference = "CR",
                                                .exhibit_reference = "EX",
                                                .officer_id = "PC",
                                                .scope = extract::scope_to_json(scope)},
                                               "officer:PC");
        return store_->catalog()
            .create_session(*c, {}, std::nullopt, store::Priority::normal, "officer:PC")
            .value();
    }

    std::vector<nlohmann::json> lines_of(const store::ItemRecord& item) {
        auto text = fs::read_file(state_ / item.blob, 1 << 24).value();
        std::vector<nlohmann::json> out;
        std::size_t pos = 0;
        while (pos < text.size()) {
            auto end = text.find('\n', pos);
            out.push_back(nlohmann::json::parse(text.substr(pos, end - pos)));
            pos = end + 1;
        }
        return out;
    }

    testing::TempDir phone_;
    testing::TempDir state_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<adb::AdbHostKey> key_;
};

TEST_F(PhoneFixture, RecordsBecomeJsonLinesWithTrickyValuesIntact) {
    testing::PhoneSim sim({"--root", phone_.path().string(), "--records",
                           (phone_ / "records.json").string(), "--clock-offset", "-3600"});
    ASSERT_TRUE(sim.ok());
    auto conn = connect(sim, {.key = key_.get()});
    ASSERT_TRUE(conn) << conn.error().describe();
    drivers::Scope scope{.categories = {Category::messages, Category::call_log, Category::contacts,
                                        Category::apps, Category::device_info}};
    auto session = new_session(scope);
    std::stop_source stop;
    adb::AdbSession device(std::move(*conn), Clock::system());
    auto outcome = extract::run_extraction(*store_, device, session, scope, stop.get_token());
    ASSERT_EQ(outcome.state, store::SessionState::completed) << outcome.reason.value_or("");

    std::map<std::string, store::ItemRecord> items;
    auto all = store_->catalog().items_of_session(session);
    ASSERT_TRUE(all);
    for (auto& i : *all)
        items[i.source_path] = i;
    ASSERT_EQ(items.size(), 5u);
    // The plan counted the records' bytes: progress ends exactly at its total.
    std::int64_t stored = 0;
    for (const auto& [path, item] : items)
        stored += item.size;
    EXPECT_EQ(outcome.progress.planned_items, 5u);
    EXPECT_EQ(outcome.progress.planned_bytes, static_cast<std::uint64_t>(stored));
    EXPECT_EQ(outcome.progress.bytes_done, outcome.progress.planned_bytes);
    auto sms = lines_of(items.at("content://sms"));
    ASSERT_EQ(sms.size(), 7u);
    EXPECT_EQ(sms[4]["body"], "Fine.\nSee you there,\nJ");
    EXPECT_EQ(sms[2]["body"], "ok, stay safe, love you = always");
    EXPECT_EQ(sms[6]["body"], "Row: 9 _id=forged, body=this is just text");
    EXPECT_EQ(sms[0]["subject"], nullptr);
    EXPECT_EQ(sms[0]["address"], "+447700900123");
    EXPECT_EQ(items.at("content://sms").category, "messages");
    EXPECT_EQ(lines_of(items.at("content://call_log/calls")).size(), 3u);
    auto contacts = lines_of(items.at("content://com.android.contacts/data"));
    ASSERT_EQ(contacts.size(), 2u);
    EXPECT_EQ(contacts[0]["data1"], "Sam O'Neill, Jr.");
    auto apps = lines_of(items.at("pm list packages"));
    ASSERT_EQ(apps.size(), 4u);
    EXPECT_EQ(apps[0]["package"], "com.whatsapp");
    auto props = lines_of(items.at("getprop"));
    EXPECT_EQ(props[0]["properties"]["ro.product.manufacturer"], "Google");

    auto s = store_->catalog().session(session).value();
    EXPECT_EQ(s.device.value("manufacturer", ""), "Google");
    EXPECT_EQ(s.device.value("os_version", ""), "Android 14");
    ASSERT_TRUE(s.clock_offset_ms);
    EXPECT_NEAR(static_cast<double>(*s.clock_offset_ms), -3'600'000.0, 3000.0)
        << "the phone's clock is an hour behind";
}

TEST_F(PhoneFixture, RecordDatesFollowTheScope) {
    testing::PhoneSim sim(
        {"--root", phone_.path().string(), "--records", (phone_ / "records.json").string()});
    ASSERT_TRUE(sim.ok());
    auto conn = connect(sim, {.key = key_.get()});
    ASSERT_TRUE(conn);
    drivers::Scope scope{.categories = {Category::messages, Category::call_log},
                         .from_ms = drivers::parse_day_utc("2024-06-12").value(),
                         .until_ms = drivers::parse_day_utc("2024-06-14").value()};
    auto session = new_session(scope);
    std::stop_source stop;
    adb::AdbSession device(std::move(*conn), Clock::system());
    auto outcome = extract::run_extraction(*store_, device, session, scope, stop.get_token());
    ASSERT_EQ(outcome.state, store::SessionState::completed);
    auto all = store_->catalog().items_of_session(session);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2u);
    for (auto& i : *all) {
        if (i.source_path == "content://sms") {
            EXPECT_EQ(lines_of(i).size(), 4u);
        } else {
            EXPECT_EQ(i.source_path, "content://call_log/calls");
            EXPECT_EQ(lines_of(i).size(), 3u);
        }
    }
}

// Proportionality: with numbers in the scope only the messages and calls with those parties
// are counted and taken, whichever form the officer wrote them in; contacts are not limited.
TEST_F(PhoneFixture, NumbersLimitMessagesAndCallsToThoseParties) {
    testing::PhoneSim sim(
        {"--root", phone_.path().string(), "--records", (phone_ / "records.json").string()});
    ASSERT_TRUE(sim.ok());
    auto conn = connect(sim, {.key = key_.get()});
    ASSERT_TRUE(conn) << conn.error().describe();
    adb::AdbSession device(std::move(*conn), Clock::system());
    drivers::Scope scope{.categories = {Category::messages, Category::call_log, Category::contacts},
                         .numbers = {"07700 900123", "0044 (0)7700-900.789"}};
    auto preview = device.preview(scope);
    ASSERT_TRUE(preview) << preview.error().describe();
    EXPECT_EQ((*preview)[Category::messages].count, 4u) << "3 with ...123, 1 with ...789";
    EXPECT_EQ((*preview)[Category::call_log].count, 2u) << "not the call to 999";
    EXPECT_EQ((*preview)[Category::contacts].count, 2u);

    auto session = new_session(scope);
    std::stop_source stop;
    auto outcome = extract::run_extraction(*store_, device, session, scope, stop.get_token());
    ASSERT_EQ(outcome.state, store::SessionState::completed) << outcome.reason.value_or("");
    std::map<std::string, store::ItemRecord> items;
    for (auto& i :
         store_->catalog().items_of_session(session).value_or(std::vector<store::ItemRecord>{}))
        items[i.source_path] = i;
    ASSERT_EQ(items.size(), 3u);
    auto sms = lines_of(items.at("content://sms"));
    ASSERT_EQ(sms.size(), 4u);
    for (const auto& m : sms)
        EXPECT_TRUE(m["address"] == "+447700900123" || m["address"] == "+447700900789") << m;
    auto calls = lines_of(items.at("content://call_log/calls"));
    ASSERT_EQ(calls.size(), 2u);
    for (const auto& c : calls)
        EXPECT_NE(c["number"], "999");
    EXPECT_EQ(lines_of(items.at("content://com.android.contacts/data")).size(), 2u);
    EXPECT_EQ(outcome.progress.bytes_done, outcome.progress.planned_bytes);
}

// Phones store a party's number in whatever form it came: international, national, with
// spaces or brackets; one number in the scope finds them all, and nothing else.
TEST_F(PhoneFixture, NumbersMatchHoweverThePhoneWroteThem) {
    auto records = phone_ / "forms.json";
    std::ofstream(records) << R"({
  "sms": [
    {"_id": 1, "address": "07700900123", "date": 1718222460000, "body": "national"},
    {"_id": 2, "address": "+44 7700 900123", "date": 1718222460000, "body": "spaced"},
    {"_id": 3, "address": "00447700900123", "date": 1718222460000, "body": "00"},
    {"_id": 4, "address": "(07700) 900-123", "date": 1718222460000, "body": "brackets"},
    {"_id": 5, "address": "+447700900124", "date": 1718222460000, "body": "one digit off"},
    {"_id": 6, "address": "BANK", "date": 1718222460000, "body": "a name"},
    {"_id": 7, "address": null, "date": 1718222460000, "body": "no address"}
  ],
  "call_log": [
    {"_id": 1, "number": "07700 900 123", "date": 1718222700000, "duration": 5},
    {"_id": 2, "number": "+33 1 23 45 67 89", "date": 1718222700000, "duration": 6},
    {"_id": 3, "number": "", "date": 1718222700000, "duration": 7}
  ]
})";
    testing::PhoneSim sim({"--root", phone_.path().string(), "--records", records.string()});
    ASSERT_TRUE(sim.ok());
    auto conn = connect(sim, {.key = key_.get()});
    ASSERT_TRUE(conn) << conn.error().describe();
    adb::AdbSession device(std::move(*conn), Clock::system());
    drivers::Scope scope{.categories = {Category::messages, Category::call_log},
                         .numbers = {"+447700900123"}};
    auto session = new_session(scope);
    std::stop_source stop;
    auto outcome = extract::run_extraction(*store_, device, session, scope, stop.get_token());
    ASSERT_EQ(outcome.state, store::SessionState::completed) << outcome.reason.value_or("");
    std::map<std::string, std::vector<nlohmann::json>> lines;
    for (auto& i :
         store_->catalog().items_of_session(session).value_or(std::vector<store::ItemRecord>{}))
        lines[i.source_path] = lines_of(i);
    std::vector<std::string> bodies;
    for (const auto& m : lines["content://sms"])
        bodies.push_back(m["body"]);
    EXPECT_EQ(bodies, (std::vector<std::string>{"national", "spaced", "00", "brackets"}));
    ASSERT_EQ(lines["content://call_log/calls"].size(), 1u);
    EXPECT_EQ(lines["content://call_log/calls"][0]["number"], "07700 900 123");
}

TEST_F(PhoneFixture, UnknownKeyWaitsForThePersonThenProceeds) {
    auto fifo = phone_ / "control";
    auto keys = phone_ / "adb_keys";
    { std::ofstream(keys) << ""; }
    testing::PhoneSim sim({"--root", phone_.path().string(), "--auth", "require", "--adb-keys",
                           keys.string(), "--control", fifo.string()});
    ASSERT_TRUE(sim.ok());
    std::atomic<bool> waiting{false};
    std::thread person([&] {
        for (int i = 0; i < 200 && !waiting; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the person reads the prompt
        int fd = ::open(fifo.c_str(), O_WRONLY);
        if (fd >= 0) {
            [[maybe_unused]] auto n = ::write(fd, "allow\n", 6);
            ::close(fd);
        }
    });
    auto conn = connect(sim, {.key = key_.get(),
                              .on_auth_state =
                                  [&](adb::AuthState s) {
                                      if (s == adb::AuthState::waiting_for_user)
                                          waiting = true;
                                  },
                              .user_wait = std::chrono::seconds(20)});
    person.join();
    EXPECT_TRUE(waiting) << "the kiosk reported that it waits for the person";
    ASSERT_TRUE(conn) << conn.error().describe();
    adb::AdbSession device(std::move(*conn), Clock::system());
    auto preview = device.preview({.categories = {Category::photos}});
    ASSERT_TRUE(preview) << preview.error().describe();
    EXPECT_GT((*preview)[Category::photos].count, 10u);
    // The phone now knows the key: the next connection is allowed without the person.
    auto again = connect(sim, {.key = key_.get(), .on_auth_state = [&](adb::AuthState s) {
                                   EXPECT_NE(s, adb::AuthState::waiting_for_user);
                               }});
    EXPECT_TRUE(again) << again.error().describe();
    EXPECT_NE(fs::read_file(keys, 1 << 16).value().find(key_->public_key_line().substr(0, 700)),
              std::string::npos);
}

TEST_F(PhoneFixture, WrongKeyIsRefusedWithAClearError) {
    // The phone knows another kiosk's key only; our signature does not verify, and nobody
    // allows our key.
    testing::TempDir other;
    auto other_key = adb::AdbHostKey::load_or_create(other.path(), "other@kiosk").value();
    auto keys = phone_ / "adb_keys";
    { std::ofstream(keys) << other_key->public_key_line() << "\n"; }
    testing::PhoneSim sim(
        {"--root", phone_.path().string(), "--auth", "require", "--adb-keys", keys.string()});
    ASSERT_TRUE(sim.ok());
    std::vector<adb::AuthState> states;
    auto start = std::chrono::steady_clock::now();
    auto conn = connect(sim, {.key = key_.get(),
                              .on_auth_state = [&](adb::AuthState s) { states.push_back(s); },
                              .user_wait = std::chrono::seconds(2)});
    ASSERT_FALSE(conn);
    EXPECT_EQ(conn.error().code, Errc::timeout);
    EXPECT_NE(conn.error().message.find("did not allow this kiosk"), std::string::npos)
        << conn.error().message;
    EXPECT_EQ(states, (std::vector{adb::AuthState::signing, adb::AuthState::waiting_for_user}));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10))
        << "bounded in time";

    // With the other kiosk's key, the same phone lets it in at once.
    auto theirs = connect(sim, {.key = other_key.get()});
    EXPECT_TRUE(theirs) << theirs.error().describe();
}

}  // namespace
}  // namespace exhibit
