// A stand-in for exhibitd's upload side, for the crash test and the benchmark:
//
//   upload_runner import --state DIR --file PATH [--session-open]
//       stores PATH as an item of a new case and session (ended unless --session-open);
//       prints "item <id> <size> <sha256>".
//   upload_runner upload --state DIR --endpoint URL [--ca F --cert F --key F]
//       [--insecure-loopback] [--chunk BYTES] [--rate BYTES_PER_S] [--concurrency N]
//       uploads everything queued on its own sd-event loop exactly as exhibitd does; prints
//       "confirmed <item> <offset>" whenever the server confirms more, then
//       "done bytes_sent=<n> seconds=<s>" and exits 0 once nothing is left to send.
#include <signal.h>
#include <systemd/sd-event.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "daemon/store/store.hpp"
#include "daemon/upload/uploader.hpp"

using namespace exhibit;

namespace {

struct Args {
    std::string command;
    std::map<std::string, std::string> values;
    bool has(const std::string& k) const { return values.contains(k); }
    std::string get(const std::string& k, const std::string& d = "") const {
        auto it = values.find(k);
        return it == values.end() ? d : it->second;
    }
};

Args parse(int argc, char** argv) {
    Args a;
    if (argc > 1)
        a.command = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string k = argv[i];
        if (k == "--insecure-loopback" || k == "--session-open")
            a.values[k] = "1";
        else if (i + 1 < argc)
            a.values[k] = argv[++i];
    }
    return a;
}

std::unique_ptr<store::Store> open_store(const Args& a) {
    auto s = store::Store::open({.state_directory = std::filesystem::absolute(a.get("--state")),
                                 .kiosk_id = "kiosk-runner",
                                 .verify = store::VerifyDepth::none,
                                 // It stands in for exhibitd's uploader only: the sessions it
                                 // finds open stay open, as under a running exhibitd.
                                 .reconcile = false});
    if (!s) {
        fprintf(stderr, "upload_runner: %s\n", s.error().describe().c_str());
        exit(1);
    }
    return std::move(*s);
}

int import(const Args& a) {
    auto st = open_store(a);
    auto& cat = st->catalog();
    store::CaseSpec spec{
        .case_reference = "BENCH/1", .exhibit_reference = "EX-1", .officer_id = "PC 1"};
    auto case_id = cat.create_case(spec, "officer:1").value();
    auto session = cat.create_session(case_id, {{"model", "bench"}}, "SER1",
                                      store::Priority::urgent, "officer:1")
                       .value();
    (void)cat.set_session_state(session, store::SessionState::running, std::nullopt, "exhibitd");
    auto writer =
        st->begin_item(
              {.session_id = session, .category = "videos", .source_path = a.get("--file")})
            .value();
    FILE* in = fopen(a.get("--file").c_str(), "rb");
    if (!in)
        return 1;
    std::vector<std::byte> buffer(1 << 20);
    for (;;) {
        auto n = fread(buffer.data(), 1, buffer.size(), in);
        if (n == 0)
            break;
        if (!writer.append(std::span<const std::byte>(buffer.data(), n)))
            return 1;
    }
    fclose(in);
    auto item = writer.finish().value();
    if (!a.has("--session-open"))
        (void)cat.set_session_state(session, store::SessionState::completed, std::nullopt,
                                    "exhibitd");
    printf("item %lld %lld %s\n", static_cast<long long>(item.id),
           static_cast<long long>(item.size), item.sha256.c_str());
    return 0;
}

int run_upload(const Args& a) {
    auto st = open_store(a);
    sd_event* raw = nullptr;
    if (sd_event_new(&raw) < 0)
        return 1;
    EventPtr loop(raw);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    sd_event_add_signal(raw, nullptr, SIGTERM, nullptr, nullptr);
    sd_event_add_signal(raw, nullptr, SIGINT, nullptr, nullptr);

    upload::UploadOptions o;
    o.endpoint = a.get("--endpoint");
    o.ca_file = a.get("--ca");
    o.client_cert = a.get("--cert");
    o.client_key = a.get("--key");
    o.allow_insecure_loopback = a.has("--insecure-loopback");
    o.chunk_size = std::stoull(a.get("--chunk", std::to_string(upload::kDefaultChunkSize)));
    o.concurrency = static_cast<unsigned>(std::stoul(a.get("--concurrency", "2")));
    o.max_rate_in_window = o.max_rate_outside_window = std::stoull(a.get("--rate", "0"));
    o.window_start = o.window_end = std::chrono::minutes(0);
    o.retry_initial = std::chrono::milliseconds(100);
    o.retry_max = std::chrono::seconds(1);
    o.stall_timeout = std::chrono::seconds(5);
    auto up = upload::Uploader::create(raw, *st, o);
    if (!up) {
        fprintf(stderr, "upload_runner: %s\n", up.error().describe().c_str());
        return 1;
    }
    struct Watch {
        upload::Uploader* up;
        sd_event* loop;
        std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
        std::map<std::int64_t, std::uint64_t> confirmed;
        int exit_code = -1;

        void progress(const upload::UploaderStatus& status) {
            for (const auto& u : status.active)
                if (u.key.kind == upload::JobKind::item && confirmed[u.key.id] != u.offset) {
                    confirmed[u.key.id] = u.offset;
                    printf("confirmed %lld %llu\n", static_cast<long long>(u.key.id),
                           static_cast<unsigned long long>(u.offset));
                }
        }
        // Called when an upload ended or the queue changed: done when nothing is left.
        void check_done() {
            auto status = up->status();
            if (!status || exit_code == 0)
                return;
            const auto& q = status->queue;
            if (q.items.queued + q.items.uploading + q.manifests.queued + q.manifests.uploading >
                    0 ||
                !up->idle().value_or(false))
                return;
            const double secs =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            printf("done bytes_sent=%llu seconds=%.3f\n",
                   static_cast<unsigned long long>(status->bytes_sent), secs);
            exit_code = 0;
            sd_event_exit(loop, 0);
        }
    } watch{up->get(), raw};
    (*up)->set_on_change([&watch] { watch.check_done(); });
    // Progress is printed every 50 ms (not after every event: the loop's hot path stays what
    // exhibitd's is).
    auto tick = [](sd_event_source* s, uint64_t usec, void* data) noexcept -> int {
        auto& w = *static_cast<Watch*>(data);
        if (auto status = w.up->status())
            w.progress(*status);
        w.check_done();
        sd_event_source_set_time(s, usec + 50'000);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
    };
    std::uint64_t now = 0;
    sd_event_now(raw, CLOCK_MONOTONIC, &now);
    sd_event_source* timer = nullptr;
    if (sd_event_add_time(raw, &timer, CLOCK_MONOTONIC, now + 50'000, 0, tick, &watch) < 0)
        return 1;
    EventSourcePtr timer_owner(timer);
    const int r = sd_event_loop(raw);
    timer_owner.reset();
    up->reset();
    return r < 0 ? 1 : (watch.exit_code == 0 ? 0 : 3);
}

}  // namespace

int main(int argc, char** argv) {
    setvbuf(stdout, nullptr, _IOLBF, 0);
    log::configure(log::Target::stderr_only, log::Level::warning);
    auto a = parse(argc, argv);
    if (a.command == "import" && a.has("--state") && a.has("--file"))
        return import(a);
    if (a.command == "upload" && a.has("--state") && a.has("--endpoint"))
        return run_upload(a);
    fprintf(stderr, "usage: upload_runner import|upload --state DIR ... (see the source)\n");
    return 2;
}
