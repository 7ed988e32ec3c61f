// A catalog page damaged under the base set: the incremental that must read the base's files (while the
// agent already walks the source) fails with one line naming the catalog, ends instead of hanging, records
// the failed job and leaves the sets as they were.
#include <sqlite3.h>

#include <fstream>

#include "harness.hpp"

namespace fs = std::filesystem;
using namespace sbx::test;

namespace {

// A page in the middle of file_versions' leaves (dbstat numbers pages from 1).
long long a_file_versions_leaf(const fs::path& catalog, long long& page_size) {
  sqlite3* db = nullptr;
  long long page = 0;
  if (sqlite3_open_v2(catalog.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    const char* sql =
        "SELECT pageno, (SELECT page_size FROM pragma_page_size()) FROM dbstat "
        "WHERE name = 'file_versions' AND pagetype = 'leaf' ORDER BY pageno "
        "LIMIT 1 OFFSET (SELECT count(*) / 2 FROM dbstat WHERE name = 'file_versions' AND pagetype = 'leaf')";
    if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      page = sqlite3_column_int64(statement, 0);
      page_size = sqlite3_column_int64(statement, 1);
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return page;
}

}  // namespace

TEST(CliDamagedCatalog, AnIncrementalOverADamagedBaseFailsWithOneLineAndEnds) {
  TempDir dir;
  auto site = init_site(dir);
  fs::path data = dir / "data";
  for (int i = 0; i < 3000; ++i)
    write_file(data / ("d" + std::to_string(i % 30)) / ("f" + std::to_string(i)), "x");
  auto full = run_strongbox({"--site", site.string(), "backup", data.string(), "--level", "full"});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  auto before = run_strongbox({"--site", site.string(), "--json", "sets", "list"});

  long long page_size = 0;
  const long long page = a_file_versions_leaf(site / "catalog.db", page_size);
  ASSERT_GT(page, 1) << "no file_versions leaf found through dbstat";
  {
    std::fstream catalog(site / "catalog.db", std::ios::in | std::ios::out | std::ios::binary);
    catalog.seekp((page - 1) * page_size + 100);
    const std::string garbage(200, '\xff');
    catalog.write(garbage.data(), std::streamsize(garbage.size()));
    ASSERT_TRUE(catalog.good());
  }

  auto inc = run_strongbox({"--site", site.string(), "backup", data.string()});
  EXPECT_EQ(inc.exit_code, 1) << inc.out << inc.err;
  EXPECT_NE(inc.err.find("backup failed: catalog"), std::string::npos) << inc.err;
  EXPECT_NE(inc.err.find("damaged"), std::string::npos) << inc.err;
  EXPECT_EQ(std::count(inc.err.begin(), inc.err.end(), '\n'), 1) << inc.err;

  auto jobs = run_strongbox({"--site", site.string(), "--json", "jobs", "list"});
  ASSERT_EQ(jobs.exit_code, 0) << jobs.err;
  bool failed_recorded = false;
  for (const auto& j : jobs.json_lines()) failed_recorded |= j["kind"] == "backup" && j["state"] == "failed";
  EXPECT_TRUE(failed_recorded) << jobs.out;
  auto after = run_strongbox({"--site", site.string(), "--json", "sets", "list"});
  EXPECT_EQ(after.out, before.out);
}

// A set's file count only sizes the restore's list in advance: an absurd one (a damaged or hand-edited row)
// must not stop a full restore.
TEST(CliDamagedCatalog, AnAbsurdFileCountDoesNotStopAFullRestore) {
  TempDir dir;
  auto site = init_site(dir);
  fs::path data = dir / "data";
  write_file(data / "a", "alpha");
  write_file(data / "d" / "b", "beta");
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", data.string()}).exit_code, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((site / "catalog.db").c_str(), &db), SQLITE_OK);
  EXPECT_EQ(
      sqlite3_exec(db, "UPDATE backup_sets SET file_count = 9000000000000000000", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);

  fs::path out = dir / "out";
  auto restore = run_strongbox({"--site", site.string(), "restore", "--set", "1", "--to", out.string()});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(read_file(out / data.relative_path() / "a"), "alpha");
  EXPECT_EQ(read_file(out / data.relative_path() / "d" / "b"), "beta");
}
