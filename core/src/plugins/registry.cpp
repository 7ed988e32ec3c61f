// Discovery and loading: every check a library must pass before any of its vtable is called.
#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "internal.hpp"

namespace fs = std::filesystem;

namespace sbx::plugins {
namespace {

constexpr size_t kMaxNameBytes = 64;
constexpr size_t kMaxVersionBytes = 32;
constexpr size_t kMaxDescriptionBytes = 300;

std::string abi_text(unsigned major, unsigned minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameBytes && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool valid_version(std::string_view version) {
  return !version.empty() && version.size() <= kMaxVersionBytes &&
         std::all_of(version.begin(), version.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '-' || c == '+' || c == '_' || c == '~';
         });
}

// Reads a descriptor string without running past a bound: an unterminated one shows up as too long.
std::string bounded_string(const char* text, size_t max_bytes) {
  return std::string(text, strnlen(text, max_bytes + 1));
}

// dlerror() text usually starts with the file name, which the refusal line already carries.
std::string load_error_text(const fs::path& file, const std::error_code& ec) {
  const char* text = dlerror();
  std::string message = text ? text : ec.message();
  const std::string prefix = file.string() + ": ";
  if (message.starts_with(prefix)) message.erase(0, prefix.size());
  return message;
}

struct Callback {
  const char* name;
  const void* address;
};

// The first missing callback of those a plugin must fill, or nullptr.
const char* first_missing(std::initializer_list<Callback> callbacks) {
  for (const Callback& callback : callbacks) {
    if (!callback.address) return callback.name;
  }
  return nullptr;
}

#define SBX_CALLBACK(vtable, field)                       \
  Callback {                                              \
#field, reinterpret_cast < const void*>(vtable.field) \
  }

// Copies the plugin's vtable into the host's struct, up to the smaller of the two sizes. Returns the reason
// to refuse, or "".
template <class Vtable>
std::string copy_vtable(const void* plugin_vtable, size_t v1_size, const char* struct_name, Vtable& out) {
  uint32_t size = 0;
  std::memcpy(&size, plugin_vtable, sizeof size);
  if (size < v1_size) {
    return std::string(struct_name) + " has struct_size " + std::to_string(size) +
           ", ABI 1.0 needs at least " + std::to_string(v1_size);
  }
  out = Vtable{};
  std::memcpy(&out, plugin_vtable, std::min<size_t>(size, sizeof(Vtable)));
  return "";
}

std::string check_storage(const void* vtable, detail::LoadedPlugin& loaded) {
  std::string reason =
      copy_vtable(vtable, detail::kStorageVtableV1Size, "sbx_storage_vtable", loaded.storage);
  if (!reason.empty()) return reason;
  const sbx_storage_vtable& v = loaded.storage;
  const char* missing = first_missing(
      {SBX_CALLBACK(v, open), SBX_CALLBACK(v, close), SBX_CALLBACK(v, info), SBX_CALLBACK(v, begin_set),
       SBX_CALLBACK(v, write_entry), SBX_CALLBACK(v, write_data), SBX_CALLBACK(v, end_entry),
       SBX_CALLBACK(v, commit_set), SBX_CALLBACK(v, abort_set), SBX_CALLBACK(v, open_set),
       SBX_CALLBACK(v, read_entries), SBX_CALLBACK(v, close_reader), SBX_CALLBACK(v, list_sets)});
  if (!missing && loaded.has(SBX_CAP_DELETE)) missing = first_missing({SBX_CALLBACK(v, delete_set)});
  if (!missing && loaded.has(SBX_CAP_DEDUP)) {
    missing = first_missing(
        {SBX_CALLBACK(v, link_entry), SBX_CALLBACK(v, dedup_info), SBX_CALLBACK(v, set_chunks),
         SBX_CALLBACK(v, read_chunk), SBX_CALLBACK(v, read_manifest), SBX_CALLBACK(v, begin_receive),
         SBX_CALLBACK(v, missing_chunks), SBX_CALLBACK(v, receive_chunk), SBX_CALLBACK(v, flush_received),
         SBX_CALLBACK(v, receive_set), SBX_CALLBACK(v, close_receiver), SBX_CALLBACK(v, collect_garbage),
         SBX_CALLBACK(v, verify_device)});
  }
  if (missing) return std::string("missing required callback '") + missing + "'";
  return "";
}

std::string check_agent(const void* vtable, detail::LoadedPlugin& loaded) {
  std::string reason = copy_vtable(vtable, detail::kAgentVtableV1Size, "sbx_agent_vtable", loaded.agent);
  if (!reason.empty()) return reason;
  const sbx_agent_vtable& v = loaded.agent;
  const char* missing =
      first_missing({SBX_CALLBACK(v, open), SBX_CALLBACK(v, close), SBX_CALLBACK(v, backup)});
  if (!missing && loaded.has(SBX_CAP_RESTORE)) {
    missing = first_missing({SBX_CALLBACK(v, begin_restore), SBX_CALLBACK(v, restore_entry),
                             SBX_CALLBACK(v, restore_data), SBX_CALLBACK(v, restore_entry_end),
                             SBX_CALLBACK(v, finish_restore), SBX_CALLBACK(v, abort_restore)});
  }
  if (missing) return std::string("missing required callback '") + missing + "'";
  return "";
}

std::string check_transport(const void* vtable, detail::LoadedPlugin& loaded) {
  std::string reason =
      copy_vtable(vtable, detail::kTransportVtableV1Size, "sbx_transport_vtable", loaded.transport);
  if (!reason.empty()) return reason;
  const sbx_transport_vtable& v = loaded.transport;
  const char* missing = first_missing({SBX_CALLBACK(v, open), SBX_CALLBACK(v, close),
                                       SBX_CALLBACK(v, connect), SBX_CALLBACK(v, send), SBX_CALLBACK(v, recv),
                                       SBX_CALLBACK(v, shutdown), SBX_CALLBACK(v, close_connection)});
  if (!missing && loaded.has(SBX_CAP_LISTEN)) {
    missing =
        first_missing({SBX_CALLBACK(v, listen), SBX_CALLBACK(v, accept), SBX_CALLBACK(v, close_listener)});
  }
  if (missing) return std::string("missing required callback '") + missing + "'";
  return "";
}

#undef SBX_CALLBACK

// Loads the library and checks its descriptor and vtable. Returns the reason to refuse it, or "".
std::string load_plugin(const fs::path& file, detail::LoadedPlugin& loaded) {
  std::error_code stat_error;
  const fs::file_status status = fs::status(file, stat_error);
  if (stat_error) return "cannot read it: " + stat_error.message();
  if (fs::is_directory(status)) return "it is a directory, wanted a shared library";

  std::error_code load_ec;
  dlerror();  // drop any stale message, so the one read on failure belongs to this load
  // rtld_now: an unresolved symbol refuses the plugin here instead of crashing a job later.
  loaded.library.load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, load_ec);
  if (load_ec || !loaded.library.is_loaded()) return "cannot load it: " + load_error_text(file, load_ec);

