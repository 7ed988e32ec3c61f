// The migration machinery with its own steps: older schemas move forward in one transaction, a failing step
// changes nothing, a newer schema is refused.
#include <gtest/gtest.h>

#include "catalog_test_util.hpp"
#include "schema.hpp"

namespace sbx::catalog {
namespace {

using testing::query_int;
using testing::TempDir;

const std::vector<std::string> kSteps = {
    "CREATE TABLE a (x INTEGER NOT NULL) STRICT",
    "CREATE TABLE b (y TEXT NOT NULL) STRICT; INSERT INTO a (x) VALUES (1)",
    "ALTER TABLE a ADD COLUMN z TEXT NOT NULL DEFAULT 'added in 3'",
};

std::vector<std::string> first_steps(size_t count) {
  return {kSteps.begin(), kSteps.begin() + count};
}

TEST(CatalogMigration, BringsAnOlderSchemaForward) {
  TempDir dir;
  auto file = dir.path() / "catalog.db";
  {
    detail::Database db(file, true);
    EXPECT_EQ(detail::migrate_schema(db, first_steps(1)), 0);
  }
  ASSERT_EQ(query_int(file, "PRAGMA user_version"), 1);
  ASSERT_EQ(query_int(file, "SELECT count(*) FROM schema_migrations"), 1);
  {
    detail::Database db(file, false);
    EXPECT_EQ(detail::inspect_schema(db, 3), 1);
    EXPECT_EQ(detail::migrate_schema(db, kSteps), 1);
    EXPECT_EQ(detail::inspect_schema(db, 3), 3);
    EXPECT_EQ(detail::migrate_schema(db, kSteps), 3);  // nothing left to do
  }
  EXPECT_EQ(query_int(file, "PRAGMA user_version"), 3);
  EXPECT_EQ(query_int(file, "PRAGMA application_id"), detail::kApplicationId);
  EXPECT_EQ(query_int(file, "SELECT group_concat(version) = '1,2,3' FROM schema_migrations ORDER BY version"),
            1);
  EXPECT_EQ(query_int(file, "SELECT count(*) FROM a WHERE x = 1 AND z = 'added in 3'"), 1);
}

TEST(CatalogMigration, AFailingStepChangesNothing) {
  TempDir dir;
  auto file = dir.path() / "catalog.db";
  {
    detail::Database db(file, true);
    detail::migrate_schema(db, first_steps(1));
  }
  std::vector<std::string> broken = first_steps(2);
  broken.push_back("CREATE TABLE c (broken");
  detail::Database db(file, false);
  EXPECT_CATALOG_ERROR(detail::migrate_schema(db, broken), "migrating the schema to version 3");
  EXPECT_EQ(query_int(file, "PRAGMA user_version"), 1);
  EXPECT_EQ(query_int(file, "SELECT count(*) FROM sqlite_schema WHERE name = 'b'"), 0);
  EXPECT_EQ(query_int(file, "SELECT count(*) FROM a"), 0);
  EXPECT_EQ(query_int(file, "SELECT count(*) FROM schema_migrations"), 1);
  // The connection is usable afterwards and the good steps still apply.
  EXPECT_EQ(detail::migrate_schema(db, first_steps(2)), 1);
  EXPECT_EQ(query_int(file, "PRAGMA user_version"), 2);
}

TEST(CatalogMigration, RefusesASchemaNewerThanTheSteps) {
  TempDir dir;
  auto file = dir.path() / "catalog.db";
  {
    detail::Database db(file, true);
    detail::migrate_schema(db, kSteps);
  }
  detail::Database db(file, false);
  EXPECT_CATALOG_ERROR(detail::migrate_schema(db, first_steps(2)),
                       "has schema version 3, this strongbox knows up to 2; upgrade strongbox");
  EXPECT_EQ(query_int(file, "PRAGMA user_version"), 3);
}

TEST(CatalogMigration, TheRealStepsProduceAWorkingCatalog) {
  ASSERT_EQ(static_cast<int>(detail::migrations().size()), Catalog::latest_schema_version());
  TempDir dir;
  auto file = dir.path() / "catalog.db";
  {
    detail::Database db(file, true);
    detail::migrate_schema(db, detail::migrations());
  }
  for (const char* table : {"servers", "devices", "media", "jobs", "job_log", "backup_sets", "file_versions",
                            "alerts", "audit_log", "policy_decisions", "schema_migrations"}) {
    EXPECT_EQ(
        query_int(file, std::string("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '") +
                            table + "'"),
        1)
        << table;
  }
  EXPECT_EQ(query_int(file, "SELECT count(*) FROM sqlite_schema WHERE name = 'file_versions_path'"), 1);
  auto catalog = Catalog::open(file, Catalog::Mode::open_existing);
  EXPECT_TRUE(catalog->check_integrity().empty());
}

}  // namespace
}  // namespace sbx::catalog
