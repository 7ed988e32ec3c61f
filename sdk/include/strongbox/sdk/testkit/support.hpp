// strongbox SDK test kit: small helpers shared by the conformance suites and plugin tests. Header-only.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../sbx_plugin.h"

namespace sbx::testkit {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view tag = "sbx-testkit") {
    std::string pattern = (std::filesystem::temp_directory_path() / (std::string(tag) + "-XXXXXX")).string();
    if (!mkdtemp(pattern.data()))
      throw std::runtime_error("cannot create temp directory " + pattern + ": " + std::strerror(errno));
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (kept_) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  // Leaves the directory in place on destruction, for a person to inspect after a test.
  void keep() { kept_ = true; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
  bool kept_ = false;
};

// Deterministic pseudo-random bytes: byte `offset` of stream `seed`. Lets a receiver check content
// without keeping a copy of what was sent, and catches reordered, duplicated or dropped runs.
inline uint8_t pattern_byte(uint64_t seed, uint64_t offset) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + (offset >> 3) + 1;
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return static_cast<uint8_t>(x >> ((offset & 7) * 8));
}

inline void fill_pattern(uint64_t seed, uint64_t offset, uint8_t* out, size_t len) {
  for (size_t i = 0; i < len; ++i) out[i] = pattern_byte(seed, offset + i);
}

inline std::string pattern_string(uint64_t seed, size_t len) {
  std::string s(len, '\0');
  fill_pattern(seed, 0, reinterpret_cast<uint8_t*>(s.data()), len);
  return s;
}

// Index of the first byte of `data` that differs from the pattern at `offset`, or data.size().
inline size_t first_pattern_mismatch(uint64_t seed, uint64_t offset, std::string_view data) {
  for (size_t i = 0; i < data.size(); ++i)
    if (static_cast<uint8_t>(data[i]) != pattern_byte(seed, offset + i)) return i;
  return data.size();
}

// Bytes as C-escaped text, for assertion messages about raw paths.
inline std::string printable(std::string_view bytes) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

inline const char* status_name(sbx_status s) {
  switch (s) {
    case SBX_OK:
      return "SBX_OK";
    case SBX_SKIP:
      return "SBX_SKIP";
    case SBX_END:
      return "SBX_END";
    case SBX_TIMEOUT:
      return "SBX_TIMEOUT";
    case SBX_ERR_INVALID_ARGUMENT:
      return "SBX_ERR_INVALID_ARGUMENT";
    case SBX_ERR_IO:
      return "SBX_ERR_IO";
    case SBX_ERR_NOT_FOUND:
      return "SBX_ERR_NOT_FOUND";
    case SBX_ERR_CORRUPT:
      return "SBX_ERR_CORRUPT";
    case SBX_ERR_UNSUPPORTED:
      return "SBX_ERR_UNSUPPORTED";
    case SBX_ERR_NO_SPACE:
      return "SBX_ERR_NO_SPACE";
    case SBX_ERR_PERMISSION:
      return "SBX_ERR_PERMISSION";
    case SBX_ERR_CANCELLED:
      return "SBX_ERR_CANCELLED";
    case SBX_ERR_CRYPTO:
      return "SBX_ERR_CRYPTO";
    case SBX_ERR_CLOSED:
      return "SBX_ERR_CLOSED";
    case SBX_ERR_OFFLINE:
      return "SBX_ERR_OFFLINE";
    case SBX_ERR_INTERNAL:
      return "SBX_ERR_INTERNAL";
  }
  return "unknown sbx_status";
}

