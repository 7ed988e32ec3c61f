#include "output.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

namespace sbx::cli {

void print_json(const nlohmann::json& object) {
  std::cout << object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = double(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return buf;
}

static bool progress_wanted(const OutputOptions& options) {
  return !options.quiet && !options.json && isatty(STDERR_FILENO);
}

service::ProgressFn terminal_progress(const OutputOptions& options) {
  if (!progress_wanted(options)) return {};
  auto start = std::chrono::steady_clock::now();
  return [start](const service::ProgressInfo& info) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double rate = secs > 0 ? double(info.bytes) / secs : 0;
    struct winsize ws {};
    size_t width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 80;
    std::string line = info.phase + ": " + std::to_string(info.files) + " files, " + human_bytes(info.bytes) + ", " +
                       human_bytes(uint64_t(rate)) + "/s  " + service::printable(info.current);
    for (char& c : line)
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (line.size() > width - 1) line.resize(width - 1);
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
  };
}

void end_progress(const OutputOptions& options) {
  if (progress_wanted(options)) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

}  // namespace sbx::cli
