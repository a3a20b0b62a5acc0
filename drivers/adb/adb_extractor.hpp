// The ADB extraction driver: reads the phone's identity, previews and extracts a scope of
// its shared storage and records, pushing every artefact into an ArtefactSink. It never
// writes to the phone: only sync: reads and read-only shell commands are used.
//
// Thread-bound to the connection's thread (the session worker).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "drivers/adb/connection.hpp"
#include "drivers/adb/sync_client.hpp"
#include "drivers/artefact.hpp"

namespace exhibit::adb {

struct ExtractorLimits {
    std::size_t max_entries_total = 1'000'000;
    std::size_t max_depth = 40;
    std::size_t max_record_output = 256u << 20;  // bytes of one content query / getprop
    SyncLimits sync;
};

// A file chosen on the phone.
struct RemoteFile {
    std::string path;  // exact bytes
    drivers::Category category;
    std::uint64_t size = 0;
    std::optional<std::int64_t> mtime_ms;  // none when the phone's date is not a date
};

// Parses `getprop` output ("[key]: [value]" lines).
std::map<std::string, std::string> parse_getprop(std::string_view output);

class AdbExtractor {
  public:
    AdbExtractor(Connection& connection, const Clock& kiosk_clock, ExtractorLimits limits = {});

    Result<drivers::DeviceInfo> device_info();
    Result<drivers::Preview> preview(const drivers::Scope& scope);
    // Extracts everything in scope. Per-artefact problems go to sink.skipped() or become
    // incomplete artefacts; a broken connection ends the extraction with its error.
    Status extract(const drivers::Scope& scope, drivers::ArtefactSink& sink);

    // Files in scope, found by walking the shared storage (hostile entries are reported to
    // `on_skip` and left out).
    Result<std::vector<RemoteFile>> enumerate(
        const drivers::Scope& scope,
        const std::function<void(const drivers::Artefact&, const Error&)>& on_skip);

  private:
    struct RecordSet {
        drivers::Category category;
        std::string source;              // "content://sms", "pm list packages", "getprop"
        std::vector<std::string> lines;  // JSON Lines
    };
    Result<RecordSet> read_records(drivers::Category category, const drivers::Scope& scope);
    Status walk(SyncClient& sync, const std::string& dir, std::size_t depth,
                const drivers::Scope& scope, std::vector<RemoteFile>& out, std::size_t& seen,
                const std::function<void(const drivers::Artefact&, const Error&)>& on_skip);
    Result<std::string> shell(std::string_view command);

    Connection* conn_;
    const Clock* clock_;
    ExtractorLimits limits_;
};

}  // namespace exhibit::adb
