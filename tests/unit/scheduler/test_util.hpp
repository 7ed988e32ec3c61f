// Helpers shared by the scheduler tests: instants written as readable UTC text and local rendering.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "strongbox/scheduler.hpp"

namespace sbx::scheduler::testing {

// "2026-03-29 01:00" or "2026-03-29 01:00:30" in UTC -> ns. Uses timegm, which touches no global state.
inline int64_t utc(const std::string& text) {
  std::tm tm{};
  int seconds = 0;
  const int fields = std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                                 &tm.tm_hour, &tm.tm_min, &seconds);
  EXPECT_GE(fields, 5) << text;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_sec = seconds;
  return static_cast<int64_t>(timegm(&tm)) * 1'000'000'000;
}

inline constexpr int64_t kMinute = 60'000'000'000;
inline constexpr int64_t kHour = 60 * kMinute;
inline constexpr int64_t kDay = 24 * kHour;

// Renders firings as local "YYYY-MM-DD HH:MM:SS ZONE" strings so expectations read like a calendar.
inline std::vector<std::string> local(const std::vector<int64_t>& firings, const std::string& zone) {
  std::vector<std::string> out;
  for (int64_t t : firings) out.push_back(format_local_time(t, zone));
  return out;
}

inline std::string local(int64_t t, const std::string& zone) {
  return format_local_time(t, zone);
}

}  // namespace sbx::scheduler::testing
