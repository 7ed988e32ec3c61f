// lib.gfs against an independent oracle (std::chrono's calendar) on a synthetic 400-day series.
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>

#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

using namespace std::chrono;

sys_days day_of(std::int64_t t) {
  return floor<days>(sys_seconds{seconds{t}});
}

std::string day_key(std::int64_t t) {
  const year_month_day ymd{day_of(t)};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string week_key(std::int64_t t) {
  const sys_days d = day_of(t);
  const sys_days thursday = d - days{weekday{d}.iso_encoding() - 1} + days{3};
  const year iso_year = year_month_day{thursday}.year();
  const auto week = (thursday - sys_days{iso_year / January / 1}).count() / 7 + 1;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-W%02d", static_cast<int>(iso_year), static_cast<int>(week));
  return buf;
}

std::string month_key(std::int64_t t) {
  return day_key(t).substr(0, 7);
}
std::string year_key(std::int64_t t) {
  return day_key(t).substr(0, 4);
}

// restic's algorithm, newest first: the first set of each new period is kept until the count runs out.
std::map<std::int64_t, std::vector<std::string>> oracle(
    const std::vector<SetInfo>& sets, const std::vector<std::pair<std::string, int>>& rules) {
  std::vector<SetInfo> newest_first(sets.rbegin(), sets.rend());
  std::map<std::int64_t, std::vector<std::string>> kept;
  const std::map<std::string, std::function<std::string(std::int64_t)>> keys = {
      {"daily", day_key}, {"weekly", week_key}, {"monthly", month_key}, {"yearly", year_key}};
  for (const auto& [label, count] : rules) {
    int remaining = count;
    std::string previous;
    for (const SetInfo& s : newest_first) {
      if (remaining == 0) break;
      const std::string key = keys.at(label)(s.started_s);
      if (key == previous) continue;
      previous = key;
      kept[s.id].push_back(label + " " + key);
      --remaining;
    }
  }
  return kept;
}

ExpireResult evaluate_with_rules(const std::string& rules, const std::vector<SetInfo>& sets) {
  TempDir temp;
  const fs::path dir =
      make_policy_dir(temp, "function expire(series, ctx)\n  local d = lib.gfs.select(series, " + rules +
                                ")\n  return d\nend\n");
  auto engine = make_engine(dir);
  EXPECT_FALSE(engine.last_error().has_value()) << engine.last_error().value_or("");
  return engine.evaluate_expire("daily", sets, sets.back().started_s + 3600);
}

TEST(PolicyGfs, FourHundredDailyFullsMatchTheOracle) {
  const std::vector<SetInfo> sets = daily_fulls(400, kNov20_2026);
  const ExpireResult result =
      evaluate_with_rules("{ keep_daily = 7, keep_weekly = 4, keep_monthly = 12, keep_yearly = 3 }", sets);
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  const auto expected = oracle(sets, {{"daily", 7}, {"weekly", 4}, {"monthly", 12}, {"yearly", 3}});
  std::size_t kept = 0;
  for (const SetInfo& s : sets) {
    const ExpireDecision& d = decision_for(result, s.id);
    auto it = expected.find(s.id);
    if (it == expected.end()) {
      EXPECT_FALSE(d.keep) << "set " << s.id << " " << day_key(s.started_s) << ": " << joined_reasons(d);
      EXPECT_EQ(d.reasons, std::vector<std::string>{"matched no keep rule"});
    } else {
      ++kept;
      EXPECT_TRUE(d.keep) << "set " << s.id << " " << day_key(s.started_s);
      // The newest set is in the last recovery chain; the engine adds nothing because the policy kept it.
      EXPECT_EQ(d.reasons, it->second) << "set " << s.id;
    }
  }
  // 7 days (Nov 14-20), 2 more weeks (W45: Nov 8, W44: Nov 1) and 11 more months (Oct 2026 back to Dec 2025,
  // which is also the yearly 2025); the series starts 2025-10-17, so no third year.
  EXPECT_EQ(kept, 20u);
  // Spot checks a reader can verify by hand (2026-11-20 is a Friday).
  EXPECT_EQ(
      decision_for(result, 400).reasons,
      (std::vector<std::string>{"daily 2026-11-20", "weekly 2026-W47", "monthly 2026-11", "yearly 2026"}));
  EXPECT_EQ(decision_for(result, 395).reasons,
            (std::vector<std::string>{"daily 2026-11-15", "weekly 2026-W46"}));  // Sunday
  EXPECT_EQ(decision_for(result, 394).reasons, std::vector<std::string>{"daily 2026-11-14"});
  EXPECT_FALSE(decision_for(result, 393).keep);
  EXPECT_EQ(decision_for(result, 388).reasons, std::vector<std::string>{"weekly 2026-W45"});
  EXPECT_EQ(decision_for(result, 380).reasons, std::vector<std::string>{"monthly 2026-10"});  // 2026-10-31
  EXPECT_EQ(decision_for(result, 76).reasons,
            (std::vector<std::string>{"monthly 2025-12", "yearly 2025"}));  // 2025-12-31
  EXPECT_EQ(decision_for(result, 1).keep, false);
}

TEST(PolicyGfs, KeepLastAndKeepWithin) {
  const std::vector<SetInfo> sets = daily_fulls(30, kNov20_2026);
  const ExpireResult result = evaluate_with_rules("{ keep_last = 2, keep_within = 4 * 86400 }", sets);
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_EQ(decision_for(result, 30).reasons, (std::vector<std::string>{"last 1", "within 4d"}));
  EXPECT_EQ(decision_for(result, 29).reasons, (std::vector<std::string>{"last 2", "within 4d"}));
  EXPECT_EQ(decision_for(result, 26).reasons, std::vector<std::string>{"within 4d"});
  EXPECT_FALSE(decision_for(result, 25).keep);
}

TEST(PolicyGfs, UnlimitedCountKeepsEveryPeriod) {
  const std::vector<SetInfo> sets = daily_fulls(60, kNov20_2026);
  const ExpireResult result = evaluate_with_rules("{ keep_monthly = -1 }", sets);
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  std::size_t kept = 0;
  for (const ExpireDecision& d : result.decisions) kept += d.keep ? 1 : 0;
  EXPECT_EQ(kept, 3u);  // 2026-09 (last day in series: 2026-09-30), 2026-10, 2026-11
}

TEST(PolicyGfs, IsoWeeksAcrossAYearBoundary) {
  // 2020-12-27 (Sunday, 2020-W52) through 2021-01-11 (Monday, 2021-W02).
  const std::vector<SetInfo> sets = daily_fulls(16, 1610323200);  // 2021-01-11
  const ExpireResult result = evaluate_with_rules("{ keep_weekly = -1 }", sets);
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_EQ(decision_for(result, 16).reasons, std::vector<std::string>{"weekly 2021-W02"});
  EXPECT_EQ(decision_for(result, 15).reasons, std::vector<std::string>{"weekly 2021-W01"});  // Sunday 01-10
  EXPECT_EQ(decision_for(result, 8).reasons, std::vector<std::string>{"weekly 2020-W53"});   // Sunday 01-03
  EXPECT_EQ(decision_for(result, 1).reasons, std::vector<std::string>{"weekly 2020-W52"});   // Sunday 12-27
  EXPECT_FALSE(decision_for(result, 2).keep);
}

TEST(PolicyGfs, BadRulesFailClosed) {
  const std::vector<SetInfo> sets = daily_fulls(3, kNov20_2026);
  expect_failed_closed(evaluate_with_rules("{ keep_dayly = 7 }", sets), sets,
                       "gfs: unknown rule 'keep_dayly'");
  expect_failed_closed(evaluate_with_rules("{}", sets), sets, "gfs: no keep rule given");
  expect_failed_closed(evaluate_with_rules("{ keep_daily = 1.5 }", sets), sets,
                       "gfs: keep_daily must be a whole number >= 0, or -1 for no limit, got 1.5");
  // The error points at the policy line that called gfs.select, not inside the library.
  expect_failed_closed(evaluate_with_rules("{ keep_weekly = -2 }", sets), sets, "default/retention.lua:2:");
}

}  // namespace
}  // namespace sbx::policy::testing
