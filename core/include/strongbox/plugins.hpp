// strongbox plugin host: finds plugin libraries, checks them against the C ABI of sdk/ and hands out C++
// objects that call through their vtables. A broken plugin costs one error line, never the process.
//
// Every object handed out (device, writer, reader, agent, restore, transport, listener, connection) keeps
// the library it came from loaded, and the object it was made from (a writer keeps its device) alive, so
// objects may be destroyed in any order, also after the Registry. Calls on one object must not overlap;
// whether distinct objects of one plugin may be used from several threads at once is up to the plugin.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "strongbox/sdk/sbx_plugin.h"

namespace sbx::plugins {

namespace detail {
struct LoadedPlugin;
struct DeviceHandle;
struct AgentHandle;
struct TransportHandle;
struct ListenerHandle;
}  // namespace detail

// A failed plugin call. what() is "<plugin name>: <what was attempted>: <the plugin's message or the
// status name>", one line, safe to print and to put in JSON.
class PluginError : public std::runtime_error {
 public:
  PluginError(sbx_status status, std::string msg);
  sbx_status status() const noexcept { return status_; }

 private:
  sbx_status status_;
};

// Readable forms of ABI values for messages and `plugins list`.
std::string status_name(sbx_status status);  // SBX_ERR_IO -> "I/O error"
std::vector<std::string> capability_names(
    uint64_t caps);                    // {"random-access", "delete"}; unknown bits "bit-N"
std::string kind_name(uint32_t kind);  // "storage", "agent", "transport", "tape"

struct PluginInfo {
  std::string name, version, description, kind, file;
  uint16_t abi_major = 0, min_host_minor = 0;
  uint64_t capabilities = 0;
};
// {"name","version","kind","abi":"1.0","capabilities":[...],"file","description"}
nlohmann::json to_json(const PluginInfo& info);
void to_json(nlohmann::json& out, const PluginInfo& info);

// ------------------------------------------------------------------------------------------------ storage
class StorageWriter {
 public:
  StorageWriter(const StorageWriter&) = delete;
  StorageWriter& operator=(const StorageWriter&) = delete;
  ~StorageWriter();  // aborts the set unless commit() was called

  void write_entry(const sbx_entry& entry);
  void write_data(std::string_view data);
  std::string end_entry();  // the entry's locator bytes, at most SBX_LOCATOR_MAX
  // Dedup devices: the set also holds the entry at source_locator of another set of this device; no data
  // moves. Returns the entry's locator in this set.
  std::string link_entry(std::string_view source_locator);
  // Makes the set durable and visible. The writer is spent afterwards, whether or not this succeeded.
  sbx_set_stats commit();

 private:
  friend class StorageDevice;
  StorageWriter(std::shared_ptr<detail::DeviceHandle> device, sbx_storage_writer* writer,
                std::string set_name);
  std::shared_ptr<detail::DeviceHandle> device_;
  sbx_storage_writer* writer_;
  std::string set_name_;
  std::string entry_path_;  // of the entry being written, for messages
};

class StorageReader {
 public:
  StorageReader(const StorageReader&) = delete;
  StorageReader& operator=(const StorageReader&) = delete;
  ~StorageReader();

  // Delivers the entries at `locators` in order; an unreadable one goes to sink.on_entry_error.
  void read_entries(std::span<const sbx_bytes> locators, const sbx_entry_sink& sink);

 private:
  friend class StorageDevice;
  StorageReader(std::shared_ptr<detail::DeviceHandle> device, sbx_storage_reader* reader,
                std::string set_name);
  std::shared_ptr<detail::DeviceHandle> device_;
  sbx_storage_reader* reader_;
  std::string set_name_;
};

// A dedup device receiving a set from a device of its domain; chunks it reported present or received stay
// safe from garbage collection until it is destroyed.
class StorageReceiver {
 public:
  StorageReceiver(const StorageReceiver&) = delete;
  StorageReceiver& operator=(const StorageReceiver&) = delete;
  ~StorageReceiver();

