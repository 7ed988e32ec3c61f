// The webhook channel: one HTTP POST per alert through libcurl.
#include <curl/curl.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>

#include "internal.hpp"

namespace sbx::alerts::detail {
namespace {

constexpr size_t kKeptBody = 200;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t keep_body_start(char* data, size_t size, size_t count, void* user) {
  auto* kept = static_cast<std::string*>(user);
  size_t bytes = size * count;
  if (kept->size() < kKeptBody) kept->append(data, std::min(bytes, kKeptBody - kept->size()));
  return bytes;
}

struct UrlParts {
  std::string scheme, host, port;
};

std::optional<UrlParts> split_url(const std::string& url) {
  global_init();
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), &curl_url_cleanup);
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
  auto part = [&](CURLUPart which) -> std::optional<std::string> {
    char* value = nullptr;
    if (curl_url_get(handle.get(), which, &value, 0) != CURLUE_OK || !value) return std::nullopt;
    std::string text = value;
    curl_free(value);
    return text;
  };
  auto scheme = part(CURLUPART_SCHEME);
  auto host = part(CURLUPART_HOST);
  if (!scheme || !host || host->empty() || (*scheme != "http" && *scheme != "https")) return std::nullopt;
  return UrlParts{*scheme, *host, part(CURLUPART_PORT).value_or("")};
}

}  // namespace

std::string url_origin(const std::string& url) {
  // curl_url accepts a URL without a scheme by guessing one; an admin's "127.0.0.1:8080/hook" is refused
  // instead.
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) return "";
  auto parts = split_url(url);
  if (!parts) return "";
  return parts->scheme + "://" + parts->host + (parts->port.empty() ? "" : ":" + parts->port);
}

std::string post_json(const std::string& url, const std::string& body, int timeout_ms) {
  global_init();
  const std::string origin = url_origin(url);
  const std::string name = "webhook " + (origin.empty() ? std::string("(invalid URL)") : origin);
  if (origin.empty()) return name + ": not an http:// or https:// URL";
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return name + ": libcurl could not make a handle";
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(
      curl_slist_append(nullptr, "Content-Type: application/json"), &curl_slist_free_all);
  char error_buffer[CURL_ERROR_SIZE] = "";
  std::string answer;
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // the server is multi-threaded; no SIGALRM-based DNS timeouts
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, long(timeout_ms));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, long(timeout_ms));
  // A proxy from the environment cannot reach this machine's loopback for us.
  curl_easy_setopt(h, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
  curl_easy_setopt(h, CURLOPT_USERAGENT, "strongbox-alerts");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &keep_body_start);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    std::string detail = error_buffer[0] ? error_buffer : curl_easy_strerror(rc);
    return name + ": " + one_line(detail, 300);
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) return "";
  std::string message = name + " answered HTTP " + std::to_string(status);
  if (status >= 300 && status < 400) message += " (redirects are not followed)";
  std::string detail = one_line(answer, kKeptBody);
  if (!detail.empty()) message += ": " + detail;
  return message;
}

std::string iso_time(int64_t ns) {
  time_t secs = time_t(ns / 1000000000);
  if (ns < 0 && ns % 1000000000 != 0) --secs;
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[40];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string one_line(const std::string& text, size_t max_bytes) {
  std::string line;
  for (char c : text) {
    if (line.size() >= max_bytes) break;
    line += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

}  // namespace sbx::alerts::detail
