#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <strongbox/clock.hpp>

namespace sbx::clock {
namespace {

const char* clock_file() {
  const char* file = std::getenv("STRONGBOX_CLOCK_FILE");
  return file && *file ? file : nullptr;
}

int64_t parse_clock_text(const std::string& text, const char* file) {
  std::string trimmed = text;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' ' || trimmed.back() == '\r'))
    trimmed.pop_back();
  if (!trimmed.empty() && trimmed.find_first_not_of("0123456789") == std::string::npos &&
      trimmed.size() <= 19)
    return std::stoll(trimmed);
  struct tm tm {};
  const char* rest = strptime(trimmed.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest || (std::strcmp(rest, "Z") != 0 && std::strcmp(rest, "") != 0))
    throw std::runtime_error(std::string("clock file ") + file + " holds '" + trimmed +
                             "', not nanoseconds or a UTC time like 2026-03-29T00:59:00Z");
  return int64_t(timegm(&tm)) * 1000000000;
}

}  // namespace

bool simulated() {
  return clock_file() != nullptr;
}

int64_t now_ns() {
  if (const char* file = clock_file()) {
    // Read with a few retries: the test rewrites the file (write temp, rename) while we poll.
    for (int attempt = 0;; ++attempt) {
      std::ifstream in(file);
      std::stringstream content;
      if (in) content << in.rdbuf();
      if (in && !content.str().empty()) return parse_clock_text(content.str(), file);
      if (attempt == 20) throw std::runtime_error(std::string("cannot read the clock file ") + file);
      struct timespec pause {
        0, 5000000
      };
      nanosleep(&pause, nullptr);
    }
  }
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sbx::clock
