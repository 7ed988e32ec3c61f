// policy check / test on the CLI, expire with the default policy, and a broken or runaway policy failing closed.
#include "harness.hpp"

#include <strongbox/catalog.hpp>

#include <fstream>

namespace fs = std::filesystem;
using namespace sbx::test;

TEST(CliPolicy, ShippedDefaultPassesCheckAndItsOwnTests) {
  fs::path policies = fs::path(SBX_SOURCE_DIR) / "policies";
  auto check = run_strongbox({"policy", "check", policies.string()});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  auto test = run_strongbox({"--json", "policy", "test", policies.string()});
  EXPECT_EQ(test.exit_code, 0) << test.out << test.err;
  auto lines = test.json_lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back()["type"], "policy_test_summary");
  EXPECT_GT(lines.back()["passed"].get<int>(), 0);
  EXPECT_EQ(lines.back()["failed"], 0);
}

TEST(CliPolicy, SyntaxErrorIsReportedWithFileAndLine) {
  TempDir dir;
  auto site = init_site(dir);
  std::ofstream(site / "policies" / "default" / "retention.lua", std::ios::app) << "\nfunction broken(\n";
  auto check = run_strongbox({"policy", "check", (site / "policies").string()});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.err.find("default/retention.lua:"), std::string::npos) << check.err;
  // expire with a policy that does not load keeps everything and says why.
  write_file(dir / "data" / "a", "a");
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", (dir / "data").string(), "--level", "full"}).exit_code, 0);
  auto expire = run_strongbox({"--site", site.string(), "--json", "expire"});
  EXPECT_EQ(expire.exit_code, 1);
  auto j = expire.json_lines().at(0);
  EXPECT_EQ(j["expired"], 0);
  EXPECT_FALSE(j["errors"].empty());
  EXPECT_EQ(run_strongbox({"--site", site.string(), "--json", "sets", "list"}).json_lines().at(0)["state"], "complete");
}

TEST(CliPolicy, RunawayPolicyIsStoppedAndTheSafeDefaultApplies) {
  TempDir dir;
  auto site = init_site(dir);
  write_file(site / "policies" / "default" / "retention.lua",
             "function expire(series, ctx)\n"
             "  local out = {}\n"
             "  for _, s in ipairs(series) do out[s.id] = {keep = false, reasons = {'all must go'}} end\n"
             "  while true do pcall(function() while true do end end) end\n"
             "  return out\n"
             "end\n");
  fs::path data = dir / "data";
  write_file(data / "a", "a");
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", data.string(), "--level", "full"}).exit_code, 0);
  auto expire = run_strongbox({"--site", site.string(), "--json", "expire"});
  EXPECT_EQ(expire.exit_code, 1);
  auto j = expire.json_lines().at(0);
  EXPECT_EQ(j["expired"], 0);
  ASSERT_FALSE(j["errors"].empty());
  EXPECT_NE(j["errors"][0].get<std::string>().find("budget"), std::string::npos) << j.dump();
  for (const auto& s : run_strongbox({"--site", site.string(), "--json", "sets", "list"}).json_lines()) {
    EXPECT_EQ(s["state"], "complete");
  }
}

TEST(CliPolicy, ExpireAppliesPolicyAndKeepsTheLastChain) {
  TempDir dir;
  auto site = init_site(dir);
  // A policy that wants to expire everything: the engine still keeps the newest full and its dependents.
  write_file(site / "policies" / "default" / "retention.lua",
             "function expire(series, ctx)\n"
             "  local out = {}\n"
             "  for _, s in ipairs(series) do out[s.id] = {keep = false, reasons = {'test policy expires all'}} end\n"
             "  return out\n"
             "end\n");
  fs::path data = dir / "data";
  write_file(data / "a", "a");
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", data.string(), "--level", "full"}).exit_code, 0);
  write_file(data / "b", "b");
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", data.string()}).exit_code, 0);
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", data.string(), "--level", "full"}).exit_code, 0);
  write_file(data / "c", "c");
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", data.string()}).exit_code, 0);

  auto dry = run_strongbox({"--site", site.string(), "--json", "expire", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(dry.json_lines().at(0)["expired"], 2);
  for (const auto& s : run_strongbox({"--site", site.string(), "--json", "sets", "list"}).json_lines()) {
    EXPECT_EQ(s["state"], "complete") << "dry run changed something";
  }

  auto real = run_strongbox({"--site", site.string(), "--json", "expire"});
  ASSERT_EQ(real.exit_code, 0) << real.err;
  auto j = real.json_lines().at(0);
  EXPECT_EQ(j["expired"], 2);
  EXPECT_FALSE(j["revision"].get<std::string>().empty());
  std::map<int, std::string> states;
  for (const auto& s : run_strongbox({"--site", site.string(), "--json", "sets", "list"}).json_lines())
    states[s["id"].get<int>()] = s["state"];
  EXPECT_EQ(states[1], "expired");
  EXPECT_EQ(states[2], "expired");
  EXPECT_EQ(states[3], "complete");
  EXPECT_EQ(states[4], "complete");
  EXPECT_EQ(run_strongbox({"--site", site.string(), "verify"}).exit_code, 0);
  auto r = run_strongbox({"--site", site.string(), "restore", "--to", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dir / "out" / fs::relative(data / "c", "/")), "c");
}

TEST(CliPolicy, EveryDecisionIsRecordedWithTheRevisionAndReasons) {
  TempDir dir;
  auto site = init_site(dir);
  fs::path data = dir / "data";
  write_file(data / "a", "a");
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", data.string(), "--level", "full"}).exit_code, 0);
  auto expire = run_strongbox({"--site", site.string(), "--json", "expire"});
  ASSERT_EQ(expire.exit_code, 0) << expire.err;
  std::string revision = expire.json_lines().at(0)["revision"];
  EXPECT_EQ(revision.rfind("sha256:", 0), 0u) << "a site folder outside git is identified by a content hash";
  auto catalog = sbx::catalog::Catalog::open(site / "catalog.db", sbx::catalog::Catalog::Mode::open_existing);
  auto decisions = catalog->list_decisions(std::nullopt);
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].revision, revision);
  EXPECT_EQ(decisions[0].decision, "keep");
  EXPECT_FALSE(decisions[0].reasons["reasons"].empty());
  bool logged = false;
  for (const auto& job : catalog->list_jobs(0))
    if (job.kind == "expire")
      for (const auto& line : catalog->job_log(job.id)) logged |= line.message.find(revision) != std::string::npos;
  EXPECT_TRUE(logged);
}
