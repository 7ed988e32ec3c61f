// Custom stages hooks: copy graphs built from the set and ctx, retention and delay forms, tenant overrides.
#include "stages_test_support.hpp"

namespace sbx::policy::testing {
namespace {

StagePlan plan_with(std::string_view stages_lua, const json& set = nightly_set(),
                    const json& definition = d2d2t_definition()) {
  TempDir temp;
  auto engine = make_engine(make_stages_dir(temp, stages_lua));
  EXPECT_FALSE(engine.last_error().has_value()) << engine.last_error().value_or("");
  return engine.evaluate_stages(set, definition, site_devices(), kNowNs);
}

// Back up to disk1, copy to disk2 after 4h within 22:00-06:00, then tape from the disk2 copy; fulls only
// go to tape.
constexpr std::string_view kD2D2T = R"lua(
function stages(set, ctx)
  local plan = {
    { name = "disk2", to = "disk2", after = lib.duration.seconds("4h"), window = "22:00-06:00",
      retention = { days = 14 } },
  }
  if set.level == "full" and ctx.pools.tapes ~= nil then
    plan[1].retention = { until_copied = true }
    plan[2] = { name = "tape", to = "pool:tapes", from = "disk2", after = 3600, retention = { days = 365 } }
  end
  return plan
end
)lua";

TEST(StagesGraph, CustomScriptBuildsDiskToDiskToTape) {
  const StagePlan plan = plan_with(kD2D2T);
  ASSERT_FALSE(plan.refused()) << joined(plan.errors);
  ASSERT_EQ(plan.entries.size(), 2u);
  EXPECT_EQ(plan.entries[0].name, "disk2");
  EXPECT_EQ(plan.entries[0].to, "disk2");
  EXPECT_EQ(plan.entries[0].after_ns, 4 * kHourNs);
  EXPECT_EQ(plan.entries[0].window, "22:00-06:00");
  EXPECT_EQ(plan.entries[0].from, "");
  EXPECT_EQ(plan.entries[0].retention, json({{"until_copied", true}}));
  EXPECT_EQ(plan.entries[1].name, "tape");
  EXPECT_EQ(plan.entries[1].to, "pool:tapes");
  EXPECT_EQ(plan.entries[1].after_ns, kHourNs);
  EXPECT_EQ(plan.entries[1].from, "disk2");
  EXPECT_EQ(plan.entries[1].retention, json({{"days", 365}}));

  json incremental = nightly_set();
  incremental["level"] = "incremental";
  const StagePlan small = plan_with(kD2D2T, incremental);
  ASSERT_FALSE(small.refused()) << joined(small.errors);
  ASSERT_EQ(small.entries.size(), 1u);
  EXPECT_EQ(small.entries[0].retention, json({{"days", 14}}));
}

TEST(StagesGraph, RetentionForms) {
  const StagePlan plan = plan_with(R"lua(
function stages(set, ctx)
  return {
    { name = "a", to = "disk2", retention = { days = 1 } },
    { name = "b", to = "disk2", retention = { days = 30.0 } },
    { name = "c", to = "disk2", retention = { days = 36500 } },
    { name = "d", to = "disk2", retention = { until_copied = true } },
    { name = "e", to = "tape2", from = "d", retention = { days = 7 } },
  }
end
)lua");
  ASSERT_FALSE(plan.refused()) << joined(plan.errors);
  ASSERT_EQ(plan.entries.size(), 5u);
  EXPECT_EQ(plan.entries[0].retention, json({{"days", 1}}));
  EXPECT_EQ(plan.entries[1].retention, json({{"days", 30}}));
  EXPECT_TRUE(plan.entries[1].retention["days"].is_number_integer()) << "30.0 from Lua is 30 days";
  EXPECT_EQ(plan.entries[2].retention, json({{"days", 36500}}));
  EXPECT_EQ(plan.entries[3].retention, json({{"until_copied", true}}));
}

TEST(StagesGraph, DelayForms) {
  const StagePlan plan = plan_with(R"lua(
function stages(set, ctx)
  return {
    { name = "none", to = "disk2", retention = { days = 1 } },
    { name = "zero", to = "disk2", after = 0, retention = { days = 1 } },
    { name = "seconds", to = "disk2", after = 14400, retention = { days = 1 } },
    { name = "float", to = "disk2", after = 5400.0, retention = { days = 1 } },
    { name = "text", to = "disk2", after = "1h30m", retention = { days = 1 } },
    { name = "week", to = "disk2", after = "1w", retention = { days = 1 } },
    { name = "limit", to = "disk2", after = "366d", retention = { days = 1 } },
    { name = "zero-text", to = "disk2", after = "0s", window = "", from = "", retention = { days = 1 } },
  }
end
)lua");
  ASSERT_FALSE(plan.refused()) << joined(plan.errors);
  std::vector<std::int64_t> after;
  for (const StagePlanEntry& e : plan.entries) after.push_back(e.after_ns);
  EXPECT_EQ(after, (std::vector<std::int64_t>{0, 0, 4 * kHourNs, 5400 * kNs, 5400 * kNs, 7 * 24 * kHourNs,
                                              366 * 24 * kHourNs, 0}));
  EXPECT_EQ(plan.entries.back().window, "");
  EXPECT_EQ(plan.entries.back().from, "");
}

TEST(StagesGraph, WindowForms) {
  const StagePlan plan = plan_with(R"lua(
function stages(set, ctx)
  local plan = {}
  for i, w in ipairs({ "22:00-06:00", "00:00-24:00", "18:00-00:00", "00:00-00:00", "09:30-17:45" }) do
    plan[i] = { name = "w" .. i, to = "disk2", window = w, retention = { days = 1 } }
  end
  return plan
end
)lua");
  ASSERT_FALSE(plan.refused()) << joined(plan.errors);
  ASSERT_EQ(plan.entries.size(), 5u);
  EXPECT_EQ(plan.entries[2].window, "18:00-00:00");
}

TEST(StagesGraph, ContextHoldsTheFrozenNowDefinitionDevicesAndPools) {
  const StagePlan plan = plan_with(R"lua(
function stages(set, ctx)
  assert(ctx.now_ns == )lua" + std::to_string(kNowNs) +
                                   R"lua(, "now_ns")
  assert(ctx.now == ctx.now_ns // 1000000000, "now in seconds")
  assert(ctx.now_iso == "2026-11-20T01:16:00Z", ctx.now_iso)
  assert(ctx.tenant == nil)
  assert(ctx.definition.schedules[1].when == "daily 01:00")
  assert(ctx.devices.tape1.online == false and ctx.devices.tape2.type == "tape")
  assert(ctx.pools.tapes.members[2] == "tape2")
  assert(set.id == 42 and set.sources[1] == "/srv" and set.completed_ns == )lua" +
                                   std::to_string(kCompletedNs) + R"lua()
  local first = ctx.now
  for i = 1, 100000 do local _ = i * i end
  assert(ctx.now == first, "ctx.now does not move during an evaluation")
  -- Online devices only: the policy sees which are up.
  local plan = {}
  local names = {}
  for name, device in pairs(ctx.devices) do
    if device.online and name ~= set.device then names[#names + 1] = name end
  end
  table.sort(names)
  for i, name in ipairs(names) do plan[i] = { name = "copy-" .. name, to = name, retention = { days = 3 } } end
  return plan
end
)lua");
  ASSERT_FALSE(plan.refused()) << joined(plan.errors);
  ASSERT_EQ(plan.entries.size(), 2u);
  EXPECT_EQ(plan.entries[0].to, "disk2");
  EXPECT_EQ(plan.entries[1].to, "tape2");
}

TEST(StagesGraph, TenantHookOverridesTheDefault) {
  TempDir temp;
  const fs::path dir = make_stages_dir(temp, R"lua(
function stages(set, ctx) return { { name = "site", to = "disk2", retention = { days = 1 } } } end
)lua");
  write_file(dir / "tenants" / "acme" / "stages.lua", R"lua(
function stages(set, ctx)
  return { { name = ctx.tenant .. "-" .. set.tenant, to = "tape2", retention = { days = 2 } } }
end
)lua");
  auto engine = make_engine(dir);
  ASSERT_FALSE(engine.last_error().has_value()) << engine.last_error().value_or("");

  const StagePlan site = engine.evaluate_stages(nightly_set(), d2d2t_definition(), site_devices(), kNowNs);
  ASSERT_EQ(site.entries.size(), 1u) << joined(site.errors);
  EXPECT_EQ(site.entries[0].name, "site");
  EXPECT_EQ(site.policy_file, "default/stages.lua");

  json acme_set = nightly_set();
  acme_set["tenant"] = "acme";
  const StagePlan acme = engine.evaluate_stages(acme_set, d2d2t_definition(), site_devices(), kNowNs);
  ASSERT_EQ(acme.entries.size(), 1u) << joined(acme.errors);
  EXPECT_EQ(acme.entries[0].name, "acme-acme");
  EXPECT_EQ(acme.policy_file, "tenants/acme/stages.lua");

  json other = nightly_set();
  other["tenant"] = "globex";
  const StagePlan fallback = engine.evaluate_stages(other, d2d2t_definition(), site_devices(), kNowNs);
  ASSERT_EQ(fallback.entries.size(), 1u) << joined(fallback.errors);
  EXPECT_EQ(fallback.policy_file, "default/stages.lua") << "a tenant without its own file gets the default";
}

TEST(StagesGraph, PlanToJson) {
  const StagePlan plan = plan_with(kD2D2T);
  const json j = plan;
  EXPECT_EQ(j["refused"], false);
  EXPECT_EQ(j["policy"], "default/stages.lua");
  EXPECT_EQ(j["entries"][0], json({{"name", "disk2"},
                                   {"to", "disk2"},
                                   {"after_ns", 4 * kHourNs},
                                   {"window", "22:00-06:00"},
                                   {"from", ""},
                                   {"retention", {{"until_copied", true}}}}));
}

}  // namespace
}  // namespace sbx::policy::testing
