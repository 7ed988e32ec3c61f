// verify reads every set back; a corrupted set is reported with the files hit, and nothing crashes.
#include "harness.hpp"

#include <fstream>

namespace fs = std::filesystem;
using namespace sbx::test;

namespace {

fs::path only_set_file(const fs::path& device_dir) {
  for (auto& f : fs::recursive_directory_iterator(device_dir))
    if (f.is_regular_file() && f.path().extension() == ".zst") return f.path();
  return {};
}

void flip_byte(const fs::path& file, std::streamoff at) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  char c;
  f.read(&c, 1);
  c = char(c ^ 0x5a);
  f.seekp(at);
  f.write(&c, 1);
}

}  // namespace

TEST(CliVerify, CleanSiteVerifies) {
  TempDir dir;
  auto site = init_site(dir);
  write_file(dir / "data" / "a", std::string(100000, 'a'));
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", (dir / "data").string()}).exit_code, 0);
  auto v = run_strongbox({"--site", site.string(), "--json", "verify"});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  auto j = v.json_lines().at(0);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["sets"], 1);
  EXPECT_EQ(run_strongbox({"--site", site.string(), "verify", "1"}).exit_code, 0);
}

TEST(CliVerify, CorruptedSetNamesTheFilesHit) {
  TempDir dir;
  auto site = init_site(dir);
  // Incompressible files large enough that a flipped byte lands inside one file's frame.
  for (int i = 0; i < 6; ++i) {
    std::string content(1 << 20, '\0');
    uint32_t x = 12345 + i;
    for (auto& c : content) c = char((x = x * 1103515245 + 12345) >> 24);
    write_file(dir / "data" / ("file" + std::to_string(i)), content);
  }
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", (dir / "data").string()}).exit_code, 0);
  fs::path set = only_set_file(site / "devices" / "disk1");
  ASSERT_FALSE(set.empty());
  flip_byte(set, std::streamoff(fs::file_size(set) / 2));
  auto v = run_strongbox({"--site", site.string(), "--json", "verify"});
  EXPECT_EQ(v.exit_code, 4) << v.out << v.err;
  auto j = v.json_lines().at(0);
  EXPECT_EQ(j["ok"], false);
  ASSERT_FALSE(j["damage"].empty());
  bool named = false;
  for (const auto& d : j["damage"]) named |= d["path"].get<std::string>().find("/data/file") != std::string::npos;
  EXPECT_TRUE(named) << j.dump();
  auto text = run_strongbox({"--site", site.string(), "verify"});
  EXPECT_NE(text.err.find("damaged: set 1"), std::string::npos) << text.err;
}

TEST(CliVerify, MissingOrTruncatedSetFileIsReported) {
  TempDir dir;
  auto site = init_site(dir);
  write_file(dir / "data" / "a", "aaa");
  write_file(dir / "data" / "b", "bbb");
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", (dir / "data").string()}).exit_code, 0);
  fs::path set = only_set_file(site / "devices" / "disk1");
  fs::resize_file(set, fs::file_size(set) / 3);
  auto v = run_strongbox({"--site", site.string(), "--json", "verify"});
  EXPECT_EQ(v.exit_code, 4) << v.err;
  fs::remove(set);
  auto gone = run_strongbox({"--site", site.string(), "--json", "verify"});
  EXPECT_EQ(gone.exit_code, 4) << gone.err;
  EXPECT_FALSE(gone.json_lines().at(0)["damage"].empty());
}
