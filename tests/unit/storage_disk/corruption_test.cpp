// Damage never crashes or hangs a reader: a flipped byte, a truncated file or a garbage locator costs the
// entries it touches (each reported through on_entry_error) and every other entry is still delivered.
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <filesystem>

#include "disk_harness.hpp"

namespace sbx::disk_test {
namespace {

class DiskDamage : public DiskTest, public ::testing::WithParamInterface<bool> {
 protected:
  bool encrypted() const { return GetParam(); }

  void SetUp() override {
    DiskTest::SetUp();
    nlohmann::json extra = {{"frame_bytes", 4096}};
    if (encrypted()) {
      std::string key = (temp_.path() / "key").string();
      write_file(key, std::string(32, 'k'));
      extra["key_file"] = key;
    }
    dev_ = open_device(config(extra));
    for (int i = 0; i < 60; ++i) {
      if (i % 10 == 0) items_.push_back(other_item(SBX_ENTRY_DIRECTORY, "dir" + std::to_string(i)));
      // Sizes from empty to several frames, so entries start mid-frame and span frames.
      size_t size = static_cast<size_t>((i * i * 211) % 14000);
      items_.push_back(file_item("dir" + std::to_string(i / 10 * 10) + "/f" + std::to_string(i),
                                 testkit::pattern_string(i, size)));
    }
    locators_ = write_set(dev_, "victim", items_);
    ASSERT_EQ(locators_.size(), items_.size());
    path_ = store_dir() + "/sets/victim.tar.zst" + (encrypted() ? ".enc" : "");
    pristine_ = read_file(path_);
    ASSERT_NO_FATAL_FAILURE(find_frames());
  }

  // Frame k spans [starts_[k], starts_[k+1]) (the last one to the end of the file).
  void find_frames() {
    uint64_t at = encrypted() ? 32 : 0;
    while (at < pristine_.size()) {
      starts_.push_back(at);
      if (encrypted()) {
        uint32_t len = 0;
        for (int i = 0; i < 4; ++i)
          len |= static_cast<uint32_t>(static_cast<uint8_t>(pristine_[at + i])) << (8 * i);
        at += 16 + len + 16;
      } else {
        size_t len = ZSTD_findFrameCompressedSize(pristine_.data() + at, pristine_.size() - at);
        ASSERT_FALSE(ZSTD_isError(len)) << ZSTD_getErrorName(len);
        at += len;
      }
    }
    ASSERT_EQ(at, pristine_.size());
    ASSERT_GT(starts_.size(), 20u);
    for (const Locator& l : locators_) {
      auto it = std::find(starts_.begin(), starts_.end(), decode_locator(l).frame_offset);
      ASSERT_NE(it, starts_.end()) << "a locator names no frame start";
      header_frame_.push_back(static_cast<size_t>(it - starts_.begin()));
    }
  }

  size_t frame_at(uint64_t pos) const {
    return static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), pos) - starts_.begin()) - 1;
  }
  // Entry i's tar bytes run from its header's frame to the next entry's header's frame.
  size_t last_frame_of(size_t i) const {
    return i + 1 < items_.size() ? header_frame_[i + 1] : starts_.size() - 1;
  }

  void restore() { write_file(path_, pristine_); }

  Device dev_;
  std::vector<Item> items_;
  std::vector<Locator> locators_;
  std::string path_;
  std::string pristine_;
  std::vector<uint64_t> starts_;
  std::vector<size_t> header_frame_;
};

TEST_P(DiskDamage, FlippedBytesAnywhere) {
  std::vector<uint64_t> positions;
  const uint64_t size = pristine_.size();
  for (uint64_t p = 0; p < 40 && p < size; ++p) positions.push_back(p);
  for (uint64_t p = 40; p < size; p += std::max<uint64_t>(1, size / 150)) positions.push_back(p);
  for (uint64_t k : {1, 7, 13}) {
    for (int64_t d : {-1, 0, 1, 5}) positions.push_back(starts_[k] + d);
  }
  for (uint64_t p = size - 20; p < size; ++p) positions.push_back(p);

  size_t flips_with_errors = 0;
  for (uint64_t pos : positions) {
    SCOPED_TRACE("byte " + std::to_string(pos) + " flipped");
    std::string damaged = pristine_;
    damaged[pos] = static_cast<char>(damaged[pos] ^ 0x5A);
    write_file(path_, damaged);
    const bool in_header = encrypted() && pos < 32;
    const size_t hit = in_header ? SIZE_MAX : frame_at(pos);

    auto got = read(dev_, "victim", locators_);
    ASSERT_EQ(got.size(), items_.size());
    bool any_error = false;
    for (size_t i = 0; i < items_.size(); ++i) {
      const bool touched = in_header || (header_frame_[i] <= hit && hit <= last_frame_of(i));
      if (got[i].error) {
        any_error = true;
        EXPECT_EQ(got[i].error_index, i);
        EXPECT_TRUE(touched) << "entry " << i
                             << " outside the damaged frame failed: " << got[i].error_message;
        EXPECT_LT(got[i].error_status, 0);
        if (!in_header && header_frame_[i] == hit) {
          EXPECT_NE(got[i].error_message.find("frame at offset " + std::to_string(starts_[hit])),
                    std::string::npos)
              << got[i].error_message;
        }
      } else {
        // Delivered means delivered right, damaged frame or not.
        expect_entry(items_[i], got[i]);
      }
      // GCM leaves no flip undetected in a record; a header entry can only be delivered if untouched.
      if (encrypted() && (in_header || header_frame_[i] == hit)) {
        EXPECT_TRUE(got[i].error) << "entry " << i << " in a damaged record was delivered";
      }
    }
    if (any_error) ++flips_with_errors;
    if (HasFailure()) break;
  }
  restore();
  // zstd's checksum catches nearly every flip; a few (e.g. in the window size) change nothing.
  EXPECT_GE(flips_with_errors * 10, positions.size() * 9) << flips_with_errors << " of " << positions.size();
}

