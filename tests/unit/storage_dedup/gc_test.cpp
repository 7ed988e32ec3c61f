// gc reclaims what no set needs, keeps what live sets, unknown manifests and writers in flight need, and
// reports what it freed; --dry-run changes nothing.
#include <sqlite3.h>

#include "dedup_harness.hpp"

namespace sbx::dedup_test {
namespace {

class DedupGc : public DedupTest {
 protected:
  uint64_t store_file_bytes() {
    uint64_t total = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(store_dir() + "/packs"))
      if (e.is_regular_file()) total += e.file_size();
    return total;
  }
};

TEST_F(DedupGc, ExpiredSetIsReclaimedAndTheOthersStayIntact) {
  Device d = open_device(small_config(store_dir()));
  auto a = tree(21, 1 << 20), b = tree(22, 1 << 20);
  auto la = write_set(d, "a", a);
  auto lb = write_set(d, "b", b);
  uint64_t before = store_file_bytes();
  ASSERT_EQ(vt_->delete_set(d.get(), str("a")), SBX_OK);
  sbx_gc_stats stats = gc(d, {"b"});
  EXPECT_EQ(stats.sets_marked, 1u);
  EXPECT_EQ(stats.sets_unknown, 0u);
  EXPECT_GT(stats.chunks_freed, 100u);
  EXPECT_GT(stats.bytes_freed, 1000000u);
  EXPECT_EQ(stats.bytes_after, store_file_bytes());
  EXPECT_LT(store_file_bytes() + 1000000, before);
  expect_reads_back(d, "b", lb, b);
  EXPECT_TRUE(verify(d).empty());
  // A second run finds nothing more.
  EXPECT_EQ(gc(d, {"b"}).chunks_freed, 0u);
}

TEST_F(DedupGc, DryRunReportsWithoutDeleting) {
  Device d = open_device(small_config(store_dir()));
  write_set(d, "a", tree(23, 1 << 20));
  auto lb = write_set(d, "b", tree(24));
  ASSERT_EQ(vt_->delete_set(d.get(), str("a")), SBX_OK);
  uint64_t before = store_file_bytes();
  auto chunks_before = info(d).chunks;
  sbx_gc_stats dry = gc(d, {"b"}, true);
  EXPECT_GT(dry.chunks_freed, 100u);
  EXPECT_EQ(store_file_bytes(), before);
  EXPECT_EQ(info(d).chunks, chunks_before);
  sbx_gc_stats real = gc(d, {"b"});
  EXPECT_EQ(real.chunks_freed, dry.chunks_freed);
}

TEST_F(DedupGc, ManifestsTheHostDidNotNameAreKept) {
  Device d = open_device(small_config(store_dir()));
  auto items = tree(25);
  auto la = write_set(d, "a", items);
  sbx_gc_stats stats = gc(d, {});
  EXPECT_EQ(stats.sets_unknown, 1u);
  EXPECT_EQ(stats.chunks_freed, 0u);
  expect_reads_back(d, "a", la, items);
}

TEST_F(DedupGc, AWriterInFlightKeepsTheChunksItReusedAndWrote) {
  Device d = open_device(small_config(store_dir()));
  std::string shared = random_bytes(2 << 20, 26);
  write_set(d, "old", {file_item("f", shared)});
  // A writer reuses the old set's chunks (2 MiB of 4 KiB chunks: many batches, so lookups happen now)...
  sbx_storage_writer* w = begin(d, "new");
  Item item = file_item("g", shared + random_bytes(300000, 27));
  Locator l = write_item(w, item);
  // ...while the old set expires and gc runs in another handle, as another process would.
  ASSERT_EQ(vt_->delete_set(d.get(), str("old")), SBX_OK);
  {
    Device other = open_device(small_config(store_dir()));
    gc(other, {"new"});
  }
  commit(w);
  expect_reads_back(d, "new", {l}, {item});
  EXPECT_TRUE(verify(d).empty());
}

TEST_F(DedupGc, PartlyDeadPacksAreRewritten) {
  Device d = open_device(small_config(store_dir(), {{"pack_mib", 16}}));
  const PartlyDeadPack made = write_partly_dead_pack(d, 28);
  ASSERT_EQ(vt_->delete_set(d.get(), str("both")), SBX_OK);
  sbx_gc_stats stats = gc(d, {"keeper"});
  EXPECT_EQ(stats.packs_rewritten, 1u);
  EXPECT_LT(store_file_bytes(), 700000u);
  expect_reads_back(d, "keeper", {made.linked}, {made.keep});
}

TEST_F(DedupGc, APartlyDeadPackWhoseTrailerIsDamagedIsLeftAsItIs) {
  Device d = open_device(small_config(store_dir(), {{"pack_mib", 16}}));
  const PartlyDeadPack made = write_partly_dead_pack(d, 32);
  ASSERT_EQ(vt_->delete_set(d.get(), str("both")), SBX_OK);
  std::filesystem::path pack;  // the one with the data (the linked set's metadata has a pack of its own)
  for (const auto& file : store_files())
    if (file.extension() == ".pack" && (pack.empty() || file_size(file) > file_size(pack))) pack = file;
  const uint64_t pack_bytes = std::filesystem::file_size(pack);
  flip(pack, pack_bytes - 50);  // inside the trailer's records
  FakeHost::clear_log();
  sbx_gc_stats stats = gc(d, {"keeper"});
  // Rewriting from a trailer it cannot trust could drop blobs the index points at: the pack stays whole.
  EXPECT_EQ(stats.packs_rewritten, 0u);
  EXPECT_EQ(std::filesystem::file_size(pack), pack_bytes);
  EXPECT_TRUE(FakeHost::logged("gc left pack", SBX_LOG_WARN));
  expect_reads_back(d, "keeper", {made.linked}, {made.keep});
  EXPECT_FALSE(verify(d).empty());
}

// A set's data chunks are named only by its entry groups; groups two sets share keep their chunks when one
// of the sets goes.
TEST_F(DedupGc, ChunksOfAGroupTwoSetsShareOutliveEitherSet) {
  Device d = open_device(small_config(store_dir()));
  auto items = tree(34, 1 << 20);
  write_set(d, "monday", items);
  auto locators = write_set(d, "tuesday", items);
  ASSERT_EQ(vt_->delete_set(d.get(), str("monday")), SBX_OK);
  sbx_gc_stats stats = gc(d, {"tuesday"});
  EXPECT_EQ(stats.chunks_freed, 0u);
  EXPECT_EQ(stats.chunks_live, info(d).chunks);
  expect_reads_back(d, "tuesday", locators, items);
  EXPECT_TRUE(verify(d).empty());
}

TEST_F(DedupGc, AnEntryGroupItCannotReadStopsGcBeforeItDeletesAnything) {
  Device d = open_device(small_config(store_dir()));
  write_set(d, "a", tree(35));
  write_set(d, "b", tree(36));
  ASSERT_EQ(vt_->delete_set(d.get(), str("a")), SBX_OK);
  // set_chunks names a group before the chunks its records name: the first id is b's first group.
  const std::string group = set_chunks(d, "b").front();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((store_dir() + "/index.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "DELETE FROM blob_rows WHERE id = ?", -1, &s, nullptr), SQLITE_OK);
  sqlite3_bind_blob(s, 1, group.data(), int(group.size()), SQLITE_STATIC);
  EXPECT_EQ(sqlite3_step(s), SQLITE_DONE);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_finalize(s);
  sqlite3_close(db);
  const uint64_t before = store_file_bytes();
  const uint64_t chunks = info(d).chunks;
  gc(d, {"b"}, false, SBX_ERR_NOT_FOUND);
  EXPECT_NE(FakeHost::last_error().find("gc stopped before deleting anything: an entry group of set \"b\""),
            std::string::npos)
      << FakeHost::last_error();
  EXPECT_EQ(store_file_bytes(), before);
  EXPECT_EQ(info(d).chunks, chunks);
}

TEST_F(DedupGc, DamagedManifestStopsGcBeforeItDeletesAnything) {
  Device d = open_device(small_config(store_dir()));
  write_set(d, "a", tree(30));
  write_set(d, "b", tree(31));
  ASSERT_EQ(vt_->delete_set(d.get(), str("a")), SBX_OK);
  std::ofstream(store_dir() + "/sets/b.manifest", std::ios::binary | std::ios::trunc) << "garbage";
  uint64_t before = store_file_bytes();
  gc(d, {"b"}, false, SBX_ERR_CORRUPT);
  EXPECT_NE(FakeHost::last_error().find("gc stopped before deleting anything"), std::string::npos);
  EXPECT_EQ(store_file_bytes(), before);
}

}  // namespace
}  // namespace sbx::dedup_test
