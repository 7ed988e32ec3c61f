#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

using testing::local;
using testing::utc;
using V = std::vector<std::string>;

V first(const std::string& when, int count, const std::string& from) {
  const auto s = Schedule::parse(when, "UTC");
  return local(s.firings_between(utc(from), utc("2031-01-01 00:00"), static_cast<size_t>(count)), "UTC");
}

// June 2026: the 1st is a Monday, the 13th a Saturday, Fridays are 5, 12, 19, 26.
TEST(CronDomDow, BothRestrictedCombineWithOr) {
  EXPECT_EQ(first("0 0 13 * fri", 4, "2026-06-01 00:00"),
            (V{"2026-06-05 00:00:00 UTC", "2026-06-12 00:00:00 UTC", "2026-06-13 00:00:00 UTC",
               "2026-06-19 00:00:00 UTC"}));
  EXPECT_EQ(first("0 0 1,15 * 0", 3, "2026-06-01 00:00"),
            (V{"2026-06-07 00:00:00 UTC", "2026-06-14 00:00:00 UTC", "2026-06-15 00:00:00 UTC"}));
}

TEST(CronDomDow, StarredDayOfMonthMeansOnlyWeekdaysCount) {
  EXPECT_EQ(first("0 0 * * fri", 2, "2026-06-01 00:00"),
            (V{"2026-06-05 00:00:00 UTC", "2026-06-12 00:00:00 UTC"}));
  // Vixie: a field starting with '*' is unrestricted even with a step, so the fields combine with AND.
  EXPECT_EQ(first("0 0 */2 * fri", 3, "2026-06-01 00:00"),
            (V{"2026-06-05 00:00:00 UTC", "2026-06-19 00:00:00 UTC", "2026-07-03 00:00:00 UTC"}));
}

TEST(CronDomDow, StarredDayOfWeekMeansOnlyDaysOfMonthCount) {
  EXPECT_EQ(first("0 0 13 * *", 2, "2026-06-01 00:00"),
            (V{"2026-06-13 00:00:00 UTC", "2026-07-13 00:00:00 UTC"}));
}

TEST(CronDomDow, MonthFieldStillAppliesToBothSidesOfTheOr) {
  EXPECT_EQ(first("0 0 13 jul fri", 3, "2026-06-01 00:00"),
            (V{"2026-07-03 00:00:00 UTC", "2026-07-10 00:00:00 UTC", "2026-07-13 00:00:00 UTC"}));
}

}  // namespace
}  // namespace sbx::scheduler
