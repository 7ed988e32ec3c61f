// Reading a set back with chunks decoded ahead of the host (read_threads) or on the host's own thread: the
// same entries in the same order, bounded by the read-ahead window, and damage fails only its own file.
#include <sqlite3.h>
#include <sys/resource.h>

#include "dedup_harness.hpp"

namespace sbx::dedup_test {
namespace {

class DedupRead : public DedupTest {
 protected:
  // Thousands of small entries and two files larger than the 32 MiB read-ahead window, so a read crosses
  // the window both by count and by bytes.
  std::vector<Item> wide_tree() {
    std::vector<Item> items{other_item(SBX_ENTRY_DIRECTORY, "d")};
    items.push_back(file_item("d/large-1", random_bytes(40u << 20, 1)));
    for (uint32_t i = 0; i < 5000; ++i)
      items.push_back(
          file_item("d/small-" + std::to_string(i), i % 7 == 0 ? "" : random_bytes(50 + i % 400, i)));
    items.push_back(file_item("d/large-2", random_bytes(36u << 20, 2)));
    items.push_back(other_item(SBX_ENTRY_SYMLINK, "d/link", "large-1", 0777));
    return items;
  }
  std::string config_with(unsigned read_threads) {
    return small_config(store_dir(), {{"chunk_avg_kib", 64}, {"read_threads", read_threads}});
  }
};

TEST_F(DedupRead, EveryThreadCountDeliversTheSameEntriesInOrder) {
  auto items = wide_tree();
  std::vector<Locator> locators;
  {
    Device d = open_device(config_with(2));
    locators = write_set(d, "wide", items);
  }
  for (unsigned threads : {0u, 1u, 2u, 5u}) {
    SCOPED_TRACE("read_threads " + std::to_string(threads));
    Device d = open_device(config_with(threads));
    expect_reads_back(d, "wide", locators, items);
    // Out of set order and with repeats, as a restore of a few files asks.
    std::vector<Locator> some{locators[3000], locators[1], locators[3000], locators[0], locators.back()};
    std::vector<Item> expected{items[3000], items[1], items[3000], items[0], items.back()};
    expect_reads_back(d, "wide", some, expected);
  }
}

TEST_F(DedupRead, ADamagedChunkFailsOnlyItsFile) {
  std::vector<Item> items{file_item("big", random_bytes(3u << 20, 7)),
                          file_item("after", random_bytes(9000, 8)), file_item("last", "")};
  std::vector<Locator> locators;
  {
    Device d = open_device(config_with(0));
    locators = write_set(d, "s", items);
  }
  // The first blob of the first pack is a data chunk of "big", somewhere in the middle of the file's chunks
  // once packs are sorted by name; flip a byte in each pack's first blob to be sure to hit one of them.
  for (const auto& f : store_files())
    if (f.extension() == ".pack") flip(f, 200);
  for (unsigned threads : {0u, 2u}) {
    SCOPED_TRACE("read_threads " + std::to_string(threads));
    Device d = open_device(config_with(threads));
    auto outcomes = read(d, "s", locators);
    ASSERT_EQ(outcomes.size(), 3u);
    EXPECT_TRUE(outcomes[0].error);
    EXPECT_EQ(outcomes[0].error_index, 0u);
    EXPECT_EQ(outcomes[0].error_status, SBX_ERR_CORRUPT);
    EXPECT_NE(outcomes[0].error_message.find("a data chunk of big"), std::string::npos)
        << outcomes[0].error_message;
    for (size_t i : {1u, 2u}) {
      EXPECT_FALSE(outcomes[i].error) << outcomes[i].error_message;
      EXPECT_EQ(outcomes[i].data, items[i].data);
    }
  }
}

TEST_F(DedupRead, APackCutShortFailsOnlyTheFilesPastTheCut) {
  // Small files stored back to back, which a worker reads with one read for many chunks; when that read
  // comes up short, each chunk is read on its own and only those past the cut fail.
  std::vector<Item> items;
  for (uint32_t i = 0; i < 300; ++i)
    items.push_back(file_item("f" + std::to_string(i), random_bytes(3000, 40 + i)));
  std::vector<Locator> locators;
  {
    Device d = open_device(config_with(0));
    locators = write_set(d, "s", items);
  }
  std::filesystem::path biggest;
  for (const auto& f : store_files())
    if (f.extension() == ".pack" && (biggest.empty() || file_size(f) > file_size(biggest))) biggest = f;
  ASSERT_FALSE(biggest.empty());
  std::filesystem::resize_file(biggest, file_size(biggest) / 2);
  std::vector<bool> failed_with_no_threads;
  for (unsigned threads : {0u, 2u}) {
    SCOPED_TRACE("read_threads " + std::to_string(threads));
    Device d = open_device(config_with(threads));
    auto outcomes = read(d, "s", locators);
    ASSERT_EQ(outcomes.size(), items.size());
    std::vector<bool> failed;
    size_t good = 0;
    for (size_t i = 0; i < outcomes.size(); ++i) {
      failed.push_back(outcomes[i].error);
      if (outcomes[i].error) {
        EXPECT_EQ(outcomes[i].error_status, SBX_ERR_CORRUPT) << outcomes[i].error_message;
      } else {
        EXPECT_EQ(outcomes[i].data, items[i].data) << i;
        ++good;
      }
    }
    EXPECT_GT(good, 0u);
    EXPECT_LT(good, items.size());
    if (threads == 0)
      failed_with_no_threads = failed;
    else
      EXPECT_EQ(failed, failed_with_no_threads);
  }
}

TEST_F(DedupRead, AWildLengthInTheIndexCostsAnErrorNotItsMemory) {
  // The index may be damaged, or come from a hostile transfer drive: a blob's length is checked against its
  // pack before it is allocated.
  std::vector<Item> items{file_item("big", random_bytes(200000, 11)),
                          file_item("small", random_bytes(900, 12))};
  std::vector<Locator> locators;
  {
    Device d = open_device(config_with(0));
    locators = write_set(d, "s", items);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((store_dir() + "/index.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE blob_rows SET length = 4294967295 WHERE id = "
                         "(SELECT id FROM blob_rows ORDER BY length DESC LIMIT 1)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);
  struct rusage before {};
  ::getrusage(RUSAGE_SELF, &before);
  for (unsigned threads : {0u, 2u}) {
    SCOPED_TRACE("read_threads " + std::to_string(threads));
    Device d = open_device(config_with(threads));
    auto outcomes = read(d, "s", locators);
    ASSERT_EQ(outcomes.size(), 2u);
    EXPECT_TRUE(outcomes[0].error);
    EXPECT_EQ(outcomes[0].error_status, SBX_ERR_CORRUPT) << outcomes[0].error_message;
    EXPECT_NE(outcomes[0].error_message.find("shorter than its index says"), std::string::npos)
        << outcomes[0].error_message;
    EXPECT_FALSE(outcomes[1].error) << outcomes[1].error_message;
  }
  struct rusage after {};
  ::getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 1L << 20) << "peak memory grew by KiB";
}

TEST_F(DedupRead, ARefusalInsideALargeFileStopsTheReadAhead) {
  auto items = wide_tree();
  Device d = open_device(config_with(3));
  auto locators = write_set(d, "wide", items);
  sbx_storage_reader* r = nullptr;
  ASSERT_EQ(vt_->open_set(d.get(), str("wide"), &r), SBX_OK);
  Recorder recorder;
  recorder.refuse_entry(1, SBX_ERR_CANCELLED);  // large-1: the window is full of its chunks by now
  std::vector<sbx_bytes> views;
  for (const Locator& l : locators) views.push_back({l.data(), l.size()});
  EXPECT_EQ(vt_->read_entries(r, views.data(), views.size(), recorder.sink()), SBX_ERR_CANCELLED);
  EXPECT_EQ(recorder.outcomes.size(), 2u);
  EXPECT_EQ(recorder.calls_after_refusal, 0u);
  // The same reader reads again after a refusal.
  Recorder again;
  EXPECT_EQ(vt_->read_entries(r, views.data() + 2, 3, again.sink()), SBX_OK);
  vt_->close_reader(r);
  ASSERT_EQ(again.outcomes.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(again.outcomes[i].data, items[2 + i].data);
}

TEST_F(DedupRead, AReaderKeptOpenAcrossGcReadsFromTheRewrittenPack) {
  Device d = open_device(small_config(store_dir(), {{"pack_mib", 16}, {"read_threads", 2}}));
  // One pack holding both sets' chunks; gc rewrites it without the dropped file's.
  const PartlyDeadPack made = write_partly_dead_pack(d, 28);
  sbx_storage_reader* r = nullptr;
  ASSERT_EQ(vt_->open_set(d.get(), str("keeper"), &r), SBX_OK);
  sbx_bytes view{made.linked.data(), made.linked.size()};
  auto read_keep = [&] {
    Recorder recorder;
    EXPECT_EQ(vt_->read_entries(r, &view, 1, recorder.sink()), SBX_OK) << FakeHost::last_error();
    return recorder.outcomes.size() == 1 && !recorder.outcomes[0].error &&
           recorder.outcomes[0].data == made.keep.data;
  };
  EXPECT_TRUE(read_keep());
  ASSERT_EQ(vt_->delete_set(d.get(), str("both")), SBX_OK);
  ASSERT_EQ(gc(d, {"keeper"}).packs_rewritten, 1u);
  EXPECT_TRUE(read_keep());
  vt_->close_reader(r);
}

}  // namespace
}  // namespace sbx::dedup_test
