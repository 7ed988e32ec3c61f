// The catalog schema as numbered migrations, and the checks that decide whether a file may be opened.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sqlite_handle.hpp"

namespace sbx::catalog::detail {

// PRAGMA application_id of every strongbox catalog ("SBXC"): tells our catalogs from other SQLite files.
inline constexpr int64_t kApplicationId = 0x53425843;

// The wall clock as the catalog records it: nanoseconds since the Unix epoch (UTC).
int64_t now_ns();

// migrations()[n - 1] brings the schema from version n - 1 to version n.
const std::vector<std::string>& migrations();

// Reads the schema version of the file without changing it. A file that is not a SQLite database, a SQLite
// database that belongs to something else, and a catalog newer than `latest` are refused. An empty database
// (no schema objects, no application id) is version 0: a catalog whose creation never committed.
int inspect_schema(Database& db, int latest);

// Brings the schema to steps.size() in one transaction (migration n recorded in schema_migrations and
// PRAGMA user_version); nothing changes if any step fails. Returns the version found before migrating.
int migrate_schema(Database& db, const std::vector<std::string>& steps);

}  // namespace sbx::catalog::detail
