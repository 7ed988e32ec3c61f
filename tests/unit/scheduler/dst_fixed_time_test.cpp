// A fixed time of day fires once per matching local day: in a spring-forward gap at the transition instant,
// in a fall-back overlap at the first occurrence.
#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

using testing::local;
using testing::utc;
using V = std::vector<std::string>;

std::vector<int64_t> around(const std::string& when, const std::string& zone, const std::string& from,
                            const std::string& until) {
  return Schedule::parse(when, zone).firings_between(utc(from), utc(until));
}

TEST(DstFixedTime, BerlinSpringForwardFiresAtTheTransition) {
  EXPECT_EQ(
      local(around("daily 02:30", "Europe/Berlin", "2026-03-27 12:00", "2026-03-30 12:00"), "Europe/Berlin"),
      (V{"2026-03-28 02:30:00 CET", "2026-03-29 03:00:00 CEST", "2026-03-30 02:30:00 CEST"}));
  EXPECT_EQ(around("daily 02:30", "Europe/Berlin", "2026-03-29 00:00", "2026-03-29 12:00"),
            (std::vector<int64_t>{utc("2026-03-29 01:00")}));
}

TEST(DstFixedTime, BerlinFallBackFiresOnceAtTheFirstOccurrence) {
  EXPECT_EQ(
      local(around("daily 02:30", "Europe/Berlin", "2026-10-24 12:00", "2026-10-26 12:00"), "Europe/Berlin"),
      (V{"2026-10-25 02:30:00 CEST", "2026-10-26 02:30:00 CET"}));
  EXPECT_EQ(around("daily 02:30", "Europe/Berlin", "2026-10-24 23:00", "2026-10-25 03:00"),
            (std::vector<int64_t>{utc("2026-10-25 00:30")}));
}

TEST(DstFixedTime, NewYorkBothDirections) {
  EXPECT_EQ(around("daily 02:30", "America/New_York", "2026-03-08 00:00", "2026-03-08 23:00"),
            (std::vector<int64_t>{utc("2026-03-08 07:00")}));
  EXPECT_EQ(around("weekly sun 01:30", "America/New_York", "2026-11-01 00:00", "2026-11-01 23:00"),
            (std::vector<int64_t>{utc("2026-11-01 05:30")}));
}

TEST(DstFixedTime, LordHoweHalfHourShiftBothDirections) {
  // 2026-10-04 02:00 +1030 -> 02:30 +11 at 15:30 UTC on Oct 3; 2026-04-05 02:00 +11 -> 01:30 +1030 at 15:00
  // UTC.
  EXPECT_EQ(around("daily 02:15", "Australia/Lord_Howe", "2026-10-03 00:00", "2026-10-04 12:00"),
            (std::vector<int64_t>{utc("2026-10-03 15:30")}));
  EXPECT_EQ(around("daily 02:30", "Australia/Lord_Howe", "2026-10-03 00:00", "2026-10-04 12:00"),
            (std::vector<int64_t>{utc("2026-10-03 15:30")}));
  EXPECT_EQ(around("daily 01:45", "Australia/Lord_Howe", "2026-04-04 00:00", "2026-04-05 12:00"),
            (std::vector<int64_t>{utc("2026-04-04 14:45")}));
}

TEST(DstFixedTime, CronWithOneHourFollowsTheSameRule) {
  // Both 02:00 and 02:30 fall into the gap: one firing at the transition.
  EXPECT_EQ(around("0,30 2 * * *", "Europe/Berlin", "2026-03-29 00:00", "2026-03-29 12:00"),
            (std::vector<int64_t>{utc("2026-03-29 01:00")}));
  EXPECT_EQ(around("0,30 2 * * *", "Europe/Berlin", "2026-10-24 23:00", "2026-10-25 03:00"),
            (std::vector<int64_t>{utc("2026-10-25 00:00"), utc("2026-10-25 00:30")}));
  EXPECT_FALSE(Schedule::parse("0,30 2 * * *", "Europe/Berlin").follows_real_clock());
}

TEST(DstFixedTime, MonthlyFormsAreFixedTimeToo) {
  // The last Sunday of March is the transition day in the EU.
  EXPECT_EQ(around("monthly last sun 02:00", "Europe/Berlin", "2026-03-01 00:00", "2026-04-01 00:00"),
            (std::vector<int64_t>{utc("2026-03-29 01:00")}));
  EXPECT_EQ(around("monthly last sun 02:00", "Europe/Berlin", "2026-10-01 00:00", "2026-11-01 00:00"),
            (std::vector<int64_t>{utc("2026-10-25 00:00")}));
}

TEST(DstFixedTime, HavanaTransitionsAtMidnight) {
  // 2026-03-08 00:00 CST -> 01:00 CDT at 05:00 UTC; 2026-11-01 01:00 CDT -> 00:00 CST at 05:00 UTC.
  EXPECT_EQ(around("daily 00:30", "America/Havana", "2026-03-07 12:00", "2026-03-08 12:00"),
            (std::vector<int64_t>{utc("2026-03-08 05:00")}));
  EXPECT_EQ(around("daily 00:30", "America/Havana", "2026-10-31 12:00", "2026-11-01 12:00"),
            (std::vector<int64_t>{utc("2026-11-01 04:30")}));
}

TEST(DstFixedTime, UtcHasNoTransitions) {
  EXPECT_EQ(around("daily 02:30", "UTC", "2026-03-28 12:00", "2026-03-30 12:00"),
            (std::vector<int64_t>{utc("2026-03-29 02:30"), utc("2026-03-30 02:30")}));
  EXPECT_EQ(around("daily 02:30", "UTC", "2026-10-24 12:00", "2026-10-26 12:00"),
            (std::vector<int64_t>{utc("2026-10-25 02:30"), utc("2026-10-26 02:30")}));
}

}  // namespace
}  // namespace sbx::scheduler
