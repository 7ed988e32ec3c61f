// Wildcard or stepped hours follow the real clock: a repeated local time fires twice, a skipped one not at
// all.
#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

using testing::local;
using testing::utc;
using V = std::vector<std::string>;

std::vector<int64_t> between(const std::string& when, const std::string& zone, const std::string& from,
                             const std::string& until) {
  return Schedule::parse(when, zone).firings_between(utc(from), utc(until));
}

TEST(DstRealClock, BerlinSpringForwardSkipsTheGap) {
  EXPECT_EQ(
      local(between("hourly", "Europe/Berlin", "2026-03-28 23:30", "2026-03-29 02:30"), "Europe/Berlin"),
      (V{"2026-03-29 01:00:00 CET", "2026-03-29 03:00:00 CEST", "2026-03-29 04:00:00 CEST"}));
  // The local day has 23 hours: 92 quarter hours from 00:00 CET (23:00 UTC) on.
  EXPECT_EQ(between("every 15 minutes", "Europe/Berlin", "2026-03-28 22:59", "2026-03-29 21:59").size(), 92u);
}

TEST(DstRealClock, BerlinFallBackFiresBothOccurrences) {
  EXPECT_EQ(
      local(between("hourly", "Europe/Berlin", "2026-10-24 23:30", "2026-10-25 02:30"), "Europe/Berlin"),
      (V{"2026-10-25 02:00:00 CEST", "2026-10-25 02:00:00 CET", "2026-10-25 03:00:00 CET"}));
  EXPECT_EQ(between("every 15 minutes", "Europe/Berlin", "2026-10-24 21:59", "2026-10-25 22:59").size(),
            100u);
  EXPECT_EQ(
      between("30 1,2 * * *", "Europe/Berlin", "2026-10-24 22:00", "2026-10-25 03:00"),
      (std::vector<int64_t>{utc("2026-10-24 23:30"), utc("2026-10-25 00:30"), utc("2026-10-25 01:30")}));
  EXPECT_EQ(between("0 */2 * * *", "Europe/Berlin", "2026-10-24 23:30", "2026-10-25 02:30"),
            (std::vector<int64_t>{utc("2026-10-25 00:00"), utc("2026-10-25 01:00")}));
}

TEST(DstRealClock, NewYorkBothDirections) {
  EXPECT_EQ(
      between("*/30 * * * *", "America/New_York", "2026-03-08 06:00", "2026-03-08 07:30"),
      (std::vector<int64_t>{utc("2026-03-08 06:30"), utc("2026-03-08 07:00"), utc("2026-03-08 07:30")}));
  EXPECT_EQ(local(between("*/30 * * * *", "America/New_York", "2026-11-01 05:00", "2026-11-01 06:30"),
                  "America/New_York"),
            (V{"2026-11-01 01:30:00 EDT", "2026-11-01 01:00:00 EST", "2026-11-01 01:30:00 EST"}));
}

TEST(DstRealClock, LordHoweHalfHourShiftBothDirections) {
  // Spring: 02:00 and 02:15 never show on the clock.
  EXPECT_EQ(between("every 15 minutes", "Australia/Lord_Howe", "2026-10-03 15:00", "2026-10-03 16:00"),
            (std::vector<int64_t>{utc("2026-10-03 15:15"), utc("2026-10-03 15:30"), utc("2026-10-03 15:45"),
                                  utc("2026-10-03 16:00")}));
  // Autumn: 01:30 and 01:45 show twice; each quarter hour of real time fires.
  EXPECT_EQ(between("every 15 minutes", "Australia/Lord_Howe", "2026-04-04 14:15", "2026-04-04 15:30"),
            (std::vector<int64_t>{utc("2026-04-04 14:30"), utc("2026-04-04 14:45"), utc("2026-04-04 15:00"),
                                  utc("2026-04-04 15:15"), utc("2026-04-04 15:30")}));
  // Minute 0 is never in the repeated half hour, so "hourly" still fires 24 times on the 24.5-hour day.
  EXPECT_EQ(between("hourly", "Australia/Lord_Howe", "2026-04-04 12:59", "2026-04-05 13:29").size(), 24u);
}

TEST(DstRealClock, HavanaTransitionsAtMidnight) {
  EXPECT_EQ(
      local(between("hourly", "America/Havana", "2026-03-08 03:30", "2026-03-08 06:30"), "America/Havana"),
      (V{"2026-03-07 23:00:00 CST", "2026-03-08 01:00:00 CDT", "2026-03-08 02:00:00 CDT"}));
  EXPECT_EQ(
      local(between("hourly", "America/Havana", "2026-11-01 03:30", "2026-11-01 06:30"), "America/Havana"),
      (V{"2026-11-01 00:00:00 CDT", "2026-11-01 00:00:00 CST", "2026-11-01 01:00:00 CST"}));
}

TEST(DstRealClock, UtcHasNoTransitions) {
  EXPECT_EQ(
      between("hourly", "UTC", "2026-10-25 00:30", "2026-10-25 03:30"),
      (std::vector<int64_t>{utc("2026-10-25 01:00"), utc("2026-10-25 02:00"), utc("2026-10-25 03:00")}));
}

}  // namespace
}  // namespace sbx::scheduler
