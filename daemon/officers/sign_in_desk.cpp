#include "daemon/officers/sign_in_desk.hpp"

#include <time.h>

#include <algorithm>

#include <fmt/format.h>

#include "common/log.hpp"
#include "daemon/officers/pin_hash.hpp"
#include "daemon/store/message_ids.hpp"

namespace exhibit::officers {

namespace {

// "14:05", the kiosk's local time: what the officer reads on the screen.
std::string local_hh_mm(TimePoint t) {
    auto secs = std::chrono::system_clock::to_time_t(t);
    struct tm tm {};
    ::localtime_r(&secs, &tm);
    return fmt::format("{:02}:{:02}", tm.tm_hour, tm.tm_min);
}

// Checked for every unknown id too, so that an answer takes as long whether the id exists.
constexpr std::string_view kDummyHash =
    "$scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

}  // namespace

SignInDesk::SignInDesk(std::filesystem::path officers_file, store::Store& store,
                       const Clock& clock)
    : file_(std::move(officers_file)), store_(&store), clock_(&clock) {}

void SignInDesk::audit(std::string_view actor, std::string_view event,
                       const nlohmann::json& details) {
    if (auto e = store_->audit().append(actor, event, details); !e)
        log::event(
            log::Level::warning, store::message_id::kAuditFailed,
            fmt::format("cannot audit {}: {}", event, e.error().describe()),
            {{"EXHIBIT_AUDIT_EVENT", std::string(event)}, log::field::error_class(e.error())});
}

Result<SignInDesk::Failures> SignInDesk::failures_of(std::string_view officer_id) {
    auto q = store_->database().prepare(
        "SELECT failures, locked_until_ms FROM sign_in_failures WHERE officer_id = ?1");
    if (!q)
        return std::unexpected(q.error());
    q->bind(1, officer_id);
    auto row = q->step();
    if (!row)
        return std::unexpected(row.error());
    Failures f;
    if (*row) {
        f.count = static_cast<int>(q->column_int(0));
        if (auto until = q->column_optional_int(1))
            f.locked_until = from_unix_ms(*until);
    }
    return f;
}

Status SignInDesk::record_failure(std::string_view officer_id, Failures now) {
    auto q = store_->database().prepare(
        "INSERT INTO sign_in_failures (officer_id, failures, last_failure_ms, locked_until_ms) "
        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (officer_id) DO UPDATE SET failures = ?2, "
        "last_failure_ms = ?3, locked_until_ms = ?4");
    if (!q)
        return std::unexpected(q.error());
    q->bind(1, officer_id)
        .bind(2, std::int64_t{now.count})
        .bind(3, to_unix_ms(clock_->now()))
        .bind(4, now.locked_until ? std::optional(to_unix_ms(*now.locked_until)) : std::nullopt);
    return q->run();
}

Status SignInDesk::clear_failures(std::string_view officer_id) {
    auto q = store_->database().prepare("DELETE FROM sign_in_failures WHERE officer_id = ?1");
    if (!q)
        return std::unexpected(q.error());
    q->bind(1, officer_id);
    return q->run();
}

Result<SignedIn> SignInDesk::sign_in(const std::string& client, std::string_view officer_id,
                                     std::string_view pin) {
    if (!is_valid_officer_id(officer_id))
        return fail(Errc::invalid_argument,
                    "an officer id is 1 to 32 letters, digits, dots, dashes or underscores");
    if (!is_valid_pin(pin))
        return fail(Errc::invalid_argument, "a PIN is 4 to 12 digits");
    const std::string id(officer_id);
    const std::string actor = "officer:" + id;
    auto failures = failures_of(id);
    if (!failures)
        return std::unexpected(failures.error());
    const auto now = clock_->now();
    if (failures->locked_until && *failures->locked_until > now) {
        audit(actor, "officer.sign_in_refused", {{"officer_id", id}, {"reason", "locked"}});
        return fail(Errc::locked,
                    fmt::format("officer id {} is locked until {} after {} wrong PINs", id,
                                local_hh_mm(*failures->locked_until), kMaxWrongPins));
    }
    if (failures->locked_until)  // the lock has run out: a fresh count
        *failures = {};

    auto officers = read_officers(file_);
    if (!officers)
        return std::unexpected(officers.error());
    auto it = std::ranges::find(*officers, id, &Officer::id);
    auto matches = pin_matches(pin, it == officers->end() ? kDummyHash : it->pin_hash);
    if (!matches)
        return std::unexpected(
            matches.error().with_context(fmt::format("{}: officer {}", file_.string(), id)));
    if (it == officers->end() || !*matches) {
        Failures next{.count = failures->count + 1};
        if (next.count >= kMaxWrongPins)
            next.locked_until = now + kLockout;
        if (auto s = record_failure(id, next); !s)
            return std::unexpected(s.error());
        audit(actor, "officer.sign_in_failed", {{"officer_id", id}, {"wrong_pins", next.count}});
        if (next.locked_until) {
            audit(actor, "officer.locked",
                  {{"officer_id", id}, {"until", format_utc_ms(*next.locked_until)}});
            return fail(Errc::locked,
                        fmt::format("wrong officer id or PIN: officer id {} is now locked until "
                                    "{} after {} wrong PINs",
                                    id, local_hh_mm(*next.locked_until), kMaxWrongPins));
        }
        const int left = kMaxWrongPins - next.count;
        return fail(Errc::denied,
                    fmt::format("wrong officer id or PIN ({} {} left before this id is locked for "
                                "{} minutes)",
                                left, left == 1 ? "try" : "tries", kLockout.count()));
    }
    if (failures->count > 0)
        if (auto s = clear_failures(id); !s)
            return std::unexpected(s.error());
    sign_out(client, "signed in again");
    SignedIn who{.officer_id = id, .name = it->name};
    signed_in_[client] = who;
    audit(actor, "officer.signed_in", {{"officer_id", id}});
    return who;
}

void SignInDesk::sign_out(const std::string& client, std::string_view why) {
    auto it = signed_in_.find(client);
    if (it == signed_in_.end())
        return;
    audit("officer:" + it->second.officer_id, "officer.signed_out",
          {{"officer_id", it->second.officer_id}, {"why", why}});
    signed_in_.erase(it);
}

std::optional<SignedIn> SignInDesk::officer_of(const std::string& client) const {
    auto it = signed_in_.find(client);
    if (it == signed_in_.end())
        return std::nullopt;
    return it->second;
}

Status SignInDesk::add(std::string_view id, std::string_view name, std::string_view pin,
                       std::string_view actor) {
    if (!is_valid_officer_id(id))
        return fail(Errc::invalid_argument,
                    "an officer id is 1 to 32 letters, digits, dots, dashes or underscores");
    if (!is_valid_officer_name(name))
        return fail(Errc::invalid_argument,
                    "an officer's name is at most 64 characters, without control characters");
    if (!is_valid_pin(pin))
        return fail(Errc::invalid_argument, "a PIN is 4 to 12 digits");
    auto officers = read_officers(file_);
    if (!officers)
        return std::unexpected(officers.error());
    auto hash = hash_pin(pin);
    if (!hash)
        return std::unexpected(hash.error());
    auto it = std::ranges::find(*officers, id, &Officer::id);
    const bool replaced = it != officers->end();
    Officer o{.id = std::string(id), .name = std::string(name), .pin_hash = std::move(*hash)};
    if (replaced)
        *it = std::move(o);
    else
        officers->push_back(std::move(o));
    if (auto s = write_officers(file_, *officers); !s)
        return s;
    audit(actor, replaced ? "officer.changed" : "officer.added",
          {{"officer_id", id}, {"name", name}});
    return {};
}

Status SignInDesk::remove(std::string_view id, std::string_view actor) {
    auto officers = read_officers(file_);
    if (!officers)
        return std::unexpected(officers.error());
    auto it = std::ranges::find(*officers, id, &Officer::id);
    if (it == officers->end())
        return fail(Errc::not_found, fmt::format("there is no officer \"{}\"", id));
    officers->erase(it);
    if (auto s = write_officers(file_, *officers); !s)
        return s;
    for (auto c = signed_in_.begin(); c != signed_in_.end();) {
        if (c->second.officer_id != id) {
            ++c;
            continue;
        }
        audit(actor, "officer.signed_out", {{"officer_id", id}, {"why", "removed"}});
        c = signed_in_.erase(c);
    }
    audit(actor, "officer.removed", {{"officer_id", id}});
    return {};
}

Status SignInDesk::unlock(std::string_view id, std::string_view actor) {
    if (auto s = clear_failures(id); !s)
        return s;
    audit(actor, "officer.unlocked", {{"officer_id", id}});
    return {};
}

Result<std::vector<OfficerListing>> SignInDesk::list() {
    auto officers = read_officers(file_);
    if (!officers)
        return std::unexpected(officers.error());
    std::vector<OfficerListing> out;
    const auto now = clock_->now();
    for (const auto& o : *officers) {
        auto f = failures_of(o.id);
        if (!f)
            return std::unexpected(f.error());
        OfficerListing l{.id = o.id, .name = o.name};
        if (f->locked_until && *f->locked_until > now)
            l.locked_until = f->locked_until;
        out.push_back(std::move(l));
    }
    return out;
}

}  // namespace exhibit::officers
