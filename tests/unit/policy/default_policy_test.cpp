// The shipped default retention policy on realistic series, through the engine.
#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

// A full every Sunday at 01:00 and an incremental on the other days, each on the previous set, for `days`
// days ending 2026-11-20 (a Friday). Returns ids in time order.
std::vector<SetInfo> weekly_fulls_daily_incrementals(int days) {
  std::vector<SetInfo> sets;
  const std::int64_t first = kNov20_2026 - static_cast<std::int64_t>(days - 1) * kDay + 3600;
  for (int i = 0; i < days; ++i) {
    const std::int64_t started = first + i * kDay;
    const bool sunday = ((started / kDay) + 3) % 7 == 6;  // 1970-01-01 was a Thursday
    const std::int64_t id = i + 1;
    if (sunday || sets.empty()) {
      sets.push_back(full(id, started));
    } else {
      sets.push_back(incremental(id, id - 1, started));
    }
  }
  return sets;
}

std::int64_t full_of(const std::vector<SetInfo>& sets, std::int64_t id) {
  for (;;) {
    const SetInfo& s = sets.at(static_cast<std::size_t>(id - 1));
    if (s.level == "full") return s.id;
    id = *s.base;
  }
}

TEST(PolicyDefault, IncrementalsFollowTheirFullAndNothingNeedsOverriding) {
  const std::vector<SetInfo> sets = weekly_fulls_daily_incrementals(120);
  auto engine = make_engine(shipped_policies());
  ASSERT_FALSE(engine.last_error().has_value()) << *engine.last_error();
  const ExpireResult result = engine.evaluate_expire("nightly", sets, kNov20_2026 + 12 * 3600);
  ASSERT_FALSE(result.failed) << result.error.value_or("") << "\n" << result.traceback;
  EXPECT_EQ(result.policy_file, "default/retention.lua");
  EXPECT_EQ(result.revision, engine.revision());

  std::size_t expired_fulls = 0;
  std::size_t kept_fulls = 0;
  for (const SetInfo& s : sets) {
    const ExpireDecision& d = decision_for(result, s.id);
    EXPECT_FALSE(d.overridden) << "set " << s.id << ": " << joined_reasons(d);
    EXPECT_FALSE(d.reasons.empty());
    if (s.level == "full") {
      (d.keep ? kept_fulls : expired_fulls) += 1;
      if (!d.keep) {
        EXPECT_EQ(d.reasons, std::vector<std::string>{"matched no keep rule"});
      }
    } else {
      const std::int64_t f = full_of(sets, s.id);
      EXPECT_EQ(d.keep, decision_for(result, f).keep) << "set " << s.id << " follows full " << f;
      EXPECT_EQ(d.reasons.front(),
                (d.keep ? "builds on kept full " : "builds on expiring full ") + std::to_string(f));
    }
  }
  // Sundays 2026-07-26 .. 2026-11-15: the newest 7, plus the newest of September, August and July.
  EXPECT_EQ(kept_fulls, 10u);
  EXPECT_GT(expired_fulls, 0u);
  EXPECT_TRUE(decision_for(result, 120).keep);
  EXPECT_EQ(decision_for(result, 1).keep, false) << joined_reasons(decision_for(result, 1));
}

TEST(PolicyDefault, DifferentialsFollowTheirFull) {
  std::vector<SetInfo> sets;
  std::int64_t id = 1;
  for (int week = 0; week < 60; ++week) {
    const std::int64_t sunday = kNov20_2026 - (59 - week) * 7 * kDay - 5 * kDay;
    const std::int64_t full_id = id;
    sets.push_back(full(id++, sunday));
    for (int day = 1; day <= 6; ++day) sets.push_back(differential(id++, full_id, sunday + day * kDay));
  }
  auto engine = make_engine(shipped_policies());
  const ExpireResult result = engine.evaluate_expire("nightly", sets, kNov20_2026);
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  for (const SetInfo& s : sets) {
    if (s.level == "differential") {
      EXPECT_EQ(decision_for(result, s.id).keep, decision_for(result, *s.base).keep);
    }
    EXPECT_FALSE(decision_for(result, s.id).overridden);
  }
  EXPECT_FALSE(decision_for(result, 1).keep);
}

TEST(PolicyDefault, IncrementalWhoseFullIsGoneIsKept) {
  const std::vector<SetInfo> sets = {incremental(5, 4, kNov20_2026 - 2 * kDay), full(6, kNov20_2026 - kDay),
                                     incremental(7, 6, kNov20_2026)};
  auto engine = make_engine(shipped_policies());
  const ExpireResult result = engine.evaluate_expire("nightly", sets, kNov20_2026);
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_TRUE(decision_for(result, 5).keep);
  EXPECT_EQ(decision_for(result, 5).reasons,
            std::vector<std::string>{"its full backup is not in the series"});
}

TEST(PolicyDefault, TwoYearsOfHourlyIncrementalsFitTheDefaultLimits) {
  // A full every Sunday and an incremental every other hour: 17,520 sets, chains of up to 167 links.
  std::vector<SetInfo> sets;
  const std::int64_t first = kNov20_2026 - 730 * kDay;
  std::int64_t full_id = 0;
  for (std::int64_t hour = 0; hour < 730 * 24; ++hour) {
    const std::int64_t started = first + hour * 3600;
    const std::int64_t id = hour + 1;
    const bool sunday_midnight = ((started / kDay) + 3) % 7 == 6 && started % kDay == 0;
    if (sunday_midnight || sets.empty()) {
      sets.push_back(full(id, started));
      full_id = id;
    } else {
      sets.push_back(incremental(id, id - 1, started));
    }
  }
  auto engine = PolicyEngine(shipped_policies());
  const ExpireResult result = engine.evaluate_expire("hourly", sets, kNov20_2026);
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_TRUE(decision_for(result, full_id).keep);
  EXPECT_TRUE(decision_for(result, sets.back().id).keep);
  EXPECT_FALSE(decision_for(result, 1).keep);
}

TEST(PolicyDefault, EmptySeries) {
  auto engine = make_engine(shipped_policies());
  const ExpireResult result = engine.evaluate_expire("nightly", {}, kNov20_2026);
  EXPECT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_TRUE(result.decisions.empty());
}

}  // namespace
}  // namespace sbx::policy::testing
