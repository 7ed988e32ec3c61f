// Expansion of schedules into real instants: day by day, each matching local date contributes its list of
// local times, mapped to instants by the daylight-saving rules in docs/schedules.md.
#include <algorithm>
#include <limits>

#include "internal.hpp"

namespace sbx::scheduler {

void parse_schedule_text(const std::string& when, ScheduleSpec& spec);  // parse.cpp

namespace {

using namespace std::chrono_literals;
using detail::quoted;

// 5 years of 365.2425 days: the horizon of next_after.
constexpr int64_t kHorizonSeconds = 157'784'760;

std::optional<date::local_days> parse_iso_date(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto year = detail::parse_small_number(text.substr(0, 4));
  auto month = detail::parse_small_number(text.substr(5, 2));
  auto day = detail::parse_small_number(text.substr(8, 2));
  if (!year || !month || !day) return std::nullopt;
  const date::year_month_day ymd{date::year{*year}, date::month(static_cast<unsigned>(*month)),
                                 date::day(static_cast<unsigned>(*day))};
  if (!ymd.ok()) return std::nullopt;
  return date::local_days{ymd};
}

std::pair<date::local_days, date::local_days> parse_excluded(const std::string& text,
                                                             const std::string& context) {
  const size_t dots = text.find("..");
  const std::string first_text = text.substr(0, dots);
  const std::string last_text = dots == std::string::npos ? first_text : text.substr(dots + 2);
  const auto first = parse_iso_date(first_text);
  if (!first)
    throw ScheduleError(context + "excluded date " + quoted(first_text) + " is not a date (YYYY-MM-DD)");
  const auto last = parse_iso_date(last_text);
  if (!last)
    throw ScheduleError(context + "excluded date " + quoted(last_text) + " is not a date (YYYY-MM-DD)");
  if (*last < *first) {
    throw ScheduleError(context + "excluded dates " + quoted(text) + " end before they start");
  }
  return {*first, *last};
}

bool day_matches(const DayRule& rule, date::local_days day) {
  const date::year_month_day ymd{day};
  const unsigned month = static_cast<unsigned>(ymd.month());
  const unsigned day_of_month = static_cast<unsigned>(ymd.day());
  const unsigned weekday = date::weekday{day}.c_encoding();
  if (!rule.months[month]) return false;
  const unsigned month_length = static_cast<unsigned>((ymd.year() / ymd.month() / date::last).day());
  if (rule.last_day_of_month) return day_of_month == month_length;
  if (rule.nth_weekday != 0) {
    if (!rule.weekdays[weekday]) return false;
    if (rule.nth_weekday < 0) return day_of_month + 7 > month_length;
    return static_cast<int>((day_of_month - 1) / 7) + 1 == rule.nth_weekday;
  }
  const bool dom = rule.days_of_month[day_of_month];
  const bool dow = rule.weekdays[weekday];
  if (!rule.days_of_month_star && !rule.weekdays_star) return dom || dow;
  return dom && dow;
}

bool excluded(const ScheduleSpec& spec, date::local_days day) {
  return std::any_of(spec.excluded.begin(), spec.excluded.end(),
                     [&](const auto& range) { return range.first <= day && day <= range.second; });
}

// Appends the firings that local date `day` contributes, ascending. Firings of one day always come after
// those of the previous day: the map from local time to instants is monotone, and a gap maps onto its own
// end.
void append_day(const ScheduleSpec& spec, date::local_days day, std::vector<date::sys_seconds>& out) {
  if (!day_matches(spec.days, day) || excluded(spec, day)) return;
  const date::local_seconds midnight{day};
  const date::local_info at_start = spec.zone->get_info(midnight);
  const date::local_info at_end = spec.zone->get_info(midnight + 24h - 1s);
  if (at_start.result == date::local_info::unique && at_end.result == date::local_info::unique &&
      at_start.first.begin == at_end.first.begin) {
    // No transition touches this day: one offset serves every time in it.
    const date::sys_seconds base{midnight.time_since_epoch() - at_start.first.offset};
    for (int minute : spec.minutes_of_day) out.push_back(base + std::chrono::minutes{minute});
    return;
  }
  const size_t day_begin = out.size();
  for (int minute : spec.minutes_of_day) {
    const auto r = detail::resolve_local(spec.zone, midnight + std::chrono::minutes{minute});
    switch (r.kind) {
      case detail::LocalResolution::kUnique:
        out.push_back(r.first);
        break;
      case detail::LocalResolution::kGap:
        if (!spec.real_clock) out.push_back(r.first);
        break;
      case detail::LocalResolution::kRepeated:
        out.push_back(r.first);
        if (spec.real_clock) out.push_back(r.second);
        break;
    }
  }
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(day_begin), out.end());
  out.erase(std::unique(out.begin() + static_cast<std::ptrdiff_t>(day_begin), out.end()), out.end());
}

}  // namespace

