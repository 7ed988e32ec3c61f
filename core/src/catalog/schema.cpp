#include "schema.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <strongbox/clock.hpp>

namespace sbx::catalog::detail {
namespace {

// Version 1: the foundation schema. Conventions: STRICT tables; raw-byte names (paths, user and group names,
// series) are BLOBs because they need not be UTF-8; times are INTEGER nanoseconds since the Unix epoch (0
// means "not yet"); uint64 values are stored as their two's-complement int64; JSON documents are TEXT written
// by nlohmann::json. No json_valid() CHECKs: this SQLite does not mark it innocuous, and the connection runs
// with trusted_schema=OFF so a schema can never call functions with side effects.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE servers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  created_ns INTEGER NOT NULL,
  updated_ns INTEGER NOT NULL
) STRICT;

-- Devices are removed by setting removed_ns so the history of their sets keeps naming them.
CREATE TABLE devices (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  settings TEXT NOT NULL,
  created_ns INTEGER NOT NULL,
  removed_ns INTEGER
) STRICT;
CREATE UNIQUE INDEX devices_live_name ON devices (name) WHERE removed_ns IS NULL;

CREATE TABLE media (
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES devices (id),
  label TEXT NOT NULL,
  state TEXT NOT NULL,
  created_ns INTEGER NOT NULL,
  UNIQUE (device_id, label)
) STRICT;

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  device_id INTEGER REFERENCES devices (id),
  set_id INTEGER REFERENCES backup_sets (id) ON DELETE SET NULL,
  created_ns INTEGER NOT NULL,
  started_ns INTEGER NOT NULL,
  finished_ns INTEGER NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT '',
  details TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX jobs_state ON jobs (state, id);
CREATE INDEX jobs_set ON jobs (set_id);
CREATE INDEX jobs_device ON jobs (device_id);

CREATE TABLE job_log (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  time_ns INTEGER NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL
) STRICT;
CREATE INDEX job_log_job ON job_log (job_id, id);

CREATE TABLE backup_sets (
  id INTEGER PRIMARY KEY,
  job_id INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
  device_id INTEGER NOT NULL REFERENCES devices (id),
  store_name TEXT NOT NULL,
  level TEXT NOT NULL,
  base_set_id INTEGER REFERENCES backup_sets (id),
  series BLOB NOT NULL,
  sources TEXT NOT NULL,
  state TEXT NOT NULL,
  started_ns INTEGER NOT NULL,
  completed_ns INTEGER NOT NULL DEFAULT 0,
  expired_ns INTEGER NOT NULL DEFAULT 0,
  file_count INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  stored_bytes INTEGER NOT NULL DEFAULT 0,
  warnings INTEGER NOT NULL DEFAULT 0,
  legal_hold INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX backup_sets_series ON backup_sets (series, state, started_ns, id);
CREATE INDEX backup_sets_device ON backup_sets (device_id, state);
CREATE INDEX backup_sets_base ON backup_sets (base_set_id);
CREATE INDEX backup_sets_job ON backup_sets (job_id);
-- Two live sets naming the same stored data would let expiring one destroy the other.
CREATE UNIQUE INDEX backup_sets_store_name ON backup_sets (device_id, store_name)
  WHERE store_name <> '' AND state <> 'expired';

-- Clustered on (set_id, path): a set's versions are contiguous and come out in path-byte order.
CREATE TABLE file_versions (
  set_id INTEGER NOT NULL REFERENCES backup_sets (id) ON DELETE CASCADE,
  path BLOB NOT NULL,
  type INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  size INTEGER NOT NULL,
  mode INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  gid INTEGER NOT NULL,
  user_name BLOB NOT NULL,
  group_name BLOB NOT NULL,
  mtime_ns INTEGER NOT NULL,
  ctime_ns INTEGER NOT NULL,
  device INTEGER NOT NULL,
  inode INTEGER NOT NULL,
  nlink INTEGER NOT NULL,
  rdev INTEGER NOT NULL,
  link_target BLOB NOT NULL,
  xattrs BLOB NOT NULL,
  extents BLOB NOT NULL,
  content_hash BLOB NOT NULL CHECK (length(content_hash) IN (0, 32)),
  locator BLOB NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (set_id, path)
) STRICT, WITHOUT ROWID;
CREATE INDEX file_versions_path ON file_versions (path, set_id);

CREATE TABLE alerts (
  id INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  severity TEXT NOT NULL,
  source TEXT NOT NULL,
  message TEXT NOT NULL,
  acknowledged_ns INTEGER NOT NULL DEFAULT 0,
  cleared_ns INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX alerts_cleared ON alerts (cleared_ns, id);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  details TEXT NOT NULL
) STRICT;

CREATE TABLE policy_decisions (
  id INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  set_id INTEGER NOT NULL REFERENCES backup_sets (id) ON DELETE CASCADE,
  decision TEXT NOT NULL,
  reasons TEXT NOT NULL,
  revision TEXT NOT NULL
) STRICT;
CREATE INDEX policy_decisions_set ON policy_decisions (set_id, id);
)sql";

// Version 2: the server. Definitions (what to protect, when, where, how long) as JSON specs; device pools;
// the job queue (priority, not-before for retry back-off, the deadline a backup window sets, the pid of the
// process running it, a control request an admin made from another process); the scheduler's marks (which
// firings of which schedule were already handled, so a restart neither repeats nor forgets one); set
// provenance (agent, definition, synthetic, copy_of, own retention); planned copies from the stages hook;
// alert delivery and de-duplication.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE definitions (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  created_ns INTEGER NOT NULL,
  updated_ns INTEGER NOT NULL
) STRICT;