  if (!loaded.library.has(SBX_PLUGIN_ENTRY_SYMBOL)) {
    return "no exported symbol '" SBX_PLUGIN_ENTRY_SYMBOL
           "' (wanted a strongbox plugin; is it built with "
           "SBX_DEFINE_PLUGIN and default visibility for the entry?)";
  }
  auto& entry =
      loaded.library.get<const sbx_plugin_descriptor*(const sbx_host_api*)>(SBX_PLUGIN_ENTRY_SYMBOL);
  const sbx_plugin_descriptor* descriptor = nullptr;
  try {
    descriptor = entry(detail::host_api());
  } catch (const std::exception& e) {
    return std::string(SBX_PLUGIN_ENTRY_SYMBOL " threw an exception: ") + detail::printable(e.what());
  } catch (...) {
    return SBX_PLUGIN_ENTRY_SYMBOL " threw an exception";
  }
  if (!descriptor) return SBX_PLUGIN_ENTRY_SYMBOL " returned NULL, wanted a descriptor";

  // abi_major is read before the full size is required: a plugin of another major may lay out the rest
  // differently, and "built for ABI major 2" is the message that tells the admin what to do.
  constexpr size_t kAbiFieldsEnd = SBX_V1_END(sbx_plugin_descriptor, min_host_minor);
  if (descriptor->struct_size < kAbiFieldsEnd) {
    return "descriptor has struct_size " + std::to_string(descriptor->struct_size) + ", ABI " +
           abi_text(SBX_ABI_MAJOR, SBX_ABI_MINOR) + " needs at least " +
           std::to_string(detail::kDescriptorV1Size);
  }
  if (descriptor->abi_major != SBX_ABI_MAJOR) {
    return "built for ABI major " + std::to_string(descriptor->abi_major) + ", this strongbox has " +
           std::to_string(SBX_ABI_MAJOR);
  }
  if (descriptor->struct_size < detail::kDescriptorV1Size) {
    return "descriptor has struct_size " + std::to_string(descriptor->struct_size) + ", ABI " +
           abi_text(SBX_ABI_MAJOR, SBX_ABI_MINOR) + " needs at least " +
           std::to_string(detail::kDescriptorV1Size);
  }
  sbx_plugin_descriptor d{};
  std::memcpy(&d, descriptor, std::min<size_t>(descriptor->struct_size, sizeof d));

