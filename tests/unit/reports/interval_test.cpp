// The expected time between backups of a definition, read from its schedules.
#include "reports_test_util.hpp"

namespace sbx::reports {
namespace {

using Json = nlohmann::json;
using testing::kDay;
using testing::kHour;
using testing::kSecond;
using testing::utc;

const int64_t kNow = utc("2026-11-22 12:00");

std::optional<int64_t> interval(const std::string& spec) {
  return backup_interval_ns(Json::parse(spec), kNow);
}

TEST(BackupInterval, DailyWeekdayAndCombinedSchedules) {
  EXPECT_EQ(interval(R"({"schedules": [{"when": "daily 22:00", "time_zone": "UTC"}]})"), 24 * kHour);
  EXPECT_EQ(interval(R"({"schedules": [{"when": "0 22 * * 1-5", "time_zone": "UTC"}]})"), 72 * kHour);
  EXPECT_EQ(interval(R"({"schedules": [{"when": "weekly sun 02:00", "time_zone": "UTC"}]})"), 7 * kDay);
  // An incremental every night and a full on Sunday: the union decides.
  EXPECT_EQ(interval(R"({"schedules": [{"when": "daily 22:00", "time_zone": "UTC"},
                                       {"when": "daily 10:00", "time_zone": "UTC", "method": "full"}]})"),
            12 * kHour);
}

TEST(BackupInterval, TimeZoneOfTheSpecAppliesAndDaylightSavingStretchesADay) {
  // Europe/Berlin left summer time on 2026-10-25, inside the look-back: that day has 25 hours.
  EXPECT_EQ(interval(R"({"time_zone": "Europe/Berlin", "schedules": [{"when": "daily 22:00"}]})"),
            25 * kHour);
}

TEST(BackupInterval, RareSchedulesWidenTheLook) {
  auto monthly = interval(R"({"schedules": [{"when": "monthly first sat", "time_zone": "UTC"}]})");
  ASSERT_TRUE(monthly.has_value());
  EXPECT_EQ(*monthly, 35 * kDay);  // the longest gap between first Saturdays within the year looked at
  EXPECT_EQ(interval(R"({"schedules": [{"when": "0 3 1 1 *", "time_zone": "UTC"}]})"), 365 * kDay);
}

TEST(BackupInterval, FrequentScheduleBeyondTheFiringLimitIsStillRight) {
  // Every minute for 35 days is more firings than one read returns; the weekly one must not fill the unread
  // part.
  EXPECT_EQ(interval(R"({"schedules": [{"when": "* * * * *", "time_zone": "UTC"},
                                       {"when": "weekly sun 02:00", "time_zone": "UTC"}]})"),
            60 * kSecond);
}

TEST(BackupInterval, UnknownWhenThereIsNothingToGoBy) {
  EXPECT_EQ(interval(R"({})"), std::nullopt);
  EXPECT_EQ(interval(R"({"schedules": []})"), std::nullopt);
  EXPECT_EQ(interval(R"({"schedules": "daily"})"), std::nullopt);
  EXPECT_EQ(interval(R"({"schedules": [{"when": "whenever you like"}]})"), std::nullopt);
  EXPECT_EQ(interval(R"({"schedules": [{"when": "daily 22:00", "time_zone": "Mars/Olympus"}]})"),
            std::nullopt);
  EXPECT_EQ(interval(R"({"schedules": [{"when": "daily 22:00", "time_zone": "UTC"}, 7]})"), std::nullopt);
  EXPECT_EQ(backup_interval_ns(Json::array(), kNow), std::nullopt);
}

}  // namespace
}  // namespace sbx::reports
