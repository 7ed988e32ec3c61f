// One entry restores without reading the whole set, and a run of locators in file order reads the set
// once, front to back. Bytes read are measured with /proc/self/io (rchar).
#include <sys/stat.h>

#include <fstream>

#include "disk_harness.hpp"

namespace sbx::disk_test {
namespace {

class DiskRandomAccess : public DiskTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    DiskTest::SetUp();
    nlohmann::json extra = {{"frame_bytes", 65536}};
    if (GetParam()) {
      std::string key = (temp_.path() / "key").string();
      write_file(key, std::string(32, '\x42'));
      extra["key_file"] = key;
    }
    dev_ = open_device(config(extra));
    // Incompressible data, so the set is as large as its content and frames are distinct on disk.
    for (int i = 0; i < 400; ++i)
      items_.push_back(
          file_item("dir/file" + std::to_string(i), testkit::pattern_string(i, 10000 + (i * 37) % 20000)));
    locators_ = write_set(dev_, "multi", items_);
    ASSERT_EQ(locators_.size(), items_.size());
    struct stat st;
    ASSERT_EQ(::stat((store_dir() + "/sets/multi.tar.zst" + (GetParam() ? ".enc" : "")).c_str(), &st), 0);
    set_bytes_ = static_cast<uint64_t>(st.st_size);
  }

  // Reads `order` and returns how many bytes the process read meanwhile.
  uint64_t read_and_measure(const std::vector<size_t>& order) {
    std::vector<Locator> asked;
    for (size_t i : order) asked.push_back(locators_[i]);
    uint64_t before = bytes_read_by_process();
    auto got = read(dev_, "multi", asked);
    uint64_t after = bytes_read_by_process();
    EXPECT_EQ(got.size(), order.size());
    for (size_t k = 0; k < got.size() && k < order.size(); ++k) expect_entry(items_[order[k]], got[k]);
    return after - before;
  }

  Device dev_;
  std::vector<Item> items_;
  std::vector<Locator> locators_;
  uint64_t set_bytes_ = 0;
};

TEST_P(DiskRandomAccess, SetSpansManyFrames) {
  std::set<uint64_t> frames;
  for (const Locator& l : locators_) frames.insert(decode_locator(l).frame_offset);
  EXPECT_GT(frames.size(), 50u);
  EXPECT_GT(set_bytes_, 6u << 20);
}

TEST_P(DiskRandomAccess, OneEntryFromTheMiddleReadsLittle) {
  uint64_t read_bytes = read_and_measure({200});
  // The entry's frame plus at most one read-ahead chunk (1 MiB), not the ~8 MB set.
  EXPECT_LT(read_bytes, set_bytes_ / 4) << "set is " << set_bytes_ << " bytes";
}

TEST_P(DiskRandomAccess, ContiguousReadOfAllEntriesReadsTheSetOnce) {
  std::vector<size_t> all(items_.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  uint64_t read_bytes = read_and_measure(all);
  EXPECT_LE(read_bytes, set_bytes_ + set_bytes_ / 20 + (1u << 20)) << "set is " << set_bytes_ << " bytes";
}

TEST_P(DiskRandomAccess, SparseSelectionInOrderReadsEachFrameAtMostOnce) {
  std::vector<size_t> every_seventh;
  for (size_t i = 3; i < items_.size(); i += 7) every_seventh.push_back(i);
  uint64_t read_bytes = read_and_measure(every_seventh);
  EXPECT_LE(read_bytes, set_bytes_ + set_bytes_ / 20 + (1u << 20)) << "set is " << set_bytes_ << " bytes";
}

TEST_P(DiskRandomAccess, ScatteredEntriesComeBackRight) {
  read_and_measure({399, 0, 250, 251, 17, 17, 398, 1, 200});
}

INSTANTIATE_TEST_SUITE_P(PlainAndEncrypted, DiskRandomAccess, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Encrypted" : "Plain"; });

}  // namespace
}  // namespace sbx::disk_test
