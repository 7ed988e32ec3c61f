// --include selects files; excludes still win; directories are searched at every depth.
#include "harness.hpp"

using namespace sbx::test;

TEST(CliIncludes, OnlyMatchingFilesAreBackedUpAndExcludesStillWin) {
  TempDir dir;
  auto site = init_site(dir);
  auto data = dir / "data";
  write_file(data / "a.txt", "a");
  write_file(data / "deep" / "er" / "b.txt", "b");
  write_file(data / "deep" / "skip.bin", "no");
  write_file(data / "tmp" / "c.txt", "excluded");
  auto r = run_strongbox(
      {"--site", site.string(), "backup", data.string(), "--include", "*.txt", "--exclude", "tmp/"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto restored = dir / "r";
  r = run_strongbox({"--site", site.string(), "restore", "--to", restored.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto root = restored / data.relative_path();
  EXPECT_EQ(read_file(root / "a.txt"), "a");
  EXPECT_EQ(read_file(root / "deep" / "er" / "b.txt"), "b");
  EXPECT_FALSE(std::filesystem::exists(root / "deep" / "skip.bin"));
  EXPECT_FALSE(std::filesystem::exists(root / "tmp"));
  auto bad = run_strongbox({"--site", site.string(), "backup", data.string(), "--include", "x/y"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("include pattern 'x/y'"), std::string::npos) << bad.err;
}
