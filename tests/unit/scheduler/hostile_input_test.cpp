#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

std::string error_of(const std::string& when, const std::string& zone = "UTC") {
  try {
    Schedule::parse(when, zone);
  } catch (const ScheduleError& e) {
    return e.what();
  }
  return "no error";
}

TEST(HostileInput, ReadableFormErrorsNameTheBadPart) {
  EXPECT_EQ(error_of("daily 25:00"), "schedule \"daily 25:00\": hour 25 is out of range 0-23");
  EXPECT_EQ(error_of("daily 22:60"), "schedule \"daily 22:60\": minute 60 is out of range 0-59");
  EXPECT_EQ(error_of("daily 2200"), "schedule \"daily 2200\": time \"2200\" is not HH:MM");
  EXPECT_EQ(error_of("daily"), "schedule \"daily\": expected \"daily HH:MM\"");
  EXPECT_EQ(error_of("daily 22:00 extra"), "schedule \"daily 22:00 extra\": expected \"daily HH:MM\"");
  EXPECT_EQ(error_of("weekly fun 02:00"),
            "schedule \"weekly fun 02:00\": unknown day \"fun\" (use sun mon tue wed thu fri sat)");
  EXPECT_EQ(error_of("weekly mon,,tue 02:00"),
            "schedule \"weekly mon,,tue 02:00\": unknown day \"\" (use sun mon tue wed thu fri sat)");
  EXPECT_EQ(
      error_of("every 7 minutes"),
      "schedule \"every 7 minutes\": \"7\" minutes does not divide an hour evenly (use one of 1 2 3 4 5 6 10 "
      "12 15 20 30 60)");
  EXPECT_EQ(
      error_of("every 5 hours"),
      "schedule \"every 5 hours\": \"5\" hours does not divide a day evenly (use one of 1 2 3 4 6 8 12 24)");
  EXPECT_NE(error_of("every 0 minutes").find("\"0\" minutes does not divide"), std::string::npos);
  EXPECT_NE(error_of("every 99999999999999999999 minutes").find("does not divide"), std::string::npos);
  EXPECT_NE(error_of("every -5 minutes").find("\"-5\" minutes does not divide"), std::string::npos);
  EXPECT_EQ(error_of("every 5 days"), "schedule \"every 5 days\": unit \"days\" is not minutes or hours");
  EXPECT_EQ(error_of("monthly 32 10:00"),
            "schedule \"monthly 32 10:00\": day of month 32 is out of range 1-31");
  EXPECT_EQ(error_of("monthly 0 10:00"), "schedule \"monthly 0 10:00\": day of month 0 is out of range 1-31");
  EXPECT_EQ(error_of("monthly fifth sat"),
            "schedule \"monthly fifth sat\": day of month \"fifth\" is not a number, \"last\" or "
            "first|second|third|fourth|last DOW");
  EXPECT_EQ(error_of("hourly 15"), "schedule \"hourly 15\": minute \"15\" is not :MM");
  EXPECT_EQ(error_of("hourly :75"), "schedule \"hourly :75\": minute 75 is out of range 0-59");
  EXPECT_EQ(
      error_of("nightly 22:00"),
      "schedule \"nightly 22:00\": is neither a cron expression (5 fields or @daily ...) nor a known form "
      "(hourly, daily, weekdays, weekends, weekly, monthly, every)");
}

