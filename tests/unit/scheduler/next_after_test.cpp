#include <limits>

#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

using testing::utc;

TEST(NextAfter, IsStrictlyAfter) {
  const auto s = Schedule::parse("daily 22:00", "UTC");
  EXPECT_EQ(*s.next_after(utc("2026-06-01 22:00") - 1), utc("2026-06-01 22:00"));
  EXPECT_EQ(*s.next_after(utc("2026-06-01 22:00")), utc("2026-06-02 22:00"));
  EXPECT_EQ(*s.next_after(utc("2026-06-01 22:00") + 1), utc("2026-06-02 22:00"));
}

TEST(NextAfter, MatchesTheFirstOfFiringsBetween) {
  const auto s = Schedule::parse("*/7 9-17 * * mon-fri", "America/New_York");
  int64_t t = utc("2026-02-27 12:00");
  const auto firings = s.firings_between(t, utc("2026-03-20 00:00"));
  ASSERT_GT(firings.size(), 1000u);
  for (int64_t expected : firings) {
    const auto next = s.next_after(t);
    ASSERT_TRUE(next.has_value());
    ASSERT_EQ(*next, expected);
    t = expected;
  }
}

TEST(NextAfter, NothingWithinFiveYearsIsNullopt) {
  const auto s = Schedule::parse("daily 10:00", "UTC", {"2026-01-01..2035-12-31"});
  EXPECT_FALSE(s.next_after(utc("2026-06-01 00:00")).has_value());
  EXPECT_EQ(*s.next_after(utc("2035-06-01 00:00")), utc("2036-01-01 10:00"));
}

TEST(NextAfter, ExtremeInstantsDoNotOverflow) {
  const auto s = Schedule::parse("hourly", "Europe/Berlin");
  EXPECT_FALSE(s.next_after(std::numeric_limits<int64_t>::max()).has_value());
  const auto early = s.next_after(std::numeric_limits<int64_t>::min());
  ASSERT_TRUE(early.has_value());
  EXPECT_GT(*early, std::numeric_limits<int64_t>::min());
  EXPECT_LT(*early, std::numeric_limits<int64_t>::min() + 3 * testing::kHour);
  EXPECT_TRUE(s.firings_between(std::numeric_limits<int64_t>::max() - testing::kDay,
                                std::numeric_limits<int64_t>::max())
                  .size() >= 23);
}

}  // namespace
}  // namespace sbx::scheduler
