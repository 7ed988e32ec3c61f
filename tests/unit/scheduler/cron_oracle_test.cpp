// Property test: for random cron expressions, firings_between equals a brute-force oracle that walks every
// real minute, reads the local wall clock and applies the DST rules directly (no local-to-UTC mapping
// involved).
#include <date/tz.h>

#include <bitset>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "test_util.hpp"

namespace sbx::scheduler {
namespace {

struct Cron {
  std::string text;
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;
  std::bitset<13> months;
  std::bitset<7> weekdays;
  bool days_of_month_star = false;
  bool weekdays_star = false;
};

const char* const kWeekdayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

// Writes one random field and sets its bits. `bias` values are favoured for single values (DST hours).
template <size_t N>
std::string random_field(std::mt19937& random, int low, int high, std::bitset<N>& bits, bool* star,
                         const std::vector<int>& bias, bool weekday) {
  const auto pick = [&](int a, int b) { return std::uniform_int_distribution<int>(a, b)(random); };
  const auto name = [&](int v) {
    if (weekday && v == 0 && pick(0, 2) == 0) return std::string("7");
    if (weekday && pick(0, 1) == 0) return std::string(kWeekdayNames[v]);
    return std::to_string(v);
  };
  if (star) *star = false;
  switch (pick(0, 6)) {
    case 0:
    case 1: {
      for (int v = low; v <= high; ++v) bits.set(v);
      if (star) *star = true;
      return "*";
    }
    case 2: {
      const int step = pick(2, std::max(2, (high - low) / 2));
      for (int v = low; v <= high; v += step) bits.set(v);
      if (star) *star = true;
      return "*/" + std::to_string(step);
    }
    case 3: {
      const int v = !bias.empty() && pick(0, 1) == 0 ? bias[pick(0, static_cast<int>(bias.size()) - 1)]
                                                     : pick(low, high);
      bits.set(v);
      return name(v);
    }
    case 4: {
      std::string text;
      for (int i = pick(2, 4); i > 0; --i) {
        const int v = pick(low, high);
        bits.set(v);
        text += (text.empty() ? "" : ",") + name(v);
      }
      return text;
    }
    case 5: {
      const int a = pick(low, high);
      const int b = pick(a, high);
      for (int v = a; v <= b; ++v) bits.set(v);
      return name(a) + "-" + name(b);
    }
    default: {
      const int a = pick(low, high);
      const int b = pick(a, high);
      const int step = pick(1, 7);
      for (int v = a; v <= b; v += step) bits.set(v);
      return std::to_string(a) + "-" + std::to_string(b) + "/" + std::to_string(step);
    }
  }
}

// Biased towards what DST nights test: a single hour around 02:00, and day fields that let Sundays through.
Cron random_cron(std::mt19937& random) {
  const auto pick = [&](int a, int b) { return std::uniform_int_distribution<int>(a, b)(random); };
  Cron c;
  bool unused = false;
  const std::string minute = random_field(random, 0, 59, c.minutes, &unused, {0, 15, 30, 45}, false);
  std::string hour;
  if (pick(0, 9) < 4) {
    const int h =
        pick(0, 2) == 0 ? 1 : 2;  // 01:xx repeats in New York and Lord Howe, 02:xx skips/repeats in Berlin
    c.hours.set(h);
    hour = std::to_string(h);
  } else {
    hour = random_field(random, 0, 23, c.hours, &unused, {0, 1, 2, 3}, false);
  }
  std::string dom = "*";
  if (pick(0, 1) == 0) {
    dom = random_field(random, 1, 31, c.days_of_month, &c.days_of_month_star, {}, false);
  } else {
    c.days_of_month_star = true;
    for (int d = 1; d <= 31; ++d) c.days_of_month.set(d);
  }
  std::string month = "*";
  c.months.set();
  if (std::uniform_int_distribution<int>(0, 3)(random) == 0) {
    c.months.reset();
    month = random_field(random, 1, 12, c.months, &unused, {3, 4, 10, 11}, false);
  }
  std::string dow = "*";
  if (pick(0, 1) == 0) {
    dow = random_field(random, 0, 6, c.weekdays, &c.weekdays_star, {0}, true);
  } else {
    c.weekdays_star = true;
    c.weekdays.set();
  }
  c.text = minute + " " + hour + " " + dom + " " + month + " " + dow;
  return c;
}

bool possible(const Cron& c) {
  if (!c.days_of_month_star && !c.weekdays_star) return true;
  static const int kLongest[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (int m = 1; m <= 12; ++m) {
    for (int d = 1; d <= kLongest[m]; ++d) {
      if (c.months[m] && c.days_of_month[d]) return true;
    }
  }
  return false;
}

bool matches(const Cron& c, int64_t local_seconds) {
  const int64_t day_number = local_seconds >= 0 ? local_seconds / 86400 : (local_seconds - 86399) / 86400;
  const int minute_of_day = static_cast<int>(local_seconds - day_number * 86400) / 60;
  const date::local_days day{date::days{day_number}};
  const date::year_month_day ymd{day};
  const unsigned weekday = date::weekday{day}.c_encoding();
  if (!c.minutes[minute_of_day % 60] || !c.hours[minute_of_day / 60]) return false;
  if (!c.months[static_cast<unsigned>(ymd.month())]) return false;
  const bool dom = c.days_of_month[static_cast<unsigned>(ymd.day())];
  const bool dow = c.weekdays[weekday];
  return c.days_of_month_star || c.weekdays_star ? dom && dow : dom || dow;
}

// How often the DST rules decided something, so the test can insist that its random cases reached them.
struct Coverage {
  int fixed_fired_after_gap = 0;
  int fixed_repeat_suppressed = 0;
  int real_clock_repeat_fired = 0;
};

// Walks real minutes in (after, until]. Fixed-hour expressions fire at the first occurrence of a wall time
// and, for wall times skipped by a jump forward, at the first instant after the jump.
std::vector<int64_t> oracle(const Cron& c, const date::time_zone* zone, int64_t after_s, int64_t until_s,
                            Coverage& coverage) {
  const bool fixed_hour = c.hours.count() == 1;
  std::vector<int64_t> out;
  date::sys_info info = zone->get_info(date::sys_seconds{std::chrono::seconds{after_s - 86400}});
  int64_t previous_local = 0;
  int64_t max_local = std::numeric_limits<int64_t>::min();
  for (int64_t t = after_s - 86400; t <= until_s; t += 60) {
    if (date::sys_seconds{std::chrono::seconds{t}} >= info.end) {
      info = zone->get_info(date::sys_seconds{std::chrono::seconds{t}});
    }
    const int64_t local = t + info.offset.count();
    bool fire = false;
    const bool in_range = t > after_s;
    if (!fixed_hour) {
      fire = matches(c, local);
      coverage.real_clock_repeat_fired += in_range && fire && local <= max_local;
    } else {
      const bool matched = matches(c, local);
      fire = local > max_local && matched;
      coverage.fixed_repeat_suppressed += in_range && matched && !fire;
      if (t != after_s - 86400) {
        for (int64_t skipped = previous_local + 60; skipped < local && !fire; skipped += 60) {
          fire = matches(c, skipped);
          coverage.fixed_fired_after_gap += in_range && fire;
        }
      }
    }
    if (fire && in_range) out.push_back(t * 1'000'000'000);
    previous_local = local;
    max_local = std::max(max_local, local);
  }
  return out;
}

TEST(CronOracle, RandomExpressionsMatchMinuteByMinuteBruteForce) {
  unsigned seed = 20261122;
  if (const char* env = std::getenv("SBX_ORACLE_SEED"))
    seed = static_cast<unsigned>(std::strtoul(env, nullptr, 10));
  std::mt19937 random(seed);
  // Havana changes clocks at midnight, so whole local dates start inside a gap or repeat their first hour.
  const std::vector<std::string> zones = {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                                          "America/Havana"};
  // Each 60-day period holds a transition in every zone: spring forward in the north and back in Lord Howe,
  // and the reverse in autumn.
  const std::vector<std::pair<std::string, std::string>> periods = {{"2026-03-01 00:00", "2026-04-30 00:00"},
                                                                    {"2026-09-15 00:00", "2026-11-14 00:00"}};
  int tested = 0;
  int fixed_hour = 0;
  Coverage coverage;
  while (tested < 24) {
    const Cron c = random_cron(random);
    if (!possible(c)) {
      EXPECT_THROW(Schedule::parse(c.text, "UTC"), ScheduleError) << c.text;
      continue;
    }
    ++tested;
    fixed_hour += c.hours.count() == 1;
    for (const auto& zone_name : zones) {
      const auto schedule = Schedule::parse(c.text, zone_name);
      ASSERT_EQ(schedule.follows_real_clock(), c.hours.count() != 1) << c.text;
      for (const auto& [from, until] : periods) {
        const int64_t after = testing::utc(from);
        const int64_t end = testing::utc(until);
        const auto expected =
            oracle(c, date::locate_zone(zone_name), after / 1'000'000'000, end / 1'000'000'000, coverage);
        const auto actual = schedule.firings_between(after, end, 1'000'000);
        if (actual != expected) {
          size_t i = 0;
          while (i < actual.size() && i < expected.size() && actual[i] == expected[i]) ++i;
          ADD_FAILURE() << "seed " << seed << ", cron \"" << c.text << "\" in " << zone_name << " from "
                        << from << ": " << actual.size() << " firings, oracle " << expected.size()
                        << "; first difference: "
                        << (i < actual.size() ? testing::local(actual[i], zone_name) : "none")
                        << " vs oracle "
                        << (i < expected.size() ? testing::local(expected[i], zone_name) : "none");
        }
      }
    }
  }
  // The generator must exercise both DST rules.
  EXPECT_GE(fixed_hour, 3);
  EXPECT_LE(fixed_hour, 21);
  EXPECT_GE(coverage.fixed_fired_after_gap, 1);
  EXPECT_GE(coverage.fixed_repeat_suppressed, 1);
  EXPECT_GE(coverage.real_clock_repeat_fired, 1);
  std::printf(
      "seed %u: %d fixed-hour of %d expressions; %d gap firings, %d suppressed repeats, %d repeat firings\n",
      seed, fixed_hour, tested, coverage.fixed_fired_after_gap, coverage.fixed_repeat_suppressed,
      coverage.real_clock_repeat_fired);
}

}  // namespace
}  // namespace sbx::scheduler