TEST(HostileInput, CronErrorsNameTheBadPart) {
  EXPECT_EQ(error_of(""), "schedule \"\": is empty");
  EXPECT_EQ(error_of("   \t"), "schedule \"   \\x09\": is empty");
  EXPECT_EQ(error_of("0 0 * * * *"),
            "schedule \"0 0 * * * *\": has 6 fields; a cron expression has 5 (minute hour day-of-month month "
            "day-of-week)");
  EXPECT_EQ(error_of("0 0 * *"),
            "schedule \"0 0 * *\": has 4 fields; a cron expression has 5 (minute hour day-of-month month "
            "day-of-week)");
  EXPECT_EQ(error_of("60 * * * *"), "schedule \"60 * * * *\": minute 60 is out of range 0-59");
  EXPECT_EQ(error_of("0 24 * * *"), "schedule \"0 24 * * *\": hour 24 is out of range 0-23");
  EXPECT_EQ(error_of("0 0 0 * *"), "schedule \"0 0 0 * *\": day-of-month 0 is out of range 1-31");
  EXPECT_EQ(error_of("0 0 * 13 *"), "schedule \"0 0 * 13 *\": month 13 is out of range 1-12");
  EXPECT_EQ(error_of("0 0 * * 8"), "schedule \"0 0 * * 8\": day-of-week 8 is out of range 0-7");
  EXPECT_EQ(error_of("99999999999999999999 * * * *"),
            "schedule \"99999999999999999999 * * * *\": minute 99999999999999999999 is out of range 0-59");
  EXPECT_EQ(error_of("*/0 * * * *"), "schedule \"*/0 * * * *\": step 0 in minute field must be at least 1");
  EXPECT_EQ(error_of("*/x * * * *"), "schedule \"*/x * * * *\": step \"x\" in minute field is not a number");
  EXPECT_EQ(error_of("5-1 * * * *"), "schedule \"5-1 * * * *\": range \"5-1\" in minute field is backwards");
  EXPECT_EQ(error_of("1,,2 * * * *"), "schedule \"1,,2 * * * *\": empty item in minute field \"1,,2\"");
  EXPECT_EQ(error_of("1, * * * *"), "schedule \"1, * * * *\": empty item in minute field \"1,\"");
  EXPECT_EQ(error_of("0 0 * * fun"),
            "schedule \"0 0 * * fun\": day-of-week \"fun\" is not a number or a day name");
  EXPECT_EQ(error_of("0 0 * foo *"),
            "schedule \"0 0 * foo *\": month \"foo\" is not a number or a month name");
  EXPECT_EQ(error_of("0 0 * * mon#2"),
            "schedule \"0 0 * * mon#2\": day-of-week \"mon#2\" is not a number or a day name");
  EXPECT_EQ(error_of("0 0 L * *"), "schedule \"0 0 L * *\": day-of-month \"l\" is not a number");
  EXPECT_EQ(error_of("1-2-3 * * * *"), "schedule \"1-2-3 * * * *\": minute \"2-3\" is not a number");
  EXPECT_EQ(error_of("0 0 30 2 *"), "schedule \"0 0 30 2 *\": never fires: no selected month has day 30");
  EXPECT_EQ(error_of("0 0 31 4,6,9,11 *"),
            "schedule \"0 0 31 4,6,9,11 *\": never fires: no selected month has day 31");
  // With a restricted day of week, 30 February is harmless: the OR lets every Monday fire.
  EXPECT_EQ(error_of("0 0 30 2 mon"), "no error");
}

TEST(HostileInput, TimeZoneErrors) {
  EXPECT_EQ(error_of("daily 22:00", "Mars/Base"),
            "schedule \"daily 22:00\": unknown time zone \"Mars/Base\"");
  EXPECT_EQ(error_of("daily 22:00", "../../etc/passwd"),
            "schedule \"daily 22:00\": unknown time zone \"../../etc/passwd\"");
  EXPECT_EQ(error_of("daily 22:00", std::string("UTC\0x", 5)),
            "schedule \"daily 22:00\": unknown time zone \"UTC\\x00x\"");
}

TEST(HostileInput, ControlCharactersAreEscapedInMessages) {
  EXPECT_EQ(error_of("daily 22:00\x1b[31m"),
            "schedule \"daily 22:00\\x1b[31m\": time \"22:00\\x1b[31m\" is not HH:MM");
}

TEST(HostileInput, LongInputIsHandled) {
  const std::string long_error = error_of(std::string(100000, '*'));
  EXPECT_EQ(long_error, "schedule \"" + std::string(100, '*') +
                            "...\" (100000 bytes): has 1 field; a cron expression has 5 (minute hour "
                            "day-of-month month day-of-week)");
  std::string list;
  for (int i = 0; i < 20000; ++i) list += (i ? "," : "") + std::to_string(i % 60);
  EXPECT_EQ(error_of(list + " * * * *"), "no error");
}

}  // namespace
}  // namespace sbx::scheduler
