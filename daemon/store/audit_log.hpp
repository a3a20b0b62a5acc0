// The append-only, hash-chained audit log kept in the catalog.
//
// Each entry's hash is SHA-256 over its sequence number, time, actor, event, details and the
// previous entry's hash (length-prefixed, see entry_hash()); the first entry's previous hash
// is 64 zeros. After every append the newest (seq, hash) is signed with the kiosk key in
// audit_head, so that entries cut from the end are detected as well.
//
// Thread-bound to its Database's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/audit_chain.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"
#include "daemon/keys/identity_key.hpp"
#include "daemon/store/database.hpp"

namespace exhibit::store {

// An entry and its hash (common/audit_chain.hpp, shared with exhibit-verify).
using exhibit::AuditEntry;
using exhibit::audit_entry_hash;
using exhibit::audit_head_message;
using exhibit::kGenesisHash;

struct AuditVerifyReport {
    std::uint64_t entries = 0;                 // entries that verified before any problem
    std::optional<std::int64_t> first_broken;  // seq of the first bad or missing entry
    std::string problem;                       // what is wrong there, in words
    std::string head_hash;                     // hash of the last good entry
    bool ok() const { return !first_broken; }
};

class AuditLog {
  public:
    AuditLog(Database& db, const keys::IdentityKey& key, const Clock& clock)
        : db_(&db), key_(&key), clock_(&clock) {}

    // Appends inside the caller's open transaction (so an entry commits with the change it
    // records).
    Result<AuditEntry> append_in_transaction(std::string_view actor, std::string_view event,
                                             const nlohmann::json& details);
    // Appends one entry per element of `details`, in order, inside the caller's open
    // transaction, and signs the head once, after the last (a head is only ever seen
    // committed, so signing the ones in between would change nothing).
    Result<std::vector<AuditEntry>> append_all_in_transaction(
        std::string_view actor, std::string_view event, std::span<const nlohmann::json> details);
    // Appends in a transaction of its own.
    Result<AuditEntry> append(std::string_view actor, std::string_view event,
                              const nlohmann::json& details);

    // Recomputes the whole chain and checks the signed head against `key` (the kiosk's own
    // key when null). Stops at the first broken entry.
    Result<AuditVerifyReport> verify(const keys::PublicKey* key = nullptr);

    Result<std::uint64_t> count();

  private:
    // Inserts the entry after `last` (none: the first entry); does not sign.
    Result<AuditEntry> insert_entry(const std::optional<AuditEntry>& last, std::string_view actor,
                                    std::string_view event, const nlohmann::json& details);
    Status sign_head(const AuditEntry& newest);

    Database* db_;
    const keys::IdentityKey* key_;
    const Clock* clock_;
};

}  // namespace exhibit::store
