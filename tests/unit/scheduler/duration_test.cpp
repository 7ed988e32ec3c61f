#include <limits>
#include <random>

#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(Duration, ParsesEachUnitAndCombinations) {
  EXPECT_EQ(parse_duration("45s"), 45 * kSecond);
  EXPECT_EQ(parse_duration("90m"), 90 * 60 * kSecond);
  EXPECT_EQ(parse_duration("2h"), 2 * 3600 * kSecond);
  EXPECT_EQ(parse_duration("1h30m"), 5400 * kSecond);
  EXPECT_EQ(parse_duration("1d"), 86400 * kSecond);
  EXPECT_EQ(parse_duration("1w"), 7 * 86400 * kSecond);
  EXPECT_EQ(parse_duration("1w2d3h4m5s"), ((((7 + 2) * 24 + 3) * 60 + 4) * 60 + 5) * kSecond);
  EXPECT_EQ(parse_duration("250ms"), 250'000'000);
  EXPECT_EQ(parse_duration("1s500ms"), 1'500'000'000);
  EXPECT_EQ(parse_duration("7ns"), 7);
  EXPECT_EQ(parse_duration("0s"), 0);
}

TEST(Duration, Formats) {
  EXPECT_EQ(format_duration(5400 * kSecond), "1h30m");
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(86400 * kSecond), "1d");
  EXPECT_EQ(format_duration(24 * 3600 * kSecond + 1), "1d1ns");
  EXPECT_EQ(format_duration(-90 * kSecond), "-1m30s");
  EXPECT_EQ(format_duration(std::numeric_limits<int64_t>::min()), "-15250w1d23h47m16s854ms775us808ns");
}

TEST(Duration, RoundTrips) {
  std::mt19937_64 random(20261122);
  for (int i = 0; i < 10000; ++i) {
    const int64_t value = static_cast<int64_t>(random() >> (1 + random() % 63));
    ASSERT_EQ(parse_duration(format_duration(value)), value) << format_duration(value);
  }
  EXPECT_EQ(parse_duration(format_duration(std::numeric_limits<int64_t>::max())),
            std::numeric_limits<int64_t>::max());
  for (const char* text : {"45s", "1h30m", "1w", "2d12h", "1m1s1ms1us1ns"}) {
    EXPECT_EQ(format_duration(parse_duration(text)), text);
  }
}

TEST(Duration, RejectsEverythingElse) {
  const auto message = [](const std::string& text) {
    try {
      parse_duration(text);
    } catch (const ScheduleError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(""), "duration \"\" is empty; expected e.g. \"90m\" or \"1h30m\"");
  EXPECT_EQ(message("-5m"), "duration \"-5m\": must not be negative");
  EXPECT_EQ(message("90"), "duration \"90\": number 90 has no unit (use w, d, h, m, s, ms, us or ns)");
  EXPECT_EQ(message("5x"), "duration \"5x\": unknown unit \"x\" (use w, d, h, m, s, ms, us or ns)");
  EXPECT_EQ(message("30m1h"),
            "duration \"30m1h\": unit \"h\" is repeated or out of order (write e.g. 1h30m)");
  EXPECT_EQ(message("1h1h"), "duration \"1h1h\": unit \"h\" is repeated or out of order (write e.g. 1h30m)");
  EXPECT_EQ(message("h"), "duration \"h\": expected a number at \"h\"");
  EXPECT_EQ(message("1h "), "duration \"1h \": expected a number at \" \"");
  EXPECT_EQ(message(" 1h"), "duration \" 1h\": expected a number at \" 1h\"");
  EXPECT_EQ(message("1.5h"), "duration \"1.5h\": number 1 has no unit (use w, d, h, m, s, ms, us or ns)");
  EXPECT_EQ(message("1H"), "duration \"1H\": number 1 has no unit (use w, d, h, m, s, ms, us or ns)");
  EXPECT_EQ(message("15251w"), "duration \"15251w\": is too long (the limit is about 292 years)");
  EXPECT_EQ(message("99999999999999999999s"),
            "duration \"99999999999999999999s\": is too long (the limit is about 292 years)");
  EXPECT_EQ(message("15250w2d"), "duration \"15250w2d\": is too long (the limit is about 292 years)");
  EXPECT_EQ(message(std::string("1h\0", 3)), "duration \"1h\\x00\": expected a number at \"\\x00\"");
}

}  // namespace
}  // namespace sbx::scheduler
