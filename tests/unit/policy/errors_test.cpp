// Policy errors name the file and line, carry a traceback, and fail closed.
#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

const std::vector<SetInfo> kSeries = {full(1, kNov20_2026 - kDay), full(2, kNov20_2026)};

TEST(PolicyErrors, SyntaxErrorIsReportedWithFileAndLine) {
  TempDir temp;
  const fs::path dir =
      make_policy_dir(temp, "function expire(series, ctx)\n  local x = = 1\n  return {}\nend\n");
  auto engine = make_engine(dir);
  ASSERT_TRUE(engine.last_error().has_value());
  EXPECT_TRUE(engine.last_error()->starts_with("default/retention.lua:2: unexpected symbol near '='"))
      << *engine.last_error();
  const ExpireResult result = engine.evaluate_expire("s", kSeries, kNov20_2026);
  expect_failed_closed(result, kSeries, "no policy loaded");
  EXPECT_EQ(result.revision, "");
}

TEST(PolicyErrors, RuntimeErrorCarriesLineAndTraceback) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, R"(local function newest(series)
  return series[#series + 1].started
end

function expire(series, ctx)
  return { [1] = { keep = newest(series) > 0 } }
end
)");
  auto engine = make_engine(dir);
  ASSERT_FALSE(engine.last_error().has_value()) << *engine.last_error();
  const ExpireResult result = engine.evaluate_expire("s", kSeries, kNov20_2026);
  expect_failed_closed(result, kSeries, "default/retention.lua:2: attempt to index a nil value");
  EXPECT_NE(result.traceback.find("default/retention.lua:2: in "), std::string::npos) << result.traceback;
  EXPECT_NE(result.traceback.find("default/retention.lua:6: in function 'expire'"), std::string::npos)
      << result.traceback;
  EXPECT_FALSE(result.revision.empty());
}

TEST(PolicyErrors, ErrorInsideALibModuleNamesTheModule) {
  TempDir temp;
  const fs::path dir =
      make_policy_dir(temp, "function expire(series, ctx)\n  return lib.broken.run()\nend\n");
  write_file(dir / "lib" / "broken.lua",
             "local M = {}\nfunction M.run()\n  error('no luck')\nend\nreturn M\n");
  auto engine = make_engine(dir);
  ASSERT_FALSE(engine.last_error().has_value()) << *engine.last_error();
  const ExpireResult result = engine.evaluate_expire("s", kSeries, kNov20_2026);
  expect_failed_closed(result, kSeries, "lib/broken.lua:3: no luck");
}

TEST(PolicyErrors, NonStringErrorObjectsAreDescribed) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, "function expire(series, ctx)\n  error({ code = 7 })\nend\n");
  auto engine = make_engine(dir);
  const ExpireResult result = engine.evaluate_expire("s", kSeries, kNov20_2026);
  expect_failed_closed(result, kSeries, "(error object is a table value)");
  EXPECT_NE(result.error->find("default/retention.lua:2"), std::string::npos) << *result.error;
}

TEST(PolicyErrors, MissingHookIsReported) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, "function expire_sets(series, ctx) return {} end\n");
  auto engine = make_engine(dir);
  ASSERT_TRUE(engine.last_error().has_value());
  EXPECT_EQ(*engine.last_error(),
            "default/retention.lua: required hook 'expire' is not defined (expected a global function "
            "expire(series, ctx))");
}

TEST(PolicyErrors, HookRemovedAtRunTimeFailsClosed) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, R"(
function expire(series, ctx) return {} end
KEEP_GOING = true
)");
  auto engine = make_engine(dir);
  ASSERT_FALSE(engine.last_error().has_value());
  // Evaluations run in fresh states, so nothing a previous evaluation did can leak into the next.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(engine.evaluate_expire("s", kSeries, kNov20_2026).failed);
}

}  // namespace
}  // namespace sbx::policy::testing
