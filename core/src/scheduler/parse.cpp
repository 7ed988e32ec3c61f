// Parsing of schedule texts: cron expressions (Vixie semantics) and the readable forms.
#include <algorithm>
#include <array>
#include <string_view>

#include "internal.hpp"

namespace sbx::scheduler {
namespace {

using detail::quoted;

constexpr std::array<std::string_view, 7> kDayNames = {"sunday",   "monday", "tuesday", "wednesday",
                                                       "thursday", "friday", "saturday"};
constexpr std::array<std::string_view, 12> kMonthNames = {"january",   "february", "march",    "april",
                                                          "may",       "june",     "july",     "august",
                                                          "september", "october",  "november", "december"};

std::string capitalized(std::string_view name) {
  std::string out(name);
  out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

// "sun".."sat" or the full names -> 0..6.
std::optional<int> day_number(const std::string& word) {
  for (size_t i = 0; i < kDayNames.size(); ++i) {
    if (word == kDayNames[i] || word == kDayNames[i].substr(0, 3)) return static_cast<int>(i);
  }
  return std::nullopt;
}

int require_day(const std::string& word, const std::string& context) {
  if (auto day = day_number(word)) return *day;
  throw ScheduleError(context + "unknown day " + quoted(word) + " (use sun mon tue wed thu fri sat)");
}

std::string weekday_list_text(const std::vector<int>& days) {
  std::string out;
  for (size_t i = 0; i < days.size(); ++i) {
    if (i > 0) out += i + 1 == days.size() ? " and " : ", ";
    out += capitalized(kDayNames[days[i]]);
  }
  return out;
}

// Renders a set as "1, 3-5, 9" with optional names.
std::string set_text(const std::vector<int>& values, bool weekday_names, bool month_names) {
  std::string out;
  for (size_t i = 0; i < values.size();) {
    size_t j = i;
    while (j + 1 < values.size() && values[j + 1] == values[j] + 1) ++j;
    const auto name = [&](int v) {
      if (weekday_names) return capitalized(kDayNames[v].substr(0, 3));
      if (month_names) return capitalized(kMonthNames[v - 1].substr(0, 3));
      return std::to_string(v);
    };
    if (!out.empty()) out += ", ";
    out += name(values[i]);
    if (j == i + 1) out += ", " + name(values[j]);
    if (j > i + 1) out += "-" + name(values[j]);
    i = j + 1;
  }
  return out;
}

template <size_t N>
std::vector<int> members(const std::bitset<N>& set, int low, int high) {
  std::vector<int> out;
  for (int v = low; v <= high; ++v) {
    if (set[v]) out.push_back(v);
  }
  return out;
}

// One cron field. `names` maps words to numbers (months, days of week); dow accepts 7 as Sunday.
struct CronField {
  const char* label;
  int low;
  int high;
  bool month_names;
  bool weekday_names;
};

int cron_value(const std::string& token, const CronField& field, const std::string& context) {
  if (field.weekday_names) {
    if (auto day = day_number(token)) return *day;
  }
  if (field.month_names) {
    for (size_t i = 0; i < kMonthNames.size(); ++i) {
      if (token == kMonthNames[i] || token == kMonthNames[i].substr(0, 3)) return static_cast<int>(i + 1);
    }
  }
  const int high = field.weekday_names ? 7 : field.high;
  auto number = detail::parse_small_number(token);
  if (!token.empty() && std::all_of(token.begin(), token.end(), ::isdigit)) {
    if (!number || *number < field.low || *number > high) {
      throw ScheduleError(context + field.label + " " + token + " is out of range " +
                          std::to_string(field.low) + "-" + std::to_string(high));
    }
    return *number;
  }
  throw ScheduleError(context + field.label + " " + quoted(token) + " is not a number" +
                      (field.weekday_names ? " or a day name"
                       : field.month_names ? " or a month name"
                                           : ""));
}

// Returns the selected values; `star` tells whether the field begins with '*' (Vixie's "unrestricted").
std::bitset<64> parse_cron_field(const std::string& text, const CronField& field, const std::string& context,
                                 bool* star) {
  std::bitset<64> selected;
  *star = !text.empty() && text[0] == '*';
  size_t begin = 0;
  while (true) {
    const size_t comma = text.find(',', begin);
    const std::string item =
        text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    if (item.empty())
      throw ScheduleError(context + "empty item in " + field.label + " field " + quoted(text));
    const size_t slash = item.find('/');
    const std::string base = item.substr(0, slash);
    int step = 1;
    if (slash != std::string::npos) {
      const std::string step_text = item.substr(slash + 1);
      auto parsed = detail::parse_small_number(step_text);
      if (!parsed) {
        throw ScheduleError(context + "step " + quoted(step_text) + " in " + field.label +
                            " field is not a number");
      }
      if (*parsed < 1)
        throw ScheduleError(context + "step 0 in " + field.label + " field must be at least 1");
      step = *parsed;
    }
    int first = field.low;
    int last = field.high;
    if (base != "*") {
      const size_t dash = base.find('-');
      first = cron_value(base.substr(0, dash), field, context);
      if (dash != std::string::npos) {
        last = cron_value(base.substr(dash + 1), field, context);
        if (last < first) {
          throw ScheduleError(context + "range " + quoted(base) + " in " + field.label +
                              " field is backwards");
        }
      } else if (slash == std::string::npos) {
        last = first;
      } else if (field.weekday_names) {
        last = 7;  // "1/2" means 1-7/2 in the day-of-week field, which accepts 7 as Sunday
      }
    }
    for (int v = first; v <= last; v += step) selected.set(field.weekday_names && v == 7 ? 0 : v);
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return selected;
}

void parse_cron(const std::string& expression, ScheduleSpec& spec, const std::string& context) {
  const auto fields = detail::split_whitespace(expression);
  if (fields.size() != 5) {
    throw ScheduleError(context + "has " + std::to_string(fields.size()) +
                        (fields.size() == 1 ? " field" : " fields") +
                        "; a cron expression has 5 (minute hour day-of-month month day-of-week)");
  }
  static const CronField kMinute{"minute", 0, 59, false, false};
  static const CronField kHour{"hour", 0, 23, false, false};
  static const CronField kDayOfMonth{"day-of-month", 1, 31, false, false};
  static const CronField kMonth{"month", 1, 12, true, false};
  static const CronField kDayOfWeek{"day-of-week", 0, 6, false, true};
  bool minute_star = false, hour_star = false, month_star = false;
  const auto minutes = parse_cron_field(fields[0], kMinute, context, &minute_star);
  const auto hours = parse_cron_field(fields[1], kHour, context, &hour_star);
  const auto days = parse_cron_field(fields[2], kDayOfMonth, context, &spec.days.days_of_month_star);
  const auto months = parse_cron_field(fields[3], kMonth, context, &month_star);
  const auto weekdays = parse_cron_field(fields[4], kDayOfWeek, context, &spec.days.weekdays_star);
  for (int d = 1; d <= 31; ++d) spec.days.days_of_month[d] = days[d];
  for (int m = 1; m <= 12; ++m) spec.days.months[m] = months[m];
  for (int w = 0; w < 7; ++w) spec.days.weekdays[w] = weekdays[w];

  // A day of month that no selected month has (30 February) would make the schedule silently never fire.
  if (spec.days.weekdays_star || spec.days.days_of_month_star) {
    static constexpr int kLongest[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool possible = false;
    for (int m = 1; m <= 12 && !possible; ++m) {
      for (int d = 1; d <= kLongest[m] && !possible; ++d) possible = months[m] && days[d];
    }
    if (!possible) {
      throw ScheduleError(context + "never fires: no selected month has day " +
                          set_text(members(spec.days.days_of_month, 1, 31), false, false));
    }
  }

  const auto minute_list = members(minutes, 0, 59);
  const auto hour_list = members(hours, 0, 23);
  for (int h : hour_list) {
    for (int m : minute_list) spec.minutes_of_day.push_back(h * 60 + m);
  }
  spec.real_clock = hour_list.size() != 1;

  std::string when;
  if (hour_list.size() == 1 && minute_list.size() == 1) {
    when = "at " + detail::format_clock(spec.minutes_of_day[0]);
  } else if (minute_star && hour_star && minute_list.size() == 60 && hour_list.size() == 24) {
    when = "every minute";
  } else {
    when = std::string("at minute") + (minute_list.size() > 1 ? "s " : " ") +
           set_text(minute_list, false, false);
    when += hour_list.size() == 24 ? " of every hour"
                                   : std::string(" past hour") + (hour_list.size() > 1 ? "s " : " ") +
                                         set_text(hour_list, false, false);
  }
  std::string on;
  const std::string dom_text =
      "on day " + set_text(members(spec.days.days_of_month, 1, 31), false, false) + " of the month";
  const std::string dow_text = "on " + set_text(members(spec.days.weekdays, 0, 6), true, false);
  if (spec.days.days_of_month_star && spec.days.weekdays_star) {
    on = spec.days.days_of_month.count() == 31 && spec.days.weekdays.count() == 7 ? "every day" : dom_text;
    if (spec.days.weekdays.count() != 7) on = dom_text + " if it is " + dow_text.substr(3);
  } else if (spec.days.days_of_month_star) {
    on = spec.days.days_of_month.count() == 31 ? dow_text : dom_text + " if it is " + dow_text.substr(3);
  } else if (spec.days.weekdays_star) {
    on = spec.days.weekdays.count() == 7 ? dom_text : dom_text + " if it is " + dow_text.substr(3);
  } else {
    on = dom_text + " or " + dow_text;
  }
  if (spec.days.months.count() != 12) on += " in " + set_text(members(spec.days.months, 1, 12), false, true);
  spec.what = "cron " + quoted(expression) + ": " + when + ", " + on;
}

std::string macro_expansion(const std::string& macro, const std::string& context) {
  if (macro == "@hourly") return "0 * * * *";
  if (macro == "@daily" || macro == "@midnight") return "0 0 * * *";
  if (macro == "@weekly") return "0 0 * * 0";
  if (macro == "@monthly") return "0 0 1 * *";
  if (macro == "@yearly" || macro == "@annually") return "0 0 1 1 *";
  throw ScheduleError(context + "unknown macro " + quoted(macro) +
                      " (use @hourly, @daily, @weekly, @monthly or @yearly)");
}

void set_all_days(DayRule& days) {
  for (int m = 1; m <= 12; ++m) days.months.set(m);
  for (int d = 1; d <= 31; ++d) days.days_of_month.set(d);
  days.weekdays.set();
}

void expect_words(const std::vector<std::string>& words, size_t low, size_t high, const std::string& usage,
                  const std::string& context) {
  if (words.size() < low || words.size() > high) throw ScheduleError(context + "expected " + quoted(usage));
}

void parse_readable(const std::vector<std::string>& words, ScheduleSpec& spec, const std::string& context) {
  set_all_days(spec.days);
  const std::string& keyword = words[0];
  int time_of_day = 0;
  if (keyword == "hourly") {
    expect_words(words, 1, 2, "hourly [:MM]", context);
    int minute = 0;
    if (words.size() == 2) {
      const std::string& token = words[1];
      auto parsed =
          token.size() == 3 && token[0] == ':' ? detail::parse_small_number(token.substr(1)) : std::nullopt;
      if (!parsed) throw ScheduleError(context + "minute " + quoted(token) + " is not :MM");
      if (*parsed > 59)
        throw ScheduleError(context + "minute " + std::to_string(*parsed) + " is out of range 0-59");
      minute = *parsed;
    }
    spec.form = Form::kHourly;
    spec.real_clock = true;
    for (int h = 0; h < 24; ++h) spec.minutes_of_day.push_back(h * 60 + minute);
    spec.what = "every hour at :" + detail::format_clock(minute).substr(3);
    return;
  }
  if (keyword == "every") {
    expect_words(words, 3, 3, "every N minutes|hours", context);
    auto n = detail::parse_small_number(words[1]);
    const std::string& unit = words[2];
    const bool minutes = unit == "minutes" || unit == "minute";
    if (!minutes && unit != "hours" && unit != "hour") {
      throw ScheduleError(context + "unit " + quoted(unit) + " is not minutes or hours");
    }
    const int period = minutes ? 60 : 24;
    if (!n || *n < 1 || period % *n != 0) {
      throw ScheduleError(context + quoted(words[1]) + " " + unit + " does not divide " +
                          (minutes ? "an hour" : "a day") + " evenly (use one of " +
                          (minutes ? "1 2 3 4 5 6 10 12 15 20 30 60" : "1 2 3 4 6 8 12 24") + ")");
    }
    spec.form = minutes ? Form::kEveryMinutes : Form::kEveryHours;
    spec.real_clock = true;
    for (int t = 0; t < 24 * 60; t += minutes ? *n : *n * 60) spec.minutes_of_day.push_back(t);
    spec.what = *n == 1
                    ? std::string("every ") + (minutes ? "minute" : "hour")
                    : "every " + std::to_string(*n) + (minutes ? " minutes" : " hours") + " from midnight";
    return;
  }
  if (keyword == "daily" || keyword == "weekdays" || keyword == "weekends") {
    expect_words(words, 2, 2, keyword + " HH:MM", context);
    time_of_day = detail::parse_clock(words[1], false, context);
    if (keyword == "daily") {
      spec.form = Form::kDaily;
      spec.what = "every day";
    } else if (keyword == "weekdays") {
      spec.form = Form::kWeekdays;
      spec.days.weekdays = 0b0111110;
      spec.what = "every weekday (Monday to Friday)";
    } else {
      spec.form = Form::kWeekends;
      spec.days.weekdays = 0b1000001;
      spec.what = "every Saturday and Sunday";
    }
  } else if (keyword == "weekly") {
    expect_words(words, 3, 3, "weekly DOW[,DOW...] HH:MM", context);
    spec.form = Form::kWeekly;
    spec.days.weekdays.reset();
    size_t begin = 0;
    while (true) {
      const size_t comma = words[1].find(',', begin);
      spec.days.weekdays.set(require_day(words[1].substr(begin, comma - begin), context));
      if (comma == std::string::npos) break;
      begin = comma + 1;
    }
    time_of_day = detail::parse_clock(words[2], false, context);
    spec.what = "every " + weekday_list_text(members(spec.days.weekdays, 0, 6));
  } else if (keyword == "monthly") {
    expect_words(words, 2, 4, "monthly D HH:MM | monthly last HH:MM | monthly first|...|last DOW [HH:MM]",
                 context);
    static const std::array<std::string_view, 5> kOrdinals = {"first", "second", "third", "fourth", "last"};
    const auto ordinal = std::find(kOrdinals.begin(), kOrdinals.end(), words[1]);
    if (words[1] == "last" && words.size() == 3 && words[2].find(':') != std::string::npos) {
      spec.form = Form::kMonthlyLast;
      spec.days.last_day_of_month = true;
      time_of_day = detail::parse_clock(words[2], false, context);
      spec.what = "on the last day of every month";
    } else if (ordinal != kOrdinals.end()) {
      expect_words(words, 3, 4, "monthly " + words[1] + " DOW [HH:MM]", context);
      spec.form = Form::kMonthlyNth;
      const int day = require_day(words[2], context);
      spec.days.weekdays.reset();
      spec.days.weekdays.set(day);
      spec.days.nth_weekday = words[1] == "last" ? -1 : static_cast<int>(ordinal - kOrdinals.begin()) + 1;
      if (words.size() == 4) time_of_day = detail::parse_clock(words[3], false, context);
      spec.what = "on the " + words[1] + " " + capitalized(kDayNames[day]) + " of every month";
    } else {
      expect_words(words, 3, 3, "monthly D HH:MM", context);
      auto day = detail::parse_small_number(words[1]);
      if (!std::all_of(words[1].begin(), words[1].end(), ::isdigit) || words[1].empty()) {
        throw ScheduleError(context + "day of month " + quoted(words[1]) +
                            " is not a number, \"last\" or first|second|third|fourth|last DOW");
      }
      if (!day || *day < 1 || *day > 31) {
        throw ScheduleError(context + "day of month " + words[1] + " is out of range 1-31");
      }
      spec.form = Form::kMonthlyDay;
      spec.days.days_of_month.reset();
      spec.days.days_of_month.set(*day);
      spec.days.days_of_month_star = false;
      time_of_day = detail::parse_clock(words[2], false, context);
      spec.what = "on day " + words[1] + " of every month";
      if (*day > 28) spec.what += " (months without day " + words[1] + " are skipped)";
    }
  } else {
    throw ScheduleError(
        context +
        "is neither a cron expression (5 fields or @daily ...) nor a known form (hourly, daily, "
        "weekdays, weekends, weekly, monthly, every)");
  }
  spec.minutes_of_day = {time_of_day};
  spec.real_clock = false;
  spec.what += " at " + detail::format_clock(time_of_day);
}

}  // namespace

void parse_schedule_text(const std::string& when, ScheduleSpec& spec) {
  const std::string context = "schedule " + quoted(when) + ": ";
  const std::string lowered = detail::to_lower(when);
  const auto words = detail::split_whitespace(lowered);
  if (words.empty()) throw ScheduleError(context + "is empty");
  if (words[0][0] == '@') {
    if (words.size() != 1) throw ScheduleError(context + "unexpected text after " + quoted(words[0]));
    spec.form = Form::kCron;
    parse_cron(macro_expansion(words[0], context), spec, context);
    spec.what = "cron " + quoted(words[0]) + spec.what.substr(spec.what.find(':'));
    return;
  }
  const bool looks_like_cron =
      !words[0].empty() && (std::isdigit(static_cast<unsigned char>(words[0][0])) || words[0][0] == '*');
  if (looks_like_cron) {
    spec.form = Form::kCron;
    parse_cron(lowered, spec, context);
    return;
  }
  parse_readable(words, spec, context);
}

}  // namespace sbx::scheduler
