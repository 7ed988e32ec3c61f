// A catalog written by the foundation release (schema 1) opens, migrates to the server schema and keeps every
// row, with the new columns at their defaults.
#include "catalog_test_util.hpp"
#include "schema.hpp"

using namespace sbx::catalog;
using namespace sbx::catalog::testing;

TEST(CatalogMigrationV2, AFoundationCatalogMigratesAndKeepsItsRows) {
  TempDir dir;
  auto file = dir.path() / "catalog.db";
  {
    detail::Database db(file, true);
    detail::migrate_schema(db, {detail::migrations()[0]});
  }
  run_sql(
      file,
      "INSERT INTO devices (id, name, type, settings, created_ns) VALUES (1, 'disk1', 'disk', '{}', 1);"
      "INSERT INTO jobs (id, kind, state, created_ns, started_ns, finished_ns) VALUES (1, 'backup', "
      "'succeeded', 1, 1, 2);"
      "INSERT INTO backup_sets (id, job_id, device_id, store_name, level, series, sources, state, started_ns)"
      " VALUES (1, 1, 1, 'set-1', 'full', X'66', '[\"/x\"]', 'complete', 1);"
      "INSERT INTO alerts (time_ns, severity, source, message) VALUES (1, 'error', 'backup', 'old');");
  ASSERT_EQ(query_int(file, "PRAGMA user_version"), 1);
  auto c = Catalog::open(file, Catalog::Mode::open_existing);
  EXPECT_EQ(c->schema_version(), Catalog::latest_schema_version());
  EXPECT_TRUE(c->check_integrity().empty());
  auto device = *c->find_device("disk1");
  EXPECT_EQ(device.max_jobs, 1);
  EXPECT_TRUE(device.enabled);
  auto job = *c->find_job(1);
  EXPECT_EQ(job.state, "succeeded");
  EXPECT_EQ(job.priority, 50);
  EXPECT_EQ(job.attempt, 1);
  auto set = *c->find_set(1);
  EXPECT_EQ(set.agent, "files");
  EXPECT_FALSE(set.synthetic);
  EXPECT_FALSE(set.copy_of);
  // Old alerts count as delivered: a first server start does not page anyone about them.
  EXPECT_TRUE(c->undelivered_alerts().empty());
  ASSERT_EQ(c->list_alerts(true).size(), 1u);
  EXPECT_EQ(c->list_alerts(true)[0].message, "old");
}
