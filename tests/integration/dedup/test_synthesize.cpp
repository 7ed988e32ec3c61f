// Synthetic full on a dedup device is metadata only: every entry is linked, no chunk is written, and a
// restore of it equals the source tree (and a real full taken at that moment).
#include "dedup_site.hpp"

using namespace sbx::test;

namespace {
uint64_t device_chunks(const DedupSite& s, const std::string& device) {
  auto r = s.run({"--json", "devices", "list"});
  for (const auto& j : r.json_lines())
    if (j.value("name", "") == device) return j.value("used_bytes", uint64_t(0));
  return 0;
}
}  // namespace

TEST(DedupSynthesize, LinksEntriesAndStoresNoData) {
  DedupSite s;
  s.add_dedup("dd");
  fs::path data = s.dir() / "data";
  for (int i = 0; i < 30; ++i)
    write_file(data / ("dir" + std::to_string(i % 3)) / ("f" + std::to_string(i)), random_text(60000, i));
  s.backup(data, "dd");
  write_file(data / "dir0" / "f0", random_text(60000, 100));    // changed
  fs::remove(data / "dir1" / "f1");                             // deleted
  fs::rename(data / "dir2" / "f2", data / "dir2" / "renamed");  // renamed
  write_file(data / "added", "added");
  int64_t inc = s.backup(data, "dd", "incremental");
  auto state = snapshot(data);
  uint64_t used_before = device_chunks(s, "dd");

  auto j = s.run_json({"synthesize", std::to_string(inc)});
  EXPECT_EQ(j["bytes"], 0) << "a synthetic full on a dedup device reads and writes no data";
  EXPECT_EQ(j["linked"], j["entries"]);
  EXPECT_GT(j["entries"].get<int>(), 30);
  EXPECT_LT(j["stored_bytes"].get<uint64_t>(), 20000u) << j.dump();
  uint64_t used_after = device_chunks(s, "dd");
  EXPECT_LT(used_after - used_before, 20000u);

  int64_t synthetic = j["set_id"].get<int64_t>();
  EXPECT_EQ(diff_trees(state, s.restored(synthetic, data, "synthetic")), "");
  int64_t real_full = s.backup(data, "dd", "full");
  EXPECT_EQ(diff_trees(s.restored(real_full, data, "real"), s.restored(synthetic, data, "synthetic2")), "");
  // Later incrementals base on it.
  write_file(data / "after", "after");
  auto next = s.run_json({"backup", data.string(), "--device", "dd", "--level", "incremental"});
  EXPECT_TRUE(next["base_set_id"].is_number());
}
