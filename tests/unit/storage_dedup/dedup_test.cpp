// Data is stored once: a second copy, a shifted copy and an incremental cost only what is new.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dedup_harness.hpp"

namespace sbx::dedup_test {
namespace {

class DedupStoresOnce : public DedupTest {};

TEST_F(DedupStoresOnce, TheSameDataUnderAnotherNameCostsOnlyMetadata) {
  Device d = open_device(small_config(store_dir()));
  std::string data = random_bytes(3 << 20, 7);
  sbx_storage_writer* w = begin(d, "first");
  write_item(w, file_item("one/file", data));
  sbx_set_stats first = commit(w);
  w = begin(d, "second");
  write_item(w, file_item("two/copy", data));
  sbx_set_stats second = commit(w);
  EXPECT_GT(first.stored_bytes, data.size());  // random data does not compress
  // Only metadata: the entry group and the manifest list the ~770 chunk ids of 3 MiB in 4 KiB chunks.
  EXPECT_LT(second.stored_bytes * 50, first.stored_bytes) << "the copy re-stored data";
}

TEST_F(DedupStoresOnce, BytesInsertedAtTheStartLeaveLaterChunksShared) {
  Device d = open_device(small_config(store_dir()));
  std::string data = random_bytes(2 << 20, 8);
  sbx_storage_writer* w = begin(d, "before");
  write_item(w, file_item("f", data));
  sbx_set_stats before = commit(w);
  w = begin(d, "after");
  write_item(w, file_item("f", "inserted bytes" + data));
  sbx_set_stats after = commit(w);
  EXPECT_LT(after.stored_bytes * 10, before.stored_bytes) << "content-defined chunks should resynchronise";
}

TEST_F(DedupStoresOnce, CompressibleDataIsCompressed) {
  Device d = open_device(small_config(store_dir()));
  std::string text;
  for (int i = 0; text.size() < (1 << 20); ++i)
    text += "line " + std::to_string(i % 1000) + " of a log file\n";
  sbx_storage_writer* w = begin(d, "logs");
  write_item(w, file_item("log", text));
  sbx_set_stats stats = commit(w);
  EXPECT_LT(stats.stored_bytes * 4, text.size());
}

TEST_F(DedupStoresOnce, EncryptedStoreHoldsNoPlaintext) {
  Device d = open_device(small_config(store_dir(), {{"key_file", key_file()}}));
  std::string marker = "PLAINTEXT-MARKER-0123456789-";
  std::string data;
  while (data.size() < 100000) data += marker;
  sbx_storage_writer* w = begin(d, "secret");
  write_item(w, file_item("secret-name-marker", data));
  commit(w);
  d.reset();
  for (const auto& entry : std::filesystem::recursive_directory_iterator(store_dir())) {
    if (!entry.is_regular_file() || entry.path().filename() == "index.db") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(content.find("PLAINTEXT-MARKER"), std::string::npos) << entry.path();
    EXPECT_EQ(content.find("secret-name-marker"), std::string::npos) << entry.path();
  }
}

TEST_F(DedupStoresOnce, AnAbortedSetLeavesNoPartialPackAndTheStoreKeepsWorking) {
  Device d = open_device(small_config(store_dir()));
  sbx_storage_writer* w = begin(d, "aborted");
  // Several 1 MiB packs' worth, so packs are finished by the seal threads while more are being filled.
  write_item(w, file_item("big", random_bytes(5 << 20, 11)));
  vt_->abort_set(w);
  for (const auto& entry : std::filesystem::directory_iterator(store_dir() + "/tmp"))
    ADD_FAILURE() << "left behind: " << entry.path();
  std::string data = random_bytes(3 << 20, 12);
  w = begin(d, "after");
  write_item(w, file_item("f", data));
  sbx_set_stats after = commit(w);
  EXPECT_GT(after.stored_bytes, data.size());
  EXPECT_GT(info(d).packs, 1u);
}

// Entry records travel in groups: a tree of small files costs one blob per file and a few for the metadata
// of all of them, and its metadata reads back in order.
TEST_F(DedupStoresOnce, SmallFilesShareTheirMetadataBlobs) {
  Device d = open_device(small_config(store_dir()));
  std::vector<Item> items;
  for (int i = 0; i < 2000; ++i)
    items.push_back(file_item("src/dir" + std::to_string(i / 50) + "/file" + std::to_string(i) + ".c",
                              random_bytes(300, 1000 + i)));
  auto locators = write_set(d, "small", items);
  const uint64_t groups = info(d).chunks - items.size();
  EXPECT_GE(groups, 2000u / 256) << "a group holds at most 256 entries";
  EXPECT_LE(groups, 2000u / 8) << "entry records were not grouped";
  expect_reads_back(d, "small", locators, items);
}

// The same entries in the same order make the same groups: a set that changed nothing costs its manifest.
TEST_F(DedupStoresOnce, ASetOfUnchangedEntriesStoresOnlyItsManifest) {
  Device d = open_device(small_config(store_dir()));
  auto items = tree(21);
  for (int i = 0; i < 700; ++i)
    items.push_back(file_item("many/f" + std::to_string(i), "x" + std::to_string(i)));
  write_set(d, "monday", items);
  sbx_storage_writer* w = begin(d, "tuesday");
  std::vector<Locator> locators;
  for (const auto& item : items) locators.push_back(write_item(w, item));
  sbx_set_stats stats = commit(w);
  EXPECT_EQ(stats.stored_bytes, std::filesystem::file_size(store_dir() + "/sets/tuesday.manifest"));
  expect_reads_back(d, "tuesday", locators, items);
}

// A manifest lists the set's entry groups, not the data chunks their records name: a set of many chunks has
// a manifest of a few groups' size, and a second full of an unchanged tree costs about that much.
TEST_F(DedupStoresOnce, AManifestCostsItsGroupsNotItsChunks) {
  Device d = open_device(small_config(store_dir()));
  std::vector<Item> items;
  for (int i = 0; i < 20; ++i)
    items.push_back(file_item("big" + std::to_string(i), random_bytes(200000, 40 + i)));
  write_set(d, "s", items);
  const uint64_t blobs = info(d).chunks;
  ASSERT_GT(blobs, 500u);  // 4 KiB chunks
  const uint64_t manifest = std::filesystem::file_size(store_dir() + "/sets/s.manifest");
  // A group is 36 bytes in the manifest; the chunk ids alone would take 32 bytes each.
  EXPECT_LT(manifest, 300u) << manifest << " bytes for " << blobs << " blobs";
}

// A disk that fills up under a backup: the write fails with an error (no crash), the failed set leaves
// nothing behind, and what was stored before still reads back and verifies. The full disk is made by a file
// size limit in a child process: a pack stops growing at 2 MiB as it would at the end of a full disk.
TEST_F(DedupStoresOnce, ADiskFullMidSetFailsTheSetAndLosesNothingStored) {
  const std::string config = small_config(store_dir(), {{"pack_mib", 8}});
  auto before_items = tree(31);
  std::vector<Locator> before;
  {
    Device d = open_device(config);
    before = write_set(d, "before", before_items);
  }
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG, as one fails with ENOSPC
    rlimit limit{2u << 20, 2u << 20};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    Device d;
    if (try_open(config, &d) != SBX_OK) ::_exit(10);
    sbx_storage_writer* w = nullptr;
    if (vt_->begin_set(d.get(), str("full-disk"), &w) != SBX_OK) ::_exit(11);
    const Item big = file_item("big", random_bytes(12 << 20, 32));
    sbx_status s = vt_->write_entry(w, &big.entry.as_c());
    for (size_t at = 0; s == SBX_OK && at < big.data.size(); at += 65536)
      s = vt_->write_data(w, sdk::make_bytes(std::string_view(big.data).substr(at, 65536)));
    if (s == SBX_OK) {
      Locator locator(SBX_LOCATOR_MAX);
      size_t len = 0;
      s = vt_->end_entry(w, locator.data(), &len);
    }
    // commit_set frees the writer whatever it returns; only a writer that never reached it is aborted.
    const bool committing = s == SBX_OK;
    if (committing) {
      sbx_set_stats stats{};
      stats.struct_size = sizeof stats;
      s = vt_->commit_set(w, &stats);
    }
    if (s == SBX_OK) ::_exit(12);  // the set must not commit
    const bool named = FakeHost::last_error().find("big") != std::string::npos ||
                       FakeHost::last_error().find("File too large") != std::string::npos;
    std::fprintf(stderr, "the full disk's error: %s\n", FakeHost::last_error().c_str());
    if (!committing) vt_->abort_set(w);
    ::_exit(named ? 0 : 13);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the writer crashed on a full disk (status " << status << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "10/11: could not start, 12: committed anyway, 13: error names nothing";
  EXPECT_FALSE(std::filesystem::exists(store_dir() + "/sets/full-disk.manifest"));
  EXPECT_FALSE(std::filesystem::exists(store_dir() + "/sets/full-disk.writing"));
  for (const auto& entry : std::filesystem::directory_iterator(store_dir() + "/tmp"))
    ADD_FAILURE() << "left behind: " << entry.path();
  Device d = open_device(config);
  expect_reads_back(d, "before", before, before_items);
  EXPECT_TRUE(verify(d).empty());
}

TEST_F(DedupStoresOnce, InfoCountsChunksAndBytes) {
  Device d = open_device(small_config(store_dir()));
  auto empty = info(d);
  EXPECT_EQ(empty.chunks, 0u);
  write_set(d, "s", tree(3));
  auto full = info(d);
  EXPECT_GT(full.chunks, 10u);
  EXPECT_GT(full.stored_bytes, 200000u);
  EXPECT_GE(full.packs, 1u);
}

}  // namespace
}  // namespace sbx::dedup_test
