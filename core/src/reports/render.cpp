// The three renderings of a report table. Text is for people (sizes and durations made readable, long cells
// cut); JSON lines and CSV are for programs and keep every value exactly.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <strongbox/reports.hpp>

namespace sbx::reports {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxTextCell = 48;  // code points; the last column is never cut

template <typename AnyJson>
std::string dump(const AnyJson& value) {
  return value.dump(-1, ' ', false, AnyJson::error_handler_t::replace);
}

// A value as plain text: strings unquoted, arrays as their items joined by ", ", null as `null_text`.
std::string plain(const Json& value, const std::string& null_text) {
  if (value.is_null()) return null_text;
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    std::string joined;
    for (const auto& item : value) joined += (joined.empty() ? "" : ", ") + plain(item, null_text);
    return joined;
  }
  return dump(value);
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 6) {
    bytes /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return buf;
}

// 0.25 -> "0.3s", 75 -> "1m15s", 93784 -> "1d2h3m" (seconds dropped past a day: reports look at days and
// hours).
std::string human_seconds(double seconds) {
  if (seconds < 0) return "-" + human_seconds(-seconds);
  if (seconds < 60) {
    char buf[32];
    std::snprintf(buf, sizeof buf, seconds < 10 ? "%.1fs" : "%.0fs", seconds);
    return buf;
  }
  auto total = int64_t(std::llround(seconds));
  int64_t days = total / 86400, hours = total / 3600 % 24, minutes = total / 60 % 60, secs = total % 60;
  std::string text;
  if (days) text += std::to_string(days) + "d";
  if (hours) text += std::to_string(hours) + "h";
  if (minutes) text += std::to_string(minutes) + "m";
  if (secs && !days) text += std::to_string(secs) + "s";
  return text;
}

// Column naming conventions of the reports: "bytes" / "*_bytes" are sizes, "*_s" are seconds.
std::string text_cell(const std::string& column, const Json& value) {
  if (value.is_number() && (column == "bytes" || ends_with(column, "_bytes")))
    return human_bytes(value.get<double>());
  if (value.is_number() && ends_with(column, "_s")) return human_seconds(value.get<double>());
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  std::string text = plain(value, "-");
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return text.empty() ? "-" : text;
}

size_t code_points(const std::string& text) {
  return size_t(std::count_if(text.begin(), text.end(),
                              [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string cut(const std::string& text, size_t max_points) {
  if (code_points(text) <= max_points) return text;
  size_t points = 0, at = 0;
  for (; at < text.size(); ++at) {
    if ((static_cast<unsigned char>(text[at]) & 0xC0) != 0x80 && points++ == max_points - 3) break;
  }
  return text.substr(0, at) + "...";
}

// "age_s" -> "AGE": the unit shows in the cells.
std::string header_text(std::string column) {
  if (ends_with(column, "_s")) column.resize(column.size() - 2);
  for (char& c : column) c = char(std::toupper(static_cast<unsigned char>(c)));
  return column;
}

std::string csv_field(const Json& value) {
  std::string text = plain(value, "");
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

std::string format_time(int64_t ns) {
  if (ns == 0) return "";
  int64_t secs = ns / 1000000000;
  if (ns < 0 && ns % 1000000000 != 0) --secs;
  time_t t = time_t(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string render_text(const Table& table) {
  const size_t n = table.columns.size();
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths(n);
  std::vector<std::string> header;
  for (const auto& column : table.columns) header.push_back(header_text(column));
  for (size_t c = 0; c < n; ++c) widths[c] = code_points(header[c]);
  for (const auto& row : table.rows) {
    std::vector<std::string> line(n);
    for (size_t c = 0; c < n && c < row.size(); ++c) {
      line[c] = text_cell(table.columns[c], row[c]);
      if (c + 1 < n) line[c] = cut(line[c], kMaxTextCell);
      widths[c] = std::max(widths[c], code_points(line[c]));
    }
    cells.push_back(std::move(line));
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& line) {
    std::string text;
    for (size_t c = 0; c < n; ++c) {
      text += line[c];
      if (c + 1 < n) text += std::string(widths[c] - code_points(line[c]) + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  emit(header);
  for (const auto& line : cells) emit(line);
  if (!table.summary.empty()) {
    out += "\n";
    for (const auto& [key, value] : table.summary.items())
      out += key + ": " + text_cell(key, Json(value)) + "\n";
  }
  return out;
}

std::string render_json(const Table& table) {
  std::string out;
  for (const auto& row : table.rows) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (size_t c = 0; c < table.columns.size() && c < row.size(); ++c) object[table.columns[c]] = row[c];
    out += dump(object) + "\n";
  }
  nlohmann::ordered_json summary = nlohmann::ordered_json::object();
  summary["type"] = "summary";
  summary["report"] = table.title;
  if (table.summary.is_object()) summary.update(table.summary);
  out += dump(summary) + "\n";
  return out;
}

std::string render_csv(const Table& table) {
  std::string out;
  auto emit = [&](const std::vector<Json>& values) {
    for (size_t c = 0; c < values.size(); ++c) out += (c ? "," : "") + csv_field(values[c]);
    out += "\r\n";
  };
  emit(std::vector<Json>(table.columns.begin(), table.columns.end()));
  for (const auto& row : table.rows) emit(row);
  return out;
}

}  // namespace sbx::reports