  if (d.min_host_minor > SBX_ABI_MINOR) {
    return "needs a host with ABI " + abi_text(SBX_ABI_MAJOR, d.min_host_minor) +
           " or newer, this strongbox has " + abi_text(SBX_ABI_MAJOR, SBX_ABI_MINOR);
  }
  if (d.kind == SBX_KIND_TAPE) {
    return "kind 'tape' has no vtable in ABI " + abi_text(SBX_ABI_MAJOR, SBX_ABI_MINOR) +
           ", this strongbox cannot drive tape plugins yet";
  }
  if (d.kind != SBX_KIND_STORAGE && d.kind != SBX_KIND_AGENT && d.kind != SBX_KIND_TRANSPORT) {
    return "unknown plugin kind " + std::to_string(d.kind) +
           ", wanted 1 (storage), 2 (agent) or 3 (transport)";
  }
  if (!d.name) return "plugin name is NULL";
  const std::string name = bounded_string(d.name, kMaxNameBytes);
  if (!valid_name(name)) {
    return "invalid plugin name " + detail::in_quotes(name) + ", wanted 1-" + std::to_string(kMaxNameBytes) +
           " characters of a-z 0-9 _ -";
  }
  if (!d.version) return "plugin version is NULL";
  const std::string version = bounded_string(d.version, kMaxVersionBytes);
  if (!valid_version(version)) {
    return "invalid plugin version " + detail::in_quotes(version) + ", wanted 1-" +
           std::to_string(kMaxVersionBytes) + " characters of A-Z a-z 0-9 . - + _ ~";
  }
  if (const uint64_t unknown = d.capabilities & ~detail::kKnownCapabilities) {
    return "unknown capability bits " + hex(unknown) + ", ABI " + abi_text(SBX_ABI_MAJOR, SBX_ABI_MINOR) +
           " defines " + hex(detail::kKnownCapabilities);
  }

  loaded.kind = d.kind;
  loaded.capabilities = d.capabilities;
  loaded.info.name = name;
  loaded.info.version = version;
  loaded.info.description =
      d.description
          ? detail::printable(bounded_string(d.description, kMaxDescriptionBytes), kMaxDescriptionBytes)
          : "";
  loaded.info.kind = kind_name(d.kind);
  loaded.info.file = file.string();
  loaded.info.abi_major = d.abi_major;
  loaded.info.min_host_minor = d.min_host_minor;
  loaded.info.capabilities = d.capabilities;

  if (!d.vtable) return "descriptor has no vtable, wanted an sbx_" + loaded.info.kind + "_vtable";
  switch (d.kind) {
    case SBX_KIND_STORAGE:
      return check_storage(d.vtable, loaded);
    case SBX_KIND_AGENT:
      return check_agent(d.vtable, loaded);
    default:
      return check_transport(d.vtable, loaded);
  }
}

}  // namespace

Registry::Registry() = default;
Registry::Registry(Registry&&) noexcept = default;
Registry& Registry::operator=(Registry&&) noexcept = default;
Registry::~Registry() = default;