  // One flag per id: true when the device lacks that chunk.
  std::vector<bool> missing_chunks(const std::vector<std::string>& ids);
  // The chunks the set described by `manifest` needs that the device lacks, in manifest order.
  std::vector<std::string> offer_set(std::string_view set_name, std::string_view manifest);
  void receive_chunk(std::string_view chunk_id, std::string_view stored);
  void flush_received();  // chunks received so far are durable afterwards
  void receive_set(std::string_view set_name, std::string_view manifest);

 private:
  friend class StorageDevice;
  StorageReceiver(std::shared_ptr<detail::DeviceHandle> device, sbx_storage_receiver* receiver);
  std::shared_ptr<detail::DeviceHandle> device_;
  sbx_storage_receiver* receiver_;
};

struct ChunkRef {
  std::string id;  // SBX_CHUNK_ID_BYTES raw bytes
  uint64_t stored_bytes = 0;
};

class StorageDevice {
 public:
  StorageDevice(const StorageDevice&) = delete;
  StorageDevice& operator=(const StorageDevice&) = delete;
  ~StorageDevice();

  const PluginInfo& plugin() const;
  sbx_storage_info info();  // fields an older plugin does not know are 0
  std::unique_ptr<StorageWriter> begin_set(std::string_view name);
  std::unique_ptr<StorageReader> open_set(std::string_view name);
  void delete_set(std::string_view name);  // PluginError(SBX_ERR_UNSUPPORTED) without SBX_CAP_DELETE
  std::vector<std::string> list_sets();

  // Dedup devices (SBX_CAP_DEDUP); the calls below fail with SBX_ERR_UNSUPPORTED on other devices.
  bool deduplicates() const;
  sbx_dedup_info dedup_info();
  std::vector<ChunkRef> set_chunks(std::string_view set_name);
  std::string read_chunk(std::string_view chunk_id);
  std::string read_manifest(std::string_view set_name);
  std::unique_ptr<StorageReceiver> begin_receive();
  sbx_gc_stats collect_garbage(const std::vector<std::string>& live_sets, bool dry_run);
  // locator and path are empty for damage that is not within one entry; path is raw bytes.
  using DamageFn = std::function<void(const std::string& set_name, const std::string& locator,
                                      const std::string& path, const std::string& problem)>;
  sbx_verify_stats verify_device(const sbx_verify_options& options, const DamageFn& damage);

 private:
  friend class Registry;
  explicit StorageDevice(std::shared_ptr<detail::DeviceHandle> device);
  std::shared_ptr<detail::DeviceHandle> device_;
};

// -------------------------------------------------------------------------------------------------- agent
class AgentRestore {
 public:
  AgentRestore(const AgentRestore&) = delete;
  AgentRestore& operator=(const AgentRestore&) = delete;
  ~AgentRestore();  // aborts the restore unless finish() was called

  void restore_entry(const sbx_entry& entry);
  void restore_data(std::string_view data);
  void restore_entry_end();
  // Applies what must come last (directory times). The handle is spent afterwards, even on failure.
  void finish();

 private:
  friend class Agent;
  AgentRestore(std::shared_ptr<detail::AgentHandle> agent, sbx_agent_restore* restore);
  std::shared_ptr<detail::AgentHandle> agent_;
  sbx_agent_restore* restore_;
  std::string entry_path_;
};

class Agent {
 public:
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;
  ~Agent();

  const PluginInfo& plugin() const;
  void backup(std::string_view job_json, const sbx_backup_sink& sink);
  // PluginError(SBX_ERR_UNSUPPORTED) without SBX_CAP_RESTORE.
  std::unique_ptr<AgentRestore> begin_restore(std::string_view options_json);

 private:
  friend class Registry;
  explicit Agent(std::shared_ptr<detail::AgentHandle> agent);
  std::shared_ptr<detail::AgentHandle> agent_;
};

// ---------------------------------------------------------------------------------------------- transport
class Connection {
 public:
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  void send(std::string_view data);  // all of it, or PluginError
  // 1..cap bytes, or 0 when the peer has shut down its sending side. timeout_ms < 0 waits for ever, 0 polls;
  // PluginError(SBX_TIMEOUT) when nothing arrived in time.
  size_t recv(uint8_t* buf, size_t cap, int32_t timeout_ms);
  void shutdown();  // ends this side's sending