// Capability bits that mean something for each kind; any other bit set is a plugin bug.
inline uint64_t capabilities_allowed(uint32_t kind) {
  switch (kind) {
    case SBX_KIND_STORAGE:
    case SBX_KIND_TAPE:
      return SBX_CAP_DEDUP | SBX_CAP_RANDOM_ACCESS | SBX_CAP_REMOVABLE | SBX_CAP_APPEND_ONLY |
             SBX_CAP_SHAREABLE | SBX_CAP_ENCRYPTION | SBX_CAP_DELETE;
    case SBX_KIND_AGENT:
      return SBX_CAP_OFFHOST | SBX_CAP_INCREMENTAL | SBX_CAP_FILE_BASED | SBX_CAP_RESTORE;
    case SBX_KIND_TRANSPORT:
      return SBX_CAP_ENCRYPTION | SBX_CAP_LISTEN;
  }
  return 0;
}

namespace detail {
template <class Callback>
void need(std::vector<std::string>& problems, Callback callback, const char* name) {
  if (!callback) problems.push_back(std::string("required callback ") + name + " is NULL");
}
template <class Callback>
void need_for(std::vector<std::string>& problems, bool capable, Callback callback, const char* name,
              const char* capability) {
  if (capable && !callback) problems.push_back(std::string(capability) + " is set but " + name + " is NULL");
}
inline bool valid_plugin_name(const char* name) {
  size_t len = std::strlen(name);
  if (len == 0 || len > 64) return false;
  for (size_t i = 0; i < len; ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '-' || c == '_'));
    if (!ok) return false;
  }
  return true;
}
inline bool one_printable_line(const char* text) {
  if (!text || !*text) return false;
  for (const char* p = text; *p; ++p)
    if (static_cast<unsigned char>(*p) < 0x20) return false;
  return true;
}
}  // namespace detail

