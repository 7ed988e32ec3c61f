// The host API plugins call back into, and the helpers that turn a failed plugin call into PluginError.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "internal.hpp"

namespace sbx::plugins::detail {
namespace {

// Plugins may hand over any length; a message for an admin needs no more than this.
constexpr size_t kMaxErrorBytes = 4096;

// What the plugin reported through set_error during the current call on this thread.
thread_local std::string t_error;

void host_log(sbx_log_level level, sbx_str plugin, sbx_str message) noexcept {
  try {
    spdlog::level::level_enum spd_level = spdlog::level::info;
    switch (level) {
      case SBX_LOG_DEBUG:
        spd_level = spdlog::level::debug;
        break;
      case SBX_LOG_INFO:
        spd_level = spdlog::level::info;
        break;
      case SBX_LOG_WARN:
        spd_level = spdlog::level::warn;
        break;
      case SBX_LOG_ERROR:
        spd_level = spdlog::level::err;
        break;
    }
    const std::string_view name =
        plugin.data ? std::string_view(plugin.data, std::min<size_t>(plugin.len, 64)) : "";
    const std::string_view text =
        message.data ? std::string_view(message.data, std::min(message.len, kMaxErrorBytes)) : "";
    spdlog::log(spd_level, "{}: {}", name.empty() ? std::string("plugin") : printable(name, 64),
                printable(text));
  } catch (...) {
    // Logging must never throw into plugin code; a lost log line is the lesser harm.
  }
}

void host_set_error(sbx_str message) noexcept {
  try {
    if (!message.data) {
      t_error.clear();
      return;
    }
    t_error.assign(message.data, std::min(message.len, kMaxErrorBytes));
  } catch (...) {
    t_error.clear();
  }
}

const sbx_host_api kHostApi = {sizeof(sbx_host_api), SBX_ABI_MAJOR, SBX_ABI_MINOR, &host_log,
                               &host_set_error};

// Length of the valid UTF-8 sequence starting text[0] (a non-ASCII lead byte), or 0 if it is invalid.
size_t utf8_sequence_length(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // allowed range of the second byte
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;   // overlong
    if (lead == 0xed) high = 0x9f;  // UTF-16 surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;   // overlong
    if (lead == 0xf4) high = 0x8f;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  }
  return length;
}

}  // namespace

const sbx_host_api* host_api() {
  return &kHostApi;
}

ErrorSlotScope::ErrorSlotScope() noexcept : saved_(std::exchange(t_error, std::string())) {}
ErrorSlotScope::~ErrorSlotScope() {
  t_error = std::move(saved_);
}
std::string ErrorSlotScope::take() noexcept {
  return std::exchange(t_error, std::string());
}

std::string printable(std::string_view raw, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(raw.size(), max_bytes) + 3);
  size_t i = 0;
  while (i < raw.size()) {
    if (out.size() >= max_bytes) {
      out += "...";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(raw[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const size_t length = utf8_sequence_length(raw.substr(i))) {
        out.append(raw.substr(i, length));
        i += length;
        continue;
      }
    }
    char escaped[5];
    std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
    out += escaped;
    ++i;
  }
  return out;
}

std::string in_quotes(std::string_view raw) {
  return "'" + printable(raw, 256) + "'";
}

void fail(const LoadedPlugin& plugin, sbx_status status, std::string_view what, std::string_view detail) {
  throw PluginError(status, plugin.info.name + ": " + std::string(what) + ": " + printable(detail));
}

void check(const LoadedPlugin& plugin, std::string_view what, const CallResult& result) {
  if (result.status == SBX_OK) return;
  if (result.status > 0) {
    fail(plugin, SBX_ERR_INTERNAL, what,
         "returned unexpected status " + std::to_string(static_cast<int>(result.status)) + " (" +
             status_name(result.status) + ")" + (result.message.empty() ? "" : ": " + result.message));
  }
  fail(plugin, result.status, what, result.message.empty() ? status_name(result.status) : result.message);
}

std::string config_text(const LoadedPlugin& plugin, const nlohmann::json& config, std::string_view what) {
  // A device without settings still gets a JSON object, which is what every plugin parses.
  if (config.is_null()) return "{}";
  try {
    return config.dump();
  } catch (const nlohmann::json::exception& e) {
    fail(plugin, SBX_ERR_INVALID_ARGUMENT, what,
         std::string("cannot pass the configuration on: ") + e.what());
  }
}

void check_entry(const LoadedPlugin& plugin, std::string_view what, const sbx_entry& entry) {
  if (entry.struct_size < kEntryV1Size) {
    fail(plugin, SBX_ERR_INVALID_ARGUMENT, what,
         "the host passed an sbx_entry with struct_size " + std::to_string(entry.struct_size) +
             ", ABI 1.0 needs " + std::to_string(kEntryV1Size));
  }
}

}  // namespace sbx::plugins::detail
