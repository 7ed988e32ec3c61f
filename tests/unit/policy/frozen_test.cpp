// Policy inputs are read-only, nested tables included, and ctx.now is fixed for the evaluation.
#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

const std::vector<SetInfo> kSeries = {full(7, kNov20_2026 - 2 * kDay), incremental(8, 7, kNov20_2026 - kDay)};
const std::int64_t kNow = kNov20_2026 + 13 * 3600 + 45 * 60;

ExpireResult run(const std::string& retention_lua) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, retention_lua);
  auto engine = make_engine(dir);
  return engine.evaluate_expire("nightly", kSeries, kNow, "acme");
}

TEST(PolicyFrozen, EveryWayOfWritingFails) {
  const ExpireResult result = run(R"(
function expire(series, ctx)
  local attempts = {
    function() ctx.now = 1 end,
    function() ctx.extra = 1 end,
    function() series[1] = {} end,
    function() series[1].id = 99 end,
    function() series[3] = {} end,
    function() rawset(ctx, "now", 1) end,
    function() rawset(series[1], "id", 99) end,
    function() setmetatable(ctx, nil) end,
    function() getmetatable(ctx).__newindex = nil end,
    function() table.insert(series, {}) end,
    function() table.remove(series) end,
    function() table.sort(series, function(a, b) return a.id > b.id end) end,
  }
  local reasons = {}
  for i, attempt in ipairs(attempts) do
    local ok, err = pcall(attempt)
    reasons[#reasons + 1] = i .. ":" .. tostring(ok) .. ":" .. tostring(err)
  end
  reasons[#reasons + 1] = "now=" .. ctx.now .. " id=" .. series[1].id .. " n=" .. #series
  return { [7] = { keep = true, reasons = reasons } }
end
)");
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  const ExpireDecision& d = decision_for(result, 7);
  ASSERT_EQ(d.reasons.size(), 13u);
  for (std::size_t i = 0; i + 1 < d.reasons.size(); ++i) {
    EXPECT_NE(d.reasons[i].find(":false:"), std::string::npos) << d.reasons[i];
  }
  EXPECT_EQ(d.reasons.back(), "now=" + std::to_string(kNow) + " id=7 n=2");
}

TEST(PolicyFrozen, UncaughtAssignmentFailsClosed) {
  const ExpireResult result = run("function expire(series, ctx)\n  ctx.now = 0\n  return {}\nend\n");
  expect_failed_closed(result, kSeries, "default/retention.lua:2: attempt to modify a read-only table");
}

TEST(PolicyFrozen, ReadingWorksAsOnPlainTables) {
  const ExpireResult result = run(R"(
function expire(series, ctx)
  local keys = {}
  for k in pairs(series[2]) do keys[#keys + 1] = k end
  table.sort(keys)
  local ids = {}
  for _, s in ipairs(series) do ids[#ids + 1] = s.id end
  return { [7] = { keep = true, reasons = {
    table.concat(keys, ","),
    table.concat(ids, ","),
    tostring(#series),
    tostring(next(ctx) ~= nil),
    tostring(rawget(ctx, "series")),
    tostring(rawlen(series)),
    tostring(series[1].base),
    series[2].started_iso,
    ctx.now_iso .. " " .. ctx.series .. " " .. ctx.tenant,
    tostring(math.type(ctx.now)),
    tostring(getmetatable(ctx)),
  } } }
end
)");
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  const std::vector<std::string> expected = {
      "base,bytes,completed,completed_iso,files,id,legal_hold,level,started,started_iso",
      "7,8",
      "2",
      "true",
      "nightly",
      "2",
      "nil",
      "2026-11-19T00:00:00Z",
      "2026-11-20T13:45:00Z nightly acme",
      "integer",
      "frozen"};
  EXPECT_EQ(decision_for(result, 7).reasons, expected);
}

TEST(PolicyFrozen, NowIsTheSameThroughoutTheEvaluation) {
  const ExpireResult result = run(R"(
local seen_at_load = nil
function expire(series, ctx)
  local first = ctx.now
  local t = 0
  for i = 1, 200000 do t = t + i end
  return { [7] = { keep = true, reasons = { tostring(first == ctx.now), tostring(ctx.now) } } }
end
)");
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_EQ(decision_for(result, 7).reasons, (std::vector<std::string>{"true", std::to_string(kNow)}));
}

}  // namespace
}  // namespace sbx::policy::testing