CREATE TABLE pools (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  created_ns INTEGER NOT NULL
) STRICT;

CREATE TABLE pool_members (
  pool_id INTEGER NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  device_id INTEGER NOT NULL REFERENCES devices (id),
  position INTEGER NOT NULL,
  PRIMARY KEY (pool_id, device_id)
) STRICT;
CREATE INDEX pool_members_device ON pool_members (device_id);

ALTER TABLE devices ADD COLUMN max_jobs INTEGER NOT NULL DEFAULT 1;
ALTER TABLE devices ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;

ALTER TABLE jobs ADD COLUMN definition TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN target TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 50;
ALTER TABLE jobs ADD COLUMN scheduled_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN not_before_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN deadline_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN retry_of INTEGER REFERENCES jobs (id);
ALTER TABLE jobs ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN control TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_definition ON jobs (definition, id);

CREATE TABLE schedule_marks (
  definition TEXT NOT NULL,
  schedule TEXT NOT NULL,
  handled_until_ns INTEGER NOT NULL,
  PRIMARY KEY (definition, schedule)
) STRICT;

ALTER TABLE backup_sets ADD COLUMN agent TEXT NOT NULL DEFAULT 'files';
ALTER TABLE backup_sets ADD COLUMN definition TEXT NOT NULL DEFAULT '';
ALTER TABLE backup_sets ADD COLUMN synthetic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE backup_sets ADD COLUMN copy_of INTEGER REFERENCES backup_sets (id);
ALTER TABLE backup_sets ADD COLUMN retain_until_ns INTEGER NOT NULL DEFAULT 0;
CREATE INDEX backup_sets_copy_of ON backup_sets (copy_of);

CREATE TABLE copies (
  id INTEGER PRIMARY KEY,
  set_id INTEGER NOT NULL REFERENCES backup_sets (id),
  stage TEXT NOT NULL,
  after_stage TEXT NOT NULL DEFAULT '',
  target TEXT NOT NULL,
  not_before_ns INTEGER NOT NULL,
  window TEXT NOT NULL DEFAULT '',
  retention TEXT NOT NULL,
  state TEXT NOT NULL,
  job_id INTEGER REFERENCES jobs (id),
  copy_set_id INTEGER REFERENCES backup_sets (id),
  revision TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  created_ns INTEGER NOT NULL,
  UNIQUE (set_id, stage)
) STRICT;
CREATE INDEX copies_state ON copies (state, not_before_ns);

ALTER TABLE alerts ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN delivered_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN delivery_error TEXT NOT NULL DEFAULT '';
CREATE INDEX alerts_subject ON alerts (subject, cleared_ns);
-- Alerts from before delivery existed were seen where they were raised; a first server start must not page
-- anyone about them.
UPDATE alerts SET delivered_ns = time_ns;
)sql";

