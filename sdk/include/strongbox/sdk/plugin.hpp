// strongbox SDK: header-only C++ wrappers for writing plugins. A plugin derives from the interfaces below,
// and SBX_DEFINE_PLUGIN exports the one C entry point. Every trampoline is noexcept: an exception becomes a
// status code plus a one-line message through the host's error sink, never a crash across the ABI.
#pragma once

#include <algorithm>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "entry.hpp"
#include "sbx_plugin.h"

namespace sbx::sdk {

// Throw this from plugin code to return a specific status with a message.
class Error : public std::runtime_error {
 public:
  Error(sbx_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  sbx_status status() const noexcept { return status_; }

 private:
  sbx_status status_;
};

// The host API the plugin was given; set once by the entry point.
inline const sbx_host_api*& host_api() {
  static const sbx_host_api* api = nullptr;
  return api;
}
inline const char*& plugin_name() {
  static const char* name = "plugin";
  return name;
}

inline void log(sbx_log_level level, std::string_view message) noexcept {
  const sbx_host_api* api = host_api();
  if (api && api->log) api->log(level, make_str(plugin_name()), make_str(message));
}

inline void report_error(std::string_view message) noexcept {
  const sbx_host_api* api = host_api();
  if (api && api->set_error) api->set_error(make_str(message));
}

// Runs body and turns any exception into a status; body returns void or sbx_status.
template <class Body>
sbx_status guard(Body&& body) noexcept {
  try {
    if constexpr (std::is_void_v<decltype(body())>) {
      body();
      return SBX_OK;
    } else {
      return body();
    }
  } catch (const Error& e) {
    report_error(e.what());
    return e.status();
  } catch (const std::bad_alloc&) {
    report_error("out of memory");
    return SBX_ERR_INTERNAL;
  } catch (const std::exception& e) {
    report_error(e.what());
    return SBX_ERR_INTERNAL;
  } catch (...) {
    report_error("unknown exception");
    return SBX_ERR_INTERNAL;
  }
}

// Throws Error when a host sink refuses (a negative status), so plugin loops stop.
inline sbx_status check_sink(sbx_status status, std::string_view what) {
  if (status < 0) throw Error(status, std::string(what) + " was refused by the host");
  return status;
}

// ---------------------------------------------------------------------------------------------- storage
using Locator = std::vector<uint8_t>;

class StorageWriter {
 public:
  virtual ~StorageWriter() = default;
  virtual void write_entry(const sbx_entry& entry) = 0;
  virtual void write_data(std::string_view data) = 0;
  virtual Locator end_entry() = 0;
  virtual sbx_set_stats commit() = 0;
  virtual void abort() noexcept = 0;
  // Dedup devices: the set also holds the entry another set of the device holds at source_locator.
  virtual Locator link_entry(std::string_view source_locator) {
    throw Error(SBX_ERR_UNSUPPORTED, "this device cannot link entries of other sets");
  }
};

class StorageReader {
 public:
  virtual ~StorageReader() = default;
  virtual void read_entries(std::span<const sbx_bytes> locators, const sbx_entry_sink& sink) = 0;
};

// How a storage device is opened: only where its store is (open), or making the store first where none is
// (open_or_create, ABI 1.2).
enum class StoreOpening { existing, create_if_missing };

class StorageDevice {
 public:
  virtual ~StorageDevice() = default;
  virtual sbx_storage_info info() = 0;
  virtual std::unique_ptr<StorageWriter> begin_set(std::string_view set_name) = 0;
  virtual std::unique_ptr<StorageReader> open_set(std::string_view set_name) = 0;
  virtual void delete_set(std::string_view set_name) = 0;
  virtual void list_sets(const std::function<void(std::string_view)>& fn) = 0;
};

// Receives a set from a device of the same dedup domain (see sbx_storage_vtable.begin_receive).
class DedupReceiver {
 public:
  virtual ~DedupReceiver() = default;
  virtual void missing_chunks(std::span<const sbx_bytes> ids, uint8_t* missing) = 0;
  virtual void offer_set(std::string_view set_name, std::string_view manifest,
                         const std::function<void(std::string_view missing_id)>& fn) = 0;
  virtual void receive_chunk(std::string_view chunk_id, std::string_view stored) = 0;
  virtual void flush_received() = 0;
  virtual void receive_set(std::string_view set_name, std::string_view manifest) = 0;
};

using DamageFn = std::function<void(std::string_view set_name, std::string_view locator,
                                    std::string_view path, std::string_view problem)>;

// A device with SBX_CAP_DEDUP derives from this; storage_vtable then fills the ABI 1.1 slots.
class DedupStorageDevice : public StorageDevice {
 public:
  virtual sbx_dedup_info dedup_info() = 0;
  virtual void set_chunks(std::string_view set_name,
                          const std::function<void(std::string_view id, uint64_t stored_bytes)>& fn) = 0;
  virtual std::string read_chunk(std::string_view chunk_id) = 0;
  virtual std::string read_manifest(std::string_view set_name) = 0;
  virtual std::unique_ptr<DedupReceiver> begin_receive() = 0;
  virtual sbx_gc_stats collect_garbage(const std::vector<std::string>& live_sets, bool dry_run) = 0;
  virtual sbx_verify_stats verify_device(const sbx_verify_options& options, const DamageFn& damage) = 0;
};

namespace detail {
// Copies what both sides know of a filled struct and records how much that was.
template <class Struct>
void hand_back(const Struct& filled, Struct* out) {
  if (!out) return;
  size_t common = std::min<size_t>(out->struct_size ? out->struct_size : sizeof filled, sizeof filled);
  std::memcpy(out, &filled, common);
  out->struct_size = uint32_t(common);
}
// Hands bytes to a host callback; a refusal stops the plugin's loop.
inline void deliver(sbx_bytes_fn fn, void* ctx, std::string_view bytes, std::string_view what) {
  check_sink(fn(ctx, make_bytes(bytes)), what);
}
}  // namespace detail

// Device is constructible from the config JSON and how to open: Device(std::string_view, StoreOpening). A
// Device constructible from the config alone makes its store at every open, as in ABI 1.1, and leaves
// open_or_create empty.
template <class Device>
const sbx_storage_vtable* storage_vtable() {
  struct T {
    static StorageDevice* dev(sbx_storage_device* d) { return reinterpret_cast<StorageDevice*>(d); }
    static StorageWriter* wr(sbx_storage_writer* w) { return reinterpret_cast<StorageWriter*>(w); }
    static StorageReader* rd(sbx_storage_reader* r) { return reinterpret_cast<StorageReader*>(r); }
    static sbx_status open(sbx_str config, StoreOpening how, sbx_storage_device** out) noexcept {
      return guard([&] {
        StorageDevice* d;
        if constexpr (std::is_constructible_v<Device, std::string_view, StoreOpening>)
          d = new Device(view(config), how);
        else
          d = new Device(view(config));
        *out = reinterpret_cast<sbx_storage_device*>(d);
      });
    }
    static constexpr sbx_status (*open_or_create_slot())(sbx_str, sbx_storage_device**) {
      if constexpr (std::is_constructible_v<Device, std::string_view, StoreOpening>)
        return [](sbx_str config, sbx_storage_device** out) noexcept {
          return open(config, StoreOpening::create_if_missing, out);
        };
      else
        return nullptr;
    }
  };
  static const sbx_storage_vtable vt = {
      sizeof(sbx_storage_vtable),
      [](sbx_str config, sbx_storage_device** out) noexcept {
        return T::open(config, StoreOpening::existing, out);
      },
      [](sbx_storage_device* d) noexcept { delete T::dev(d); },
      [](sbx_storage_device* d, sbx_storage_info* out) noexcept {
        return guard([&] {
          sbx_storage_info info = T::dev(d)->info();
          // The host may be older (smaller struct) or newer: fill what both know and say how much that was.
          size_t common = std::min<size_t>(out->struct_size ? out->struct_size : sizeof info, sizeof info);
          std::memcpy(out, &info, common);
          out->struct_size = uint32_t(common);
        });
      },
      [](sbx_storage_device* d, sbx_str name, sbx_storage_writer** out) noexcept {
        return guard([&] {
          *out = reinterpret_cast<sbx_storage_writer*>(T::dev(d)->begin_set(view(name)).release());
        });
      },
      [](sbx_storage_writer* w, const sbx_entry* e) noexcept {
        return guard([&] { T::wr(w)->write_entry(*e); });
      },
      [](sbx_storage_writer* w, sbx_bytes data) noexcept {
        return guard([&] { T::wr(w)->write_data(view(data)); });
      },
      [](sbx_storage_writer* w, uint8_t locator[SBX_LOCATOR_MAX], size_t* len) noexcept {
        return guard([&] {
          Locator loc = T::wr(w)->end_entry();
          if (loc.size() > SBX_LOCATOR_MAX)
            throw Error(SBX_ERR_INTERNAL, "locator longer than SBX_LOCATOR_MAX");
          std::memcpy(locator, loc.data(), loc.size());
          *len = loc.size();
        });
      },
      [](sbx_storage_writer* w, sbx_set_stats* out) noexcept {
        std::unique_ptr<StorageWriter> owned(T::wr(w));
        return guard([&] {
          sbx_set_stats stats = owned->commit();
          if (!out) return;
          size_t common = std::min<size_t>(out->struct_size ? out->struct_size : sizeof stats, sizeof stats);
          std::memcpy(out, &stats, common);
          out->struct_size = uint32_t(common);
        });
      },
      [](sbx_storage_writer* w) noexcept {
        std::unique_ptr<StorageWriter> owned(T::wr(w));
        owned->abort();
      },
      [](sbx_storage_device* d, sbx_str name, sbx_storage_reader** out) noexcept {
        return guard(
            [&] { *out = reinterpret_cast<sbx_storage_reader*>(T::dev(d)->open_set(view(name)).release()); });
      },
      [](sbx_storage_reader* r, const sbx_bytes* locators, size_t count,
         const sbx_entry_sink* sink) noexcept {
        return guard([&] { T::rd(r)->read_entries(std::span<const sbx_bytes>(locators, count), *sink); });
      },
      [](sbx_storage_reader* r) noexcept { delete T::rd(r); },
      [](sbx_storage_device* d, sbx_str name) noexcept {
        return guard([&] { T::dev(d)->delete_set(view(name)); });
      },
      [](sbx_storage_device* d, sbx_set_name_fn fn, void* ctx) noexcept {
        return guard([&] { T::dev(d)->list_sets([&](std::string_view n) { fn(ctx, make_str(n)); }); });
      },
      // ABI 1.1 dedup slots: filled below for a DedupStorageDevice.
      // clang-format off
      nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
      nullptr, nullptr,
      // clang-format on
      T::open_or_create_slot(),
  };
  if constexpr (std::is_base_of_v<DedupStorageDevice, Device>) {
    static const sbx_storage_vtable dedup_vt = [] {
      struct D {
        static DedupStorageDevice* dev(sbx_storage_device* d) {
          return static_cast<DedupStorageDevice*>(reinterpret_cast<StorageDevice*>(d));
        }
        static DedupReceiver* rc(sbx_storage_receiver* r) { return reinterpret_cast<DedupReceiver*>(r); }
      };
      sbx_storage_vtable v = vt;
      v.link_entry = [](sbx_storage_writer* w, sbx_bytes source, uint8_t locator[SBX_LOCATOR_MAX],
                        size_t* len) noexcept {
        return guard([&] {
          Locator loc = T::wr(w)->link_entry(view(source));
          if (loc.size() > SBX_LOCATOR_MAX)
            throw Error(SBX_ERR_INTERNAL, "locator longer than SBX_LOCATOR_MAX");
          std::memcpy(locator, loc.data(), loc.size());
          *len = loc.size();
        });
      };
      v.dedup_info = [](sbx_storage_device* d, sbx_dedup_info* out) noexcept {
        return guard([&] { detail::hand_back(D::dev(d)->dedup_info(), out); });
      };
      v.set_chunks = [](sbx_storage_device* d, sbx_str name, sbx_chunk_fn fn, void* ctx) noexcept {
        return guard([&] {
          D::dev(d)->set_chunks(view(name),
                                [&](std::string_view id, uint64_t bytes) { fn(ctx, make_bytes(id), bytes); });
        });
      };
      v.read_chunk = [](sbx_storage_device* d, sbx_bytes id, sbx_bytes_fn fn, void* ctx) noexcept {
        return guard([&] { detail::deliver(fn, ctx, D::dev(d)->read_chunk(view(id)), "a stored chunk"); });
      };
      v.read_manifest = [](sbx_storage_device* d, sbx_str name, sbx_bytes_fn fn, void* ctx) noexcept {
        return guard([&] { detail::deliver(fn, ctx, D::dev(d)->read_manifest(view(name)), "a manifest"); });
      };
      v.begin_receive = [](sbx_storage_device* d, sbx_storage_receiver** out) noexcept {
        return guard(
            [&] { *out = reinterpret_cast<sbx_storage_receiver*>(D::dev(d)->begin_receive().release()); });
      };
      v.missing_chunks = [](sbx_storage_receiver* r, const sbx_bytes* ids, size_t count,
                            uint8_t* missing) noexcept {
        return guard([&] { D::rc(r)->missing_chunks(std::span<const sbx_bytes>(ids, count), missing); });
      };
      v.offer_set = [](sbx_storage_receiver* r, sbx_str name, sbx_bytes manifest, sbx_chunk_fn fn,
                       void* ctx) noexcept {
        return guard([&] {
          D::rc(r)->offer_set(view(name), view(manifest),
                              [&](std::string_view id) { fn(ctx, make_bytes(id), 0); });
        });
      };
      v.receive_chunk = [](sbx_storage_receiver* r, sbx_bytes id, sbx_bytes stored) noexcept {
        return guard([&] { D::rc(r)->receive_chunk(view(id), view(stored)); });
      };
      v.flush_received = [](sbx_storage_receiver* r) noexcept {
        return guard([&] { D::rc(r)->flush_received(); });
      };
      v.receive_set = [](sbx_storage_receiver* r, sbx_str name, sbx_bytes manifest) noexcept {
        return guard([&] { D::rc(r)->receive_set(view(name), view(manifest)); });
      };
      v.close_receiver = [](sbx_storage_receiver* r) noexcept { delete D::rc(r); };
      v.collect_garbage = [](sbx_storage_device* d, const sbx_str* live, size_t count, uint32_t dry_run,
                             sbx_gc_stats* out) noexcept {
        return guard([&] {
          std::vector<std::string> names;
          for (size_t i = 0; i < count; ++i) names.emplace_back(view(live[i]));
          detail::hand_back(D::dev(d)->collect_garbage(names, dry_run != 0), out);
        });
      };
      v.verify_device = [](sbx_storage_device* d, const sbx_verify_options* options, sbx_damage_fn fn,
                           void* ctx, sbx_verify_stats* out) noexcept {
        return guard([&] {
          sbx_verify_options o{};
          o.struct_size = sizeof o;
          if (options) std::memcpy(&o, options, std::min<size_t>(sizeof o, options->struct_size));
          auto report = [&](std::string_view set, std::string_view locator, std::string_view path,
                            std::string_view problem) {
            fn(ctx, make_str(set), make_bytes(locator), make_str(path), make_str(problem));
          };
          detail::hand_back(D::dev(d)->verify_device(o, report), out);
        });
      };
      return v;
    }();
    return &dedup_vt;
  }
  return &vt;
}

// ------------------------------------------------------------------------------------------------ agent
class AgentRestore {
 public:
  virtual ~AgentRestore() = default;
  virtual void restore_entry(const sbx_entry& entry) = 0;
  virtual void restore_data(std::string_view data) = 0;
  virtual void restore_entry_end() = 0;
  virtual void finish() = 0;
  virtual void abort() noexcept = 0;
};

class Agent {
 public:
  virtual ~Agent() = default;
  virtual void backup(std::string_view job_json, const sbx_backup_sink& sink) = 0;
  virtual std::unique_ptr<AgentRestore> begin_restore(std::string_view options_json) = 0;
};

// Agent must be constructible from the config JSON: Agent(std::string_view config_json).
template <class AgentImpl>
const sbx_agent_vtable* agent_vtable() {
  struct T {
    static Agent* ag(sbx_agent* a) { return reinterpret_cast<Agent*>(a); }
    static AgentRestore* rs(sbx_agent_restore* r) { return reinterpret_cast<AgentRestore*>(r); }
  };
  static const sbx_agent_vtable vt = {
      sizeof(sbx_agent_vtable),
      [](sbx_str config, sbx_agent** out) noexcept {
        return guard([&] {
          Agent* a = new AgentImpl(view(config));
          *out = reinterpret_cast<sbx_agent*>(a);
        });
      },
      [](sbx_agent* a) noexcept { delete T::ag(a); },
      [](sbx_agent* a, sbx_str job, const sbx_backup_sink* sink) noexcept {
        return guard([&] { T::ag(a)->backup(view(job), *sink); });
      },
      [](sbx_agent* a, sbx_str options, sbx_agent_restore** out) noexcept {
        return guard([&] {
          *out = reinterpret_cast<sbx_agent_restore*>(T::ag(a)->begin_restore(view(options)).release());
        });
      },
      [](sbx_agent_restore* r, const sbx_entry* e) noexcept {
        return guard([&] { T::rs(r)->restore_entry(*e); });
      },
      [](sbx_agent_restore* r, sbx_bytes data) noexcept {
        return guard([&] { T::rs(r)->restore_data(view(data)); });
      },
      [](sbx_agent_restore* r) noexcept { return guard([&] { T::rs(r)->restore_entry_end(); }); },
      [](sbx_agent_restore* r) noexcept {
        std::unique_ptr<AgentRestore> owned(T::rs(r));
        return guard([&] { owned->finish(); });
      },
      [](sbx_agent_restore* r) noexcept {
        std::unique_ptr<AgentRestore> owned(T::rs(r));
        owned->abort();
      },
  };
  return &vt;
}

// -------------------------------------------------------------------------------------------- transport
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void send(std::string_view data) = 0;
  // Returns SBX_OK with *received > 0, SBX_END, or SBX_TIMEOUT.
  virtual sbx_status recv(uint8_t* buffer, size_t capacity, size_t* received, int32_t timeout_ms) = 0;
  virtual void shutdown() noexcept = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;
  // nullptr on timeout.
  virtual std::unique_ptr<Connection> accept(int32_t timeout_ms) = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual std::unique_ptr<Listener> listen(std::string_view address) = 0;
  virtual std::unique_ptr<Connection> connect(std::string_view address, int32_t timeout_ms) = 0;
};

// TransportImpl must be constructible from the config JSON.
template <class TransportImpl>
const sbx_transport_vtable* transport_vtable() {
  struct T {
    static Transport* tr(sbx_transport* t) { return reinterpret_cast<Transport*>(t); }
    static Listener* li(sbx_listener* l) { return reinterpret_cast<Listener*>(l); }
    static Connection* co(sbx_connection* c) { return reinterpret_cast<Connection*>(c); }
  };
  static const sbx_transport_vtable vt = {
      sizeof(sbx_transport_vtable),
      [](sbx_str config, sbx_transport** out) noexcept {
        return guard([&] {
          Transport* t = new TransportImpl(view(config));
          *out = reinterpret_cast<sbx_transport*>(t);
        });
      },
      [](sbx_transport* t) noexcept { delete T::tr(t); },
      [](sbx_transport* t, sbx_str address, sbx_listener** out) noexcept {
        return guard(
            [&] { *out = reinterpret_cast<sbx_listener*>(T::tr(t)->listen(view(address)).release()); });
      },
      [](sbx_listener* l, int32_t timeout_ms, sbx_connection** out) noexcept {
        return guard([&] {
          auto c = T::li(l)->accept(timeout_ms);
          if (!c) return SBX_TIMEOUT;
          *out = reinterpret_cast<sbx_connection*>(c.release());
          return SBX_OK;
        });
      },
      [](sbx_listener* l) noexcept { delete T::li(l); },
      [](sbx_transport* t, sbx_str address, int32_t timeout_ms, sbx_connection** out) noexcept {
        return guard([&] {
          *out = reinterpret_cast<sbx_connection*>(T::tr(t)->connect(view(address), timeout_ms).release());
        });
      },
      [](sbx_connection* c, sbx_bytes data) noexcept { return guard([&] { T::co(c)->send(view(data)); }); },
      [](sbx_connection* c, uint8_t* buffer, size_t capacity, size_t* received, int32_t timeout_ms) noexcept {
        return guard([&] { return T::co(c)->recv(buffer, capacity, received, timeout_ms); });
      },
      [](sbx_connection* c) noexcept { T::co(c)->shutdown(); },
      [](sbx_connection* c) noexcept { delete T::co(c); },
  };
  return &vt;
}

// ------------------------------------------------------------------------------------------ entry point
// Exports sbx_plugin_entry. Example:
//   SBX_DEFINE_PLUGIN(SBX_KIND_STORAGE, "disk", "1.0.0", "tar+zstd sets on a filesystem",
//                     SBX_CAP_RANDOM_ACCESS | SBX_CAP_DELETE, sbx::sdk::storage_vtable<DiskDevice>())
#define SBX_DEFINE_PLUGIN(kind_, name_, version_, description_, capabilities_, vtable_expr_)       \
  extern "C" __attribute__((visibility("default"))) const sbx_plugin_descriptor* sbx_plugin_entry( \
      const sbx_host_api* host) {                                                                  \
    ::sbx::sdk::host_api() = host;                                                                 \
    ::sbx::sdk::plugin_name() = name_;                                                             \
    static const sbx_plugin_descriptor descriptor = {sizeof(sbx_plugin_descriptor),                \
                                                     SBX_ABI_MAJOR,                                \
                                                     SBX_ABI_MINOR,                                \
                                                     static_cast<uint32_t>(kind_),                 \
                                                     name_,                                        \
                                                     version_,                                     \
                                                     description_,                                 \
                                                     capabilities_,                                \
                                                     vtable_expr_};                                \
    return &descriptor;                                                                            \
  }

}  // namespace sbx::sdk
