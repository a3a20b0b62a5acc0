// What the upload queue's source files share: the table and key of each kind of job, the
// audit details that name a job, and the error of a failed Result. Internal to
// upload_queue*.cpp.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "daemon/upload/upload_queue.hpp"

namespace exhibit::upload::queue_sql {

struct TableRef {
    std::string_view table;
    std::string_view key;
};
inline TableRef table_of(JobKind kind) {
    return kind == JobKind::item ? TableRef{"uploads", "item_id"}
                                 : TableRef{"manifests", "session_id"};
}

inline nlohmann::json key_details(const JobKey& key) {
    return key.kind == JobKind::item ? nlohmann::json{{"item_id", key.id}}
                                     : nlohmann::json{{"manifest_of_session", key.id}};
}

template <class T>
std::unexpected<Error> err(const Result<T>& r) {
    return std::unexpected(r.error());
}

}  // namespace exhibit::upload::queue_sql