std::vector<fs::path> Registry::default_dirs() {
  std::vector<fs::path> dirs;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back((exe.parent_path() / ".." / "lib" / "strongbox" / "plugins").lexically_normal());
  if (const char* extra = std::getenv("STRONGBOX_PLUGIN_PATH")) {
    std::string_view rest = extra;
    while (!rest.empty()) {
      const size_t colon = rest.find(':');
      const std::string_view dir = rest.substr(0, colon);
      if (!dir.empty()) dirs.emplace_back(dir);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  return dirs;
}

void Registry::load_dir(const fs::path& dir) {
  const std::string shown = detail::printable(dir.string());
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (status.type() == fs::file_type::not_found) {
    // Not an error: default_dirs() names places that exist only in some layouts.
    spdlog::debug("plugin directory {} does not exist", shown);
    return;
  }
  if (ec) return add_problem(dir, "plugin directory " + shown + " unreadable: " + ec.message());
  if (!fs::is_directory(status)) return add_problem(dir, "plugin directory " + shown + " is not a directory");

  std::vector<fs::path> files;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".so") files.push_back(it->path());
  }
  if (ec) add_problem(dir, "plugin directory " + shown + " unreadable: " + ec.message());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) load_file(file);
}

void Registry::load_file(const fs::path& file) {
  std::error_code ec;
  fs::path path = fs::absolute(file, ec);
  if (ec) path = file;
  const auto refuse = [&](const std::string& reason) {
    add_problem(path, "plugin " + detail::printable(path.string()) + " refused: " + reason);
  };
  try {
    auto loaded = std::make_shared<detail::LoadedPlugin>();
    const std::string reason = load_plugin(path, *loaded);
    if (!reason.empty()) {
      refuse(reason);
      return;
    }
    for (const auto& other : plugins_) {
      if (other->kind == loaded->kind && other->info.name == loaded->info.name) {
        const char* article = loaded->kind == SBX_KIND_AGENT ? "an " : "a ";
        refuse(article + loaded->info.kind + " plugin named '" + loaded->info.name +
               "' is already loaded from " + detail::printable(other->info.file));
        return;
      }
    }
    spdlog::debug("loaded {} plugin '{}' {} from {}", loaded->info.kind, loaded->info.name,
                  loaded->info.version, detail::printable(loaded->info.file));
    plugins_.push_back(std::move(loaded));
  } catch (const std::exception& e) {
    refuse(std::string("unexpected failure while loading it: ") + detail::printable(e.what()));
  } catch (...) {
    refuse("unexpected failure while loading it");
  }
}

void Registry::add_problem(const fs::path& file, std::string message) {
  spdlog::error("{}", message);
  problems_.push_back(Problem{file, std::move(message)});
}

const std::vector<Registry::Problem>& Registry::problems() const {
  return problems_;
}

std::vector<PluginInfo> Registry::list() const {
  std::vector<PluginInfo> infos;
  infos.reserve(plugins_.size());
  for (const auto& plugin : plugins_) infos.push_back(plugin->info);
  std::sort(infos.begin(), infos.end(), [](const PluginInfo& a, const PluginInfo& b) {
    return std::tie(a.kind, a.name) < std::tie(b.kind, b.name);
  });
  return infos;
}

std::optional<PluginInfo> Registry::find(uint32_t kind, std::string_view name) const {
  for (const auto& plugin : plugins_) {
    if (plugin->kind == kind && plugin->info.name == name) return plugin->info;
  }
  return std::nullopt;
}

std::shared_ptr<const detail::LoadedPlugin> Registry::require(uint32_t kind, std::string_view name) const {
  std::vector<std::string> available;
  for (const auto& plugin : plugins_) {
    if (plugin->kind != kind) continue;
    if (plugin->info.name == name) return plugin;
    available.push_back(plugin->info.name);
  }
  std::sort(available.begin(), available.end());
  std::string list;
  for (const std::string& each : available) list += (list.empty() ? "" : ", ") + each;
  const std::string kind_text = kind_name(kind);
  throw PluginError(SBX_ERR_NOT_FOUND, "no " + kind_text + " plugin named " + detail::in_quotes(name) +
                                           (available.empty() ? " (no " + kind_text + " plugins are loaded)"
                                                              : " (available: " + list + ")"));
}

}  // namespace sbx::plugins
