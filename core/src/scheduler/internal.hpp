// Shared internals of sbx_scheduler: the parsed forms of schedules and windows and the time-zone helpers.
// Not installed; only the module's own sources and its white-box tests include it.
#pragma once

#include <date/tz.h>

#include <bitset>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "strongbox/scheduler.hpp"

namespace sbx::scheduler {

// Which local dates a schedule fires on. Cron semantics: a date matches when its month is selected and its
// day of month and day of week match, where two restricted day fields combine with OR (as Vixie cron does).
struct DayRule {
  std::bitset<13> months;          // 1..12
  std::bitset<32> days_of_month;   // 1..31
  std::bitset<7> weekdays;         // 0 = Sunday
  bool days_of_month_star = true;  // the field was written starting with '*' (unrestricted)
  bool weekdays_star = true;
  bool last_day_of_month = false;  // "monthly last HH:MM"
  int nth_weekday = 0;             // "monthly first|...|last DOW": 1..4, or -1 for the last one
};

enum class Form {
  kCron,
  kHourly,
  kDaily,
  kWeekdays,
  kWeekends,
  kWeekly,
  kMonthlyDay,
  kMonthlyLast,
  kMonthlyNth,
  kEveryMinutes,
  kEveryHours,
};

struct ScheduleSpec {
  std::string text;
  std::string zone_name;
  std::vector<std::string> excluded_text;
  const date::time_zone* zone = nullptr;
  Form form = Form::kCron;
  DayRule days;
  std::vector<int> minutes_of_day;  // the local times of day that fire, ascending
  bool real_clock = false;          // wildcard/stepped hour: fire at every real instant that matches
  std::vector<std::pair<date::local_days, date::local_days>> excluded;  // inclusive ranges
  std::string what;  // the English description without zone and exclusions
};

struct WindowSpec {
  std::string text;
  std::string zone_name;
  const date::time_zone* zone = nullptr;
  int start_minute = 0;  // 0..1439
  int end_minute = 0;    // 1..1440; <= start_minute means the window crosses midnight
  bool always = false;
};

namespace detail {

// Resolves an IANA name ("" = the machine's zone); throws ScheduleError prefixed with `context`.
const date::time_zone* resolve_zone(const std::string& name, const std::string& context);

std::string to_lower(std::string text);
std::vector<std::string> split_whitespace(const std::string& text);
std::string quoted(const std::string& text);  // "text" with control characters escaped

// A run of 1..9 decimal digits, else nullopt (so a huge number never overflows; callers report it as out of
// range using the original token).
std::optional<int> parse_small_number(const std::string& token);
// "H:MM" or "HH:MM". 24:00 only when allow_24. Throws ScheduleError prefixed with `context`.
int parse_clock(const std::string& token, bool allow_24, const std::string& context);
std::string format_clock(int minute_of_day);

// Nanoseconds <-> seconds without overflow: floor for the way in, nullopt when out of int64 range.
date::sys_seconds floor_seconds(int64_t ns);
std::optional<int64_t> to_ns(date::sys_seconds t);
date::local_days local_date(const date::time_zone* zone, date::sys_seconds t);

// How one local time maps to real instants.
struct LocalResolution {
  enum Kind { kUnique, kGap, kRepeated } kind;
  date::sys_seconds first;   // unique: the instant; gap: the transition instant; repeated: first occurrence
  date::sys_seconds second;  // repeated: the second occurrence; otherwise == first
};
LocalResolution resolve_local(const date::time_zone* zone, date::local_seconds local);

}  // namespace detail
}  // namespace sbx::scheduler
