// Runaway scripts are stopped by the instruction budget or the wall-clock deadline, and pcall cannot
// swallow either.
#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

const std::vector<SetInfo> kSeries = {full(1, kNov20_2026 - kDay), incremental(2, 1, kNov20_2026)};
constexpr std::string_view kBudget =
    "policy default/retention.lua exceeded its instruction budget (2000000 instructions)";

ExpireResult run(const std::string& retention_lua, SandboxLimits limits = test_limits()) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, retention_lua);
  auto engine = make_engine(dir, limits);
  EXPECT_FALSE(engine.last_error().has_value()) << engine.last_error().value_or("");
  return engine.evaluate_expire("s", kSeries, kNov20_2026);
}

TEST(PolicyBudget, InfiniteLoopIsStopped) {
  const ExpireResult result = run("function expire(series, ctx)\n  while true do end\nend\n");
  expect_failed_closed(result, kSeries, kBudget);
  EXPECT_NE(result.error->find("at default/retention.lua:2"), std::string::npos) << *result.error;
}

TEST(PolicyBudget, PcallCannotSwallowTheBudget) {
  const ExpireResult result = run(R"(
function expire(series, ctx)
  pcall(function() while true do end end)
  while true do end
end
)");
  expect_failed_closed(result, kSeries, kBudget);
}

TEST(PolicyBudget, PcallInALoopCannotSwallowTheBudget) {
  const ExpireResult result = run(R"(
function expire(series, ctx)
  while true do pcall(function() while true do end end) end
end
)");
  expect_failed_closed(result, kSeries, kBudget);
}

TEST(PolicyBudget, ReturningAfterACaughtBudgetErrorStillFails) {
  const ExpireResult result = run(R"(
function expire(series, ctx)
  local ok = pcall(function() while true do end end)
  return { [1] = { keep = false, reasons = { "caught: " .. tostring(ok) } } }
end
)");
  expect_failed_closed(result, kSeries, kBudget);
}

TEST(PolicyBudget, XpcallHandlerCannotSwallowTheBudget) {
  const ExpireResult result = run(R"(
function expire(series, ctx)
  while true do
    xpcall(function() while true do end end, function(e) while true do end end)
  end
end
)");
  expect_failed_closed(result, kSeries, kBudget);
}

TEST(PolicyBudget, CloseHandlersCannotSwallowTheBudget) {
  const ExpireResult result = run(R"(
function expire(series, ctx)
  while true do
    pcall(function()
      local guard <close> = setmetatable({}, { __close = function() while true do end end })
      while true do end
    end)
  end
end
)");
  expect_failed_closed(result, kSeries, kBudget);
}

TEST(PolicyBudget, LoopInsideACallbackIsStopped) {
  const ExpireResult result = run(R"(
function expire(series, ctx)
  local s = ("x"):gsub("x", function() while true do end end)
  return {}
end
)");
  expect_failed_closed(result, kSeries, kBudget);
}

TEST(PolicyBudget, LoopAtTopLevelIsRefusedOnLoad) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, "while true do end\nfunction expire() return {} end\n");
  auto engine = make_engine(dir);
  ASSERT_TRUE(engine.last_error().has_value());
  EXPECT_NE(engine.last_error()->find(kBudget), std::string::npos) << *engine.last_error();
}

TEST(PolicyBudget, WallClockDeadlineStopsASlowScript) {
  SandboxLimits limits = test_limits();
  limits.instructions = std::uint64_t{1} << 60;
  limits.wall_clock = std::chrono::milliseconds(300);
  const ExpireResult result =
      run("function expire(series, ctx)\n  while true do pcall(error) end\nend\n", limits);
  expect_failed_closed(result, kSeries, "exceeded its wall-clock deadline (300 ms)");
}

TEST(PolicyBudget, WorkWithinTheBudgetSucceeds) {
  const ExpireResult result = run(R"(
function expire(series, ctx)
  local sum = 0
  for i = 1, 100000 do sum = sum + i end
  return { [1] = { keep = true, reasons = { tostring(sum) } } }
end
)");
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_EQ(decision_for(result, 1).reasons, std::vector<std::string>{"5000050000"});
}

}  // namespace
}  // namespace sbx::policy::testing
