// Daily windows. The open period that starts on local date D runs from the first instant the clock shows the
// start time until the last instant it shows the end time; a start or end inside a spring-forward gap
// resolves to the transition instant, so a window lying entirely inside a gap does not open that night.
#include <limits>

#include "internal.hpp"

namespace sbx::scheduler {
namespace {

using namespace std::chrono_literals;
using detail::quoted;

constexpr int kMaxDaysAhead = 5 * 366;

struct Period {
  date::sys_seconds open;
  date::sys_seconds close;  // exclusive
  bool empty() const { return close <= open; }
};

Period period_starting(const WindowSpec& spec, date::local_days day) {
  const date::local_days end_day = spec.end_minute <= spec.start_minute ? day + date::days{1} : day;
  const auto open =
      detail::resolve_local(spec.zone, date::local_seconds{day} + std::chrono::minutes{spec.start_minute});
  const auto close =
      detail::resolve_local(spec.zone, date::local_seconds{end_day} + std::chrono::minutes{spec.end_minute});
  return {open.first, close.second};
}

// Compares an instant in whole seconds with one in nanoseconds without overflowing.
bool at_or_before(date::sys_seconds a, int64_t b_ns) {
  const auto a_ns = detail::to_ns(a);
  if (!a_ns) return a.time_since_epoch().count() < 0;
  return *a_ns <= b_ns;
}

std::optional<date::local_days> containing_period_day(const WindowSpec& spec, int64_t t_ns) {
  const date::local_days today = detail::local_date(spec.zone, detail::floor_seconds(t_ns));
  for (date::local_days day = today - date::days{2}; day <= today + date::days{1}; day += date::days{1}) {
    const Period p = period_starting(spec, day);
    if (!p.empty() && at_or_before(p.open, t_ns) && !at_or_before(p.close, t_ns)) return day;
  }
  return std::nullopt;
}

}  // namespace

DailyWindow::DailyWindow(std::shared_ptr<const WindowSpec> spec) : spec_(std::move(spec)) {}

DailyWindow DailyWindow::parse(const std::string& text, const std::string& time_zone) {
  const std::string context = "window " + quoted(text) + ": ";
  auto spec = std::make_shared<WindowSpec>();
  spec->text = text;
  const auto words = detail::split_whitespace(text);
  const size_t dash = words.size() == 1 ? words[0].find('-') : std::string::npos;
  if (dash == std::string::npos) throw ScheduleError(context + "expected HH:MM-HH:MM, e.g. \"22:00-06:00\"");
  spec->start_minute = detail::parse_clock(words[0].substr(0, dash), false, context);
  spec->end_minute = detail::parse_clock(words[0].substr(dash + 1), true, context);
  if (spec->end_minute == 0) spec->end_minute = 24 * 60;  // "22:00-00:00" ends at midnight
  if (spec->start_minute == spec->end_minute % (24 * 60) && spec->end_minute != 24 * 60) {
    throw ScheduleError(context + "starts and ends at the same time; use \"00:00-24:00\" for always open");
  }
  spec->always = spec->start_minute == 0 && spec->end_minute == 24 * 60;
  spec->zone = detail::resolve_zone(time_zone, context);
  spec->zone_name = std::string(spec->zone->name());
  return DailyWindow(std::move(spec));
}

bool DailyWindow::contains(int64_t t_ns) const {
  return spec_->always || containing_period_day(*spec_, t_ns).has_value();
}

std::optional<int64_t> DailyWindow::closes_after(int64_t t_ns) const {
  if (spec_->always) return std::numeric_limits<int64_t>::max();
  auto day = containing_period_day(*spec_, t_ns);
  if (!day) return std::nullopt;
  Period current = period_starting(*spec_, *day);
  // "18:00-24:00"-style windows never meet the next night's, but a fall-back night can make periods touch.
  for (int i = 0; i < kMaxDaysAhead; ++i) {
    const Period next = period_starting(*spec_, *day + date::days{i + 1});
    if (next.empty() || next.open > current.close) break;
    current.close = std::max(current.close, next.close);
  }
  auto ns = detail::to_ns(current.close);
  return ns ? *ns : std::numeric_limits<int64_t>::max();
}

std::optional<int64_t> DailyWindow::next_open(int64_t t_ns) const {
  if (contains(t_ns)) return t_ns;
  const date::local_days today = detail::local_date(spec_->zone, detail::floor_seconds(t_ns));
  for (int i = -1; i <= kMaxDaysAhead; ++i) {
    const Period p = period_starting(*spec_, today + date::days{i});
    if (p.empty() || at_or_before(p.open, t_ns)) continue;
    return detail::to_ns(p.open);
  }
  return std::nullopt;
}

bool DailyWindow::always_open() const {
  return spec_->always;
}
const std::string& DailyWindow::text() const {
  return spec_->text;
}
const std::string& DailyWindow::time_zone() const {
  return spec_->zone_name;
}

std::string DailyWindow::describe() const {
  if (spec_->always) return "always open, " + spec_->zone_name;
  const bool crosses = spec_->end_minute <= spec_->start_minute;
  const std::string end = spec_->end_minute == 24 * 60 ? "midnight" : detail::format_clock(spec_->end_minute);
  return detail::format_clock(spec_->start_minute) + " to " + end + (crosses ? " the next day" : "") + ", " +
         spec_->zone_name;
}

}  // namespace sbx::scheduler