TEST_P(DiskDamage, TruncatedFiles) {
  std::vector<uint64_t> cuts = {0, 1, pristine_.size() - 1, pristine_.size() / 2};
  if (encrypted()) cuts.insert(cuts.end(), {10, 31, 32, 40});
  for (size_t k : {1, 5, 17}) cuts.insert(cuts.end(), {starts_[k], starts_[k] + 3});
  for (uint64_t cut : cuts) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    write_file(path_, pristine_.substr(0, cut));
    auto got = read(dev_, "victim", locators_);
    ASSERT_EQ(got.size(), items_.size());
    const size_t lost = cut < starts_.front() ? 0 : frame_at(cut);  // first frame not wholly kept
    for (size_t i = 0; i < items_.size(); ++i) {
      if (last_frame_of(i) < lost && !(encrypted() && cut < 32)) {
        expect_entry(items_[i], got[i]);
      } else if (header_frame_[i] >= lost || (encrypted() && cut < 32)) {
        EXPECT_TRUE(got[i].error) << "entry " << i << " past the cut was delivered";
      } else if (!got[i].error) {
        expect_entry(items_[i], got[i]);
      }
    }
    if (HasFailure()) break;
  }
  restore();
}

TEST_P(DiskDamage, GarbageLocatorsAmongGoodOnes) {
  const DecodedLocator mid = decode_locator(locators_[30]);
  auto crafted = [&](DecodedLocator d) { return encode_locator(d, "victim"); };
  Locator wrong_version = locators_[30];
  wrong_version[0] = 2;
  Locator bad_check = locators_[30];
  bad_check[21] ^= 1;
  Locator longer = locators_[30];
  longer.push_back(0);
  std::vector<std::pair<Locator, sbx_status>> bad = {
      {{}, SBX_ERR_INVALID_ARGUMENT},
      {wrong_version, SBX_ERR_INVALID_ARGUMENT},
      {Locator(locators_[30].begin(), locators_[30].end() - 1), SBX_ERR_INVALID_ARGUMENT},
      {longer, SBX_ERR_INVALID_ARGUMENT},
      {bad_check, SBX_ERR_INVALID_ARGUMENT},
      {Locator(SBX_LOCATOR_MAX, 0x01), SBX_ERR_INVALID_ARGUMENT},
      {encode_locator(mid, "another-set"), SBX_ERR_INVALID_ARGUMENT},
      {crafted({pristine_.size() + 1000, mid.frame_index, 0}), SBX_ERR_CORRUPT},
      {crafted({uint64_t{1} << 62, mid.frame_index, 0}), SBX_ERR_CORRUPT},
      {crafted({mid.frame_offset + 1, mid.frame_index, mid.offset_in_frame}), SBX_ERR_CORRUPT},
      {crafted({mid.frame_offset, mid.frame_index, mid.offset_in_frame + 1}), SBX_ERR_CORRUPT},
      {crafted({mid.frame_offset, mid.frame_index, 0xFFFFFFFFu}), SBX_ERR_CORRUPT},
  };
  if (encrypted())
    bad.push_back({crafted({mid.frame_offset, mid.frame_index + 1, mid.offset_in_frame}), SBX_ERR_CORRUPT});
  std::vector<Locator> asked;
  std::vector<int> want;  // entry index, or -1 for an expected error
  for (size_t b = 0; b < bad.size(); ++b) {
    asked.push_back(locators_[b * 3]);
    want.push_back(static_cast<int>(b * 3));
    asked.push_back(bad[b].first);
    want.push_back(-1);
  }
  auto got = read(dev_, "victim", asked);
  ASSERT_EQ(got.size(), asked.size());
  for (size_t k = 0; k < asked.size(); ++k) {
    SCOPED_TRACE("locator " + std::to_string(k));
    if (want[k] >= 0) {
      expect_entry(items_[static_cast<size_t>(want[k])], got[k]);
    } else {
      ASSERT_TRUE(got[k].error);
      EXPECT_EQ(got[k].error_index, k);
      EXPECT_EQ(got[k].error_status, bad[k / 2].second) << got[k].error_message;
      EXPECT_FALSE(got[k].error_message.empty());
    }
  }
}

TEST_P(DiskDamage, DamagedFrameCostsOnlyItsEntriesOnRandomAccess) {
  const size_t k = header_frame_[30];
  std::string damaged = pristine_;
  uint64_t pos = (starts_[k] + (k + 1 < starts_.size() ? starts_[k + 1] : pristine_.size())) / 2;
  damaged[pos] = static_cast<char>(damaged[pos] ^ 0xFF);
  write_file(path_, damaged);
  std::vector<size_t> order = {30, 0, 59, 30};
  std::vector<Locator> asked;
  for (size_t i : order) asked.push_back(locators_[i]);
  auto got = read(dev_, "victim", asked);
  ASSERT_EQ(got.size(), order.size());
  EXPECT_TRUE(got[0].error);
  EXPECT_TRUE(got[3].error);
  EXPECT_NE(got[0].error_message.find("frame at offset " + std::to_string(starts_[k])), std::string::npos)
      << got[0].error_message;
  if (last_frame_of(0) < k) expect_entry(items_[0], got[1]);
  if (header_frame_[59] > k) expect_entry(items_[59], got[2]);
  restore();
}

INSTANTIATE_TEST_SUITE_P(PlainAndEncrypted, DiskDamage, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Encrypted" : "Plain"; });

}  // namespace
}  // namespace sbx::disk_test
