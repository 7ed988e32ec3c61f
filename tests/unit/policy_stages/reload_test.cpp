// Revisions and reloads of the stages hook: the revision is recorded with every plan, a broken stages.lua
// keeps the last good revision, and `policy check`/`policy test` accept folders with the hook.
#include "stages_test_support.hpp"

namespace sbx::policy::testing {
namespace {

std::string plan_naming(const std::string& name) {
  return "function stages(set, ctx)\n  return { { name = '" + name +
         "', to = 'disk2', retention = { days = 1 } } }\nend\n";
}

StagePlan evaluate(const PolicyEngine& engine) {
  return engine.evaluate_stages(nightly_set(), d2d2t_definition(), site_devices(), kNowNs);
}

TEST(StagesReload, SyntaxErrorKeepsTheLastGoodRevision) {
  TempDir temp;
  const fs::path dir = make_stages_dir(temp, plan_naming("first"));
  auto engine = make_engine(dir);
  const std::string first = engine.revision();
  ASSERT_FALSE(first.empty());
  const StagePlan good = evaluate(engine);
  ASSERT_EQ(good.entries.size(), 1u) << joined(good.errors);
  EXPECT_EQ(good.entries[0].name, "first");
  EXPECT_EQ(good.revision, first);

  write_file(dir / "default" / "stages.lua", "function stages(set, ctx)\n  return {\nend\n");
  const ReloadResult bad = engine.reload();
  EXPECT_FALSE(bad.ok);
  EXPECT_TRUE(bad.error.value_or("").starts_with("default/stages.lua:3:")) << bad.error.value_or("");
  EXPECT_EQ(engine.revision(), first);
  const StagePlan still = evaluate(engine);
  ASSERT_EQ(still.entries.size(), 1u) << joined(still.errors);
  EXPECT_EQ(still.entries[0].name, "first") << "the good revision's files stay in effect";
  EXPECT_EQ(still.revision, first);

  write_file(dir / "default" / "stages.lua", plan_naming("second"));
  const ReloadResult fixed = engine.reload();
  ASSERT_TRUE(fixed.ok) << fixed.error.value_or("");
  EXPECT_NE(fixed.revision, first);
  const StagePlan now = evaluate(engine);
  ASSERT_EQ(now.entries.size(), 1u) << joined(now.errors);
  EXPECT_EQ(now.entries[0].name, "second");
  EXPECT_EQ(now.revision, fixed.revision);
}

TEST(StagesReload, StagesFileWithoutTheHookIsRefusedAtLoad) {
  TempDir temp;
  const fs::path dir = make_stages_dir(temp, plan_naming("first"));
  auto engine = make_engine(dir);
  const std::string first = engine.revision();
  write_file(dir / "default" / "stages.lua", "function stage(set, ctx)\n  return {}\nend\n");
  const ReloadResult bad = engine.reload();
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.error.value_or(""),
            "default/stages.lua: required hook 'stages' is not defined (expected a global function "
            "stages(set, ctx))");
  EXPECT_EQ(evaluate(engine).entries.at(0).name, "first");
  EXPECT_EQ(engine.revision(), first);
}

TEST(StagesReload, TopLevelErrorIsRefusedAtLoad) {
  TempDir temp;
  const fs::path dir =
      make_stages_dir(temp, "local tapes = lib.pools.tapes\nfunction stages(set, ctx) return {} end\n");
  auto engine = make_engine(dir);
  EXPECT_NE(engine.last_error().value_or("").find("default/stages.lua:1: lib.pools: no such module"),
            std::string::npos)
      << "a failing top level is found when loading, not first when a backup completes: "
      << engine.last_error().value_or("");
  expect_refused(evaluate(engine), {"no policy loaded from", "lib.pools: no such module"});
}

TEST(StagesReload, RevisionIsRecordedWithEveryPlan) {
  TempDir temp;
  const fs::path dir = make_stages_dir(temp, plan_naming("first"));
  auto engine = make_engine(dir);
  const StagePlan plan = evaluate(engine);
  EXPECT_TRUE(plan.revision.starts_with("sha256:")) << plan.revision << " (a folder outside git)";
  EXPECT_EQ(plan.revision, policy_revision(dir));
  const json j = plan;
  EXPECT_EQ(j["revision"], plan.revision);

  json bad_definition = d2d2t_definition();
  const StagePlan refused = engine.evaluate_stages(nightly_set(), bad_definition, json::object(), kNowNs);
  EXPECT_TRUE(refused.refused());
  EXPECT_EQ(refused.revision, plan.revision);
}

TEST(StagesReload, NoPolicyLoadedRefusesThePlan) {
  TempDir temp;
  auto engine = make_engine(temp.path() / "missing");
  const StagePlan plan = evaluate(engine);
  expect_refused(plan, {"no policy loaded from", "missing"});
  EXPECT_EQ(plan.revision, "");
}

TEST(StagesReload, PolicyCheckAcceptsTheStagesHook) {
  const CheckResult shipped = check_policy_dir(shipped_policies());
  EXPECT_TRUE(shipped.ok()) << joined(shipped.errors);

  TempDir temp;
  const fs::path dir = make_stages_dir(temp, plan_naming("first"));
  write_file(dir / "tenants" / "acme" / "stages.lua", plan_naming("acme"));
  const CheckResult custom = check_policy_dir(dir);
  EXPECT_TRUE(custom.ok()) << joined(custom.errors);
}

TEST(StagesReload, PolicyCheckReportsABrokenStagesHook) {
  TempDir temp;
  const fs::path dir = make_stages_dir(temp, "function stages(set, ctx)\n  return {\nend\n");
  write_file(dir / "tenants" / "acme" / "stages.lua", "stages = 'no'\n");
  const CheckResult result = check_policy_dir(dir);
  ASSERT_EQ(result.errors.size(), 2u) << joined(result.errors);
  EXPECT_TRUE(result.errors[0].starts_with("default/stages.lua:3:")) << result.errors[0];
  EXPECT_EQ(result.errors[1],
            "tenants/acme/stages.lua: required hook 'stages' is not defined (expected a global function "
            "stages(set, ctx))");
}

TEST(StagesReload, ShippedPolicyTestsPass) {
  const TestReport report = run_policy_tests(shipped_policies());
  EXPECT_TRUE(report.ok()) << json(report).dump(2);
  bool saw_stages = false;
  bool saw_duration = false;
  for (const TestCaseResult& c : report.cases) {
    saw_stages = saw_stages || c.file == "default/stages_test.lua";
    saw_duration = saw_duration || c.file == "lib/duration_test.lua";
  }
  EXPECT_TRUE(saw_stages);
  EXPECT_TRUE(saw_duration);
}

}  // namespace
}  // namespace sbx::policy::testing
