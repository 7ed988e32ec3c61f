// Without a custom hook the definition's stages are the plan: through the shipped default stages.lua, and
// when a folder has no stages.lua at all. Either way the engine checks them.
#include "stages_test_support.hpp"

namespace sbx::policy::testing {
namespace {

void expect_d2d2t(const StagePlan& plan) {
  ASSERT_FALSE(plan.refused()) << joined(plan.errors);
  ASSERT_EQ(plan.entries.size(), 2u);
  const StagePlanEntry& disk2 = plan.entries[0];
  EXPECT_EQ(disk2.name, "disk2");
  EXPECT_EQ(disk2.to, "disk2");
  EXPECT_EQ(disk2.after_ns, 4 * kHourNs);
  EXPECT_EQ(disk2.window, "22:00-06:00");
  EXPECT_EQ(disk2.from, "");
  EXPECT_EQ(disk2.retention, json({{"until_copied", true}}));
  const StagePlanEntry& tape = plan.entries[1];
  EXPECT_EQ(tape.name, "tape");
  EXPECT_EQ(tape.to, "pool:tapes");
  EXPECT_EQ(tape.after_ns, 0);
  EXPECT_EQ(tape.window, "");
  EXPECT_EQ(tape.from, "disk2");
  EXPECT_EQ(tape.retention, json({{"days", 365}}));
}

TEST(StagesPassthrough, ShippedDefaultReturnsTheDefinitionStages) {
  auto engine = make_engine(shipped_policies());
  ASSERT_FALSE(engine.last_error().has_value()) << engine.last_error().value_or("");
  const StagePlan plan = engine.evaluate_stages(nightly_set(), d2d2t_definition(), site_devices(), kNowNs);
  expect_d2d2t(plan);
  EXPECT_EQ(plan.policy_file, "default/stages.lua");
  EXPECT_EQ(plan.revision, engine.revision());
  EXPECT_TRUE(plan.traceback.empty());
}

TEST(StagesPassthrough, FolderWithoutStagesHookUsesTheDefinitionStages) {
  TempDir temp;
  auto engine = make_engine(make_stages_dir(temp, std::nullopt));
  const StagePlan plan = engine.evaluate_stages(nightly_set(), d2d2t_definition(), site_devices(), kNowNs);
  expect_d2d2t(plan);
  EXPECT_EQ(plan.policy_file, "") << "no hook ran";
  EXPECT_FALSE(plan.revision.empty());
}

TEST(StagesPassthrough, ManualBackupGetsNoCopies) {
  TempDir temp;
  json manual = nightly_set();
  manual["definition"] = "";
  for (const fs::path& dir : {shipped_policies(), make_stages_dir(temp, std::nullopt)}) {
    auto engine = make_engine(dir);
    const StagePlan plan = engine.evaluate_stages(manual, nullptr, site_devices(), kNowNs);
    EXPECT_FALSE(plan.refused()) << dir << ": " << joined(plan.errors);
    EXPECT_TRUE(plan.entries.empty()) << dir;
  }
}

TEST(StagesPassthrough, DefinitionWithoutStagesGetsNoCopies) {
  TempDir temp;
  json definition = d2d2t_definition();
  definition.erase("stages");
  for (const fs::path& dir : {shipped_policies(), make_stages_dir(temp, std::nullopt)}) {
    auto engine = make_engine(dir);
    const StagePlan plan = engine.evaluate_stages(nightly_set(), definition, site_devices(), kNowNs);
    EXPECT_FALSE(plan.refused()) << dir << ": " << joined(plan.errors);
    EXPECT_TRUE(plan.entries.empty()) << dir;
  }
}

TEST(StagesPassthrough, ScriptMayPlanCopiesOfManualBackups) {
  TempDir temp;
  auto engine = make_engine(make_stages_dir(temp, R"lua(
function stages(set, ctx)
  if ctx.definition ~= nil then return ctx.definition.stages end
  return { { name = "offsite", to = "tape2", retention = { days = 7 } } }
end
)lua"));
  const StagePlan plan = engine.evaluate_stages(nightly_set(), nullptr, site_devices(), kNowNs);
  ASSERT_FALSE(plan.refused()) << joined(plan.errors);
  ASSERT_EQ(plan.entries.size(), 1u);
  EXPECT_EQ(plan.entries[0].to, "tape2");
  EXPECT_EQ(plan.entries[0].retention, json({{"days", 7}}));
}

TEST(StagesPassthrough, DefinitionStagesAreCheckedWithoutHookToo) {
  TempDir temp;
  auto engine = make_engine(make_stages_dir(temp, std::nullopt));
  json definition = d2d2t_definition();
  definition["stages"][1]["to"] = "pool:vault";
  const StagePlan plan = engine.evaluate_stages(nightly_set(), definition, site_devices(), kNowNs);
  expect_refused(plan, {"definition \"nightly\" stages: stage 2 (\"tape\"): to \"pool:vault\" names no pool",
                        "pools: \"tapes\""});
}

TEST(StagesPassthrough, ShippedDefaultChecksTheDefinitionStages) {
  auto engine = make_engine(shipped_policies());
  json definition = d2d2t_definition();
  definition["stages"][0]["window"] = "22:00-6:00";
  const StagePlan plan = engine.evaluate_stages(nightly_set(), definition, site_devices(), kNowNs);
  expect_refused(plan, {"default/stages.lua: stage 1 (\"disk2\"): window \"22:00-6:00\" is not HH:MM-HH:MM"});
}

}  // namespace
}  // namespace sbx::policy::testing
