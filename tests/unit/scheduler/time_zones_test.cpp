#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

using testing::utc;

TEST(TimeZones, EmptyMeansTheMachineZone) {
  const auto s = Schedule::parse("daily 22:00");
  EXPECT_FALSE(s.time_zone().empty());
  const auto explicit_zone = Schedule::parse("daily 22:00", s.time_zone());
  EXPECT_EQ(s.firings_between(utc("2026-01-01 00:00"), utc("2027-01-01 00:00")),
            explicit_zone.firings_between(utc("2026-01-01 00:00"), utc("2027-01-01 00:00")));
  EXPECT_FALSE(DailyWindow::parse("22:00-06:00").time_zone().empty());
}

TEST(TimeZones, ZoneShiftsTheFiringInstant) {
  const int64_t from = utc("2026-01-15 00:00");
  EXPECT_EQ(*Schedule::parse("daily 09:00", "UTC").next_after(from), utc("2026-01-15 09:00"));
  EXPECT_EQ(*Schedule::parse("daily 09:00", "Asia/Kolkata").next_after(from), utc("2026-01-15 03:30"));
  EXPECT_EQ(*Schedule::parse("daily 09:00", "America/New_York").next_after(from), utc("2026-01-15 14:00"));
  EXPECT_EQ(*Schedule::parse("daily 09:00", "Pacific/Chatham").next_after(from), utc("2026-01-15 19:15"));
}

TEST(TimeZones, ResolvedNameIsReported) {
  EXPECT_EQ(Schedule::parse("daily 09:00", "Europe/Berlin").time_zone(), "Europe/Berlin");
  EXPECT_EQ(Schedule::parse("daily 09:00", "UTC").time_zone(), "UTC");
}

TEST(TimeZones, FormatLocalTime) {
  EXPECT_EQ(format_local_time(utc("2026-03-29 01:00"), "Europe/Berlin"), "2026-03-29 03:00:00 CEST");
  EXPECT_EQ(format_local_time(utc("2026-03-29 00:59:59"), "Europe/Berlin"), "2026-03-29 01:59:59 CET");
  EXPECT_EQ(format_local_time(utc("2026-03-29 00:59:59") + 999'999'999, "UTC"), "2026-03-29 00:59:59 UTC");
  EXPECT_THROW(format_local_time(0, "Nowhere/Town"), ScheduleError);
}

}  // namespace
}  // namespace sbx::scheduler
