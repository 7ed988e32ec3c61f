// Calendar schedules, daily backup windows and durations for the backup server's scheduler.
//
// Conventions: times are int64 nanoseconds since the Unix epoch (UTC). Schedules and windows are written in
// local wall-clock time of an IANA time zone and resolved through the system tz database
// (/usr/share/zoneinfo), so daylight-saving changes follow the rules in docs/schedules.md. Every parse
// failure throws ScheduleError with one line naming the bad part. Schedule and DailyWindow are immutable
// values: copying is cheap and they are safe to use from several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sbx::scheduler {

class ScheduleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ScheduleSpec;  // the parsed form; defined in core/src/scheduler
struct WindowSpec;

// A calendar schedule: a cron expression or a readable form (see docs/schedules.md), a time zone and a list
// of excluded local dates.
class Schedule {
 public:
  // `when`: cron ("0 22 * * 1-5", "@daily") or readable ("daily 22:00", "weekly sun 02:00",
  // "monthly first sat", "every 15 minutes"); case-insensitive. `time_zone`: an IANA name; "" means the
  // machine's zone. `excluded_dates`: "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD" (inclusive) local dates on
  // which nothing fires.
  static Schedule parse(const std::string& when, const std::string& time_zone = "",
                        const std::vector<std::string>& excluded_dates = {});

  // The first firing strictly after `after_ns`; nullopt if there is none within 5 years.
  std::optional<int64_t> next_after(int64_t after_ns) const;
  // Firings in (after_ns, until_ns], oldest first, at most `limit` of them (the oldest ones; page by calling
  // again with after_ns = the last firing returned).
  std::vector<int64_t> firings_between(int64_t after_ns, int64_t until_ns, size_t limit = 10000) const;

  const std::string& text() const;                         // as given
  const std::string& time_zone() const;                    // the resolved IANA name
  const std::vector<std::string>& excluded_dates() const;  // as given
  // True for wildcard/stepped hours (hourly, every N ..., cron hour "*" or a list): such a schedule fires at
  // both occurrences of a repeated local time. False for a fixed time of day (fires once per local day).
  bool follows_real_clock() const;
  // A readable English description, e.g. "every day at 22:00 Europe/Berlin".
  std::string describe() const;

 private:
  explicit Schedule(std::shared_ptr<const ScheduleSpec> spec);
  std::shared_ptr<const ScheduleSpec> spec_;
};

// "45s" "90m" "2h" "1h30m" "1d" "1w" (also "ms", "us", "ns") -> nanoseconds. Units appear at most once,
// largest first; "d" is 24 hours and "w" 7 days of real time. ScheduleError on anything else (empty,
// negative, junk, overflow).
int64_t parse_duration(const std::string& text);
// The inverse of parse_duration for values >= 0, e.g. 5400e9 -> "1h30m", 0 -> "0s"; a negative value gets a
// leading "-".
std::string format_duration(int64_t ns);

// `t_ns` as local time in `time_zone` ("" = the machine's zone), e.g. "2026-03-29 03:00:00 CEST", for logs.
std::string format_local_time(int64_t t_ns, const std::string& time_zone = "");

// A daily backup window "22:00-06:00" in local wall-clock time of a time zone; it may cross midnight and
// "00:00-24:00" is always open. Each night's open period runs from the first instant the clock shows the
// start until the last instant it shows the end (see docs/schedules.md for daylight-saving nights).
class DailyWindow {
 public:
  static DailyWindow parse(const std::string& text, const std::string& time_zone = "");

  bool contains(int64_t t_ns) const;
  // The end of the open period containing t (exclusive); nullopt if t is outside the window. An always-open
  // window never closes: it returns INT64_MAX.
  std::optional<int64_t> closes_after(int64_t t_ns) const;
  // The first instant >= t inside the window; nullopt if there is none within 5 years.
  std::optional<int64_t> next_open(int64_t t_ns) const;

  bool always_open() const;
  const std::string& text() const;
  const std::string& time_zone() const;
  std::string describe() const;  // e.g. "22:00 to 06:00 the next day, Europe/Berlin"

 private:
  explicit DailyWindow(std::shared_ptr<const WindowSpec> spec);
  std::shared_ptr<const WindowSpec> spec_;
};

}  // namespace sbx::scheduler
