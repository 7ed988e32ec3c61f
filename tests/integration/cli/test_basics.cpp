// Site discovery, exit codes, --json and usage errors.
#include "harness.hpp"

using namespace sbx::test;

TEST(CliBasics, InitMakesASiteWithDisk1) {
  TempDir dir;
  auto site = init_site(dir);
  EXPECT_TRUE(std::filesystem::exists(site / "catalog.db"));
  EXPECT_TRUE(std::filesystem::exists(site / "policies" / "default" / "retention.lua"));
  auto r = run_strongbox({"--site", site.string(), "--json", "devices", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = r.json_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["name"], "disk1");
  EXPECT_EQ(lines[0]["plugin"], "disk");
  EXPECT_EQ(lines[0]["online"], true);
}

TEST(CliBasics, InitRefusesAnExistingSiteOrNonEmptyDir) {
  TempDir dir;
  auto site = init_site(dir);
  auto again = run_strongbox({"init", site.string()});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  write_file(dir / "full" / "x", "x");
  auto full = run_strongbox({"init", (dir / "full").string()});
  EXPECT_EQ(full.exit_code, 1);
  EXPECT_NE(full.err.find("not empty"), std::string::npos) << full.err;
}

TEST(CliBasics, SiteFromEnvironmentThenCurrentDirectory) {
  TempDir dir;
  auto site = init_site(dir);
  auto by_env = run_strongbox({"sets", "list"}, {"STRONGBOX_SITE=" + site.string()});
  EXPECT_EQ(by_env.exit_code, 0) << by_env.err;
  auto missing = run_strongbox({"--site", (dir / "nowhere").string(), "sets", "list"});
  EXPECT_EQ(missing.exit_code, 10);
  EXPECT_NE(missing.err.find("no strongbox site"), std::string::npos) << missing.err;
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << "one error line: " << missing.err;
}

TEST(CliBasics, UsageErrorsExitTwoWithOneLine) {
  auto r = run_strongbox({"backup"});
  EXPECT_EQ(r.exit_code, 2);
  auto bad_level = run_strongbox({"backup", "/tmp", "--level", "weekly"});
  EXPECT_EQ(bad_level.exit_code, 2);
  auto unknown = run_strongbox({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(std::count(unknown.err.begin(), unknown.err.end(), '\n'), 1) << unknown.err;
}

TEST(CliBasics, PluginsListShowsTheBuiltPlugins) {
  auto r = run_strongbox({"--json", "plugins", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& j : r.json_lines()) by_name[j["name"].get<std::string>()] = j;
  ASSERT_TRUE(by_name.count("disk"));
  ASSERT_TRUE(by_name.count("files"));
  ASSERT_TRUE(by_name.count("local"));
  EXPECT_EQ(by_name["disk"]["kind"], "storage");
  EXPECT_EQ(by_name["files"]["kind"], "agent");
  EXPECT_EQ(by_name["local"]["kind"], "transport");
  EXPECT_EQ(by_name["disk"]["abi"], "1.2");
  EXPECT_FALSE(by_name["files"]["capabilities"].empty());
  auto text = run_strongbox({"plugins", "list"});
  EXPECT_NE(text.out.find("disk"), std::string::npos);
}

TEST(CliBasics, SetIdsAreValidated) {
  TempDir dir;
  auto site = init_site(dir);
  auto r = run_strongbox({"--site", site.string(), "files", "list", "abc"});
  EXPECT_EQ(r.exit_code, 2);
  auto none = run_strongbox({"--site", site.string(), "files", "list", "99"});
  EXPECT_EQ(none.exit_code, 2);
  auto restore = run_strongbox(
      {"--site", site.string(), "restore", "--as-of", "yesterday-ish", "--to", (dir / "r").string()});
  EXPECT_EQ(restore.exit_code, 2);
  EXPECT_NE(restore.err.find("neither an ISO 8601 time nor a set id"), std::string::npos) << restore.err;
}
