// strongbox SDK test kit: a fake host for plugin tests. Header-only; link the test with ${CMAKE_DL_LIBS}
// (the CMake target strongbox::testkit does).
//
//   sbx::testkit::LoadedPlugin plugin = sbx::testkit::load_plugin_file("build/my_plugin.so");
//   const sbx_storage_vtable* vt = plugin.storage();
//   ... a failing call ...
//   EXPECT_FALSE(sbx::testkit::FakeHost::last_error().empty());
//
// sbx_host_api carries no context pointer, so the fake host is process-wide: log lines are shared by all
// threads, and the last set_error message is kept per thread, the way the real host pairs an error with
// the call that failed on that thread.
#pragma once

#include <dlfcn.h>

#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../sbx_plugin.h"

namespace sbx::testkit {

struct LogLine {
  sbx_log_level level;
  std::string plugin;
  std::string message;
};

class FakeHost {
 public:
  // The host API handed to plugins: ABI SBX_ABI_MAJOR.SBX_ABI_MINOR of the headers the test was built with.
  static const sbx_host_api* api() {
    static const sbx_host_api host = {sizeof(sbx_host_api), SBX_ABI_MAJOR, SBX_ABI_MINOR, &on_log,
                                      &on_set_error};
    return &host;
  }

  static std::vector<LogLine> log_lines() {
    std::lock_guard lock(state().mutex);
    return state().lines;
  }
  static void clear_log() {
    std::lock_guard lock(state().mutex);
    state().lines.clear();
  }
  // True when some captured line of at least `level` contains `needle`.
  static bool logged(std::string_view needle, sbx_log_level level = SBX_LOG_DEBUG) {
    std::lock_guard lock(state().mutex);
    for (const LogLine& line : state().lines)
      if (line.level >= level && line.message.find(needle) != std::string::npos) return true;
    return false;
  }

  // The message of the calling thread's last set_error, "" when there was none since clear_error().
  static std::string last_error() { return thread_error().value_or(std::string()); }
  static bool has_error() { return thread_error().has_value(); }
  static void clear_error() { thread_error().reset(); }
  // How often set_error was called on this thread; a plugin should call it at most once per failing call.
  static size_t error_count() { return thread_error_count(); }

 private:
  struct State {
    std::mutex mutex;
    std::vector<LogLine> lines;
  };
  static State& state() {
    static State s;
    return s;
  }
  static std::optional<std::string>& thread_error() {
    thread_local std::optional<std::string> message;
    return message;
  }
  static size_t& thread_error_count() {
    thread_local size_t count = 0;
    return count;
  }
  static std::string copy(sbx_str s) { return s.data ? std::string(s.data, s.len) : std::string(); }

  static void on_log(sbx_log_level level, sbx_str plugin, sbx_str message) {
    LogLine line{level, copy(plugin), copy(message)};
    std::lock_guard lock(state().mutex);
    state().lines.push_back(std::move(line));
  }
  static void on_set_error(sbx_str message) {
    thread_error() = copy(message);
    ++thread_error_count();
  }
};

// A plugin library opened with dlopen, its entry point called with the fake host. Move-only; the library
// is closed on destruction, so every object the plugin made must be gone by then.
class LoadedPlugin {
 public:
  LoadedPlugin(std::string path, void* handle, const sbx_plugin_descriptor* descriptor)
      : path_(std::move(path)), handle_(handle), descriptor_(descriptor) {}
  LoadedPlugin(LoadedPlugin&& other) noexcept
      : path_(std::move(other.path_)),
        handle_(std::exchange(other.handle_, nullptr)),
        descriptor_(std::exchange(other.descriptor_, nullptr)) {}
  LoadedPlugin& operator=(LoadedPlugin&& other) noexcept {
    if (this != &other) {
      close();
      path_ = std::move(other.path_);
      handle_ = std::exchange(other.handle_, nullptr);
      descriptor_ = std::exchange(other.descriptor_, nullptr);
    }
    return *this;
  }
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;
  ~LoadedPlugin() { close(); }

  const std::string& path() const { return path_; }
  void* handle() const { return handle_; }
  const sbx_plugin_descriptor& descriptor() const { return *descriptor_; }

  // The vtable, after checking the descriptor names that kind; std::runtime_error otherwise.
  const sbx_storage_vtable* storage() const {
    return static_cast<const sbx_storage_vtable*>(vtable_of(SBX_KIND_STORAGE, "storage"));
  }
  const sbx_agent_vtable* agent() const {
    return static_cast<const sbx_agent_vtable*>(vtable_of(SBX_KIND_AGENT, "agent"));
  }
  const sbx_transport_vtable* transport() const {
    return static_cast<const sbx_transport_vtable*>(vtable_of(SBX_KIND_TRANSPORT, "transport"));
  }

 private:
  void close() {
    if (handle_) dlclose(handle_);
    handle_ = nullptr;
    descriptor_ = nullptr;
  }
  const void* vtable_of(sbx_plugin_kind kind, const char* kind_name) const {
    // A descriptor shorter than ours would make the reads below run past the plugin's object.
    if (descriptor_->struct_size < sizeof(sbx_plugin_descriptor))
      throw std::runtime_error(path_ + ": wanted a descriptor of at least " +
                               std::to_string(sizeof(sbx_plugin_descriptor)) + " bytes, struct_size is " +
                               std::to_string(descriptor_->struct_size));
    if (descriptor_->kind != static_cast<uint32_t>(kind))
      throw std::runtime_error(path_ + ": wanted a " + kind_name + " plugin (kind " + std::to_string(kind) +
                               "), descriptor says kind " + std::to_string(descriptor_->kind));
    if (!descriptor_->vtable) throw std::runtime_error(path_ + ": descriptor has no vtable");
    return descriptor_->vtable;
  }

  std::string path_;
  void* handle_ = nullptr;
  const sbx_plugin_descriptor* descriptor_ = nullptr;
};

// Opens the library at `path`, finds SBX_PLUGIN_ENTRY_SYMBOL and calls it with FakeHost::api().
// Throws std::runtime_error naming the file and what went wrong; the library is closed again then.
inline LoadedPlugin load_plugin_file(const std::string& path) {
  // RTLD_LOCAL keeps two plugins' identically named internal symbols apart, as the real loader does.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    throw std::runtime_error(path + ": cannot load plugin library: " + (why ? why : "unknown dlopen error"));
  }
  dlerror();
  void* symbol = dlsym(handle, SBX_PLUGIN_ENTRY_SYMBOL);
  if (!symbol) {
    dlclose(handle);
    throw std::runtime_error(path + ": wanted exported symbol " SBX_PLUGIN_ENTRY_SYMBOL ", found none");
  }
  auto entry = reinterpret_cast<sbx_plugin_entry_fn>(symbol);
  const sbx_plugin_descriptor* descriptor = entry(FakeHost::api());
  if (!descriptor) {
    dlclose(handle);
    throw std::runtime_error(path + ": " SBX_PLUGIN_ENTRY_SYMBOL " returned no descriptor");
  }
  return LoadedPlugin(path, handle, descriptor);
}

}  // namespace sbx::testkit
