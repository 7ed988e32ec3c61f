// verify checks structure and, with read-data, every blob; damage is reported with the set and the file it
// breaks, and nothing crashes on any damage.
#include "dedup_harness.hpp"

namespace sbx::dedup_test {
namespace {

using DedupVerify = DedupTest;

TEST_F(DedupVerify, AHealthyStoreVerifies) {
  Device d = open_device(small_config(store_dir(), {{"key_file", key_file()}}));
  write_set(d, "a", tree(41));
  write_set(d, "b", tree(42));
  sbx_verify_stats stats{};
  EXPECT_TRUE(verify(d, 100, &stats).empty());
  EXPECT_EQ(stats.sets_checked, 2u);
  EXPECT_GT(stats.chunks_read, 50u);
  EXPECT_EQ(stats.damaged_chunks, 0u);
}

TEST_F(DedupVerify, EveryFlippedByteInAPackOrManifestIsReported) {
  std::mt19937_64 rng(43);
  for (bool encrypted : {false, true}) {
    std::string base = dir(encrypted ? "enc" : "plain");
    std::string key = key_file();
    auto config = [&](const std::string& path) {
      return encrypted ? small_config(path, {{"key_file", key}}) : small_config(path);
    };
    {
      Device d = open_device(config(base));
      write_set(d, "a", tree(44, 300000));
      write_set(d, "b", tree(45, 300000));
    }
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(base))
      if (e.is_regular_file() && (e.path().extension() == ".pack" || e.path().extension() == ".manifest"))
        files.push_back(e.path());
    ASSERT_GE(files.size(), 3u);
    for (int round = 0; round < (encrypted ? 100 : 60); ++round) {
      std::filesystem::path work = temp_.path() / "work";
      std::filesystem::remove_all(work);
      std::filesystem::copy(base, work, std::filesystem::copy_options::recursive);
      const auto& original = files[rng() % files.size()];
      std::filesystem::path target = work / std::filesystem::relative(original, base);
      uint64_t at = rng() % std::filesystem::file_size(target);
      flip(target, at);
      Device d = open_device(config(work.string()));
      auto found = verify(d);
      EXPECT_FALSE(found.empty()) << "flip at " << at << " of " << target << " went unreported";
      bool in_pack = target.extension() == ".pack";
      bool named_a_file = false;
      for (const auto& damage : found)
        named_a_file = named_a_file || !damage.path.empty() || !damage.set.empty();
      if (!in_pack) {
        EXPECT_TRUE(named_a_file) << "a damaged manifest names its set";
      }
    }
  }
}

TEST_F(DedupVerify, DamagedDataIsReportedWithItsSetAndFile) {
  Device d = open_device(small_config(store_dir()));
  Item big = file_item("dir/big-file", random_bytes(400000, 46));
  Item other = file_item("other", random_bytes(1000, 47));
  auto locators = write_set(d, "set-one", {big, other});
  // Find a data blob of big-file: the largest blob of the pack is a data chunk.
  auto files = store_files();
  std::filesystem::path pack;
  for (const auto& f : files)
    if (f.extension() == ".pack") pack = f;
  ASSERT_FALSE(pack.empty());
  flip(pack, 200);  // inside the first blob, a data chunk of the first file
  auto found = verify(d);
  ASSERT_FALSE(found.empty());
  bool named = false;
  for (const auto& damage : found)
    named = named || (damage.set == "set-one" && damage.path == "dir/big-file" &&
                      damage.locator == std::string(locators.at(0).begin(), locators.at(0).end()));
  EXPECT_TRUE(named) << found[0].set << " " << found[0].path << " " << found[0].problem;
  // Structure alone cannot see a flipped data byte; read-data can.
  EXPECT_TRUE(verify(d, 0).empty());
}

TEST_F(DedupVerify, AMissingPackIsReportedForEveryFileItHeld) {
  Device d = open_device(small_config(store_dir()));
  auto locators = write_set(d, "s", tree(48));
  for (const auto& f : store_files())
    if (f.extension() == ".pack") std::filesystem::remove(f);
  auto found = verify(d, 0);
  // The entry groups went with the packs, so the device names each broken entry by its locator (the host
  // maps locators to paths through its catalog).
  std::set<std::string> reported;
  for (const auto& damage : found)
    if (damage.set == "s") reported.insert(damage.locator);
  for (const auto& l : locators) EXPECT_TRUE(reported.count(std::string(l.begin(), l.end())));
}

// Blobs no set needs (until gc takes them) are not checked for any set, but their damage still gets a line:
// the disk under the store is failing.
TEST_F(DedupVerify, DamageToABlobNoSetNeedsIsReported) {
  Device d = open_device(small_config(store_dir()));
  write_set(d, "gone", {file_item("only-here", random_bytes(100000, 91))});
  const auto gone_packs = store_files();
  auto locators = write_set(d, "kept", tree(92));
  ASSERT_EQ(vt_->delete_set(d.get(), str("gone")), SBX_OK);
  std::filesystem::path pack;
  for (const auto& file : gone_packs)
    if (file.extension() == ".pack") pack = file;
  ASSERT_FALSE(pack.empty());
  flip(pack, 100);  // in the first blob
  auto found = verify(d);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].set, "");
  EXPECT_NE(found[0].problem.find("which no set needs"), std::string::npos) << found[0].problem;
}

TEST_F(DedupVerify, ASubsetReadsAboutThatShare) {
  Device d = open_device(small_config(store_dir()));
  write_set(d, "s", tree(49, 2 << 20));
  sbx_verify_stats all{}, part{};
  verify(d, 100, &all);
  verify(d, 10, &part, 5);
  EXPECT_GT(part.chunks_read, all.chunks_read / 30);
  EXPECT_LT(part.chunks_read, all.chunks_read / 4);
}

TEST_F(DedupVerify, GarbageInPlaceOfEveryFileNeverCrashes) {
  {
    Device d = open_device(small_config(store_dir()));
    write_set(d, "s", tree(50));
  }
  for (const auto& f : store_files()) std::ofstream(f, std::ios::binary | std::ios::trunc) << "garbage";
  Device d = open_device(small_config(store_dir()));
  EXPECT_FALSE(verify(d).empty());
}

}  // namespace
}  // namespace sbx::dedup_test
