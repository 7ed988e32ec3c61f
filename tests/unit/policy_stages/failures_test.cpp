// A stages script that fails in any way plans no copies: runaway loops and allocations are stopped even
// under pcall, errors name file:line, and inputs cannot be changed.
#include "stages_test_support.hpp"

namespace sbx::policy::testing {
namespace {

StagePlan run(std::string_view stages_lua) {
  TempDir temp;
  auto engine = make_engine(make_stages_dir(temp, stages_lua));
  EXPECT_FALSE(engine.last_error().has_value()) << engine.last_error().value_or("");
  return engine.evaluate_stages(nightly_set(), d2d2t_definition(), site_devices(), kNowNs);
}

TEST(StagesFailures, RunawayScriptIsStoppedByTheInstructionBudget) {
  const StagePlan plan = run("function stages(set, ctx)\n  while true do end\nend\n");
  expect_refused(plan, {"policy default/stages.lua exceeded its instruction budget (2000000 instructions)",
                        "at default/stages.lua:2"});
  EXPECT_EQ(plan.policy_file, "default/stages.lua");
}

TEST(StagesFailures, PcallCannotSwallowTheBudget) {
  const StagePlan plan = run(R"lua(
function stages(set, ctx)
  for _ = 1, 1000 do pcall(function() while true do end end) end
  return ctx.definition.stages
end
)lua");
  expect_refused(plan, {"exceeded its instruction budget"});
}

TEST(StagesFailures, RunawayAllocationIsStoppedByTheMemoryCap) {
  const StagePlan plan = run(R"lua(
function stages(set, ctx)
  local t = {}
  for i = 1, 1e9 do t[i] = string.rep("x", 1048576) .. i end
  return {}
end
)lua");
  expect_refused(plan, {"policy default/stages.lua exceeded its memory cap (32 MiB)"});
}

TEST(StagesFailures, ScriptErrorNamesFileAndLine) {
  const StagePlan plan = run(R"lua(
local function pick(ctx)
  return ctx.definition.stagez[1]
end

function stages(set, ctx)
  return { pick(ctx) }
end
)lua");
  expect_refused(plan, {"default/stages.lua:3: attempt to index a nil value (field 'stagez')"});
  EXPECT_TRUE(plan.errors.front().starts_with("default/stages.lua:3:")) << plan.errors.front();
  EXPECT_NE(plan.traceback.find("stack traceback:"), std::string::npos) << plan.traceback;
  EXPECT_NE(plan.traceback.find("default/stages.lua:7"), std::string::npos) << plan.traceback;
}

TEST(StagesFailures, ExplicitErrorKeepsItsMessage) {
  const StagePlan plan = run("function stages(set, ctx)\n  error('tape library is being serviced')\nend\n");
  expect_refused(plan, {"default/stages.lua:2: tape library is being serviced"});
}

TEST(StagesFailures, MalformedDurationFromLibDurationFailsThePlan) {
  const StagePlan plan = run(R"lua(
function stages(set, ctx)
  return { { name = "x", to = "disk2", after = lib.duration.seconds("4 hours"), retention = { days = 1 } } }
end
)lua");
  expect_refused(plan, {"default/stages.lua:3: duration \"4 hours\": number 4 has no unit"});
}

TEST(StagesFailures, ContextIsReadOnly) {
  const char* const kWrites[] = {
      "ctx.definition = {}",
      "ctx.definition.stages[1].to = 'tape2'",
      "ctx.devices.disk9 = { type = 'disk', online = true }",
      "ctx.now = 0",
      "set.level = 'incremental'",
      "rawset(ctx, 'definition', {})",
      "table.insert(ctx.definition.stages, { name = 'x' })",
  };
  for (const char* write : kWrites) {
    const StagePlan plan =
        run(std::string("function stages(set, ctx)\n  ") + write + "\n  return ctx.definition.stages\nend\n");
    EXPECT_TRUE(plan.entries.empty()) << write;
    ASSERT_EQ(plan.errors.size(), 1u) << write << ": " << joined(plan.errors);
    EXPECT_TRUE(plan.errors.front().starts_with("default/stages.lua:2:")) << plan.errors.front();
    EXPECT_NE(plan.errors.front().find("read-only"), std::string::npos)
        << write << ": " << plan.errors.front();
  }
}

TEST(StagesFailures, ReturningTheFrozenDefinitionIsFine) {
  // What the policy gets back from ctx is a read-only proxy; the engine must see through it.
  const StagePlan plan =
      run("function stages(set, ctx)\n  return { ctx.definition.stages[2], "
          "ctx.definition.stages[1] }\nend\n");
  expect_refused(plan, {"stage 1 (\"tape\"): from \"disk2\" names a later stage"});
}

TEST(StagesFailures, NowIsTheCallersClock) {
  // ctx.now comes from the caller, never from the machine's clock: a plan evaluated "in 1970" sees 1970.
  TempDir temp;
  auto engine = make_engine(make_stages_dir(temp, R"lua(
function stages(set, ctx)
  return { { name = "t" .. ctx.now .. "-" .. ctx.now_iso:gsub(":", ""), to = "disk2", retention = { days = 1 } } }
end
)lua"));
  const StagePlan plan =
      engine.evaluate_stages(nightly_set(), d2d2t_definition(), site_devices(), 5 * kNs + 7);
  ASSERT_EQ(plan.entries.size(), 1u) << joined(plan.errors);
  EXPECT_EQ(plan.entries[0].name, "t5-1970-01-01T000005Z");
}

}  // namespace
}  // namespace sbx::policy::testing
