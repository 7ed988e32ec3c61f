// The blob index: compact rows (a pack is named by a number, not by its 64-character name), and an index of
// the first format converted in place on open, losing no row, so a store keeps deduplicating after an
// upgrade.
#include <sqlite3.h>

#include "dedup_harness.hpp"

namespace sbx::dedup_test {
namespace {

class DedupIndex : public DedupTest {
 protected:
  std::string index_file() const { return store_dir() + "/index.db"; }
  // Runs SQL on the store's index.db directly; returns the first column of the last row (0 when none).
  int64_t sql(const std::string& statements) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(index_file().c_str(), &db), SQLITE_OK);
    int64_t last = 0;
    char* error = nullptr;
    auto keep = [](void* out, int columns, char** values, char**) {
      if (columns > 0 && values[0]) *static_cast<int64_t*>(out) = std::stoll(values[0]);
      return 0;
    };
    EXPECT_EQ(sqlite3_exec(db, statements.c_str(), keep, &last, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
    return last;
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
  // A 32-byte id, a small pack number, offset and length, once in the table and once in the by-pack index:
  // well under the ~210 bytes a row took with the pack's name in it.
  const uint64_t bytes = std::filesystem::file_size(index_file());
  EXPECT_LT(bytes / chunks, 120u) << bytes << " bytes for " << chunks << " blobs";
}

}  // namespace
}  // namespace sbx::dedup_test
