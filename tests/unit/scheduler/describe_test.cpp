#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

std::string describe(const std::string& when, const std::string& zone = "Europe/Berlin",
                     const std::vector<std::string>& excluded = {}) {
  return Schedule::parse(when, zone, excluded).describe();
}

TEST(Describe, ReadableForms) {
  EXPECT_EQ(describe("daily 22:00"), "every day at 22:00 Europe/Berlin");
  EXPECT_EQ(describe("weekdays 7:30"), "every weekday (Monday to Friday) at 07:30 Europe/Berlin");
  EXPECT_EQ(describe("weekends 08:00"), "every Saturday and Sunday at 08:00 Europe/Berlin");
  EXPECT_EQ(describe("weekly mon,wed,fri 02:00"),
            "every Monday, Wednesday and Friday at 02:00 Europe/Berlin");
  EXPECT_EQ(describe("monthly 31 10:00"),
            "on day 31 of every month (months without day 31 are skipped) at 10:00 Europe/Berlin");
  EXPECT_EQ(describe("monthly last 23:00"), "on the last day of every month at 23:00 Europe/Berlin");
  EXPECT_EQ(describe("monthly first sat"), "on the first Saturday of every month at 00:00 Europe/Berlin");
  EXPECT_EQ(describe("hourly :05", "UTC"), "every hour at :05 UTC");
  EXPECT_EQ(describe("every 15 minutes", "UTC"), "every 15 minutes from midnight UTC");
  EXPECT_EQ(describe("every 6 hours", "UTC"), "every 6 hours from midnight UTC");
}

TEST(Describe, CronExpressions) {
  EXPECT_EQ(describe("0 2 * * 1-5", "UTC"), "cron \"0 2 * * 1-5\": at 02:00, on Mon-Fri UTC");
  EXPECT_EQ(describe("*/15 8-17 * * *", "UTC"),
            "cron \"*/15 8-17 * * *\": at minutes 0, 15, 30, 45 past hours 8-17, every day UTC");
  EXPECT_EQ(describe("0 0 13 * fri", "UTC"),
            "cron \"0 0 13 * fri\": at 00:00, on day 13 of the month or on Fri UTC");
  EXPECT_EQ(describe("@monthly", "UTC"), "cron \"@monthly\": at 00:00, on day 1 of the month UTC");
  EXPECT_EQ(describe("30 4 1 jan,jul *", "UTC"),
            "cron \"30 4 1 jan,jul *\": at 04:30, on day 1 of the month in Jan, Jul UTC");
}

TEST(Describe, ExcludedDatesAreListed) {
  EXPECT_EQ(describe("daily 22:00", "UTC", {"2026-12-24", "2026-12-31..2027-01-01"}),
            "every day at 22:00 UTC, except on 2026-12-24, 2026-12-31..2027-01-01");
}

}  // namespace
}  // namespace sbx::scheduler
