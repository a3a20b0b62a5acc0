// A phone is hostile input: every scenario exhibit-phonesim can play ends in a named error on
// the artefact or the session, in bounded time, with everything already complete intact and
// nothing written outside the store.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <random>

#include <fmt/format.h>

#include "daemon/extract/extraction.hpp"
#include "drivers/adb/adb_driver.hpp"
#include "tests/support/phonesim.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit {
namespace {

using drivers::Category;
namespace fsys = std::filesystem;

struct Outcome {
    extract::SessionOutcome outcome;
    std::vector<store::ItemRecord> items;
    std::vector<std::string> skipped;  // audit reasons
    std::chrono::milliseconds took{};
};

class Hostile : public ::testing::Test {
  protected:
    void SetUp() override {
        // Two good photos and one victim file per scenario, each 200 KiB.
        for (auto name : {"good1.jpg", "good2.jpg", "victim.jpg"}) {
            fsys::create_directories(phone_ / "DCIM");
            std::string data(200 * 1024, '\0');
            std::mt19937 rng(static_cast<unsigned>(std::hash<std::string>{}(name)));
            for (auto& c : data)
                c = static_cast<char>(rng());
            std::ofstream(phone_ / "DCIM" / name, std::ios::binary)
                .write(data.data(), static_cast<std::streamsize>(data.size()));
        }
        // The store lives one level down so that anything written beside it would show.
        state_dir_ = outer_ / "state";
        auto s = store::Store::open({.state_directory = state_dir_, .kiosk_id = "test"});
        ASSERT_TRUE(s) << s.error().describe();
        store_ = std::move(*s);
        key_ = adb::AdbHostKey::load_or_create(state_dir_ / "keys/adb", "exhibit@test").value();
    }

    Outcome run(const std::string& scenario_json, adb::ExtractorLimits limits = {}) {
        auto scenario = phone_.path().parent_path() / fmt::format("scenario-{}.json", ::getpid());
        std::ofstream(scenario) << scenario_json;
        testing::PhoneSim sim({"--root", phone_.path().string(), "--scenario", scenario.string()});
        fsys::remove(scenario);
        Outcome r;
        EXPECT_TRUE(sim.ok());
        if (!sim.ok())
            return r;
        auto t =
            adb::TcpTransport::connect("127.0.0.1", sim.port(), std::chrono::seconds(5)).value();
        t->set_read_timeout(std::chrono::seconds(2));  // a stalled phone is given up after 2 s
        auto conn = adb::Connection::open(std::move(t), {.key = key_.get()});
        EXPECT_TRUE(conn) << conn.error().describe();
        if (!conn)
            return r;
        drivers::Scope scope{.categories = {Category::photos}};
        auto c = store_->catalog().create_case(
            {.case_reference = "C", .exhibit_reference = "E", .officer_id = "O"}, "o");
        auto session = store_->catalog()
                           .create_session(*c, {}, std::nullopt, store::Priority::normal, "o")
                           .value();
        std::stop_source stop;
        auto start = std::chrono::steady_clock::now();
        adb::AdbSession device(std::move(*conn), Clock::system(), limits);
        r.outcome = extract::run_extraction(*store_, device, session, scope, stop.get_token());
        r.took = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
        r.items =
            store_->catalog().items_of_session(session).value_or(std::vector<store::ItemRecord>{});
        auto stmt = store_->database().prepare(
            "SELECT details FROM audit WHERE event = 'extract.artefact_skipped'");
        while (stmt && stmt->step().value_or(false))
            r.skipped.push_back(stmt->column_text(0));
        return r;
    }

    // Invariants after any scenario.
    void check_store(const Outcome& r) {
        EXPECT_LT(r.took, std::chrono::seconds(20)) << "bounded in time";
        for (const auto& item : r.items) {
            auto digest = Sha256::of_file(state_dir_ / item.blob);
            ASSERT_TRUE(digest) << item.blob;
            EXPECT_EQ(to_hex(*digest), item.sha256) << item.source_path;
            if (item.state == store::ItemState::complete) {
                auto source = phone_ / "DCIM" / fsys::path(item.source_path).filename();
                EXPECT_EQ(item.sha256, to_hex(Sha256::of_file(source).value()));
            }
        }
        EXPECT_TRUE(store_->audit().verify().value().ok());
        // Nothing beside the store, nothing in the phone's tree.
        std::set<std::string> outer;
        for (auto& e : fsys::directory_iterator(outer_.path()))
            outer.insert(e.path().filename().string());
        EXPECT_EQ(outer, std::set<std::string>{"state"});
        std::size_t phone_files = 0;
        for (auto& e : fsys::recursive_directory_iterator(phone_.path()))
            phone_files += e.is_regular_file();
        EXPECT_EQ(phone_files, 3u) << "nothing is ever written to the phone";
    }

    const store::ItemRecord* item(const Outcome& r, std::string_view name) {
        for (const auto& i : r.items)
            if (i.source_path.ends_with(name))
                return &i;
        return nullptr;
    }

