// Windows across daylight-saving nights: a period runs from the first time the clock shows its start to the
// last time it shows its end, and starts or ends in a gap resolve to the transition.
#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

using testing::kHour;
using testing::utc;

TEST(WindowDst, BerlinSpringNightIsAnHourShorter) {
  const auto w = DailyWindow::parse("22:00-06:00", "Europe/Berlin");
  // Opens 22:00 CET (21:00 UTC), closes 06:00 CEST (04:00 UTC): 7 real hours.
  EXPECT_EQ(*w.next_open(utc("2026-03-28 12:00")), utc("2026-03-28 21:00"));
  EXPECT_EQ(*w.closes_after(utc("2026-03-28 21:00")) - utc("2026-03-28 21:00"), 7 * kHour);
  EXPECT_TRUE(w.contains(utc("2026-03-29 01:00")));  // 03:00 CEST, right after the gap
}

TEST(WindowDst, BerlinAutumnNightIsAnHourLonger) {
  const auto w = DailyWindow::parse("22:00-06:00", "Europe/Berlin");
  EXPECT_EQ(*w.closes_after(utc("2026-10-24 20:00")) - utc("2026-10-24 20:00"), 9 * kHour);
}

TEST(WindowDst, StartInsideTheGapOpensAtTheTransition) {
  const auto w = DailyWindow::parse("02:30-05:00", "Europe/Berlin");
  EXPECT_EQ(*w.next_open(utc("2026-03-28 12:00")), utc("2026-03-29 01:00"));
  EXPECT_EQ(*w.closes_after(utc("2026-03-29 01:00")), utc("2026-03-29 03:00"));
}

TEST(WindowDst, WindowEntirelyInsideTheGapDoesNotOpenThatNight) {
  const auto w = DailyWindow::parse("02:10-02:50", "Europe/Berlin");
  EXPECT_EQ(*w.next_open(utc("2026-03-28 12:00")), utc("2026-03-30 00:10"));
  EXPECT_FALSE(w.contains(utc("2026-03-29 01:00")));
}

TEST(WindowDst, EndInsideTheRepeatedHourIsTheLastOccurrence) {
  // 22:00-02:30 on the Berlin fall-back night: 02:30 shows twice; the window stays open until the second one
  // instead of closing at 02:30 CEST and reopening at 02:00 CET.
  const auto w = DailyWindow::parse("22:00-02:30", "Europe/Berlin");
  EXPECT_EQ(*w.closes_after(utc("2026-10-24 21:00")), utc("2026-10-25 01:30"));
  EXPECT_TRUE(w.contains(utc("2026-10-25 00:45")));  // 02:45 CEST, between the two 02:30s
}

TEST(WindowDst, StartInsideTheRepeatedHourIsTheFirstOccurrence) {
  const auto w = DailyWindow::parse("01:30-03:00", "America/New_York");
  EXPECT_EQ(*w.next_open(utc("2026-11-01 00:00")), utc("2026-11-01 05:30"));
  EXPECT_EQ(*w.closes_after(utc("2026-11-01 05:30")), utc("2026-11-01 08:00"));
}

TEST(WindowDst, LordHoweHalfHourShift) {
  const auto w = DailyWindow::parse("01:00-03:00", "Australia/Lord_Howe");
  // Spring: 01:00 +1030 (14:30 UTC) to 03:00 +11 (16:00 UTC) is 1.5 real hours.
  EXPECT_EQ(*w.closes_after(utc("2026-10-03 14:30")) - utc("2026-10-03 14:30"), 3 * kHour / 2);
  // Autumn: 01:00 +11 (14:00 UTC) to 03:00 +1030 (16:30 UTC) is 2.5 real hours.
  EXPECT_EQ(*w.closes_after(utc("2026-04-04 14:00")) - utc("2026-04-04 14:00"), 5 * kHour / 2);
}

}  // namespace
}  // namespace sbx::scheduler
