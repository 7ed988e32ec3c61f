// Readable names for ABI values, PluginError and PluginInfo as JSON.
#include <string>
#include <vector>

#include "internal.hpp"

namespace sbx::plugins {

PluginError::PluginError(sbx_status status, std::string msg)
    : std::runtime_error(std::move(msg)), status_(status) {}

std::string status_name(sbx_status status) {
  switch (status) {
    case SBX_OK:
      return "success";
    case SBX_SKIP:
      return "skipped (unchanged)";
    case SBX_END:
      return "end of stream";
    case SBX_TIMEOUT:
      return "timed out";
    case SBX_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case SBX_ERR_IO:
      return "I/O error";
    case SBX_ERR_NOT_FOUND:
      return "not found";
    case SBX_ERR_CORRUPT:
      return "data corrupt";
    case SBX_ERR_UNSUPPORTED:
      return "not supported";
    case SBX_ERR_NO_SPACE:
      return "no space left";
    case SBX_ERR_PERMISSION:
      return "permission denied";
    case SBX_ERR_CANCELLED:
      return "cancelled";
    case SBX_ERR_CRYPTO:
      return "cryptographic failure";
    case SBX_ERR_CLOSED:
      return "connection closed";
    case SBX_ERR_OFFLINE:
      return "device offline";
    case SBX_ERR_INTERNAL:
      return "internal error";
  }
  // A plugin may return any integer; the switch covers only the ones ABI 1.0 names.
  return "unknown status " + std::to_string(static_cast<int>(status));
}

std::vector<std::string> capability_names(uint64_t caps) {
  static const char* const kNames[] = {"dedup",      "random-access", "removable",   "append-only",
                                       "shareable",  "offhost",       "incremental", "encryption",
                                       "file-based", "restore",       "delete",      "listen"};
  static_assert(std::size(kNames) == 12 &&
                detail::kKnownCapabilities == (UINT64_C(1) << std::size(kNames)) - 1);
  std::vector<std::string> names;
  for (unsigned bit = 0; bit < 64; ++bit) {
    if (!(caps & (UINT64_C(1) << bit))) continue;
    names.push_back(bit < std::size(kNames) ? kNames[bit] : "bit-" + std::to_string(bit));
  }
  return names;
}

std::string kind_name(uint32_t kind) {
  switch (kind) {
    case SBX_KIND_STORAGE:
      return "storage";
    case SBX_KIND_AGENT:
      return "agent";
    case SBX_KIND_TRANSPORT:
      return "transport";
    case SBX_KIND_TAPE:
      return "tape";
    default:
      return "unknown kind " + std::to_string(kind);
  }
}

void to_json(nlohmann::json& out, const PluginInfo& info) {
  out = nlohmann::json{{"name", info.name},
                       {"version", info.version},
                       {"kind", info.kind},
                       {"abi", std::to_string(info.abi_major) + "." + std::to_string(info.min_host_minor)},
                       {"capabilities", capability_names(info.capabilities)},
                       {"file", info.file},
                       {"description", info.description}};
}

nlohmann::json to_json(const PluginInfo& info) {
  nlohmann::json out;
  to_json(out, info);
  return out;
}

}  // namespace sbx::plugins
