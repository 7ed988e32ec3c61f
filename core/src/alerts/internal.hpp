// The delivery channels behind sbx::alerts::Deliverer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sbx::alerts::detail {

// Runs argv (no shell) with `input` on stdin and `extra_env` ("K=V") added to the environment; kills its
// process group after timeout_ms. Returns "" when it exited with status 0, else one line saying what
// happened.
std::string run_command(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                        const std::string& input, int timeout_ms);

// POSTs body as application/json; returns "" on a 2xx answer, else one line saying what happened.
std::string post_json(const std::string& url, const std::string& body, int timeout_ms);

// scheme://host[:port] of an http(s) URL, without user info, path or query (which may hold tokens), for
// messages and logs; "" when url is not an absolute http(s) URL with a host.
std::string url_origin(const std::string& url);

// "2026-11-22T10:00:00Z"
std::string iso_time(int64_t ns);

// Text on one line: control characters (newlines included) become spaces, and at most max_bytes are kept.
std::string one_line(const std::string& text, size_t max_bytes);

}  // namespace sbx::alerts::detail
