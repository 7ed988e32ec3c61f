// Opening catalogs: create, reopen, the schema-version check and refusal of files that are not catalogs.
#include <gtest/gtest.h>

#include <thread>

#include "catalog_test_util.hpp"

namespace sbx::catalog {
namespace {

using testing::query_int;
using testing::query_text;
using testing::read_bytes;
using testing::run_sql;
using testing::TempDir;
using testing::write_bytes;
namespace fs = std::filesystem;

TEST(CatalogOpen, CreatesCatalogAtLatestVersionWithWalAndApplicationId) {
  TempDir dir;
  fs::path file = dir.path() / "catalog.db";
  auto catalog = Catalog::open(file, Catalog::Mode::create);
  EXPECT_EQ(catalog->schema_version(), Catalog::latest_schema_version());
  EXPECT_GE(Catalog::latest_schema_version(), 1);
  EXPECT_TRUE(catalog->check_integrity().empty());
  catalog.reset();

  EXPECT_EQ(query_text(file, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_int(file, "PRAGMA application_id"), 0x53425843);
  EXPECT_EQ(query_int(file, "PRAGMA user_version"), Catalog::latest_schema_version());
  EXPECT_EQ(query_int(file, "SELECT max(version) FROM schema_migrations"), Catalog::latest_schema_version());
  EXPECT_GT(query_int(file, "SELECT min(applied_at) FROM schema_migrations"), 0);
  // Every table is STRICT.
  EXPECT_EQ(query_int(file,
                      "SELECT count(*) FROM pragma_table_list WHERE schema = 'main' AND type = 'table' "
                      "AND name NOT LIKE 'sqlite_%' AND strict = 0"),
            0);
}

TEST(CatalogOpen, ReopenKeepsData) {
  TempDir dir;
  fs::path file = dir.path() / "catalog.db";
  Catalog::open(file, Catalog::Mode::create)->add_device("disk1", "disk", {{"path", "/srv"}});
  auto catalog = Catalog::open(file, Catalog::Mode::open_existing);
  auto device = catalog->find_device("disk1");
  ASSERT_TRUE(device.has_value());
  EXPECT_EQ(device->settings["path"], "/srv");
  EXPECT_EQ(catalog->schema_version(), Catalog::latest_schema_version());
}

TEST(CatalogOpen, ModesCheckWhetherTheFileExists) {
  TempDir dir;
  fs::path file = dir.path() / "catalog.db";
  EXPECT_CATALOG_ERROR(Catalog::open(file, Catalog::Mode::open_existing),
                       "catalog " + file.string() + " does not exist");
  EXPECT_FALSE(fs::exists(file));

  Catalog::open(file, Catalog::Mode::create);
  EXPECT_CATALOG_ERROR(Catalog::open(file, Catalog::Mode::create), "already exists");
  EXPECT_NO_THROW(Catalog::open(file, Catalog::Mode::open_or_create));

  fs::path other = dir.path() / "other.db";
  EXPECT_NO_THROW(Catalog::open(other, Catalog::Mode::open_or_create));
  EXPECT_TRUE(fs::exists(other));
}

TEST(CatalogOpen, MissingDirectoryIsNamed) {
  TempDir dir;
  fs::path file = dir.path() / "no-such-dir" / "catalog.db";
  EXPECT_CATALOG_ERROR(Catalog::open(file, Catalog::Mode::create),
                       "catalog " + file.string() + ": cannot open: unable to open database file");
}

TEST(CatalogOpen, ConcurrentCreatorsMigrateOnce) {
  TempDir dir;
  fs::path file = dir.path() / "catalog.db";
  std::vector<std::string> errors(4);
  std::vector<std::thread> openers;
  for (size_t i = 0; i < errors.size(); ++i) {
    openers.emplace_back([&, i] {
      try {
        Catalog::open(file, Catalog::Mode::open_or_create)->audit("opener", "open", {{"n", i}});
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& opener : openers) opener.join();
  for (const auto& error : errors) EXPECT_EQ(error, "");
  EXPECT_EQ(query_int(file, "SELECT count(*) FROM schema_migrations"), Catalog::latest_schema_version());
  EXPECT_EQ(query_int(file, "SELECT count(*) FROM audit_log"), 4);
}

TEST(CatalogOpen, RefusesADirectory) {
  TempDir dir;
  EXPECT_CATALOG_ERROR(Catalog::open(dir.path(), Catalog::Mode::open_existing), "is a directory");
}

TEST(CatalogOpen, MessagesEscapeUnprintableBytesInTheFileName) {
  TempDir dir;
  fs::path file = dir.path() / "bad\nname\xff.db";
  EXPECT_CATALOG_ERROR(Catalog::open(file, Catalog::Mode::open_existing),
                       "bad\\x0aname\\xff.db does not exist");
}

TEST(CatalogOpen, MigratesAnEmptyVersionZeroDatabase) {
  TempDir dir;
  fs::path file = dir.path() / "catalog.db";
  // A real SQLite file (header written) with no schema and user_version 0: a catalog whose creation never
  // committed its first migration.
  run_sql(file, "CREATE TABLE scratch (x); DROP TABLE scratch;");
  ASSERT_GT(fs::file_size(file), 0u);
  ASSERT_EQ(query_int(file, "PRAGMA user_version"), 0);

  auto catalog = Catalog::open(file, Catalog::Mode::open_existing);
  EXPECT_EQ(catalog->schema_version(), Catalog::latest_schema_version());
  EXPECT_NO_THROW(catalog->add_device("disk1", "disk", nlohmann::json::object()));
  catalog.reset();
  EXPECT_EQ(query_int(file, "SELECT count(*) FROM schema_migrations"), Catalog::latest_schema_version());
}

TEST(CatalogOpen, MigratesAZeroLengthFile) {
  TempDir dir;
  fs::path file = dir.path() / "catalog.db";
  write_bytes(file, "");
  auto catalog = Catalog::open(file, Catalog::Mode::open_existing);
  EXPECT_EQ(catalog->schema_version(), Catalog::latest_schema_version());
}

TEST(CatalogOpen, RefusesANewerSchemaAndLeavesTheFileAlone) {
  TempDir dir;
  fs::path file = dir.path() / "catalog.db";
  Catalog::open(file, Catalog::Mode::create);
  run_sql(file, "PRAGMA user_version = 7");
  std::string before = read_bytes(file);

  const std::string expected = "catalog " + file.string() +
                               " has schema version 7, this strongbox knows up to " +
                               std::to_string(Catalog::latest_schema_version()) + "; upgrade strongbox";
  try {
    Catalog::open(file, Catalog::Mode::open_existing);
    ADD_FAILURE() << "a newer catalog was opened";
  } catch (const CatalogError& e) {
    EXPECT_EQ(std::string(e.what()), expected);
  }
  EXPECT_EQ(read_bytes(file), before);
  EXPECT_EQ(query_int(file, "PRAGMA user_version"), 7);
}

TEST(CatalogOpen, RefusesGarbageAndLeavesItUntouched) {
  TempDir dir;
  for (const std::string& garbage : {std::string("hello\n"), std::string(8192, '\x5a'),
                                     std::string("SQLite format 2\0", 16) + std::string(4000, '\x01')}) {
    fs::path file = dir.path() / "garbage.db";
    write_bytes(file, garbage);
    EXPECT_CATALOG_ERROR(Catalog::open(file, Catalog::Mode::open_existing),
                         "catalog " + file.string() + " is not a SQLite database");
    EXPECT_EQ(read_bytes(file), garbage);
    EXPECT_FALSE(fs::exists(file.string() + "-wal"));
    EXPECT_CATALOG_ERROR(Catalog::open(file, Catalog::Mode::open_or_create), "is not a SQLite database");
    EXPECT_EQ(read_bytes(file), garbage);
  }
}

TEST(CatalogOpen, RefusesAnotherApplicationsDatabase) {
  TempDir dir;
  fs::path file = dir.path() / "invoices.db";
  run_sql(file, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount INTEGER)");
  std::string before = read_bytes(file);
  EXPECT_CATALOG_ERROR(Catalog::open(file, Catalog::Mode::open_existing),
                       "is a SQLite database but not a strongbox catalog");
  EXPECT_EQ(read_bytes(file), before);

  fs::path tagged = dir.path() / "tagged.db";
  run_sql(tagged, "PRAGMA application_id = 1234");
  EXPECT_CATALOG_ERROR(Catalog::open(tagged, Catalog::Mode::open_existing), "application_id 1234");
}

TEST(CatalogOpen, TwoConnectionsShareTheCatalog) {
  TempDir dir;
  fs::path file = dir.path() / "catalog.db";
  auto writer = Catalog::open(file, Catalog::Mode::create);
  auto reader = Catalog::open(file, Catalog::Mode::open_existing);
  writer->add_device("disk1", "disk", nlohmann::json::object());
  EXPECT_TRUE(reader->find_device("disk1").has_value());
}

TEST(CatalogOpen, IntegrityCheckReportsAnOrphanRow) {
  TempDir dir;
  fs::path file = dir.path() / "catalog.db";
  auto catalog = Catalog::open(file, Catalog::Mode::create);
  EXPECT_TRUE(catalog->check_integrity().empty());
  // Damage made behind the catalog's back (foreign keys are off on this other connection).
  run_sql(file, "INSERT INTO job_log (job_id, time_ns, level, message) VALUES (42, 0, 'info', 'orphan')");
  auto problems = catalog->check_integrity();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("job_log"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("jobs"), std::string::npos) << problems[0];
}

}  // namespace
}  // namespace sbx::catalog
