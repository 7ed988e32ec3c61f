#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

using testing::local;
using testing::utc;
using V = std::vector<std::string>;

V first(const std::string& when, int count, const std::string& from = "2026-06-01 00:00",
        const std::string& zone = "UTC") {
  const auto s = Schedule::parse(when, zone);
  return local(s.firings_between(utc(from), utc("2030-01-01 00:00"), static_cast<size_t>(count)), zone);
}

TEST(ReadableForms, Hourly) {
  EXPECT_EQ(first("hourly", 3),
            (V{"2026-06-01 01:00:00 UTC", "2026-06-01 02:00:00 UTC", "2026-06-01 03:00:00 UTC"}));
  EXPECT_EQ(first("hourly :15", 2), (V{"2026-06-01 00:15:00 UTC", "2026-06-01 01:15:00 UTC"}));
}

TEST(ReadableForms, DailyInZone) {
  EXPECT_EQ(first("daily 22:00", 2, "2026-06-01 00:00", "Europe/Berlin"),
            (V{"2026-06-01 22:00:00 CEST", "2026-06-02 22:00:00 CEST"}));
  EXPECT_EQ(first("Daily 7:05", 1), (V{"2026-06-01 07:05:00 UTC"}));
}

TEST(ReadableForms, WeekdaysAndWeekends) {
  // 2026-06-05 is a Friday.
  EXPECT_EQ(first("weekdays 08:00", 3, "2026-06-05 00:00"),
            (V{"2026-06-05 08:00:00 UTC", "2026-06-08 08:00:00 UTC", "2026-06-09 08:00:00 UTC"}));
  EXPECT_EQ(first("weekends 08:00", 3, "2026-06-05 00:00"),
            (V{"2026-06-06 08:00:00 UTC", "2026-06-07 08:00:00 UTC", "2026-06-13 08:00:00 UTC"}));
}

TEST(ReadableForms, WeeklyWithSeveralDaysAndFullNames) {
  EXPECT_EQ(first("weekly sun 02:00", 2), (V{"2026-06-07 02:00:00 UTC", "2026-06-14 02:00:00 UTC"}));
  EXPECT_EQ(first("weekly MON,wednesday,Fri 02:00", 4),
            (V{"2026-06-01 02:00:00 UTC", "2026-06-03 02:00:00 UTC", "2026-06-05 02:00:00 UTC",
               "2026-06-08 02:00:00 UTC"}));
}

TEST(ReadableForms, MonthlyDaySkipsShortMonths) {
  EXPECT_EQ(first("monthly 31 10:00", 3, "2026-01-01 00:00"),
            (V{"2026-01-31 10:00:00 UTC", "2026-03-31 10:00:00 UTC", "2026-05-31 10:00:00 UTC"}));
  EXPECT_EQ(first("monthly 1 00:00", 2, "2026-01-01 00:00"),
            (V{"2026-02-01 00:00:00 UTC", "2026-03-01 00:00:00 UTC"}));
}

TEST(ReadableForms, MonthlyLastDay) {
  EXPECT_EQ(first("monthly last 23:30", 4, "2027-12-01 00:00"),
            (V{"2027-12-31 23:30:00 UTC", "2028-01-31 23:30:00 UTC", "2028-02-29 23:30:00 UTC",
               "2028-03-31 23:30:00 UTC"}));
}

TEST(ReadableForms, MonthlyNthWeekday) {
  // Saturdays of 2026: Aug 1, Sep 5, Oct 3; last Fridays: Aug 28, Sep 25.
  EXPECT_EQ(first("monthly first sat", 3, "2026-07-05 00:00"),
            (V{"2026-08-01 00:00:00 UTC", "2026-09-05 00:00:00 UTC", "2026-10-03 00:00:00 UTC"}));
  EXPECT_EQ(first("monthly last fri 18:00", 2, "2026-08-01 00:00"),
            (V{"2026-08-28 18:00:00 UTC", "2026-09-25 18:00:00 UTC"}));
  EXPECT_EQ(first("monthly second tuesday 09:00", 1, "2026-08-01 00:00"), (V{"2026-08-11 09:00:00 UTC"}));
  EXPECT_EQ(first("monthly third sun 01:00", 1, "2026-08-01 00:00"), (V{"2026-08-16 01:00:00 UTC"}));
  EXPECT_EQ(first("monthly fourth mon 01:00", 1, "2026-08-01 00:00"), (V{"2026-08-24 01:00:00 UTC"}));
}

TEST(ReadableForms, EveryNMinutesAnchoredAtMidnight) {
  EXPECT_EQ(first("every 20 minutes", 4, "2026-06-01 23:10"),
            (V{"2026-06-01 23:20:00 UTC", "2026-06-01 23:40:00 UTC", "2026-06-02 00:00:00 UTC",
               "2026-06-02 00:20:00 UTC"}));
  EXPECT_EQ(first("every 1 minute", 2, "2026-06-01 23:10"),
            (V{"2026-06-01 23:11:00 UTC", "2026-06-01 23:12:00 UTC"}));
}

TEST(ReadableForms, EveryNHoursAnchoredAtLocalMidnight) {
  EXPECT_EQ(first("every 8 hours", 4, "2026-06-01 00:00", "Asia/Kolkata"),
            (V{"2026-06-01 08:00:00 IST", "2026-06-01 16:00:00 IST", "2026-06-02 00:00:00 IST",
               "2026-06-02 08:00:00 IST"}));
}

TEST(ReadableForms, TextAndZoneAreKept) {
  const auto s = Schedule::parse("  weekly  Sun 02:00 ", "America/New_York");
  EXPECT_EQ(s.text(), "  weekly  Sun 02:00 ");
  EXPECT_EQ(s.time_zone(), "America/New_York");
  EXPECT_FALSE(s.follows_real_clock());
  EXPECT_TRUE(Schedule::parse("every 15 minutes", "UTC").follows_real_clock());
  EXPECT_TRUE(Schedule::parse("hourly", "UTC").follows_real_clock());
}

}  // namespace
}  // namespace sbx::scheduler