 private:
  friend class Listener;
  friend class Transport;
  Connection(std::shared_ptr<detail::TransportHandle> transport,
             std::shared_ptr<detail::ListenerHandle> listener, sbx_connection* connection, std::string peer);
  std::shared_ptr<detail::TransportHandle> transport_;
  std::shared_ptr<detail::ListenerHandle> listener_;  // set for accepted connections
  sbx_connection* connection_;
  std::string peer_;  // "to 'host:1'" or "accepted on 'name'", for messages
};

class Listener {
 public:
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener();

  std::unique_ptr<Connection> accept(int32_t timeout_ms);  // nullptr on timeout

 private:
  friend class Transport;
  explicit Listener(std::shared_ptr<detail::ListenerHandle> listener);
  std::shared_ptr<detail::ListenerHandle> listener_;
};

class Transport {
 public:
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;
  ~Transport();

  const PluginInfo& plugin() const;
  // PluginError(SBX_ERR_UNSUPPORTED) without SBX_CAP_LISTEN.
  std::unique_ptr<Listener> listen(std::string_view address);
  // PluginError(SBX_TIMEOUT) when the peer did not answer in time.
  std::unique_ptr<Connection> connect(std::string_view address, int32_t timeout_ms);

 private:
  friend class Registry;
  explicit Transport(std::shared_ptr<detail::TransportHandle> transport);
  std::shared_ptr<detail::TransportHandle> transport_;
};

// --------------------------------------------------------------------------------------------- registry
// The loaded plugins. Loading is not thread-safe; the const members are, once loading is done.
class Registry {
 public:
  struct Problem {
    std::filesystem::path file;
    std::string message;  // the whole line, e.g. "plugin /x/y.so refused: built for ABI major 2, this ..."
  };

  Registry();
  Registry(Registry&&) noexcept;
  Registry& operator=(Registry&&) noexcept;
  ~Registry();

  // <dir of the running executable>/../lib/strongbox/plugins (the build tree and the install tree both put
  // plugins there), then each directory of $STRONGBOX_PLUGIN_PATH (':'-separated).
  static std::vector<std::filesystem::path> default_dirs();

  // Every *.so in dir, in name order. A directory that does not exist loads nothing and is no problem.
  void load_dir(const std::filesystem::path& dir);
  // A plugin that cannot be loaded or fails a check becomes a Problem and one error log line.
  void load_file(const std::filesystem::path& file);

  const std::vector<Problem>& problems() const;
  std::vector<PluginInfo> list() const;  // sorted by kind, then name
  std::optional<PluginInfo> find(uint32_t kind, std::string_view name) const;

  // PluginError(SBX_ERR_NOT_FOUND) "no storage plugin named 'x' (available: disk, dedup)" when unknown.
  // Opens the store config points at; PluginError(SBX_ERR_OFFLINE) where there is none.
  std::unique_ptr<StorageDevice> open_storage(std::string_view type, const nlohmann::json& config) const;
  // Opens it, making an empty store first where none is: only for a store the admin asked for.
  std::unique_ptr<StorageDevice> open_or_create_storage(std::string_view type,
                                                        const nlohmann::json& config) const;
  std::unique_ptr<Agent> open_agent(std::string_view name, const nlohmann::json& config) const;
  std::unique_ptr<Transport> open_transport(std::string_view name, const nlohmann::json& config) const;

 private:
  // The plugin of that kind and name, or PluginError(SBX_ERR_NOT_FOUND) naming the ones available.
  std::shared_ptr<const detail::LoadedPlugin> require(uint32_t kind, std::string_view name) const;
  void add_problem(const std::filesystem::path& file, std::string message);  // and logs it
  std::unique_ptr<StorageDevice> open_storage_device(std::string_view type, const nlohmann::json& config,
                                                     bool create_if_missing) const;

  std::vector<std::shared_ptr<const detail::LoadedPlugin>> plugins_;
  std::vector<Problem> problems_;
};

}  // namespace sbx::plugins
