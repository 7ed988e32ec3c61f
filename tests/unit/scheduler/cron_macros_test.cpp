#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

using testing::utc;

std::vector<int64_t> year_of(const std::string& when) {
  return Schedule::parse(when, "Europe/Berlin")
      .firings_between(utc("2026-01-01 00:00"), utc("2027-01-01 00:00"));
}

TEST(CronMacros, EachMacroEqualsItsExpansion) {
  EXPECT_EQ(year_of("@hourly"), year_of("0 * * * *"));
  EXPECT_EQ(year_of("@daily"), year_of("0 0 * * *"));
  EXPECT_EQ(year_of("@midnight"), year_of("0 0 * * *"));
  EXPECT_EQ(year_of("@weekly"), year_of("0 0 * * 0"));
  EXPECT_EQ(year_of("@monthly"), year_of("0 0 1 * *"));
  EXPECT_EQ(year_of("@yearly"), year_of("0 0 1 1 *"));
  EXPECT_EQ(year_of("@annually"), year_of("0 0 1 1 *"));
  EXPECT_EQ(year_of("@MONTHLY").size(), 12u);
  EXPECT_EQ(year_of("@weekly").size(), 52u);
  // Berlin offsets are whole hours, so every real hour of the year shows minute 0 exactly once.
  EXPECT_EQ(year_of("@hourly").size(), 8760u);
}

TEST(CronMacros, UnknownMacroAndTrailingTextAreRejected) {
  EXPECT_THROW(Schedule::parse("@reboot", "UTC"), ScheduleError);
  EXPECT_THROW(Schedule::parse("@daily 22:00", "UTC"), ScheduleError);
  try {
    Schedule::parse("@fortnightly", "UTC");
    FAIL();
  } catch (const ScheduleError& e) {
    EXPECT_STREQ(
        e.what(),
        "schedule \"@fortnightly\": unknown macro \"@fortnightly\" (use @hourly, @daily, @weekly, @monthly "
        "or @yearly)");
  }
}

}  // namespace
}  // namespace sbx::scheduler
