// verify --device on a dedup device: structure always, data with --read-data or a subset; damage is named
// with its set and file, raises an alert, and exits 4.
#include <fstream>

#include "dedup_site.hpp"

using namespace sbx::test;

TEST(DedupVerify, AFlippedDataByteIsNamedWithItsSetAndFile) {
  DedupSite s;
  s.add_dedup("dd");
  fs::path data = s.dir() / "data";
  write_file(data / "victim.bin", random_text(500000, 1));
  int64_t set = s.backup(data, "dd");
  EXPECT_EQ(s.run({"verify", "--device", "dd", "--read-data"}).exit_code, 0);
  fs::path pack;
  for (const auto& e : fs::recursive_directory_iterator(s.dir() / "dd" / "packs"))
    if (e.path().extension() == ".pack") pack = e.path();
  ASSERT_FALSE(pack.empty());
  {
    std::fstream f(pack, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.put('\x5a');
  }
  EXPECT_EQ(s.run({"verify", "--device", "dd"}).exit_code, 0) << "structure alone cannot see a data byte";
  auto r = s.run({"verify", "--device", "dd", "--read-data"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("damaged: set " + std::to_string(set) + " /" +
                       (data / "victim.bin").relative_path().string()),
            std::string::npos)
      << r.err;
  auto alerts = s.run({"--json", "alerts", "list"});
  EXPECT_NE(alerts.out.find("damaged entries in sets " + std::to_string(set)), std::string::npos)
      << alerts.out;
  auto j = s.run_json({"verify", "--device", "dd", "--read-data"}, 4);
  EXPECT_GE(j["damaged_chunks"].get<int>(), 1);
}

TEST(DedupVerify, ASubsetReadsPartOfTheData) {
  DedupSite s;
  s.add_dedup("dd", "", {"chunk_avg_kib=8"});
  fs::path data = s.dir() / "data";
  write_file(data / "f", random_text(4 << 20, 2));
  s.backup(data, "dd");
  auto all = s.run_json({"verify", "--device", "dd", "--read-data"});
  auto part = s.run_json({"verify", "--device", "dd", "--read-data-subset", "10%"});
  EXPECT_GT(part["chunks_read"].get<int>(), 0);
  EXPECT_LT(part["chunks_read"].get<int>() * 3, all["chunks_read"].get<int>());
}

TEST(DedupVerify, BadArgumentsAreRefused) {
  DedupSite s;
  s.add_dedup("dd");
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"verify", "--device", "dd", "--read-data-subset", "0%"},
                                             {"verify", "--device", "dd", "--read-data-subset", "150%"},
                                             {"verify", "--device", "dd", "--read-data-subset", "ten"},
                                             {"verify", "--read-data"},
                                             {"verify", "--device", "disk1", "--read-data"},
                                             {"verify", "--device", "nosuch"}}) {
    auto r = s.run(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_FALSE(r.err.empty());
  }
}

TEST(DedupVerify, ACompleteSetWhoseManifestIsGoneIsDamage) {
  // The device's own check walks the manifests it has; a set the catalog holds complete and the device lost
  // cannot be restored, and verify must say so rather than "no damage".
  DedupSite s;
  s.add_dedup("dd");
  fs::path data = s.dir() / "data";
  write_file(data / "f", random_text(100000, 3));
  int64_t lost = s.backup(data, "dd");
  EXPECT_EQ(s.run({"verify", "--device", "dd", "--read-data"}).exit_code, 0);
  std::vector<fs::path> manifests;
  for (const auto& e : fs::directory_iterator(s.dir() / "dd" / "sets"))
    if (e.path().extension() == ".manifest") manifests.push_back(e.path());
  ASSERT_EQ(manifests.size(), 1u);
  fs::remove(manifests.front());
  auto r = s.run({"verify", "--device", "dd", "--read-data"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("damaged: set " + std::to_string(lost) + ": the device holds no manifest of this set"),
            std::string::npos)
      << r.err;
}
