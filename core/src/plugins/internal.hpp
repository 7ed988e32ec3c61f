// Plugin host internals shared by the loader and the per-kind adapters. Not installed.
#pragma once

#include <boost/dll/shared_library.hpp>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "strongbox/plugins.hpp"

// The end of the last field a struct had in ABI 1.0. A plugin's struct_size must reach at least this far;
// fields appended in later minors lie beyond it, so this stays right when the headers grow.
#define SBX_V1_END(type, last_field) \
  (offsetof(type, last_field) + sizeof(static_cast<type*>(nullptr)->last_field))

namespace sbx::plugins::detail {

inline constexpr size_t kDescriptorV1Size = SBX_V1_END(sbx_plugin_descriptor, vtable);
inline constexpr size_t kStorageVtableV1Size = SBX_V1_END(sbx_storage_vtable, list_sets);
inline constexpr size_t kAgentVtableV1Size = SBX_V1_END(sbx_agent_vtable, abort_restore);
inline constexpr size_t kTransportVtableV1Size = SBX_V1_END(sbx_transport_vtable, close_connection);
inline constexpr size_t kStorageVtableV1_1Size = SBX_V1_END(sbx_storage_vtable, verify_device);
inline constexpr size_t kDedupInfoV1Size = SBX_V1_END(sbx_dedup_info, packs);
inline constexpr size_t kGcStatsV1Size = SBX_V1_END(sbx_gc_stats, bytes_after);
inline constexpr size_t kVerifyStatsV1Size = SBX_V1_END(sbx_verify_stats, problems);
inline constexpr size_t kStorageInfoV1Size = SBX_V1_END(sbx_storage_info, online);
inline constexpr size_t kSetStatsV1Size = SBX_V1_END(sbx_set_stats, entries);
inline constexpr size_t kEntryV1Size = SBX_V1_END(sbx_entry, extent_count);
inline constexpr size_t kEntrySinkV1Size = SBX_V1_END(sbx_entry_sink, on_entry_error);
inline constexpr size_t kBackupSinkV1Size = SBX_V1_END(sbx_backup_sink, on_warning);

// Every capability bit ABI 1.0 defines.
inline constexpr uint64_t kKnownCapabilities = (UINT64_C(1) << 12) - 1;

struct LoadedPlugin {
  // Declared first so it is destroyed last: nothing of the plugin's code may outlive the mapping.
  boost::dll::shared_library library;
  PluginInfo info;
  uint32_t kind = 0;
  uint64_t capabilities = 0;
  // Host-side copies of the plugin's vtable (only the one of its kind is filled). Slots beyond the
  // plugin's own struct_size stay NULL, so a plugin built against an older minor is never read past its end.
  sbx_storage_vtable storage{};
  sbx_agent_vtable agent{};
  sbx_transport_vtable transport{};

