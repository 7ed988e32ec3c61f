// Memory exhaustion fails the evaluation, also when the script pcalls around it.
#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

const std::vector<SetInfo> kSeries = {full(1, kNov20_2026)};
constexpr std::string_view kMemory = "policy default/retention.lua exceeded its memory cap (32 MiB)";

ExpireResult run(const std::string& retention_lua) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, retention_lua);
  auto engine = make_engine(dir);
  return engine.evaluate_expire("s", kSeries, kNov20_2026);
}

TEST(PolicyMemory, GrowingTableIsStopped) {
  const ExpireResult result = run(R"(
function expire(series, ctx)
  local t = {}
  while true do t[#t + 1] = string.rep("x", 1000) .. #t end
end
)");
  expect_failed_closed(result, kSeries, kMemory);
}

TEST(PolicyMemory, OneHugeStringIsStopped) {
  expect_failed_closed(run("function expire(series, ctx) local s = string.rep('x', 1 << 30) return {} end\n"),
                       kSeries, kMemory);
}

TEST(PolicyMemory, PcallCannotSwallowExhaustion) {
  const ExpireResult result = run(R"(
function expire(series, ctx)
  local ok = pcall(function()
    local t = {}
    while true do t[#t + 1] = string.rep("x", 1000) .. #t end
  end)
  return { [1] = { keep = false, reasons = { "survived: " .. tostring(ok) } } }
end
)");
  expect_failed_closed(result, kSeries, kMemory);
}

TEST(PolicyMemory, PcallInALoopCannotSwallowExhaustion) {
  const ExpireResult result = run(R"(
function expire(series, ctx)
  while true do
    pcall(function() local s = string.rep("x", 1 << 30) end)
  end
end
)");
  expect_failed_closed(result, kSeries, kMemory);
}

TEST(PolicyMemory, UsageUnderTheCapSucceeds) {
  const ExpireResult result = run(R"(
function expire(series, ctx)
  for round = 1, 20 do
    local t = {}
    for i = 1, 1000 do t[i] = string.rep("y", 1000) .. i end  -- about 1 MiB of garbage per round
  end
  return { [1] = { keep = true, reasons = { "done" } } }
end
)");
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_EQ(decision_for(result, 1).reasons, std::vector<std::string>{"done"});
}

}  // namespace
}  // namespace sbx::policy::testing