// Version 3: set ids are never handed out twice. SQLite gives a new row the largest id plus one, so a set
// discarded after an interrupted backup gave its number to the next set, and job logs, alerts and an admin's
// notes that named it came to mean another set. The highest id ever given is kept here (begin_set).
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE set_id_high (id INTEGER NOT NULL) STRICT;
INSERT INTO set_id_high (id) SELECT coalesce(max(id), 0) FROM backup_sets;
)sql";

[[noreturn]] void refuse_newer(const Database& db, int64_t version, int latest) {
  throw CatalogError("catalog " + db.name() + " has schema version " + std::to_string(version) +
                     ", this strongbox knows up to " + std::to_string(latest) + "; upgrade strongbox");
}

}  // namespace

int64_t now_ns() {
  return sbx::clock::now_ns();
}

const std::vector<std::string>& migrations() {
  static const std::vector<std::string> steps = {kSchemaV1, kSchemaV2, kSchemaV3};
  return steps;
}

int inspect_schema(Database& db, int latest) {
  Database::Operation operation(db, "reading the schema version");
  // One statement, so one snapshot: read separately, a migration committing in between (another process
  // creating the same catalog) would pair an old application_id with a new user_version. This is also the
  // first read of the file, where SQLite checks its header, so a non-database fails here.
  auto statement = db.prepare(
      "SELECT (SELECT application_id FROM pragma_application_id),"
      " (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_schema)");
  if (!statement->step()) db.fail(SQLITE_ERROR, "the schema query returned no row");
  const int64_t application_id = statement->int64(0);
  const int64_t version = statement->int64(1);
  const int64_t objects = statement->int64(2);
  statement->run();
  if (application_id != kApplicationId) {
    if (application_id != 0 || version != 0 || objects != 0) {
      throw CatalogError("catalog " + db.name() +
                         " is a SQLite database but not a strongbox catalog (application_id " +
                         std::to_string(application_id) + ", user_version " + std::to_string(version) + ", " +
                         std::to_string(objects) + " schema objects)");
    }
    return 0;
  }
  if (version > latest) refuse_newer(db, version, latest);
  if (version < 0) {
    throw CatalogError("catalog " + db.name() + " has an invalid schema version " + std::to_string(version));
  }
  return static_cast<int>(version);
}

int migrate_schema(Database& db, const std::vector<std::string>& steps) {
  const int latest = static_cast<int>(steps.size());
  int found = inspect_schema(db, latest);
  if (found == latest) return found;

  // SQLite's procedure for schema changes: foreign keys off (it has no effect inside a transaction), change,
  // foreign_key_check before commit, foreign keys back on.
  db.exec("PRAGMA foreign_keys = OFF");
  struct ForeignKeysBackOn {
    Database& db;
    ~ForeignKeysBackOn() { sqlite3_exec(db.raw(), "PRAGMA foreign_keys = ON", nullptr, nullptr, nullptr); }
  } restore{db};

  db.transaction([&] {
    // Another process may have migrated between inspect and our write lock: decide again under the lock.
    found = inspect_schema(db, latest);
    if (found == latest) return;
    Database::Operation operation(db, "migrating the schema from version " + std::to_string(found));
    db.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations"
        " (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT");
    for (int version = found + 1; version <= latest; ++version) {
      Database::Operation step(db, "migrating the schema to version " + std::to_string(version));
      db.exec(steps[version - 1]);
      auto record = db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
      record->bind_int(1, version).bind_int(2, now_ns()).run();
    }
    db.exec("PRAGMA user_version = " + std::to_string(latest));
    db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    auto check = db.prepare("PRAGMA foreign_key_check");
    if (check->step()) {
      db.fail(SQLITE_CONSTRAINT, "foreign key violation in table " + check->text(0) + " after migrating");
    }
  });
  if (found > 0 && found != latest) {
    spdlog::info("catalog {}: schema migrated from version {} to {}", db.name(), found, latest);
  }
  return found;
}

}  // namespace sbx::catalog::detail
