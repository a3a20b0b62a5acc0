// exhibitctl --wait against a scripted stand-in for exhibitd on a private dbus-daemon: the
// races and endings the real daemon rarely shows on demand. A session that completes before
// StartExtraction's reply is still followed to its single Completed; stale progress is not
// shown; interrupted sessions, an impostor's Completed, exhibitd leaving the bus, a drained
// sync and --timeout each end with their documented exit code.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <thread>
#include <variant>

#include "tests/support/private_bus.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/exhibitctl/bus_client.hpp"

namespace exhibit::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSession = "/org/exhibit/Exhibit1/sessions/1";
constexpr const char* kSessionIface = "org.exhibit.Exhibit1.Session";
constexpr const char* kQueue = "/org/exhibit/Exhibit1/queue";
constexpr const char* kQueueIface = "org.exhibit.Exhibit1.Queue";

enum class Script { completes_before_reply, interrupted, impostor, vanishes, sync_drains, silent };

using Prop = std::variant<std::string, std::uint64_t, double, bool>;

// Plays exhibitd's part of one script on its own thread and connection.
class FakeExhibitd {
  public:
    FakeExhibitd(std::string address, Script script)
        : address_(std::move(address)), script_(script) {
        std::promise<bool> ready;
        auto started = ready.get_future();
        thread_ = std::jthread(
            [this, r = std::move(ready)](std::stop_token stop) mutable { run(stop, r); });
        ok_ = started.wait_for(10s) == std::future_status::ready && started.get();
    }
    bool ok() const { return ok_; }

