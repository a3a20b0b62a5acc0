#include "common/audit_chain.hpp"

#include <fmt/format.h>

#include "common/sha256.hpp"

namespace exhibit {

namespace {
void put_field(Sha256& h, std::string_view field) {
    h.update(fmt::format("{}:", field.size()));
    h.update(field);
    h.update(std::string_view("\n"));
}
}  // namespace

std::string audit_entry_hash(const AuditEntry& e) {
    Sha256 h;
    put_field(h, "exhibit-audit-v1");
    put_field(h, std::to_string(e.seq));
    put_field(h, e.time);
    put_field(h, e.actor);
    put_field(h, e.event);
    put_field(h, e.details);
    put_field(h, e.prev_hash);
    return to_hex(h.finish());
}

std::string audit_head_message(std::int64_t seq, std::string_view hash) {
    return fmt::format("exhibit-audit-head-v1\n{}\n{}\n", seq, hash);
}

}  // namespace exhibit
