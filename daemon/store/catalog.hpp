// Typed access to the catalog's cases, sessions and items. Every change that matters to the
// chain of custody commits together with its audit entry. Thread-bound to its Database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "daemon/store/audit_log.hpp"
#include "daemon/store/database.hpp"

namespace exhibit::store {

enum class LawfulBasis { consent, other };
enum class SessionState { created, running, completed, interrupted, failed, cancelled };
enum class ItemState { complete, incomplete };
enum class Integrity { ok, missing, mismatch };
enum class Priority { normal, urgent };
enum class Owner { victim, witness, other };  // whose phone it is

std::string_view to_string(LawfulBasis v);
std::string_view to_string(SessionState v);
std::string_view to_string(ItemState v);
std::string_view to_string(Integrity v);
std::string_view to_string(Priority v);
std::string_view to_string(Owner v);
std::optional<SessionState> session_state_from(std::string_view text);
std::optional<Owner> owner_from(std::string_view text);

struct CaseSpec {
    std::string case_reference;
    std::string exhibit_reference;
    std::string officer_id;
    LawfulBasis basis = LawfulBasis::consent;
    nlohmann::json basis_detail = nlohmann::json::object();  // notice version, who agreed
    nlohmann::json scope = nlohmann::json::object();         // categories, date range
    std::optional<Owner> owner;                              // unset: not recorded
};

// A case as recorded.
struct CaseRecord {
    std::int64_t id = 0;
    CaseSpec spec;
    std::int64_t created_at_ms = 0;
};

struct SessionRecord {
    std::int64_t id = 0;
    std::int64_t case_id = 0;
    nlohmann::json device;
    std::optional<std::string> device_serial;
    SessionState state = SessionState::created;
    std::optional<std::string> state_reason;
    Priority priority = Priority::normal;
    std::optional<std::int64_t> clock_offset_ms;
    std::int64_t started_at_ms = 0;
    std::optional<std::int64_t> ended_at_ms;
    // How the session was extracted (an object: "software", "driver", "configuration";
    // docs/manifest.md); null for a session recorded before the catalog kept it.
    nlohmann::json method;
};

struct ItemRecord {
    std::int64_t id = 0;
    std::int64_t session_id = 0;
    std::string category;
    std::string source_path;                     // printable (valid UTF-8) form
    std::optional<std::string> source_path_raw;  // exact bytes when they differ
    std::optional<std::int64_t> declared_size;
    std::int64_t size = 0;
    std::optional<std::int64_t> source_mtime_ms;
    std::string sha256;  // lowercase hex
    std::string blob;    // relative to the state directory
    ItemState state = ItemState::complete;
    std::optional<std::string> incomplete_reason;
    Integrity integrity = Integrity::ok;
    std::int64_t created_at_ms = 0;
};

class Catalog {
  public:
    Catalog(Database& db, AuditLog& audit, const Clock& clock)
        : db_(&db), audit_(&audit), clock_(&clock) {}

    Result<std::int64_t> create_case(const CaseSpec& spec, std::string_view actor);
    // `method` (an object, or null when not known) is kept with the session and audited.
    Result<std::int64_t> create_session(std::int64_t case_id, const nlohmann::json& device,
                                        std::optional<std::string> device_serial, Priority priority,
                                        std::string_view actor,
                                        const nlohmann::json& method = nullptr);
    // Moves a session to `state` (ending it unless running) and audits the change.
    Status set_session_state(std::int64_t session_id, SessionState state,
                             std::optional<std::string> reason, std::string_view actor);
    // Records the phone's identity and clock offset once the driver has read them.
    Status set_session_device(std::int64_t session_id, const nlohmann::json& device,
                              std::optional<std::string> serial,
                              std::optional<std::int64_t> clock_offset_ms);

    Result<CaseRecord> case_of(std::int64_t case_id);
    Result<SessionRecord> session(std::int64_t id);
    Result<ItemRecord> item(std::int64_t id);
    Result<std::vector<ItemRecord>> items_of_session(std::int64_t session_id);
    // Items with a blob that should be on disk (in id order): every item except those whose
    // blob the upload channel released after its receipt and the retention period.
    Result<std::vector<ItemRecord>> all_items();

    // Inserts an item row; the caller holds the transaction and writes the audit entry.
    Result<std::int64_t> insert_item_in_transaction(const ItemRecord& item);
    Status set_integrity(std::int64_t item_id, Integrity integrity);

  private:
    Database* db_;
    AuditLog* audit_;
    const Clock* clock_;
};

}  // namespace exhibit::store
