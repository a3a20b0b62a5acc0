// The catalog's schema, as forward migrations numbered by PRAGMA user_version.
#pragma once

#include "common/error.hpp"
#include "daemon/store/database.hpp"

namespace exhibit::store {

// The schema version this build writes.
int current_schema_version();

// Brings the catalog to current_schema_version(). All pending steps run inside one
// transaction, each step in its own savepoint, so a failure leaves the file exactly as it
// was. A catalog newer than this build is refused untouched.
Status migrate(Database& db);

Result<int> schema_version(Database& db);

}  // namespace exhibit::store
