#include <chrono>

#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

using testing::utc;

TEST(FiringsPaging, LimitReturnsTheOldestAndPagingResumes) {
  const auto s = Schedule::parse("every 15 minutes", "Europe/Berlin");
  const int64_t from = utc("2026-01-01 00:00");
  const int64_t until = utc("2026-01-02 00:00");
  const auto all = s.firings_between(from, until);
  ASSERT_EQ(all.size(), 96u);
  std::vector<int64_t> paged;
  int64_t after = from;
  while (true) {
    const auto page = s.firings_between(after, until, 10);
    if (page.empty()) break;
    EXPECT_LE(page.size(), 10u);
    paged.insert(paged.end(), page.begin(), page.end());
    after = page.back();
  }
  EXPECT_EQ(paged, all);
  EXPECT_EQ(s.firings_between(from, until, 3), (std::vector<int64_t>{all[0], all[1], all[2]}));
}

TEST(FiringsPaging, IntervalIsOpenBelowAndClosedAbove) {
  const auto s = Schedule::parse("hourly", "UTC");
  EXPECT_EQ(s.firings_between(utc("2026-01-01 01:00"), utc("2026-01-01 03:00")),
            (std::vector<int64_t>{utc("2026-01-01 02:00"), utc("2026-01-01 03:00")}));
  EXPECT_TRUE(s.firings_between(utc("2026-01-01 03:00"), utc("2026-01-01 03:00")).empty());
  EXPECT_TRUE(s.firings_between(utc("2026-01-01 04:00"), utc("2026-01-01 03:00")).empty());
  EXPECT_TRUE(s.firings_between(utc("2026-01-01 00:00"), utc("2026-01-01 03:00"), 0).empty());
}

TEST(FiringsPaging, AYearOfQuarterHoursIsFastAndComplete) {
  const auto s = Schedule::parse("every 15 minutes", "Europe/Berlin");
  const auto started = std::chrono::steady_clock::now();
  const auto firings = s.firings_between(utc("2025-12-31 23:00") - 1, utc("2026-12-31 23:00") - 1, 100000);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  // A year of real time has 365 * 96 quarter hours; DST adds and removes the same hour.
  EXPECT_EQ(firings.size(), 365u * 96u);
  EXPECT_TRUE(std::is_sorted(firings.begin(), firings.end()));
  EXPECT_EQ(std::adjacent_find(firings.begin(), firings.end()), firings.end());
  // Generous for Debug and sanitizer builds; an optimized build takes a few milliseconds.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 1000);
}

}  // namespace
}  // namespace sbx::scheduler
