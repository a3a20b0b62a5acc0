// A new device family needs nothing in daemon/extract or daemon/bus but its registration
// line: the made-up "fake" family (fake_driver.*), registered exactly as exhibitd registers
// ADB, is contacted on arrival, previewed and extracted into the evidence store by the real
// session manager and store - items with their SHA-256, an incomplete item, an unplug in the
// middle, a link that died while kept - and its conditions become the device's state.
#include <gtest/gtest.h>

#include <map>

#include "common/sha256.hpp"
#include "daemon/devices/device_registry.hpp"
#include "daemon/extract/session_manager.hpp"
#include "daemon/loop/event_loop.hpp"
#include "daemon/loop/loop_channel.hpp"
#include "daemon/store/store.hpp"
#include "drivers/driver_registry.hpp"
#include "tests/drivers/fake_driver.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit {
namespace {

using namespace std::chrono_literals;
using devices::DeviceState;
using drivers::Category;

std::string sha256_hex(std::string_view bytes) {
    return to_hex(Sha256::of(bytes));
}

std::string pattern(std::size_t size, unsigned seed) {
    std::string s(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        s[i] = static_cast<char>((i * 2654435761u + seed) >> 11);
    return s;
}

class FakeFamily : public ::testing::Test {
  protected:
    void SetUp() override {
        auto loop = loop::EventLoop::create();
        ASSERT_TRUE(loop);
        loop_ = std::make_unique<loop::EventLoop>(std::move(*loop));
        auto channel = loop::LoopChannel::create(*loop_);
        ASSERT_TRUE(channel);
        channel_ = std::move(*channel);
        auto s = store::Store::open({.state_directory = state_.path(), .kiosk_id = "fake-test"});
        ASSERT_TRUE(s) << s.error().describe();
        store_ = std::move(*s);

        // The family's one registration line, as Daemon::register_drivers has ADB's.
        ASSERT_TRUE(drivers_.add(std::make_unique<testing::FakeDriver>(phone_)));

        sessions_ = std::make_unique<extract::SessionManager>(
            *channel_, *store_, registry_, drivers_,
            extract::SessionManagerOptions{.state_directory = state_.path(),
                                           .kiosk_id = "fake-test"});
        sessions_->subscribe([this](const extract::SessionView& v) {
            if (v.completed)
                ended_[v.id] = v;
            last_[v.id] = v;
        });
        phone_->set_info({.manufacturer = "Fakes Ltd",
                          .model = "Fake One",
                          .serial = "FAKE0001",
                          .os_version = "FakeOS 1",
                          .clock_offset_ms = 0});
    }
    void TearDown() override {
        sessions_.reset();
        store_.reset();
        channel_.reset();
        loop_.reset();
    }

    // The device arrives, as the USB edge or AddNetworkDevice would add it.
    std::string plug() {
        devices::DeviceRecord r;
        r.functions = {testing::kFakeFunction};
        r.transport = "fake:1";
        r.identity.serial = "FAKE0001";
        r.detail = "a fake phone";
        return registry_.add(std::move(r));
    }

    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done() && std::chrono::steady_clock::now() < deadline)
            sd_event_run(loop_->get(), 10'000);
        return done();
    }
    bool wait_state(const std::string& id, DeviceState state, std::chrono::milliseconds t = 2s) {
        return run_until(
            [&] {
                const auto* d = registry_.find(id);
                return d && d->state == state;
            },
            t);
    }

    Result<std::int64_t> start(const std::string& id, drivers::Scope scope) {
        extract::StartRequest request;
        request.device_id = id;
        request.case_spec = {
            .case_reference = "CR-FAKE", .exhibit_reference = "EX-1", .officer_id = "PC1"};
        request.scope = std::move(scope);
        request.actor = "officer:PC1";
        return sessions_->start(request);
    }
    std::optional<extract::SessionView> wait_end(std::int64_t id, std::chrono::milliseconds t) {
        run_until([&] { return ended_.contains(id); }, t);
        if (!ended_.contains(id))
            return std::nullopt;
        return ended_[id];
    }
    std::map<std::string, store::ItemRecord> items_of(std::int64_t session) {
        std::map<std::string, store::ItemRecord> out;
        auto items = store_->catalog().items_of_session(session);
        EXPECT_TRUE(items);
        if (items)
            for (auto& i : *items)
                out[i.source_path] = i;
        return out;
    }

    std::shared_ptr<testing::FakePhone> phone_ = std::make_shared<testing::FakePhone>();
    testing::TempDir state_;
    std::unique_ptr<loop::EventLoop> loop_;
    std::unique_ptr<loop::LoopChannel> channel_;
    std::unique_ptr<store::Store> store_;
    drivers::DriverRegistry drivers_;
    devices::DeviceRegistry registry_;
    std::unique_ptr<extract::SessionManager> sessions_;
    std::map<std::int64_t, extract::SessionView> ended_;
    std::map<std::int64_t, extract::SessionView> last_;
};

TEST_F(FakeFamily, IsContactedPreviewedAndExtractedIntoTheStore) {
    const auto jan = drivers::parse_day_utc("2024-01-10").value();
    const auto photo1 = pattern(300'000, 1), photo2 = pattern(5, 2), doc = pattern(70'000, 3);
    const std::string sms = "{\"address\":\"+447700900123\",\"body\":\"hello\"}\n";
    phone_->add(Category::photos, "/fake/DCIM/one.jpg", photo1, jan);
    phone_->add(Category::photos, "/fake/DCIM/two.jpg", photo2, jan);
    phone_->add(Category::photos, "/fake/DCIM/old.jpg", pattern(10, 4),
                drivers::parse_day_utc("2020-01-01").value());
    phone_->add(Category::documents, "/fake/Documents/liar.pdf", doc, jan, 90'000);
    phone_->add(Category::messages, "fake://sms", sms, jan);
    phone_->add(Category::videos, "/fake/Movies/not asked for.mp4", pattern(1000, 5), jan);

    const auto id = plug();
    ASSERT_TRUE(wait_state(id, DeviceState::ready)) << "not contacted on arrival";
    const drivers::Scope scope{
        .categories = {Category::photos, Category::documents, Category::messages},
        .from_ms = drivers::parse_day_utc("2024-01-01").value(),
        .until_ms = drivers::parse_day_utc("2024-02-01").value()};

    std::optional<Result<drivers::Preview>> preview;
    sessions_->preview(id, scope, [&](Result<drivers::Preview> r) { preview = std::move(r); });
    ASSERT_TRUE(run_until([&] { return preview.has_value(); }, 5s));
    ASSERT_TRUE(*preview) << preview->error().describe();
    EXPECT_EQ((**preview)[Category::photos].count, 2u);
    EXPECT_EQ((**preview)[Category::photos].bytes, 300'005u);
    EXPECT_EQ((**preview)[Category::documents].bytes, 90'000u) << "what the phone declares";
    EXPECT_FALSE((**preview).contains(Category::videos));

    auto session = start(id, scope);
    ASSERT_TRUE(session) << session.error().describe();
    auto end = wait_end(*session, 10s);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->state, store::SessionState::completed) << end->reason.value_or("");
    auto items = items_of(*session);
    ASSERT_EQ(items.size(), 4u);
    for (const auto& [path, bytes] : {std::pair{"/fake/DCIM/one.jpg", photo1},
                                      {"/fake/DCIM/two.jpg", photo2},
                                      {"fake://sms", sms}}) {
        ASSERT_TRUE(items.contains(path)) << path;
        const auto& item = items.at(path);
        EXPECT_EQ(item.state, store::ItemState::complete) << path;
        EXPECT_EQ(item.sha256, sha256_hex(bytes)) << path;
        EXPECT_EQ(to_hex(Sha256::of_file(state_ / item.blob).value()), item.sha256) << path;
    }
    EXPECT_EQ(items.at("fake://sms").category, "messages");
    const auto& liar = items.at("/fake/Documents/liar.pdf");
    EXPECT_EQ(liar.state, store::ItemState::incomplete) << "its size differs from the claim";
    EXPECT_EQ(liar.size, 70'000);
    EXPECT_EQ(liar.sha256, sha256_hex(doc)) << "every received byte kept";
    EXPECT_NE(liar.incomplete_reason.value_or("").find("size mismatch"), std::string::npos);

    auto row = store_->catalog().session(*session).value();
    EXPECT_EQ(row.state, store::SessionState::completed);
    EXPECT_EQ(row.device.value("model", ""), "Fake One");
    EXPECT_EQ(row.device_serial, "FAKE0001");
    EXPECT_EQ(end->progress.bytes_done, end->progress.planned_bytes - 20'000);
    EXPECT_TRUE(store_->audit().verify().value().ok());
    EXPECT_EQ(registry_.find(id)->state, DeviceState::ready);
    EXPECT_EQ(phone_->opens(), 1) << "contact, preview and extraction on one link";
}

// The scope is recorded with the case as it was agreed, numbers included (and so it is in
// the signed manifest); the driver receives it whole.
TEST_F(FakeFamily, TheScopeIsRecordedWithTheCaseNumbersIncluded) {
    phone_->add(Category::messages, "fake://sms", "{}\n");
    const auto id = plug();
    ASSERT_TRUE(wait_state(id, DeviceState::ready));
    auto session =
        start(id, {.categories = {Category::messages}, .numbers = {"07700 900123", "999"}});
    ASSERT_TRUE(session);
    ASSERT_TRUE(wait_end(*session, 5s));
    auto stmt = store_->database().prepare(
        "SELECT c.scope FROM cases c JOIN sessions s ON s.case_id = c.id WHERE s.id = ?1");
    ASSERT_TRUE(stmt);
    stmt->bind(1, *session);
    ASSERT_TRUE(stmt->step().value_or(false));
    auto scope = nlohmann::json::parse(stmt->column_text(0));
    EXPECT_EQ(scope["categories"], nlohmann::json::array({"messages"}));
    EXPECT_EQ(scope["numbers"], nlohmann::json::array({"07700 900123", "999"})) << scope;
}

TEST_F(FakeFamily, ItsConditionsBecomeTheDeviceState) {
    phone_->add(Category::photos, "/fake/a.jpg", "jpeg");
    phone_->lock();
    const auto id = plug();
    ASSERT_TRUE(wait_state(id, DeviceState::locked)) << "the driver's `locked` is not shown";
    EXPECT_EQ(registry_.find(id)->detail, "unlock the phone to continue");
    auto session = start(id, {.categories = {Category::photos}});
    ASSERT_TRUE(session) << "waits for the locked phone: " << session.error().describe();
    EXPECT_EQ(registry_.find(id)->state, DeviceState::locked);
    phone_->unlock();
    auto end = wait_end(*session, 5s);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->state, store::SessionState::completed) << end->reason.value_or("");
    EXPECT_EQ(items_of(*session).size(), 1u);
}

TEST_F(FakeFamily, ACategoryItsFamilyCannotGiveIsRefusedSayingWhy) {
    phone_->offer_media_only();
    phone_->add(Category::photos, "/fake/a.jpg", "jpeg");
    const auto id = plug();
    ASSERT_TRUE(wait_state(id, DeviceState::ready));
    EXPECT_EQ(sessions_->driver_for(id)->categories().size(), 2u);
    auto refused = start(id, {.categories = {Category::photos, Category::messages}});
    ASSERT_FALSE(refused) << "a session was started for messages the family cannot give";
    EXPECT_EQ(refused.error().code, Errc::invalid_argument);
    EXPECT_EQ(
        refused.error().message,
        "device " + id + " cannot give messages: this fake phone gives photos and videos only");
    std::optional<Result<drivers::Preview>> preview;
    sessions_->preview(id, {.categories = {Category::contacts}},
                       [&](Result<drivers::Preview> p) { preview = std::move(p); });
    ASSERT_TRUE(run_until([&] { return preview.has_value(); }, 2s));
    ASSERT_FALSE(*preview);
    EXPECT_EQ(preview->error().code, Errc::invalid_argument);
    auto session = start(id, {.categories = {Category::photos}});
    ASSERT_TRUE(session) << session.error().describe();
    auto end = wait_end(*session, 5s);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->state, store::SessionState::completed) << end->reason.value_or("");
}

TEST_F(FakeFamily, ADeviceItsDriverCannotServeIsUnsupportedWithWhy) {
    phone_->refuse("this fake phone is in its bootloader");
    const auto id = plug();
    ASSERT_TRUE(wait_state(id, DeviceState::unsupported));
    EXPECT_EQ(registry_.find(id)->detail, "this fake phone is in its bootloader");
    auto session = start(id, {.categories = {Category::photos}});
    ASSERT_TRUE(session) << "the driver is asked again";
    auto end = wait_end(*session, 5s);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->state, store::SessionState::interrupted);
    EXPECT_EQ(end->reason, "could not connect: this fake phone is in its bootloader");
    EXPECT_EQ(registry_.find(id)->state, DeviceState::unsupported);
}

TEST_F(FakeFamily, AnUnplugInTheMiddleKeepsWhatWasFinished) {
    const auto first = pattern(100'000, 7), big = pattern(2'000'000, 8);
    phone_->add(Category::photos, "/fake/DCIM/a first.jpg", first);
    phone_->add(Category::photos, "/fake/DCIM/b big.jpg", big);
    phone_->hold("/fake/DCIM/b big.jpg", 500'000);
    const auto id = plug();
    ASSERT_TRUE(wait_state(id, DeviceState::ready));
    auto session = start(id, {.categories = {Category::photos}});
    ASSERT_TRUE(session);
    ASSERT_TRUE(run_until([&] { return phone_->wait_held(1ms); }, 5s));
    (void)registry_.remove(id);  // what the USB edge does on an unplug
    auto end = wait_end(*session, 2s);
    ASSERT_TRUE(end) << "the unplug did not stop the extraction";
    EXPECT_EQ(end->state, store::SessionState::interrupted);
    EXPECT_EQ(end->reason, "interrupted: device disconnected");
    auto items = items_of(*session);
    ASSERT_TRUE(items.contains("/fake/DCIM/a first.jpg"));
    EXPECT_EQ(items.at("/fake/DCIM/a first.jpg").state, store::ItemState::complete);
    EXPECT_EQ(items.at("/fake/DCIM/a first.jpg").sha256, sha256_hex(first));
    ASSERT_TRUE(items.contains("/fake/DCIM/b big.jpg"));
    const auto& partial = items.at("/fake/DCIM/b big.jpg");
    EXPECT_EQ(partial.state, store::ItemState::incomplete) << "never counted as evidence";
    EXPECT_EQ(partial.size, 524'288);
    EXPECT_NE(partial.incomplete_reason.value_or("").find("after 524288 bytes"), std::string::npos)
        << partial.incomplete_reason.value_or("");
    EXPECT_EQ(store_->catalog().session(*session).value().state, store::SessionState::interrupted);
    EXPECT_TRUE(store_->audit().verify().value().ok());
}

TEST_F(FakeFamily, AKeptLinkThatDiedIsOpenedAgainBeforeAnythingIsRecorded) {
    phone_->add(Category::photos, "/fake/a.jpg", "jpeg");
    const auto id = plug();
    ASSERT_TRUE(wait_state(id, DeviceState::ready));
    phone_->kill_kept_link();
    auto session = start(id, {.categories = {Category::photos}});
    ASSERT_TRUE(session);
    auto end = wait_end(*session, 5s);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->state, store::SessionState::completed) << end->reason.value_or("");
    EXPECT_EQ(items_of(*session).size(), 1u);
    EXPECT_EQ(phone_->opens(), 2);
}

TEST_F(FakeFamily, CancelStopsTheExtractionAndTheNextOneConnectsAgain) {
    phone_->add(Category::photos, "/fake/DCIM/big.jpg", pattern(1'000'000, 9));
    phone_->hold("/fake/DCIM/big.jpg", 100'000);
    const auto id = plug();
    ASSERT_TRUE(wait_state(id, DeviceState::ready));
    auto session = start(id, {.categories = {Category::photos}});
    ASSERT_TRUE(session);
    ASSERT_TRUE(run_until([&] { return phone_->wait_held(1ms); }, 5s));
    ASSERT_TRUE(sessions_->cancel(*session));
    auto end = wait_end(*session, 2s);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->state, store::SessionState::cancelled);
    EXPECT_EQ(registry_.find(id)->state, DeviceState::ready) << "the phone had answered";
    phone_->hold("none", 0);
    auto next = start(id, {.categories = {Category::photos}});
    ASSERT_TRUE(next) << next.error().describe();
    auto done = wait_end(*next, 5s);
    ASSERT_TRUE(done);
    EXPECT_EQ(done->state, store::SessionState::completed) << done->reason.value_or("");
    EXPECT_EQ(phone_->opens(), 2) << "the interrupted link was not kept";
}

}  // namespace
}  // namespace exhibit
