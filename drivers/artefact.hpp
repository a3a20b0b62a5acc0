// What every phone driver (ADB now; MTP and iOS later) produces, and the interface through
// which it hands artefacts to whoever stores them. Drivers include this and nothing of the
// daemon; the daemon implements ArtefactSink over the evidence store.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
    device_info,
    // Removable storage only (drivers/storage): a CCTV system's export folder, taken whole
    // with its player and index files, and the whole disk as one raw image.
    cctv_export,
    disk_image,
};

inline constexpr Category kAllCategories[] = {
    Category::photos,      Category::videos,     Category::audio,    Category::documents,
    Category::messages,    Category::call_log,   Category::contacts, Category::apps,
    Category::device_info, Category::cctv_export, Category::disk_image};

// What a phone can hold: every category but the removable-storage ones.
inline constexpr Category kPhoneCategories[] = {
    Category::photos,    Category::videos,   Category::audio,
    Category::documents, Category::messages, Category::call_log,
    Category::contacts,  Category::apps,     Category::device_info};

std::string_view to_string(Category c);
std::optional<Category> category_from(std::string_view name);
bool is_record_category(Category c);  // messages, call log, contacts, apps, device info

// What the officer and the phone's owner agreed to: categories and a time window applied to
// file modification times and record dates (from_ms inclusive, until_ms exclusive), and
// possibly the other parties whose messages and calls may be taken.
struct Scope {
    std::set<Category> categories;
    std::optional<std::int64_t> from_ms;
    std::optional<std::int64_t> until_ms;
    // Phone numbers as the officer gave them (checked with parse_phone_number). When not
    // empty, messages and call log records are taken only where the other party's number
    // is one of them (same_number); other categories are not affected.
    std::vector<std::string> numbers;

    bool includes_time(std::optional<std::int64_t> t_ms) const;
    // Whether a message or call with this other party is in scope: always when `numbers`
    // is empty, never when the record has no number (or not a phone number, e.g. "BANK").
    bool includes_party(std::optional<std::string_view> number) const;
};

// At most this many numbers in a scope; each has 3 to 20 digits as written.
inline constexpr std::size_t kMaxScopeNumbers = 20;

// A phone number as written by a person or stored by a phone, for comparing: its digits
// after the prefix, and which prefix it had. Spaces, dashes, dots, brackets and a "(0)"
// trunk prefix ("+44 (0)7700 900123") are ignored.
struct PhoneNumber {
    enum class Prefix {
        none,           // "999", "7700900123"
        international,  // "+CC..." or "00CC..."
        national,       // "0..." (a trunk prefix)
    };
    Prefix prefix = Prefix::none;
    std::string digits;  // after the prefix
};

// nullopt when `text` holds anything but the above, or fewer than 3 or more than 20 digits.
std::optional<PhoneNumber> parse_phone_number(std::string_view text);

// Whether two numbers are the same line: equal digits with the same prefix; an international
// number and a national one are the same when the international digits are a country code
// (1 to 3 digits) followed by the national digits (+447700900123 = 07700900123 =
// 00447700900123); a number without prefix equals one whose digits, as written without the
// "+", are its digits (447700900123 = +447700900123, but 999 is not 0999).
bool same_number(const PhoneNumber& a, const PhoneNumber& b);

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

// One file streamed from a phone into its writer: `read` is given a consumer for each piece
// the phone sends and returns how the read ended. Every byte sent is kept, also past the size
// the phone stated. The item is finished complete when the read ended well with exactly
// `declared_size` bytes, and incomplete otherwise, with the reason ("size mismatch: the phone
// stated N bytes and sent M", or the read's error "after M bytes").
// An error: the kiosk's side failed (the store), and the extraction must end. Otherwise the
// read's own outcome, for the family to decide whether the next file can still be read.
using ChunkConsumer = std::function<Status(std::span<const std::byte>)>;
Result<Status> stream_file(ArtefactWriter& writer, std::uint64_t declared_size,
                           const std::function<Status(const ChunkConsumer&)>& read);

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

// Errc::unsupported, "<category> cannot be taken: <why>", for the first category of `scope`
// that is not among `offered` (a family's categories()); success when all are.
Status refuse_unoffered(const Scope& scope, std::span<const Category> offered,
                        std::string_view why);

struct CategoryCount {
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
};
using Preview = std::map<Category, CategoryCount>;

}  // namespace exhibit::drivers
