// C loops the instruction hook cannot interrupt (patterns, string.rep, table shifts) are bounded up front.
#include <chrono>

#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

const std::vector<SetInfo> kSeries = {full(1, kNov20_2026)};

// Runs `body` inside expire and returns its result, which reports what `body` returned as reasons.
ExpireResult run(const std::string& body) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, "function expire(series, ctx)\n" + body + "\nend\n");
  auto engine = make_engine(dir);
  return engine.evaluate_expire("s", kSeries, kNov20_2026);
}

TEST(PolicyGuards, CatastrophicPatternIsRefusedQuickly) {
  const auto start = std::chrono::steady_clock::now();
  const ExpireResult result = run("string.rep('a', 30000):find('.-.-.-.-b')\nreturn {}");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  expect_failed_closed(result, kSeries, "could backtrack too long");
  EXPECT_NE(result.error->find("default/retention.lua:2:"), std::string::npos) << *result.error;
}

TEST(PolicyGuards, HugePlainFindIsRefused) {
  const ExpireResult result =
      run("local s = string.rep('a', 3000000)\nreturn { [1] = { keep = true, reasons = { "
          "tostring(s:find(string.rep('a', 1000000) .. 'b', 1, true)) } } }");
  expect_failed_closed(result, kSeries, "more work than the policy sandbox allows");
}

TEST(PolicyGuards, OrdinaryPatternsWork) {
  const ExpireResult result = run(R"(
  local y, m, d = ctx.now_iso:match("^(%d+)-(%d+)-(%d+)T")
  local words = {}
  for w in ("keep the last seven"):gmatch("%a+") do words[#words + 1] = w end
  local replaced = ("a-b-c"):gsub("-", "+")
  return { [1] = { keep = true, reasons = { y .. m .. d, table.concat(words, ","), replaced,
                                            tostring(("x.y"):find(".", 1, true)) } } }
)");
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_EQ(decision_for(result, 1).reasons,
            (std::vector<std::string>{"20261120", "keep,the,last,seven", "a+b+c", "2"}));
}

TEST(PolicyGuards, RepeatingEmptyStringsReturnsAtOnce) {
  const ExpireResult result =
      run("return { [1] = { keep = true, reasons = { '[' .. string.rep('', math.maxinteger) .. ']' } } }");
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_EQ(decision_for(result, 1).reasons, std::vector<std::string>{"[]"});
}

TEST(PolicyGuards, TableShiftWithLyingLengthIsRefused) {
  const ExpireResult result =
      run("local t = setmetatable({}, { __len = function() return math.maxinteger // 2 end })\n"
          "table.insert(t, 1, 'x')\nreturn {}");
  expect_failed_closed(result, kSeries, "table.insert: shifting");
}

TEST(PolicyGuards, HugeTableMoveIsRefused) {
  const ExpireResult result = run("table.move({}, 1, math.maxinteger // 2, 2)\nreturn {}");
  expect_failed_closed(result, kSeries, "table.move: moving");
}

TEST(PolicyGuards, OrdinaryTableFunctionsWork) {
  const ExpireResult result = run(R"(
  local t = {"b", "c"}
  table.insert(t, 1, "a")
  table.insert(t, "d")
  table.remove(t, 2)
  local moved = table.move(t, 1, 3, 1, {})
  return { [1] = { keep = true, reasons = { table.concat(moved, ",") } } }
)");
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_EQ(decision_for(result, 1).reasons, std::vector<std::string>{"a,c,d"});
}

}  // namespace
}  // namespace sbx::policy::testing
