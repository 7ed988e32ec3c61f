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
    linked.push_back(out);
  }
  sbx_set_stats stats = commit(w);
  EXPECT_EQ(stats.entries, items.size());
  auto after = info(d);
  EXPECT_EQ(after.chunks, before.chunks) << "no chunk was written";
  EXPECT_EQ(stats.stored_bytes, std::filesystem::file_size(store_dir() + "/sets/synthetic.manifest"))
      << "only the manifest: the same entries in the same order make the groups the source set has";
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

// A locator is the set's name, the group's place in the manifest and the entry's place in the group
// (records.hpp); a host's catalog is not trusted to hand back only locators the device gave out.
TEST_F(DedupLink, UnknownOrMalformedLocatorIsRefused) {
  Device d = open_device(small_config(store_dir()));
  auto locators = write_set(d, "base", tree(13));
  const Locator good = locators.at(1);
  auto with_set = [&](const std::string& name) {
    Locator l(good.begin(), good.begin() + 9);
    l.insert(l.end(), name.begin(), name.end());
    return l;
  };
  auto with_byte = [&](size_t at, uint8_t value) {
    Locator l = good;
    l.at(at) = value;
    return l;
  };
  sbx_storage_writer* w = begin(d, "bad");
  EXPECT_EQ(link(w, with_set("nosuch")), SBX_ERR_NOT_FOUND) << "a set the device does not hold";
  EXPECT_EQ(link(w, with_byte(4, 0x7f)), SBX_ERR_NOT_FOUND) << "a group past the manifest's end";
  EXPECT_EQ(link(w, with_byte(8, 0x7f)), SBX_ERR_NOT_FOUND) << "an entry past the group's end";
  EXPECT_EQ(link(w, with_set("../../etc")), SBX_ERR_INVALID_ARGUMENT) << "a set name that is a path";
  EXPECT_EQ(link(w, with_byte(0, 1)), SBX_ERR_INVALID_ARGUMENT) << "another locator version";
  EXPECT_EQ(link(w, Locator(32, 0x5a)), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(link(w, Locator(5, 1)), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(link(w, good), SBX_OK) << FakeHost::last_error();
  vt_->abort_set(w);
}

}  // namespace
}  // namespace sbx::dedup_test