  private:
    void run(std::stop_token stop, std::promise<bool>& ready) {
        bus_ = std::move(open_bus(address_)).value_or(nullptr);
        impostor_ = std::move(open_bus(address_)).value_or(nullptr);
        bool exported = bus_ && impostor_ && export_objects() &&
                        sd_bus_request_name(bus_.get(), "org.exhibit.Exhibit1", 0) >= 0;
        ready.set_value(exported);
        while (exported && !stop.stop_requested()) {
            const auto now = std::chrono::steady_clock::now();
            for (auto it = due_.begin(); it != due_.end() && it->first <= now;) {
                auto action = std::move(it->second);
                it = due_.erase(it);
                action();
            }
            if (bus_ && sd_bus_process(bus_.get(), nullptr) > 0)
                continue;
            if (bus_)
                sd_bus_wait(bus_.get(), 10'000);
            else
                std::this_thread::sleep_for(10ms);
        }
    }

    bool export_objects();
    void later(std::chrono::milliseconds delay, std::function<void()> action) {
        due_.emplace(std::chrono::steady_clock::now() + delay, std::move(action));
    }
    void set(const char* path, const char* iface, std::map<std::string, Prop> changes) {
        auto& props = path == std::string(kQueue) ? queue_ : session_;
        std::vector<std::string> names;
        for (auto& [k, v] : changes) {
            props[k] = v;
            names.push_back(k);
        }
        std::vector<char*> argv;
        for (auto& n : names)
            argv.push_back(n.data());
        argv.push_back(nullptr);
        sd_bus_emit_properties_changed_strv(bus_.get(), path, iface, argv.data());
    }
    void completed(sd_bus* from, const char* state, const char* reason) {
        sd_bus_emit_signal(from, kSession, kSessionIface, "Completed", "ss", state, reason);
    }

    void on_start_extraction();
    void on_sync_now();

    static int start_extraction(sd_bus_message* m, void* userdata, sd_bus_error*) {
        auto* self = static_cast<FakeExhibitd*>(userdata);
        self->on_start_extraction();
        return sd_bus_reply_method_return(m, "o", kSession);
    }
    static int sync_now(sd_bus_message* m, void* userdata, sd_bus_error*) {
        static_cast<FakeExhibitd*>(userdata)->on_sync_now();
        return sd_bus_reply_method_return(m, "");
    }
    static int property(sd_bus*, const char* path, const char*, const char* name,
                        sd_bus_message* reply, void* userdata, sd_bus_error*) {
        auto* self = static_cast<FakeExhibitd*>(userdata);
        const auto& props = std::string(path) == kQueue ? self->queue_ : self->session_;
        const auto& v = props.at(name);
        if (const auto* s = std::get_if<std::string>(&v))
            return sd_bus_message_append(reply, "s", s->c_str());
        if (const auto* t = std::get_if<std::uint64_t>(&v))
            return sd_bus_message_append(reply, "t", *t);
        if (const auto* d = std::get_if<double>(&v))
            return sd_bus_message_append(reply, "d", *d);
        return sd_bus_message_append(reply, "b", static_cast<int>(std::get<bool>(v)));
    }

    std::string address_;
    Script script_;
    bool ok_ = false;
    BusPtr bus_;
    BusPtr impostor_;  // another peer on the bus, not the owner of the name
    std::vector<SlotPtr> slots_;
    std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> due_;
    std::map<std::string, Prop> session_ = {{"Id", std::uint64_t{1}},
                                            {"Device", std::string("d1")},
                                            {"State", std::string("created")},
                                            {"Reason", std::string()},
                                            {"Progress", 0.0},
                                            {"BytesDone", std::uint64_t{0}},
                                            {"BytesTotal", std::uint64_t{1000}},
                                            {"ItemsDone", std::uint64_t{0}},
                                            {"ItemsTotal", std::uint64_t{4}},
                                            {"CurrentItem", std::string()}};
    std::map<std::string, Prop> queue_ = {
        {"ItemsQueued", std::uint64_t{0}},   {"ItemsUploading", std::uint64_t{0}},
        {"ItemsReceived", std::uint64_t{0}}, {"ItemsFailed", std::uint64_t{0}},
        {"BytesPending", std::uint64_t{0}},  {"SyncRequested", false}};
    std::jthread thread_;  // last: stops before the members it uses go
};

#define FAKE_PROP(name, sig) \
    SD_BUS_PROPERTY(name, sig, FakeExhibitd::property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

bool FakeExhibitd::export_objects() {
    static const sd_bus_vtable manager[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("StartExtraction", "oa{sv}a{sv}a{sv}", "o", start_extraction, 0),
        SD_BUS_VTABLE_END};
    static const sd_bus_vtable session[] = {SD_BUS_VTABLE_START(0),
                                            SD_BUS_SIGNAL("Completed", "ss", 0),
                                            FAKE_PROP("Id", "t"),
                                            FAKE_PROP("Device", "s"),
                                            FAKE_PROP("State", "s"),
                                            FAKE_PROP("Reason", "s"),
                                            FAKE_PROP("Progress", "d"),
                                            FAKE_PROP("BytesDone", "t"),
                                            FAKE_PROP("BytesTotal", "t"),
                                            FAKE_PROP("ItemsDone", "t"),
                                            FAKE_PROP("ItemsTotal", "t"),
                                            FAKE_PROP("CurrentItem", "s"),
                                            SD_BUS_VTABLE_END};
    static const sd_bus_vtable queue[] = {SD_BUS_VTABLE_START(0),
                                          SD_BUS_METHOD("SyncNow", "a{sv}", "", sync_now, 0),
                                          FAKE_PROP("ItemsQueued", "t"),
                                          FAKE_PROP("ItemsUploading", "t"),
                                          FAKE_PROP("ItemsReceived", "t"),
                                          FAKE_PROP("ItemsFailed", "t"),
                                          FAKE_PROP("BytesPending", "t"),
                                          FAKE_PROP("SyncRequested", "b"),
                                          SD_BUS_VTABLE_END};
    const struct {
        const char* path;
        const char* iface;
        const sd_bus_vtable* vtable;
    } objects[] = {{"/org/exhibit/Exhibit1", "org.exhibit.Exhibit1.Manager", manager},
                   {kSession, kSessionIface, session},
                   {kQueue, kQueueIface, queue}};
    for (const auto& o : objects) {
        sd_bus_slot* slot = nullptr;
        if (sd_bus_add_object_vtable(bus_.get(), &slot, o.path, o.iface, o.vtable, this) < 0)
            return false;
        slots_.emplace_back(slot);
    }
    return true;
}

void FakeExhibitd::on_start_extraction() {
    auto progress = [this](double p, const char* current) {
        set(kSession, kSessionIface,
            {{"State", std::string("running")},
             {"Progress", p},
             {"BytesDone", static_cast<std::uint64_t>(p * 1000)},
             {"CurrentItem", std::string(current)}});
    };
    switch (script_) {
        case Script::completes_before_reply:
            // A change signalled, then newer values that only a property read sees (their
            // own signal would come after the reply): the signalled one is stale by then.
            progress(0.5, "/sdcard/half.jpg");
            session_["State"] = std::string("completed");
            session_["Progress"] = 1.0;
            session_["BytesDone"] = std::uint64_t{1000};
            session_["ItemsDone"] = std::uint64_t{4};
            completed(bus_.get(), "completed", "");
            break;
        case Script::interrupted:
            later(100ms, [=] { progress(0.3, "/sdcard/a.jpg"); });
            later(200ms, [this] {
                set(kSession, kSessionIface,
                    {{"State", std::string("interrupted")},
                     {"Reason", std::string("the phone was unplugged")}});
                completed(bus_.get(), "interrupted", "the phone was unplugged");
            });
            break;
        case Script::impostor:
            later(100ms, [this] { completed(impostor_.get(), "completed", ""); });
            later(300ms, [this] {
                set(kSession, kSessionIface, {{"State", std::string("failed")}});
                completed(bus_.get(), "failed", "the store refused the item");
            });
            break;
        case Script::vanishes:
            later(100ms, [this] {
                slots_.clear();
                bus_.reset();  // exhibitd crashed: its name goes
            });
            break;
        case Script::sync_drains:
        case Script::silent:
            break;
    }
}

void FakeExhibitd::on_sync_now() {
    set(kQueue, kQueueIface,
        {{"SyncRequested", true},
         {"ItemsQueued", std::uint64_t{2}},
         {"BytesPending", std::uint64_t{2048}}});
    later(100ms, [this] {
        set(kQueue, kQueueIface,
            {{"ItemsQueued", std::uint64_t{1}}, {"ItemsUploading", std::uint64_t{1}}});
    });
    later(200ms, [this] {
        set(kQueue, kQueueIface,
            {{"ItemsQueued", std::uint64_t{0}},
             {"ItemsUploading", std::uint64_t{0}},
             {"ItemsReceived", std::uint64_t{2}},
             {"BytesPending", std::uint64_t{0}}});
    });
    later(300ms, [this] { set(kQueue, kQueueIface, {{"SyncRequested", false}}); });
}

class ExhibitctlWait : public ::testing::Test {
  protected:
    std::pair<int, std::string> run(Script script, std::vector<std::string> args) {
        bus_ = std::make_unique<PrivateBus>(dir_.path(), PrivateBus::Policy::allow_all);
        EXPECT_TRUE(bus_->ok());
        FakeExhibitd fake(bus_->address(), script);
        EXPECT_TRUE(fake.ok());
        std::vector<std::string> argv = {std::string(EXHIBIT_BINARY_DIR) + "/bin/exhibitctl",
                                         "--bus", bus_->address()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, 30s);
    }
    std::pair<int, std::string> extract(Script script, std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {
            "extract", "d1",      "--case", "CR/1",         "--exhibit", "EX/1",  "--officer",
            "PC 1",    "--basis", "other",  "--categories", "photos",    "--wait"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run(script, args);
    }

    TempDir dir_;
    std::unique_ptr<PrivateBus> bus_;
};

TEST_F(ExhibitctlWait, ASessionThatEndsBeforeTheReplyIsStillFollowedToItsEnd) {
    auto [rc, out] = extract(Script::completes_before_reply);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("session 1 completed: 4 items"), std::string::npos) << out;
    EXPECT_EQ(out.find("50.0%"), std::string::npos)
        << "progress older than the first read is not shown: " << out;
}

TEST_F(ExhibitctlWait, AnInterruptedSessionExitsSix) {
    auto [rc, out] = extract(Script::interrupted);
    EXPECT_EQ(rc, 6) << out;
    EXPECT_NE(out.find("session 1 running 30.0%"), std::string::npos) << out;
    EXPECT_NE(out.find("exhibitctl: session 1 ended interrupted: the phone was unplugged"),
              std::string::npos)
        << out;
}

TEST_F(ExhibitctlWait, OnlyExhibitdsOwnCompletedCounts) {
    auto [rc, out] = extract(Script::impostor);
    EXPECT_EQ(rc, 6) << "an impostor's Completed(completed) was believed: " << out;
    EXPECT_NE(out.find("ended failed"), std::string::npos) << out;
}

TEST_F(ExhibitctlWait, ExhibitdLeavingTheBusExitsFive) {
    auto [rc, out] = extract(Script::vanishes);
    EXPECT_EQ(rc, 5) << out;
    EXPECT_NE(out.find("left the bus"), std::string::npos) << out;
}

TEST_F(ExhibitctlWait, TimeoutExitsNine) {
    auto [rc, out] = extract(Script::silent, {"--timeout", "1"});
    EXPECT_EQ(rc, 9) << out;
}

TEST_F(ExhibitctlWait, SyncWaitsUntilTheRequestedSyncHasEnded) {
    auto [rc, out] = run(Script::sync_drains, {"sync", "--now", "--wait", "--timeout", "20"});
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("queue: 1 queued, 1 uploading"), std::string::npos) << out;
    EXPECT_NE(out.find("sync finished: 2 received, 0 failed"), std::string::npos) << out;
}

TEST_F(ExhibitctlWait, JsonLinesForScripts) {
    auto [rc, out] = extract(Script::interrupted, {"--json"});
    EXPECT_EQ(rc, 6) << out;
    EXPECT_NE(
        out.find(R"({"event":"started","id":1,"session":"/org/exhibit/Exhibit1/sessions/1"})"),
        std::string::npos)
        << out;
    EXPECT_NE(out.find(R"({"event":"completed","reason":"the phone was unplugged")"),
              std::string::npos)
        << out;
}

}  // namespace
}  // namespace exhibit::testing
