// What every phone driver (ADB now; MTP and iOS later) produces, and the interface through
// which it hands artefacts to whoever stores them. Drivers include this and nothing of the
// daemon; the daemon implements ArtefactSink over the evidence store.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace exhibit::drivers {

enum class Category {
    photos,
    videos,
    audio,
    documents,
    messages,
    call_log,
    contacts,
    apps,
    device_info
};

inline constexpr Category kAllCategories[] = {
    Category::photos,    Category::videos,   Category::audio,
    Category::documents, Category::messages, Category::call_log,
    Category::contacts,  Category::apps,     Category::device_info};

std::string_view to_string(Category c);
std::optional<Category> category_from(std::string_view name);
bool is_record_category(Category c);  // messages, call log, contacts, apps, device info

// What the officer and the phone's owner agreed to: categories and a time window applied to
// file modification times and record dates. from_ms is inclusive, until_ms exclusive.
struct Scope {
    std::set<Category> categories;
    std::optional<std::int64_t> from_ms;
    std::optional<std::int64_t> until_ms;

    bool includes_time(std::optional<std::int64_t> t_ms) const;
};

// Parses "YYYY-MM-DD" as the start of that day in UTC (ms since the epoch).
Result<std::int64_t> parse_day_utc(std::string_view day);

struct DeviceInfo {
    std::string manufacturer;
    std::string model;
    std::string serial;
    std::string os_version;  // "Android 14"
    std::string build_fingerprint;
    std::optional<std::int64_t> clock_offset_ms;    // phone clock minus kiosk clock
    std::map<std::string, std::string> properties;  // everything the phone reported
};

struct Artefact {
    Category category = Category::photos;
    std::string source_path;  // exact bytes as on the phone
    std::optional<std::uint64_t> declared_size;
    std::optional<std::int64_t> mtime_ms;
};

class ArtefactWriter {
  public:
    virtual ~ArtefactWriter() = default;
    virtual Status append(std::span<const std::byte> bytes) = 0;
    // Received count equals the declared size, or the artefact is recorded incomplete.
    virtual Status finish() = 0;
    virtual Status finish_incomplete(std::string reason) = 0;
};

class ArtefactSink {
  public:
    virtual ~ArtefactSink() = default;
    // Totals of what is about to be taken, for progress.
    virtual void planned(std::uint64_t artefacts, std::uint64_t bytes) = 0;
    virtual Result<std::unique_ptr<ArtefactWriter>> begin(const Artefact& artefact) = 0;
    // An artefact found but not taken (a hostile name, a read error): recorded, not fatal.
    virtual void skipped(const Artefact& artefact, const Error& why) = 0;
    virtual bool stop_requested() const = 0;
};

struct CategoryCount {
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
};
using Preview = std::map<Category, CategoryCount>;

}  // namespace exhibit::drivers
