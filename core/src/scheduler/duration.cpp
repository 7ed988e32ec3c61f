// Durations such as "1h30m": units at most once each, largest first, so every duration has one spelling.
#include <array>
#include <string_view>

#include "internal.hpp"

namespace sbx::scheduler {
namespace {

struct Unit {
  std::string_view name;
  int64_t ns;
};

constexpr std::array<Unit, 8> kUnits = {{
    {"w", 7 * 86'400'000'000'000},
    {"d", 86'400'000'000'000},
    {"h", 3'600'000'000'000},
    {"m", 60'000'000'000},
    {"s", 1'000'000'000},
    {"ms", 1'000'000},
    {"us", 1'000},
    {"ns", 1},
}};

}  // namespace

int64_t parse_duration(const std::string& text) {
  const std::string context = "duration " + detail::quoted(text) + ": ";
  if (text.empty()) throw ScheduleError("duration \"\" is empty; expected e.g. \"90m\" or \"1h30m\"");
  if (text[0] == '-') throw ScheduleError(context + "must not be negative");
  int64_t total = 0;
  size_t next_unit = 0;  // units must come in kUnits order
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t digits_begin = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == digits_begin) {
      throw ScheduleError(context + "expected a number at " + detail::quoted(text.substr(digits_begin)));
    }
    const std::string number = text.substr(digits_begin, pos - digits_begin);
    const size_t unit_begin = pos;
    while (pos < text.size() && text[pos] >= 'a' && text[pos] <= 'z') ++pos;
    const std::string unit = text.substr(unit_begin, pos - unit_begin);
    if (unit.empty()) {
      throw ScheduleError(context + "number " + number + " has no unit (use w, d, h, m, s, ms, us or ns)");
    }
    size_t index = 0;
    while (index < kUnits.size() && kUnits[index].name != unit) ++index;
    if (index == kUnits.size()) {
      throw ScheduleError(context + "unknown unit " + detail::quoted(unit) +
                          " (use w, d, h, m, s, ms, us or ns)");
    }
    if (index < next_unit) {
      throw ScheduleError(context + "unit " + detail::quoted(unit) +
                          " is repeated or out of order (write e.g. 1h30m)");
    }
    next_unit = index + 1;
    int64_t value = 0;
    for (char c : number) {
      if (__builtin_mul_overflow(value, int64_t{10}, &value) ||
          __builtin_add_overflow(value, c - '0', &value)) {
        throw ScheduleError(context + "is too long (the limit is about 292 years)");
      }
    }
    int64_t part = 0;
    if (__builtin_mul_overflow(value, kUnits[index].ns, &part) ||
        __builtin_add_overflow(total, part, &total)) {
      throw ScheduleError(context + "is too long (the limit is about 292 years)");
    }
  }
  return total;
}

std::string format_duration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string out = ns < 0 ? "-" : "";
  // Negating INT64_MIN overflows; the unsigned magnitude does not.
  uint64_t rest = ns < 0 ? uint64_t{0} - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  for (const Unit& unit : kUnits) {
    const uint64_t count = rest / static_cast<uint64_t>(unit.ns);
    if (count == 0) continue;
    out += std::to_string(count);
    out += unit.name;
    rest %= static_cast<uint64_t>(unit.ns);
  }
  return out;
}

}  // namespace sbx::scheduler
