// The blob index: compact rows (a pack is named by a number, not by its 64-character name, and no second
// copy of the id in a by-pack index), indexes of older formats converted in place on open, losing no row, so
// a store keeps deduplicating after an upgrade, and a row that outlived its pack never hides its blob.
#include <sqlite3.h>

#include "dedup_harness.hpp"

namespace sbx::dedup_test {
namespace {

class DedupIndex : public DedupTest {
 protected:
  std::string index_file() const { return store_dir() + "/index.db"; }
  // Runs SQL on the store's index.db directly; returns the first column of the last row ("" when none).
  std::string sql_text(const std::string& statements) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(index_file().c_str(), &db), SQLITE_OK);
    std::string last;
    char* error = nullptr;
    auto keep = [](void* out, int columns, char** values, char**) {
      if (columns > 0 && values[0]) *static_cast<std::string*>(out) = values[0];
      return 0;
    };
    EXPECT_EQ(sqlite3_exec(db, statements.c_str(), keep, &last, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
    return last;
  }
  int64_t sql(const std::string& statements) {
    std::string last = sql_text(statements);
    return last.empty() ? 0 : std::stoll(last);
  }
};

TEST_F(DedupIndex, AFirstFormatIndexIsConvertedInPlaceWithEveryRow) {
  auto items = tree(71, 300000);
  uint64_t chunks = 0;
  std::vector<Locator> locators;
  {
    Device d = open_device(small_config(store_dir()));
    locators = write_set(d, "s", items);
    chunks = info(d).chunks;
  }
  ASSERT_GT(chunks, 10u);
  // Rewrite index.db in the first format: pack names in every row.
  sql("BEGIN;"
      "CREATE TABLE blobs(id BLOB PRIMARY KEY, pack TEXT NOT NULL, offset INTEGER NOT NULL,"
      " length INTEGER NOT NULL) WITHOUT ROWID;"
      "CREATE INDEX blobs_by_pack ON blobs(pack);"
      "CREATE TABLE packs(name TEXT PRIMARY KEY, bytes INTEGER NOT NULL) WITHOUT ROWID;"
      "INSERT INTO packs SELECT name, bytes FROM pack_files;"
      "INSERT INTO blobs SELECT b.id, p.name, b.offset, b.length FROM blob_rows b JOIN pack_files p"
      " ON p.pack_id = b.pack_id;"
      "DROP TABLE blob_rows; DROP TABLE pack_files; COMMIT;");
  ASSERT_EQ(uint64_t(sql("SELECT count(*) FROM blobs")), chunks);

  Device d = open_device(small_config(store_dir()));
  EXPECT_EQ(info(d).chunks, chunks);
  // Converted, not re-adopted from the packs: the rows are there before anything was looked up.
  EXPECT_EQ(uint64_t(sql("SELECT count(*) FROM blob_rows")), chunks);
  EXPECT_EQ(sql("SELECT count(*) FROM sqlite_master WHERE name IN ('blobs', 'packs', 'blobs_by_pack')"), 0);
  expect_reads_back(d, "s", locators, items);
  // Still deduplicating: the same tree again adds no chunk.
  write_set(d, "again", items);
  EXPECT_EQ(info(d).chunks, chunks);
  EXPECT_TRUE(verify(d).empty());
}

TEST_F(DedupIndex, ARowCostsAboutItsIdNotItsPackName) {
  Device d = open_device(small_config(store_dir(), {{"chunk_avg_kib", 1}}));
  std::vector<Item> items;
  for (uint32_t i = 0; i < 400; ++i)
    items.push_back(file_item("f" + std::to_string(i), random_bytes(6000, i)));
  write_set(d, "s", items);
  const uint64_t chunks = info(d).chunks;
  ASSERT_GT(chunks, 2000u);
  sql("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;");
  // A 32-byte id, a small pack number, offset and length, once: well under the ~210 bytes a row took with
  // the pack's name in it, and the ~95 it took with a by-pack index beside the table.
  const uint64_t bytes = std::filesystem::file_size(index_file());
  EXPECT_LT(bytes / chunks, 65u) << bytes << " bytes for " << chunks << " blobs";
}

TEST_F(DedupIndex, ASecondFormatIndexLosesItsByPackIndexAndKeepsEveryRow) {
  auto items = tree(72, 300000);
  uint64_t chunks = 0;
  std::vector<Locator> locators;
  {
    Device d = open_device(small_config(store_dir()));
    locators = write_set(d, "s", items);
    chunks = info(d).chunks;
  }
  // The second format: a by-pack index, and pack numbers SQLite may give again.
  sql("BEGIN; CREATE INDEX blob_rows_by_pack ON blob_rows(pack_id);"
      "CREATE TABLE old_packs(pack_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, bytes INTEGER NOT "
      "NULL);"
      "INSERT INTO old_packs SELECT * FROM pack_files; DROP TABLE pack_files;"
      "ALTER TABLE old_packs RENAME TO pack_files; COMMIT;");
  ASSERT_EQ(sql("SELECT count(*) FROM sqlite_master WHERE sql LIKE '%AUTOINCREMENT%'"), 0);
  const int64_t newest_pack = sql("SELECT max(pack_id) FROM pack_files");

  Device d = open_device(small_config(store_dir()));
  EXPECT_EQ(info(d).chunks, chunks);
  EXPECT_EQ(uint64_t(sql("SELECT count(*) FROM blob_rows")), chunks);
  EXPECT_EQ(sql("SELECT count(*) FROM sqlite_master WHERE name = 'blob_rows_by_pack'"), 0);
  EXPECT_EQ(
      sql("SELECT count(*) FROM sqlite_master WHERE name = 'pack_files' AND sql LIKE '%AUTOINCREMENT%'"), 1);
  expect_reads_back(d, "s", locators, items);
  // The newest pack's number is not given again once that pack is gone.
  ASSERT_EQ(vt_->delete_set(d.get(), str("s")), SBX_OK);
  EXPECT_EQ(gc(d, {}).chunks_live, 0u);
  write_set(d, "after", tree(73, 100000));
  EXPECT_GT(sql("SELECT min(pack_id) FROM pack_files"), newest_pack);
  EXPECT_TRUE(verify(d).empty());
}

TEST_F(DedupIndex, ARowWhosePackTheIndexLostGivesWayToANewCopy) {
  auto items = tree(74, 300000);
  Device d = open_device(small_config(store_dir()));
  write_set(d, "s", items);
  const uint64_t chunks = info(d).chunks;
  // A pack lost with its entry in the index, but not its rows (an index restored from an older copy, say).
  const std::string lost = sql_text("SELECT name FROM pack_files ORDER BY pack_id LIMIT 1");
  sql("DELETE FROM pack_files WHERE name = '" + lost + "'");
  for (const auto& file : store_files())
    if (file.stem() == lost) std::filesystem::remove(file);
  const int64_t orphans =
      sql("SELECT count(*) FROM blob_rows WHERE pack_id NOT IN (SELECT pack_id FROM pack_files)");
  ASSERT_GT(orphans, 0);
  EXPECT_FALSE(verify(d).empty());  // the set's blobs in that pack are reported
  // The same data again is stored anew and found, instead of being skipped as present.
  auto locators = write_set(d, "again", items);
  EXPECT_EQ(sql("SELECT count(*) FROM blob_rows WHERE pack_id NOT IN (SELECT pack_id FROM pack_files)"), 0);
  EXPECT_EQ(info(d).chunks, chunks);
  expect_reads_back(d, "again", locators, items);
}

}  // namespace
}  // namespace sbx::dedup_test
