#include "upload_fixture.hpp"

#include <time.h>

#include <cstring>
#include <vector>

#include <exhibit/version.hpp>
#include <fmt/format.h>

#include "common/sha256.hpp"

namespace exhibit::testing {

using namespace std::chrono_literals;

TimePoint utc_time(int year, int month, int day, int hour, int minute) {
    struct tm tm {};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    return from_unix_ms(static_cast<std::int64_t>(timegm(&tm)) * 1000);
}

namespace {
std::uint64_t splitmix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
}  // namespace

void fill_pattern(std::span<std::byte> out, std::uint64_t offset, std::uint64_t seed) {
    // Word i of the stream is splitmix(seed ^ i): any offset can be produced directly.
    std::size_t i = 0;
    while (i < out.size()) {
        const std::uint64_t pos = offset + i;
        const std::uint64_t word = splitmix((seed << 40) ^ (pos / 8));
        const std::size_t in_word = pos % 8;
        const std::size_t n = std::min<std::size_t>(8 - in_word, out.size() - i);
        std::memcpy(out.data() + i, reinterpret_cast<const char*>(&word) + in_word, n);
        i += n;
    }
}

std::string pattern_sha256(std::uint64_t size, std::uint64_t seed) {
    Sha256 hash;
    std::vector<std::byte> buffer(1 << 20);
    for (std::uint64_t off = 0; off < size;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size - off));
        fill_pattern(std::span(buffer.data(), n), off, seed);
        hash.update(std::span<const std::byte>(buffer.data(), n));
        off += n;
    }
    return to_hex(hash.finish());
}

EvidenceStore::EvidenceStore(const Clock& clock, store::Priority priority) {
    auto s = store::Store::open(
        {.state_directory = dir_.path() / "state", .kiosk_id = "kiosk-test-01", .clock = &clock});
    if (!s) {
        fprintf(stderr, "cannot open store: %s\n", s.error().describe().c_str());
        std::abort();
    }
    store_ = std::move(*s);
    store::CaseSpec spec;
    spec.case_reference = "CR/2026/0042";
    spec.exhibit_reference = "EX-7";
    spec.officer_id = "PC 4711";
    spec.basis_detail = {{"notice", "v3"}, {"agreed_by", "owner"}};
    spec.scope = {{"categories", {"photos", "videos"}}, {"from", "2026-01-01"}};
    case_id_ = store_->catalog().create_case(spec, "officer:4711").value();
    session_id_ = new_session(priority);
}

nlohmann::json EvidenceStore::test_method() {
    return {{"software", {{"name", "exhibit"}, {"version", kVersion}}},
            {"driver", {{"name", "adb"}, {"version", "test"}, {"function", "usb:adb"}}},
            {"configuration", {{"adb.authorisation_wait_seconds", 120}}}};
}

std::int64_t EvidenceStore::new_session(store::Priority priority, const nlohmann::json& method) {
    auto id = store_->catalog()
                  .create_session(case_id_, {{"manufacturer", "Google"}, {"model", "Pixel 7"}},
                                  "SERIAL0001", priority, "officer:4711", method)
                  .value();
    (void)store_->catalog().set_session_state(id, store::SessionState::running, std::nullopt,
                                              "exhibitd");
    session_id_ = id;
    return id;
}

store::ItemRecord EvidenceStore::add_item(std::uint64_t size, std::uint64_t seed,
                                          const std::string& category) {
    auto writer = store_->begin_item(
        {.session_id = session_id_,
         .category = category,
         .source_path = "/sdcard/DCIM/Camera/VID_" + std::to_string(++items_) + ".mp4",
         .declared_size = size,
         .source_mtime_ms = 1767225600000});
    if (!writer)
        std::abort();
    std::vector<std::byte> buffer(1 << 20);
    for (std::uint64_t off = 0; off < size;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size - off));
        fill_pattern(std::span(buffer.data(), n), off, seed);
        if (!writer->append(std::span<const std::byte>(buffer.data(), n)))
            std::abort();
        off += n;
    }
    auto item = writer->finish();
    if (!item)
        std::abort();
    return *item;
}

void EvidenceStore::end_session(std::int64_t id) {
    (void)store_->catalog().set_session_state(id ? id : session_id_, store::SessionState::completed,
                                              std::nullopt, "exhibitd");
}

std::string EvidenceStore::query(const std::string& sql) {
    auto stmt = store_->database().prepare(sql).value();
    if (!stmt.step().value_or(false))
        return {};
    return stmt.column_optional_text(0).value_or("");
}

std::string EvidenceStore::upload_column(std::int64_t item_id, const std::string& column) {
    return query(fmt::format("SELECT {} FROM uploads WHERE item_id = {}", column, item_id));
}

std::int64_t EvidenceStore::query_int(const std::string& sql) {
    auto stmt = store_->database().prepare(sql).value();
    if (!stmt.step().value_or(false))
        return -1;
    return stmt.column_int(0);
}

EventLoop::EventLoop() {
    sd_event* e = nullptr;
    if (sd_event_new(&e) < 0)
        std::abort();
    loop_.reset(e);
}

bool EventLoop::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        if (sd_event_run(loop_.get(), 50'000) < 0)
            return false;
    }
    return true;
}

void EventLoop::run_for(std::chrono::milliseconds duration) {
    const auto deadline = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < deadline)
        sd_event_run(loop_.get(), 20'000);
}

upload::UploadOptions test_options(const std::string& endpoint, const TlsFiles& tls) {
    upload::UploadOptions o;
    o.endpoint = endpoint;
    o.ca_file = tls.ca_cert;
    o.client_cert = tls.client_cert;
    o.client_key = tls.client_key;
    o.chunk_size = 1 << 20;
    o.window_start = 0min;  // always open unless a test says otherwise
    o.window_end = 0min;
    o.retry_initial = 100ms;
    o.retry_max = 1s;
    o.stall_timeout = 3s;
    o.connect_timeout = 5s;
    return o;
}

}  // namespace exhibit::testing
