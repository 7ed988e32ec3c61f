#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

using testing::local;
using testing::utc;
using V = std::vector<std::string>;

TEST(ExcludedDates, SingleDatesAndInclusiveRanges) {
  const auto s = Schedule::parse("daily 22:00", "Europe/Berlin", {"2026-12-24", "2026-12-27..2026-12-29"});
  EXPECT_EQ(local(s.firings_between(utc("2026-12-22 12:00"), utc("2026-12-31 12:00")), "Europe/Berlin"),
            (V{"2026-12-22 22:00:00 CET", "2026-12-23 22:00:00 CET", "2026-12-25 22:00:00 CET",
               "2026-12-26 22:00:00 CET", "2026-12-30 22:00:00 CET"}));
  EXPECT_EQ(s.excluded_dates(), (std::vector<std::string>{"2026-12-24", "2026-12-27..2026-12-29"}));
}

TEST(ExcludedDates, AreLocalDatesOfTheScheduleZone) {
  // 23:30 in Tokyo on Jan 2 is 14:30 UTC on Jan 2; excluding Jan 2 (Tokyo) removes exactly that firing.
  const auto s = Schedule::parse("daily 23:30", "Asia/Tokyo", {"2026-01-02"});
  EXPECT_EQ(s.firings_between(utc("2026-01-01 00:00"), utc("2026-01-04 00:00")),
            (std::vector<int64_t>{utc("2026-01-01 14:30"), utc("2026-01-03 14:30")}));
}

TEST(ExcludedDates, NextAfterSkipsAWholeExcludedRange) {
  const auto s = Schedule::parse("every 15 minutes", "UTC", {"2026-07-01..2026-07-31"});
  EXPECT_EQ(*s.next_after(utc("2026-06-30 23:50")), utc("2026-08-01 00:00"));
}

TEST(ExcludedDates, BadDatesAreNamed) {
  const auto message = [](const std::vector<std::string>& dates) {
    try {
      Schedule::parse("daily 22:00", "UTC", dates);
    } catch (const ScheduleError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message({"2026-02-30"}),
            "schedule \"daily 22:00\": excluded date \"2026-02-30\" is not a date (YYYY-MM-DD)");
  EXPECT_EQ(message({"2026-2-3"}),
            "schedule \"daily 22:00\": excluded date \"2026-2-3\" is not a date (YYYY-MM-DD)");
  EXPECT_EQ(message({"2026-03-01..junk"}),
            "schedule \"daily 22:00\": excluded date \"junk\" is not a date (YYYY-MM-DD)");
  EXPECT_EQ(message({"2026-03-05..2026-03-01"}),
            "schedule \"daily 22:00\": excluded dates \"2026-03-05..2026-03-01\" end before they start");
  EXPECT_EQ(message({""}), "schedule \"daily 22:00\": excluded date \"\" is not a date (YYYY-MM-DD)");
  EXPECT_EQ(message({"2028-02-29"}), "no error");
  EXPECT_EQ(message({"2027-02-29"}),
            "schedule \"daily 22:00\": excluded date \"2027-02-29\" is not a date (YYYY-MM-DD)");
}

}  // namespace
}  // namespace sbx::scheduler
