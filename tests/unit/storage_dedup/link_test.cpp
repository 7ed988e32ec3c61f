// link_entry: a set made of entries other sets hold (a synthetic full) moves no data.
#include "dedup_harness.hpp"

namespace sbx::dedup_test {
namespace {

class DedupLink : public DedupTest {};

TEST_F(DedupLink, LinkedSetReadsBackAndStoresNoData) {
  Device d = open_device(small_config(store_dir()));
  auto items = tree(11, 1 << 20);
  auto locators = write_set(d, "full", items);
  auto before = info(d);
  sbx_storage_writer* w = begin(d, "synthetic");
  std::vector<Locator> linked;
  for (const auto& l : locators) {
    Locator out;
    ASSERT_EQ(link(w, l, &out), SBX_OK) << FakeHost::last_error();
    EXPECT_EQ(out, l) << "an entry keeps its locator";
    linked.push_back(out);
  }
  sbx_set_stats stats = commit(w);
  EXPECT_EQ(stats.entries, items.size());
  auto after = info(d);
  EXPECT_EQ(after.chunks, before.chunks) << "no chunk was written";
  EXPECT_EQ(stats.stored_bytes, std::filesystem::file_size(store_dir() + "/sets/synthetic.manifest"))
      << "only the manifest";
  expect_reads_back(d, "synthetic", linked, items);
  // The synthetic set stands on its own once its source is gone.
  ASSERT_EQ(vt_->delete_set(d.get(), str("full")), SBX_OK);
  gc(d, {"synthetic"});
  expect_reads_back(d, "synthetic", linked, items);
  EXPECT_TRUE(verify(d).empty());
}

TEST_F(DedupLink, MixingLinkedAndWrittenEntriesWorks) {
  Device d = open_device(small_config(store_dir()));
  auto items = tree(12);
  auto locators = write_set(d, "base", items);
  sbx_storage_writer* w = begin(d, "mixed");
  Locator kept;
  ASSERT_EQ(link(w, locators[1], &kept), SBX_OK);
  Item fresh = file_item("new-file", random_bytes(70000, 99));
  Locator written = write_item(w, fresh);
  commit(w);
  expect_reads_back(d, "mixed", {kept, written}, {items[1], fresh});
}

TEST_F(DedupLink, UnknownOrMalformedLocatorIsRefused) {
  Device d = open_device(small_config(store_dir()));
  write_set(d, "base", tree(13));
  sbx_storage_writer* w = begin(d, "bad");
  EXPECT_EQ(link(w, Locator(32, 0x5a)), SBX_ERR_NOT_FOUND);
  EXPECT_EQ(link(w, Locator(5, 1)), SBX_ERR_INVALID_ARGUMENT);
  vt_->abort_set(w);
}

}  // namespace
}  // namespace sbx::dedup_test
