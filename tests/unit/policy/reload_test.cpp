// A reload that fails keeps the last good revision in effect.
#include <thread>

#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

const std::vector<SetInfo> kSeries = {full(1, kNov20_2026 - kDay), full(2, kNov20_2026)};

std::string policy_with_reason(const std::string& reason) {
  return "function expire(series, ctx)\n  return { [1] = { keep = false, reasons = { '" + reason +
         "' } } }\nend\n";
}

TEST(PolicyReload, FailedReloadKeepsTheLastGoodRevision) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, policy_with_reason("first"));
  auto engine = make_engine(dir);
  const std::string first = engine.revision();
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(decision_for(engine.evaluate_expire("s", kSeries, kNov20_2026), 1).reasons.front(), "first");

  write_file(dir / "default" / "retention.lua", "function expire(series, ctx)\n  return {\nend\n");
  const ReloadResult bad = engine.reload();
  EXPECT_FALSE(bad.ok);
  ASSERT_TRUE(bad.error.has_value());
  EXPECT_TRUE(bad.error->starts_with("default/retention.lua:3:")) << *bad.error;
  EXPECT_EQ(bad.revision, first);
  EXPECT_EQ(engine.revision(), first);
  EXPECT_EQ(engine.last_error(), bad.error);
  const ExpireResult still = engine.evaluate_expire("s", kSeries, kNov20_2026);
  EXPECT_FALSE(still.failed);
  EXPECT_EQ(still.revision, first);
  EXPECT_EQ(decision_for(still, 1).reasons.front(), "first") << "the files in memory are the good revision's";

  write_file(dir / "default" / "retention.lua", policy_with_reason("second"));
  const ReloadResult good = engine.reload();
  EXPECT_TRUE(good.ok);
  EXPECT_FALSE(good.error.has_value());
  EXPECT_NE(good.revision, first);
  EXPECT_FALSE(engine.last_error().has_value());
  const ExpireResult now = engine.evaluate_expire("s", kSeries, kNov20_2026);
  EXPECT_EQ(now.revision, good.revision);
  EXPECT_EQ(decision_for(now, 1).reasons.front(), "second");
}

TEST(PolicyReload, BrokenLibModuleIsRefusedToo) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, policy_with_reason("first"));
  auto engine = make_engine(dir);
  const std::string first = engine.revision();
  write_file(dir / "lib" / "helpers.lua", "local M = {}\nreturn nil\n");
  const ReloadResult bad = engine.reload();
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.error.value_or(""), "lib/helpers.lua must return its module table, got nil");
  EXPECT_EQ(engine.revision(), first);
}

TEST(PolicyReload, MissingFolderOnFirstLoadMeansNoPolicy) {
  TempDir temp;
  auto engine = make_engine(temp.path() / "nowhere");
  EXPECT_TRUE(engine.revision().empty());
  ASSERT_TRUE(engine.last_error().has_value());
  EXPECT_NE(engine.last_error()->find("not a policy folder"), std::string::npos) << *engine.last_error();
  expect_failed_closed(engine.evaluate_expire("s", kSeries, kNov20_2026), kSeries, "no policy loaded");
}

TEST(PolicyReload, EvaluationsRunWhileReloading) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, policy_with_reason("a"));
  auto engine = make_engine(dir);
  std::thread reloader([&] {
    for (int i = 0; i < 10; ++i) {
      write_file(dir / "default" / "retention.lua", policy_with_reason(i % 2 ? "a" : "b"));
      engine.reload();
    }
  });
  for (int i = 0; i < 10; ++i) {
    const ExpireResult r = engine.evaluate_expire("s", kSeries, kNov20_2026);
    EXPECT_FALSE(r.failed) << r.error.value_or("");
  }
  reloader.join();
}

}  // namespace
}  // namespace sbx::policy::testing
