#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

using testing::local;
using testing::utc;
using V = std::vector<std::string>;

V first(const std::string& when, int count, const std::string& from = "2026-06-01 00:00") {
  const auto s = Schedule::parse(when, "UTC");
  return local(s.firings_between(utc(from), utc("2031-01-01 00:00"), static_cast<size_t>(count)), "UTC");
}

TEST(CronFields, ListsRangesAndSteps) {
  EXPECT_EQ(first("*/15 * * * *", 3, "2026-06-01 00:01"),
            (V{"2026-06-01 00:15:00 UTC", "2026-06-01 00:30:00 UTC", "2026-06-01 00:45:00 UTC"}));
  EXPECT_EQ(first("1-30/10 4 * * *", 4), (V{"2026-06-01 04:01:00 UTC", "2026-06-01 04:11:00 UTC",
                                            "2026-06-01 04:21:00 UTC", "2026-06-02 04:01:00 UTC"}));
  EXPECT_EQ(first("5,7 1,2 * * *", 4), (V{"2026-06-01 01:05:00 UTC", "2026-06-01 01:07:00 UTC",
                                          "2026-06-01 02:05:00 UTC", "2026-06-01 02:07:00 UTC"}));
  // "50/5" means 50-59/5, as cronie reads it.
  EXPECT_EQ(first("50/5 3 * * *", 2), (V{"2026-06-01 03:50:00 UTC", "2026-06-01 03:55:00 UTC"}));
}

TEST(CronFields, MonthNamesAndNumbers) {
  EXPECT_EQ(first("0 0 1 jan,JUL *", 2), (V{"2026-07-01 00:00:00 UTC", "2027-01-01 00:00:00 UTC"}));
  EXPECT_EQ(first("0 0 1 feb-apr *", 3),
            (V{"2027-02-01 00:00:00 UTC", "2027-03-01 00:00:00 UTC", "2027-04-01 00:00:00 UTC"}));
  EXPECT_EQ(first("0 0 1 */6 *", 2), (V{"2026-07-01 00:00:00 UTC", "2027-01-01 00:00:00 UTC"}));
}

TEST(CronFields, DayNamesAndSundayAsZeroOrSeven) {
  // 2026-06-07 is a Sunday.
  EXPECT_EQ(first("0 12 * * 0", 1), (V{"2026-06-07 12:00:00 UTC"}));
  EXPECT_EQ(first("0 12 * * 7", 1), (V{"2026-06-07 12:00:00 UTC"}));
  EXPECT_EQ(first("0 12 * * sun", 1), (V{"2026-06-07 12:00:00 UTC"}));
  EXPECT_EQ(first("0 12 * * 5-7", 3),
            (V{"2026-06-05 12:00:00 UTC", "2026-06-06 12:00:00 UTC", "2026-06-07 12:00:00 UTC"}));
  EXPECT_EQ(first("0 12 * * mon-fri", 6, "2026-06-05 13:00"),
            (V{"2026-06-08 12:00:00 UTC", "2026-06-09 12:00:00 UTC", "2026-06-10 12:00:00 UTC",
               "2026-06-11 12:00:00 UTC", "2026-06-12 12:00:00 UTC", "2026-06-15 12:00:00 UTC"}));
}

TEST(CronFields, Feb29OnlyInLeapYears) {
  // Only one Feb 29 lies before 2031.
  EXPECT_EQ(first("0 6 29 2 *", 5), (V{"2028-02-29 06:00:00 UTC"}));
  const auto s = Schedule::parse("0 6 29 2 *", "UTC");
  EXPECT_EQ(local(*s.next_after(utc("2026-06-01 00:00")), "UTC"), "2028-02-29 06:00:00 UTC");
  EXPECT_EQ(local(*s.next_after(utc("2028-02-29 06:00")), "UTC"), "2032-02-29 06:00:00 UTC");
}

TEST(CronFields, WildcardMinuteAndHourFireEveryMinute) {
  const auto s = Schedule::parse("* * * * *", "UTC");
  EXPECT_EQ(s.firings_between(utc("2026-06-01 00:00"), utc("2026-06-02 00:00")).size(), 1440u);
}

}  // namespace
}  // namespace sbx::scheduler