// Everything wrong with a descriptor that claims to be of `expected_kind`, one line each; empty when sane.
// Reads the vtable only after the descriptor's own size checks pass.
inline std::vector<std::string> descriptor_problems(const sbx_plugin_descriptor& d,
                                                    sbx_plugin_kind expected_kind) {
  std::vector<std::string> problems;
  if (d.struct_size < sizeof(sbx_plugin_descriptor)) {
    problems.push_back("descriptor struct_size is " + std::to_string(d.struct_size) + ", wanted at least " +
                       std::to_string(sizeof(sbx_plugin_descriptor)));
    return problems;
  }
  if (d.abi_major != SBX_ABI_MAJOR)
    problems.push_back("abi_major is " + std::to_string(d.abi_major) + ", wanted " +
                       std::to_string(SBX_ABI_MAJOR));
  if (d.min_host_minor > SBX_ABI_MINOR)
    problems.push_back("min_host_minor " + std::to_string(d.min_host_minor) +
                       " is newer than this host's minor " + std::to_string(SBX_ABI_MINOR));
  if (d.kind != static_cast<uint32_t>(expected_kind))
    problems.push_back("kind is " + std::to_string(d.kind) + ", wanted " + std::to_string(expected_kind));
  if (!d.name || !detail::valid_plugin_name(d.name))
    problems.push_back("name must be 1-64 characters of [a-z0-9_-] starting with a letter or digit, got '" +
                       std::string(d.name ? d.name : "(null)") + "'");
  if (!detail::one_printable_line(d.version) || !(d.version[0] >= '0' && d.version[0] <= '9'))
    problems.push_back("version must be one line starting with a digit (e.g. 1.0.0), got '" +
                       std::string(d.version ? d.version : "(null)") + "'");
  if (!detail::one_printable_line(d.description))
    problems.push_back("description must be one non-empty line");
  uint64_t unknown = d.capabilities & ~capabilities_allowed(d.kind);
  if (unknown)
    problems.push_back("capability bits 0x" +
                       [&] {
                         char buf[32];
                         std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(unknown));
                         return std::string(buf);
                       }() +
                       " mean nothing for kind " + std::to_string(d.kind));
  if (!d.vtable) {
    problems.push_back("vtable is NULL");
    return problems;
  }
  const uint64_t caps = d.capabilities;
  switch (d.kind) {
    case SBX_KIND_STORAGE: {
      auto* vt = static_cast<const sbx_storage_vtable*>(d.vtable);
      if (vt->struct_size < sizeof(sbx_storage_vtable)) {
        problems.push_back("storage vtable struct_size is " + std::to_string(vt->struct_size) +
                           ", wanted at least " + std::to_string(sizeof(sbx_storage_vtable)));
        break;
      }
      detail::need(problems, vt->open, "open");
      detail::need(problems, vt->close, "close");
      detail::need(problems, vt->info, "info");
      detail::need(problems, vt->begin_set, "begin_set");
      detail::need(problems, vt->write_entry, "write_entry");
      detail::need(problems, vt->write_data, "write_data");
      detail::need(problems, vt->end_entry, "end_entry");
      detail::need(problems, vt->commit_set, "commit_set");
      detail::need(problems, vt->abort_set, "abort_set");
      detail::need(problems, vt->open_set, "open_set");
      detail::need(problems, vt->read_entries, "read_entries");
      detail::need(problems, vt->close_reader, "close_reader");
      detail::need(problems, vt->list_sets, "list_sets");
      detail::need_for(problems, caps & SBX_CAP_DELETE, vt->delete_set, "delete_set", "SBX_CAP_DELETE");
      if ((caps & SBX_CAP_DELETE) && (caps & SBX_CAP_APPEND_ONLY))
        problems.push_back("SBX_CAP_APPEND_ONLY (cannot delete single sets) contradicts SBX_CAP_DELETE");
      break;
    }
    case SBX_KIND_AGENT: {
      auto* vt = static_cast<const sbx_agent_vtable*>(d.vtable);
      if (vt->struct_size < sizeof(sbx_agent_vtable)) {
        problems.push_back("agent vtable struct_size is " + std::to_string(vt->struct_size) +
                           ", wanted at least " + std::to_string(sizeof(sbx_agent_vtable)));
        break;
      }
      detail::need(problems, vt->open, "open");
      detail::need(problems, vt->close, "close");
      detail::need(problems, vt->backup, "backup");
      const bool restore = caps & SBX_CAP_RESTORE;
      detail::need_for(problems, restore, vt->begin_restore, "begin_restore", "SBX_CAP_RESTORE");
      detail::need_for(problems, restore, vt->restore_entry, "restore_entry", "SBX_CAP_RESTORE");
      detail::need_for(problems, restore, vt->restore_data, "restore_data", "SBX_CAP_RESTORE");
      detail::need_for(problems, restore, vt->restore_entry_end, "restore_entry_end", "SBX_CAP_RESTORE");
      detail::need_for(problems, restore, vt->finish_restore, "finish_restore", "SBX_CAP_RESTORE");
      detail::need_for(problems, restore, vt->abort_restore, "abort_restore", "SBX_CAP_RESTORE");
      break;
    }
    case SBX_KIND_TRANSPORT: {
      auto* vt = static_cast<const sbx_transport_vtable*>(d.vtable);
      if (vt->struct_size < sizeof(sbx_transport_vtable)) {
        problems.push_back("transport vtable struct_size is " + std::to_string(vt->struct_size) +
                           ", wanted at least " + std::to_string(sizeof(sbx_transport_vtable)));
        break;
      }
      detail::need(problems, vt->open, "open");
      detail::need(problems, vt->close, "close");
      detail::need(problems, vt->connect, "connect");
      detail::need(problems, vt->send, "send");
      detail::need(problems, vt->recv, "recv");
      detail::need(problems, vt->shutdown, "shutdown");
      detail::need(problems, vt->close_connection, "close_connection");
      const bool listen = caps & SBX_CAP_LISTEN;
      detail::need_for(problems, listen, vt->listen, "listen", "SBX_CAP_LISTEN");
      detail::need_for(problems, listen, vt->accept, "accept", "SBX_CAP_LISTEN");
      detail::need_for(problems, listen, vt->close_listener, "close_listener", "SBX_CAP_LISTEN");
      break;
    }
    default:
      break;
  }
  return problems;
}

}  // namespace sbx::testkit
