#include "common/extraction_record.hpp"

namespace exhibit {

nlohmann::json extraction_record(const nlohmann::json& manifest) {
    if (!manifest.is_object())
        return nlohmann::json::object();
    nlohmann::json record = manifest;
    for (const char* later : {"audit_head", "audit_trail", "created_at", "extraction_sha256"})
        record.erase(later);
    record["format"] = kExtractionRecordFormat;
    if (auto kiosk = record.find("kiosk"); kiosk != record.end() && kiosk->is_object())
        kiosk->erase("id");
    // "Send now" after the session may raise its priority.
    if (auto session = record.find("session"); session != record.end() && session->is_object())
        session->erase("priority");
    if (auto items = record.find("items"); items != record.end() && items->is_array())
        for (auto& item : *items)
            if (item.is_object()) {
                item.erase("delivery");
                item.erase("integrity");
            }
    return record;
}

}  // namespace exhibit