    testing::TempDir phone_;
    testing::TempDir outer_;
    fsys::path state_dir_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<adb::AdbHostKey> key_;
};

TEST_F(Hostile, NamesThatCannotBeFilesAreSkippedWithAReason) {
    auto r = run(R"({"rules": [{"path": "/sdcard/DCIM", "action": "inject_names",
        "names": ["..", "a/b.jpg", "nul\u0000byte.jpg", "bell\u0007.jpg", ""],
        "names_hex": ["ff fe 2e 6a 70 67"]}]})");
    EXPECT_EQ(r.outcome.state, store::SessionState::completed) << r.outcome.reason.value_or("");
    check_store(r);
    EXPECT_EQ(r.items.size(), 3u) << "the three real photos";
    std::string all;
    for (const auto& s : r.skipped)
        all += s + "\n";
    EXPECT_NE(all.find("containing '/'"), std::string::npos) << all;
    EXPECT_NE(all.find("NUL byte"), std::string::npos) << all;
    EXPECT_NE(all.find("an empty name"), std::string::npos) << all;
    // A control character or invalid UTF-8 is a legal name: asked for, refused by the phone
    // (it does not exist), and recorded with the phone's answer.
    EXPECT_NE(all.find("\\\\x07"), std::string::npos) << all;
    EXPECT_NE(all.find("\\\\xff\\\\xfe"), std::string::npos) << all;
    EXPECT_NE(all.find("could not send it"), std::string::npos) << all;
}

TEST_F(Hostile, DeclaredSizeThatDiffersMakesTheItemIncomplete) {
    auto r = run(
        R"({"rules": [{"path": "/sdcard/DCIM/victim.jpg", "action": "declare_size", "size": 5000}]})");
    EXPECT_EQ(r.outcome.state, store::SessionState::completed);
    check_store(r);
    auto* v = item(r, "victim.jpg");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->state, store::ItemState::incomplete);
    EXPECT_EQ(v->size, 200 * 1024) << "every byte received is kept, never truncated to the claim";
    EXPECT_NE(v->incomplete_reason.value_or("").find("declared 5000 bytes, 204800 were received"),
              std::string::npos);
}

TEST_F(Hostile, StallEndsTheSessionInterruptedInBoundedTime) {
    auto r = run(
        R"({"rules": [{"path": "/sdcard/DCIM/victim.jpg", "action": "stall_after", "bytes": 70000}]})");
    EXPECT_EQ(r.outcome.state, store::SessionState::interrupted);
    EXPECT_NE(r.outcome.reason.value_or("").find("no data for"), std::string::npos)
        << r.outcome.reason.value_or("");
    check_store(r);
    if (auto* v = item(r, "victim.jpg")) {
        EXPECT_EQ(v->state, store::ItemState::incomplete)
            << "a partial item is never counted as evidence";
        EXPECT_LE(v->size, 70000);
    }
}

TEST_F(Hostile, DisconnectKeepsWhatIsCompleteAndMarksThePartialItem) {
    auto r = run(
        R"({"rules": [{"path": "/sdcard/DCIM/victim.jpg", "action": "disconnect_after", "bytes": 70000}]})");
    EXPECT_EQ(r.outcome.state, store::SessionState::interrupted);
    EXPECT_NE(r.outcome.reason.value_or("").find("interrupted"), std::string::npos);
    check_store(r);
    if (auto* v = item(r, "victim.jpg")) {
        EXPECT_EQ(v->state, store::ItemState::incomplete);
        EXPECT_NE(v->incomplete_reason.value_or("").find("after"), std::string::npos);
    }
}

TEST_F(Hostile, DirectoryThatListsForeverIsCutOff) {
    adb::ExtractorLimits limits;
    limits.sync.max_entries_per_directory = 20'000;
    auto r = run(R"({"rules": [{"path": "/sdcard/Download", "action": "list_forever"}]})", limits);
    EXPECT_EQ(r.outcome.state, store::SessionState::interrupted);
    EXPECT_NE(r.outcome.reason.value_or("").find("listing forever"), std::string::npos)
        << r.outcome.reason.value_or("");
    check_store(r);
}

TEST_F(Hostile, OversizedMessageIsAProtocolError) {
    auto r =
        run(R"({"rules": [{"path": "/sdcard/DCIM/victim.jpg", "action": "oversized_message"}]})");
    EXPECT_EQ(r.outcome.state, store::SessionState::interrupted);
    EXPECT_NE(r.outcome.reason.value_or("").find("exceeds the limit"), std::string::npos)
        << r.outcome.reason.value_or("");
    check_store(r);
}

TEST_F(Hostile, BadMagicIsAProtocolError) {
    auto r = run(R"({"rules": [{"path": "/sdcard/DCIM/victim.jpg", "action": "bad_magic"}]})");
    EXPECT_EQ(r.outcome.state, store::SessionState::interrupted);
    EXPECT_NE(r.outcome.reason.value_or("").find("bad message magic"), std::string::npos)
        << r.outcome.reason.value_or("");
    check_store(r);
}

}  // namespace
}  // namespace exhibit
