#include <limits>

#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

using testing::utc;

TEST(Window, SameDayWindow) {
  const auto w = DailyWindow::parse("08:00-17:30", "UTC");
  EXPECT_FALSE(w.contains(utc("2026-06-01 07:59:59")));
  EXPECT_TRUE(w.contains(utc("2026-06-01 08:00")));
  EXPECT_TRUE(w.contains(utc("2026-06-01 17:29:59")));
  EXPECT_FALSE(w.contains(utc("2026-06-01 17:30")));
  EXPECT_EQ(*w.closes_after(utc("2026-06-01 12:00")), utc("2026-06-01 17:30"));
  EXPECT_FALSE(w.closes_after(utc("2026-06-01 18:00")).has_value());
  EXPECT_EQ(*w.next_open(utc("2026-06-01 18:00")), utc("2026-06-02 08:00"));
  EXPECT_EQ(*w.next_open(utc("2026-06-01 07:00")), utc("2026-06-01 08:00"));
  EXPECT_EQ(*w.next_open(utc("2026-06-01 09:00")), utc("2026-06-01 09:00"));
}

TEST(Window, CrossesMidnight) {
  const auto w = DailyWindow::parse("22:00-06:00", "Europe/Berlin");
  // Summer: Berlin is UTC+2.
  EXPECT_TRUE(w.contains(utc("2026-06-01 20:00")));
  EXPECT_TRUE(w.contains(utc("2026-06-01 23:00")));
  EXPECT_TRUE(w.contains(utc("2026-06-02 03:59")));
  EXPECT_FALSE(w.contains(utc("2026-06-02 04:00")));
  EXPECT_FALSE(w.contains(utc("2026-06-01 19:59")));
  EXPECT_EQ(*w.closes_after(utc("2026-06-01 21:00")), utc("2026-06-02 04:00"));
  EXPECT_EQ(*w.closes_after(utc("2026-06-02 01:00")), utc("2026-06-02 04:00"));
  EXPECT_EQ(*w.next_open(utc("2026-06-02 04:00")), utc("2026-06-02 20:00"));
  EXPECT_EQ(w.describe(), "22:00 to 06:00 the next day, Europe/Berlin");
}

TEST(Window, EndingAtMidnight) {
  const auto w = DailyWindow::parse("18:00-24:00", "UTC");
  EXPECT_TRUE(w.contains(utc("2026-06-01 23:59:59")));
  EXPECT_FALSE(w.contains(utc("2026-06-02 00:00")));
  EXPECT_EQ(*w.closes_after(utc("2026-06-01 19:00")), utc("2026-06-02 00:00"));
  EXPECT_EQ(DailyWindow::parse("18:00-00:00", "UTC").closes_after(utc("2026-06-01 19:00")),
            utc("2026-06-02 00:00"));
  EXPECT_EQ(w.describe(), "18:00 to midnight, UTC");
}

TEST(Window, AlwaysOpen) {
  const auto w = DailyWindow::parse("00:00-24:00", "America/New_York");
  EXPECT_TRUE(w.always_open());
  for (const char* t : {"2026-03-08 07:00", "2026-11-01 05:30", "2026-06-01 04:00", "1970-01-01 00:00"}) {
    EXPECT_TRUE(w.contains(utc(t))) << t;
    EXPECT_EQ(*w.closes_after(utc(t)), std::numeric_limits<int64_t>::max());
    EXPECT_EQ(*w.next_open(utc(t)), utc(t));
  }
  EXPECT_EQ(w.describe(), "always open, America/New_York");
  EXPECT_FALSE(DailyWindow::parse("22:00-06:00", "UTC").always_open());
}

TEST(Window, BadWindowsAreNamed) {
  const auto message = [](const std::string& text, const std::string& zone = "UTC") {
    try {
      DailyWindow::parse(text, zone);
    } catch (const ScheduleError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("22:00-22:00"),
            "window \"22:00-22:00\": starts and ends at the same time; use \"00:00-24:00\" for always open");
  EXPECT_EQ(message("22:00"), "window \"22:00\": expected HH:MM-HH:MM, e.g. \"22:00-06:00\"");
  EXPECT_EQ(message(""), "window \"\": expected HH:MM-HH:MM, e.g. \"22:00-06:00\"");
  EXPECT_EQ(message("24:00-06:00"), "window \"24:00-06:00\": hour 24 is out of range 0-23");
  EXPECT_EQ(message("22:00-24:30"), "window \"22:00-24:30\": hour 24 is out of range 0-24");
  EXPECT_EQ(message("22:00-06:60"), "window \"22:00-06:60\": minute 60 is out of range 0-59");
  EXPECT_EQ(message("22:00 - 06:00"), "window \"22:00 - 06:00\": expected HH:MM-HH:MM, e.g. \"22:00-06:00\"");
  EXPECT_EQ(message("22:00-06:00", "Mars/Base"), "window \"22:00-06:00\": unknown time zone \"Mars/Base\"");
}

}  // namespace
}  // namespace sbx::scheduler
