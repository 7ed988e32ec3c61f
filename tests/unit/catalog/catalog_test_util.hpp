// Helpers shared by the catalog tests: a temporary directory, a fresh catalog with one device, direct SQL on
// the catalog file (to build old or hostile catalogs by hand) and an expectation for one-line CatalogErrors.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "strongbox/catalog.hpp"

namespace sbx::catalog::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sbx-catalog-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs SQL on the file through a separate connection, as a hand-made or foreign catalog would be built.
inline void run_sql(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message << " in: " << sql;
}

inline int64_t query_int(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  int64_t value = -1;
  if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

inline std::string query_text(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string value = "<no row>";
  if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

inline void write_bytes(const std::filesystem::path& file, const std::string& bytes) {
  FILE* f = fopen(file.c_str(), "wb");
  ASSERT_NE(f, nullptr) << file;
  ASSERT_EQ(fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  fclose(f);
}

inline std::string read_bytes(const std::filesystem::path& file) {
  std::string bytes;
  if (FILE* f = fopen(file.c_str(), "rb")) {
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, f)) > 0) bytes.append(buffer, n);
    fclose(f);
  }
  return bytes;
}

// A catalog in a fresh temporary directory with one device, "disk1".
class CatalogTest : public ::testing::Test {
 protected:
  TempDir dir;
  std::filesystem::path file = dir.path() / "catalog.db";
  std::unique_ptr<Catalog> catalog = Catalog::open(file, Catalog::Mode::create);
  int64_t disk = catalog->add_device("disk1", "disk", {{"path", "/srv/backup"}});

  int64_t begin(const std::string& level, std::optional<int64_t> base = std::nullopt,
                const std::string& series = "/home", int64_t started_ns = 0) {
    BackupSet set;
    set.device_id = disk;
    set.level = level;
    set.base_set_id = base;
    set.series = series;
    set.sources = {series};
    set.started_ns = started_ns;
    return catalog->begin_set(set);
  }
  int64_t complete(const std::string& level, std::optional<int64_t> base = std::nullopt,
                   const std::string& series = "/home", int64_t started_ns = 0) {
    int64_t id = begin(level, base, series, started_ns);
    catalog->complete_set(id, 0, 0, 0, 0);
    return id;
  }
};

inline FileVersion regular_file(const std::string& path, uint64_t size = 0,
                                const std::string& locator = "loc") {
  FileVersion file;
  file.path = path;
  file.type = 1;
  file.size = size;
  file.mode = 0644;
  file.locator = locator;
  return file;
}

inline FileVersion deletion_marker(const std::string& path) {
  FileVersion file;
  file.path = path;
  file.type = 1;
  file.deleted = true;
  return file;
}

}  // namespace sbx::catalog::testing

// The statement must throw CatalogError, on one line, containing `substring`.
#define EXPECT_CATALOG_ERROR(statement, substring)                                                         \
  do {                                                                                                     \
    std::string sbx_error_message;                                                                         \
    bool sbx_thrown = false;                                                                               \
    try {                                                                                                  \
      statement;                                                                                           \
    } catch (const ::sbx::catalog::CatalogError& e) {                                                      \
      sbx_thrown = true;                                                                                   \
      sbx_error_message = e.what();                                                                        \
    }                                                                                                      \
    EXPECT_TRUE(sbx_thrown) << #statement << " did not throw CatalogError";                                \
    EXPECT_NE(sbx_error_message.find(substring), std::string::npos) << "error was: " << sbx_error_message; \
    EXPECT_EQ(sbx_error_message.find('\n'), std::string::npos)                                             \
        << "error spans lines: " << sbx_error_message;                                                     \
  } while (0)
