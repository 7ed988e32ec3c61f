// `policy check`: syntax, required hooks and lib modules, reported as file:line.
#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

constexpr std::string_view kGood = "function expire(series, ctx) return {} end\n";

TEST(PolicyCheck, ShippedPoliciesPass) {
  const CheckResult result = check_policy_dir(shipped_policies());
  EXPECT_TRUE(result.ok());
  for (const std::string& e : result.errors) ADD_FAILURE() << e;
  EXPECT_GE(result.files_checked, 5u);
  EXPECT_FALSE(result.revision.empty());
}

TEST(PolicyCheck, SyntaxErrorsAnywhereAreReportedWithFileAndLine) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, "\n\nfunction expire(series, ctx)\n  return {\nend\n");
  write_file(dir / "default" / "retention_test.lua", "function test_x()\n  expect_eq(1 1)\nend\n");
  write_file(dir / "default" / "fixtures" / "series.lua", "return { id = }\n");
  const CheckResult result = check_policy_dir(dir);
  ASSERT_EQ(result.errors.size(), 3u);
  EXPECT_TRUE(result.errors[0].starts_with("default/fixtures/series.lua:1:")) << result.errors[0];
  EXPECT_TRUE(result.errors[1].starts_with("default/retention.lua:5: ")) << result.errors[1];
  EXPECT_NE(result.errors[1].find("unexpected symbol near 'end'"), std::string::npos) << result.errors[1];
  EXPECT_TRUE(result.errors[2].starts_with("default/retention_test.lua:2:")) << result.errors[2];
}

TEST(PolicyCheck, MissingRetentionPolicy) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, kGood);
  fs::remove(dir / "default" / "retention.lua");
  const CheckResult result = check_policy_dir(dir);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0],
            "default/retention.lua: required policy file is missing (it must define expire(series, ctx))");
}

TEST(PolicyCheck, HookMustBeAFunction) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, "expire = { keep = true }\n");
  const CheckResult result = check_policy_dir(dir);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].find("required hook 'expire' is not defined"), std::string::npos);
}

TEST(PolicyCheck, TopLevelRuntimeErrorIsReported) {
  TempDir temp;
  const fs::path dir =
      make_policy_dir(temp, "local rules = lib.gfs.rules.daily\nfunction expire() return {} end\n");
  const CheckResult result = check_policy_dir(dir);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_TRUE(result.errors[0].starts_with("default/retention.lua:1: attempt to index a nil value"))
      << result.errors[0];
}

TEST(PolicyCheck, LibModulesAreLoaded) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, kGood);
  write_file(dir / "lib" / "returns_nothing.lua", "local M = {}\n");
  write_file(dir / "lib" / "bad-name.lua", "return {}\n");
  write_file(dir / "lib" / "crashes.lua", "local M = {}\nM.x = nil .. 'x'\nreturn M\n");
  const CheckResult result = check_policy_dir(dir);
  ASSERT_EQ(result.errors.size(), 3u);
  EXPECT_TRUE(result.errors[0].starts_with("lib/bad-name.lua: lib module names must be Lua identifiers"))
      << result.errors[0];
  EXPECT_TRUE(result.errors[1].starts_with("lib/crashes.lua:2: attempt to concatenate a nil value"))
      << result.errors[1];
  EXPECT_EQ(result.errors[2], "lib/returns_nothing.lua must return its module table, got nil");
}

TEST(PolicyCheck, CircularLibModules) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, kGood);
  write_file(dir / "lib" / "a.lua", "return { b = lib.b }\n");
  write_file(dir / "lib" / "b.lua", "return { a = lib.a }\n");
  const CheckResult result = check_policy_dir(dir);
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_NE(result.errors[0].find("lib.a: circular dependency"), std::string::npos) << result.errors[0];
}

TEST(PolicyCheck, TenantOverridesAreChecked) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, kGood);
  write_file(dir / "tenants" / "acme" / "retention.lua", "function expire_all() end\n");
  write_file(dir / "tenants" / "bad name" / "retention.lua", std::string(kGood));
  const CheckResult result = check_policy_dir(dir);
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_EQ(result.errors[0],
            "tenants/acme/retention.lua: required hook 'expire' is not defined (expected a global function "
            "expire(series, ctx))");
  EXPECT_NE(result.errors[1].find("tenant folder name 'bad name'"), std::string::npos) << result.errors[1];
}

TEST(PolicyCheck, MissingFolder) {
  TempDir temp;
  const CheckResult result = check_policy_dir(temp.path() / "absent");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.errors[0].find("not a policy folder"), std::string::npos);
}

TEST(PolicyCheck, HooksAreNotRun) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, "function expire(series, ctx) while true do end end\n");
  EXPECT_TRUE(check_policy_dir(dir, test_limits()).ok());
}

}  // namespace
}  // namespace sbx::policy::testing