  bool has(uint64_t capability) const { return (capabilities & capability) != 0; }
};

// Each handle owns one plugin object and closes it when the last C++ object using it goes away; holding
// the LoadedPlugin keeps the library mapped until then.
struct DeviceHandle {
  explicit DeviceHandle(std::shared_ptr<const LoadedPlugin> loaded) : plugin(std::move(loaded)) {}
  DeviceHandle(const DeviceHandle&) = delete;
  DeviceHandle& operator=(const DeviceHandle&) = delete;
  ~DeviceHandle();
  std::shared_ptr<const LoadedPlugin> plugin;
  sbx_storage_device* device = nullptr;
};

struct AgentHandle {
  explicit AgentHandle(std::shared_ptr<const LoadedPlugin> loaded) : plugin(std::move(loaded)) {}
  AgentHandle(const AgentHandle&) = delete;
  AgentHandle& operator=(const AgentHandle&) = delete;
  ~AgentHandle();
  std::shared_ptr<const LoadedPlugin> plugin;
  sbx_agent* agent = nullptr;
};

struct TransportHandle {
  explicit TransportHandle(std::shared_ptr<const LoadedPlugin> loaded) : plugin(std::move(loaded)) {}
  TransportHandle(const TransportHandle&) = delete;
  TransportHandle& operator=(const TransportHandle&) = delete;
  ~TransportHandle();
  std::shared_ptr<const LoadedPlugin> plugin;
  sbx_transport* transport = nullptr;
};

struct ListenerHandle {
  ListenerHandle(std::shared_ptr<TransportHandle> owner, std::string listen_address)
      : transport(std::move(owner)), address(std::move(listen_address)) {}
  ListenerHandle(const ListenerHandle&) = delete;
  ListenerHandle& operator=(const ListenerHandle&) = delete;
  ~ListenerHandle();
  std::shared_ptr<TransportHandle> transport;
  std::string address;
  sbx_listener* listener = nullptr;
};

// The host API every plugin receives; static lifetime, because plugins keep the pointer.
const sbx_host_api* host_api();

// Gives one plugin call an empty error slot on this thread and puts the previous contents back afterwards,
// so a plugin call made from inside a sink callback of another plugin call does not clobber its message.
class ErrorSlotScope {
 public:
  ErrorSlotScope() noexcept;
  ~ErrorSlotScope();
  ErrorSlotScope(const ErrorSlotScope&) = delete;
  ErrorSlotScope& operator=(const ErrorSlotScope&) = delete;
  std::string take() noexcept;  // what the plugin passed to set_error during the call, if anything

 private:
  std::string saved_;
};

struct CallResult {
  sbx_status status;
  std::string message;
};

template <class Call>
CallResult call_plugin(Call&& call) {
  ErrorSlotScope scope;
  const sbx_status status = call();
  return {status, scope.take()};
}

// For void plugin calls (close, abort): their stray messages must not reach an enclosing call.
template <class Call>
void call_plugin_void(Call&& call) noexcept {
  ErrorSlotScope scope;
  call();
}

// Throws PluginError "<plugin>: <what>: <detail>".
[[noreturn]] void fail(const LoadedPlugin& plugin, sbx_status status, std::string_view what,
                       std::string_view detail);
// Throws unless the call returned SBX_OK. A positive status nobody asked for is the plugin's bug and is
// reported as SBX_ERR_INTERNAL.
void check(const LoadedPlugin& plugin, std::string_view what, const CallResult& result);

// Text from plugins or paths made safe for one log line and JSON: valid UTF-8 kept, control characters and
// invalid bytes escaped as \xNN, cut at max_bytes.
std::string printable(std::string_view raw, size_t max_bytes = 1024);
std::string in_quotes(std::string_view raw);  // 'printable(raw)'

inline sbx_str to_str(std::string_view s) {
  return {s.data(), s.size()};
}
inline sbx_bytes to_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The configuration text handed to a plugin's open.
std::string config_text(const LoadedPlugin& plugin, const nlohmann::json& config, std::string_view what);

// Checks a struct the plugin filled: it must reach the ABI 1.0 fields; fields it does not know (beyond its
// struct_size) are zeroed; struct_size is then the host's.
template <class T>
T accept_filled(T filled, size_t v1_size, const LoadedPlugin& plugin, std::string_view what,
                std::string_view struct_name) {
  if (filled.struct_size < v1_size) {
    fail(plugin, SBX_ERR_INTERNAL, what,
         "filled a " + std::to_string(filled.struct_size) + "-byte " + std::string(struct_name) +
             ", ABI 1.0 has " + std::to_string(v1_size) + " bytes");
  }
  if (filled.struct_size < sizeof(T)) {
    std::memset(reinterpret_cast<unsigned char*>(&filled) + filled.struct_size, 0,
                sizeof(T) - filled.struct_size);
  }
  filled.struct_size = sizeof(T);
  return filled;
}

// The entry path for messages.
inline std::string entry_path(const sbx_entry& entry) {
  return std::string(entry.path.data ? reinterpret_cast<const char*>(entry.path.data) : "",
                     entry.path.data ? entry.path.len : 0);
}

// Rejects an sbx_entry the host itself built wrong, before a plugin reads past its end.
void check_entry(const LoadedPlugin& plugin, std::string_view what, const sbx_entry& entry);

}  // namespace sbx::plugins::detail
