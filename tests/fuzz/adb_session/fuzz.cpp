// The whole host side of ADB against a phone whose every byte is the fuzzer's: the
// CNXN/AUTH handshake, message framing and stream bookkeeping (Connection), shell output
// (getprop, `content query` rows, `pm list packages`), and the sync protocol's STAT, LIST
// and RECV replies (SyncClient), as AdbExtractor drives them in a real extraction of every
// category. What the kiosk sends is dropped; the input is what the phone answers, in order.
//
// Seeds are recorded from the phone simulator: with EXHIBIT_FUZZ_RECORD="HOST:PORT FILE" the
// target runs the same session once against exhibit-phonesim listening there and writes every
// byte the phone sent to FILE (tests/fuzz/make-seeds does this).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "common/sha256.hpp"
#include "drivers/adb/adb_extractor.hpp"
#include "drivers/adb/connection.hpp"
#include "drivers/adb/transport.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace exhibit;

class InputTransport final : public adb::Transport {
  public:
    InputTransport(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    Status read_exact(std::span<std::byte> buffer) override {
        if (size_ - at_ < buffer.size())
            return fail(Errc::protocol, "connection closed");
        if (!buffer.empty())
            std::memcpy(buffer.data(), data_ + at_, buffer.size());
        at_ += buffer.size();
        return {};
    }
    Status write_message(std::span<const std::byte>, std::span<const std::byte>) override {
        return {};
    }
    void shutdown() override {}
    std::string describe() const override { return "fuzz input"; }

  private:
    const std::uint8_t* data_;
    std::size_t size_, at_ = 0;
};

class HashingWriter final : public drivers::ArtefactWriter {
  public:
    Status append(std::span<const std::byte> bytes) override {
        hash_.update(bytes);
        return {};
    }
    Status finish() override {
        (void)hash_.finish();
        return {};
    }
    Status finish_incomplete(std::string) override { return {}; }

  private:
    Sha256 hash_;
};

class Sink final : public drivers::ArtefactSink {
  public:
    void planned(std::uint64_t, std::uint64_t) override {}
    Result<std::unique_ptr<drivers::ArtefactWriter>> begin(const drivers::Artefact&) override {
        return std::make_unique<HashingWriter>();
    }
    void skipped(const drivers::Artefact&, const Error&) override {}
    bool stop_requested() const override { return false; }
};

class FixedClock final : public Clock {
  public:
    TimePoint now() const override { return from_unix_ms(1'764'000'000'000); }
};

const adb::AdbHostKey& host_key() {
    static fuzz::ScratchDir dir;
    static auto key = adb::AdbHostKey::load_or_create(dir.path(), "fuzz@exhibit");
    if (!key)
        std::abort();
    return **key;
}

// Keeps a copy of every byte read from the transport it wraps.
class RecordingTransport final : public adb::Transport {
  public:
    RecordingTransport(std::unique_ptr<adb::Transport> inner, std::string& record)
        : inner_(std::move(inner)), record_(record) {}
    Status read_exact(std::span<std::byte> buffer) override {
        auto s = inner_->read_exact(buffer);
        if (s)
            record_.append(reinterpret_cast<const char*>(buffer.data()), buffer.size());
        return s;
    }
    Status write_message(std::span<const std::byte> h, std::span<const std::byte> p) override {
        return inner_->write_message(h, p);
    }
    void shutdown() override { inner_->shutdown(); }
    std::string describe() const override { return inner_->describe(); }

  private:
    std::unique_ptr<adb::Transport> inner_;
    std::string& record_;
};

void run_session(std::unique_ptr<adb::Transport> transport, std::chrono::milliseconds user_wait) {
    adb::ConnectOptions options{.key = &host_key(), .user_wait = user_wait};
    auto conn = adb::Connection::open(std::move(transport), options);
    if (!conn)
        return;
    FixedClock clock;
    // Small limits, so that an input reaches them (each is also a check the phone can hit).
    adb::ExtractorLimits limits{.max_entries_total = 64,
                                .max_depth = 4,
                                .max_record_output = 64 << 10,
                                .sync = {.max_entries_per_directory = 32,
                                         .pipeline_depth = 4,
                                         .pipeline_bytes = 1 << 20}};
    adb::AdbExtractor extractor(**conn, clock, limits);
    if (!extractor.device_info())
        return;
    drivers::Scope scope;
    for (auto c : {drivers::Category::photos, drivers::Category::videos,
                   drivers::Category::documents, drivers::Category::messages,
                   drivers::Category::call_log, drivers::Category::contacts,
                   drivers::Category::apps})
        scope.categories.insert(c);
    Sink sink;
    (void)extractor.extract(scope, sink);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* spec = std::getenv("EXHIBIT_FUZZ_RECORD");
    if (!spec)
        return 0;
    std::string host, file;
    unsigned port = 0;
    {
        std::string s(spec);
        auto colon = s.find(':'), space = s.find(' ');
        if (colon == std::string::npos || space == std::string::npos || space < colon)
            std::abort();
        host = s.substr(0, colon);
        port = static_cast<unsigned>(std::stoul(s.substr(colon + 1, space - colon - 1)));
        file = s.substr(space + 1);
    }
    auto tcp = adb::TcpTransport::connect(host, static_cast<std::uint16_t>(port),
                                          std::chrono::seconds(5));
    if (!tcp) {
        std::fprintf(stderr, "cannot reach %s: %s\n", spec, tcp.error().describe().c_str());
        std::exit(1);
    }
    std::string record;
    // The phone may wait for its owner to allow the kiosk (phonesim --accept-new-keys).
    run_session(std::make_unique<RecordingTransport>(std::move(*tcp), record),
                std::chrono::seconds(10));
    std::ofstream(file, std::ios::binary)
        .write(record.data(), static_cast<std::streamsize>(record.size()));
    std::fprintf(stderr, "recorded %zu bytes the phone sent into %s\n", record.size(),
                 file.c_str());
    std::exit(0);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    run_session(std::make_unique<InputTransport>(data, size), std::chrono::milliseconds(0));
    return 0;
}