Schedule::Schedule(std::shared_ptr<const ScheduleSpec> spec) : spec_(std::move(spec)) {}

Schedule Schedule::parse(const std::string& when, const std::string& time_zone,
                         const std::vector<std::string>& excluded_dates) {
  auto spec = std::make_shared<ScheduleSpec>();
  spec->text = when;
  spec->excluded_text = excluded_dates;
  parse_schedule_text(when, *spec);
  const std::string context = "schedule " + quoted(when) + ": ";
  spec->zone = detail::resolve_zone(time_zone, context);
  spec->zone_name = std::string(spec->zone->name());
  for (const auto& text : excluded_dates) spec->excluded.push_back(parse_excluded(text, context));
  return Schedule(std::move(spec));
}

std::vector<int64_t> Schedule::firings_between(int64_t after_ns, int64_t until_ns, size_t limit) const {
  std::vector<int64_t> result;
  if (until_ns <= after_ns || limit == 0) return result;
  // A day's firings can fall on the neighbouring date's clock around transitions, hence one day of margin.
  const date::local_days first_day =
      detail::local_date(spec_->zone, detail::floor_seconds(after_ns)) - date::days{1};
  const date::local_days last_day =
      detail::local_date(spec_->zone, detail::floor_seconds(until_ns)) + date::days{1};
  std::vector<date::sys_seconds> day_firings;
  for (date::local_days day = first_day; day <= last_day; day += date::days{1}) {
    day_firings.clear();
    append_day(*spec_, day, day_firings);
    for (const auto& firing : day_firings) {
      const auto ns = detail::to_ns(firing);
      if (!ns) {
        if (firing.time_since_epoch().count() > 0)
          return result;  // beyond the int64 range: nothing later fits
        continue;
      }
      if (*ns <= after_ns || (!result.empty() && *ns <= result.back())) continue;
      if (*ns > until_ns) return result;
      result.push_back(*ns);
      if (result.size() == limit) return result;
    }
  }
  return result;
}

std::optional<int64_t> Schedule::next_after(int64_t after_ns) const {
  int64_t until_ns = 0;
  if (__builtin_add_overflow(after_ns, kHorizonSeconds * 1'000'000'000, &until_ns)) {
    until_ns = std::numeric_limits<int64_t>::max();
  }
  const auto firings = firings_between(after_ns, until_ns, 1);
  if (firings.empty()) return std::nullopt;
  return firings.front();
}

const std::string& Schedule::text() const {
  return spec_->text;
}
const std::string& Schedule::time_zone() const {
  return spec_->zone_name;
}
const std::vector<std::string>& Schedule::excluded_dates() const {
  return spec_->excluded_text;
}
bool Schedule::follows_real_clock() const {
  return spec_->real_clock;
}

std::string Schedule::describe() const {
  std::string out = spec_->what + " " + spec_->zone_name;
  if (!spec_->excluded_text.empty()) {
    out += ", except on ";
    for (size_t i = 0; i < spec_->excluded_text.size(); ++i) out += (i ? ", " : "") + spec_->excluded_text[i];
  }
  return out;
}

std::string format_local_time(int64_t t_ns, const std::string& time_zone) {
  const date::time_zone* zone = detail::resolve_zone(time_zone, "");
  return date::format("%Y-%m-%d %H:%M:%S %Z", date::make_zoned(zone, detail::floor_seconds(t_ns)));
}

}  // namespace sbx::scheduler
