#include <algorithm>
#include <cctype>
#include <limits>

#include "internal.hpp"

namespace sbx::scheduler::detail {

const date::time_zone* resolve_zone(const std::string& name, const std::string& context) {
  if (name.empty()) {
    try {
      return date::current_zone();
    } catch (const std::exception& e) {
      throw ScheduleError(context + "cannot determine the machine's time zone (" + e.what() +
                          "); name one, e.g. \"Europe/Berlin\"");
    }
  }
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    throw ScheduleError(context + "unknown time zone " + quoted(name));
  }
}

std::string to_lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::vector<std::string> split_whitespace(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::string quoted(const std::string& text) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Error messages stay one readable line even when someone pastes a megabyte.
  constexpr size_t kShown = 100;
  std::string out = "\"";
  for (unsigned char c : text.substr(0, kShown)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kShown) return out + "...\" (" + std::to_string(text.size()) + " bytes)";
  return out + "\"";
}

std::optional<int> parse_small_number(const std::string& token) {
  if (token.empty() || token.size() > 9) return std::nullopt;
  int value = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

int parse_clock(const std::string& token, bool allow_24, const std::string& context) {
  const auto colon = token.find(':');
  const std::string hour_text = token.substr(0, colon);
  const std::string minute_text = colon == std::string::npos ? "" : token.substr(colon + 1);
  if (colon == std::string::npos || hour_text.empty() || hour_text.size() > 2 || minute_text.size() != 2 ||
      !std::all_of(hour_text.begin(), hour_text.end(), ::isdigit) ||
      !std::all_of(minute_text.begin(), minute_text.end(), ::isdigit)) {
    throw ScheduleError(context + "time " + quoted(token) + " is not HH:MM");
  }
  const int hour = std::stoi(hour_text);
  const int minute = std::stoi(minute_text);
  if (allow_24 && hour == 24 && minute == 0) return 24 * 60;
  if (hour > 23) {
    throw ScheduleError(context + "hour " + std::to_string(hour) + " is out of range 0-" +
                        (allow_24 ? "24" : "23"));
  }
  if (minute > 59)
    throw ScheduleError(context + "minute " + std::to_string(minute) + " is out of range 0-59");
  return hour * 60 + minute;
}

std::string format_clock(int minute_of_day) {
  const int hour = minute_of_day / 60;
  const int minute = minute_of_day % 60;
  return std::string{static_cast<char>('0' + hour / 10), static_cast<char>('0' + hour % 10), ':',
                     static_cast<char>('0' + minute / 10), static_cast<char>('0' + minute % 10)};
}

date::sys_seconds floor_seconds(int64_t ns) {
  int64_t seconds = ns / 1'000'000'000;
  if (ns % 1'000'000'000 < 0) --seconds;
  return date::sys_seconds{std::chrono::seconds{seconds}};
}

std::optional<int64_t> to_ns(date::sys_seconds t) {
  int64_t ns = 0;
  if (__builtin_mul_overflow(static_cast<int64_t>(t.time_since_epoch().count()), int64_t{1'000'000'000},
                             &ns)) {
    return std::nullopt;
  }
  return ns;
}

date::local_days local_date(const date::time_zone* zone, date::sys_seconds t) {
  return date::floor<date::days>(zone->to_local(t));
}

LocalResolution resolve_local(const date::time_zone* zone, date::local_seconds local) {
  const date::local_info info = zone->get_info(local);
  const auto as_sys = [&](std::chrono::seconds offset) {
    return date::sys_seconds{local.time_since_epoch() - offset};
  };
  switch (info.result) {
    case date::local_info::nonexistent:
      return {LocalResolution::kGap, info.first.end, info.first.end};
    case date::local_info::ambiguous:
      return {LocalResolution::kRepeated, as_sys(info.first.offset), as_sys(info.second.offset)};
    default:
      return {LocalResolution::kUnique, as_sys(info.first.offset), as_sys(info.first.offset)};
  }
}

}  // namespace sbx::scheduler::detail
