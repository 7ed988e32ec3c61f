// StorageDevice, StorageWriter and StorageReader: C++ calls through a storage plugin's vtable.
#include <new>

#include "internal.hpp"

namespace sbx::plugins {

using detail::call_plugin;
using detail::call_plugin_void;
using detail::check;
using detail::fail;
using detail::in_quotes;
using detail::to_str;

detail::DeviceHandle::~DeviceHandle() {
  if (device) call_plugin_void([&] { plugin->storage.close(device); });
}

// ------------------------------------------------------------------------------------------------ writer
StorageWriter::StorageWriter(std::shared_ptr<detail::DeviceHandle> device, sbx_storage_writer* writer,
                             std::string set_name)
    : device_(std::move(device)), writer_(writer), set_name_(std::move(set_name)) {}

StorageWriter::~StorageWriter() {
  if (writer_) call_plugin_void([&] { device_->plugin->storage.abort_set(writer_); });
}

namespace {
void require_open_writer(const detail::LoadedPlugin& plugin, sbx_storage_writer* writer,
                         std::string_view what, std::string_view set_name) {
  if (!writer) {
    fail(plugin, SBX_ERR_INVALID_ARGUMENT, what,
         "the writer of set " + in_quotes(set_name) + " was already committed or failed to commit");
  }
}
}  // namespace

void StorageWriter::write_entry(const sbx_entry& entry) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  entry_path_ = detail::entry_path(entry);
  const std::string what = "write entry " + in_quotes(entry_path_) + " to set " + in_quotes(set_name_);
  require_open_writer(plugin, writer_, what, set_name_);
  detail::check_entry(plugin, what, entry);
  check(plugin, what, call_plugin([&] { return plugin.storage.write_entry(writer_, &entry); }));
}

void StorageWriter::write_data(std::string_view data) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  const auto result = call_plugin([&] {
    if (!writer_) return SBX_ERR_INVALID_ARGUMENT;
    return plugin.storage.write_data(writer_, detail::to_bytes(data));
  });
  // The message is built only on failure: write_data runs once per data block.
  if (result.status != SBX_OK) {
    const std::string what = "write data of " + in_quotes(entry_path_) + " to set " + in_quotes(set_name_);
    require_open_writer(plugin, writer_, what, set_name_);
    check(plugin, what, result);
  }
}

std::string StorageWriter::end_entry() {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  const std::string what = "end entry " + in_quotes(entry_path_) + " in set " + in_quotes(set_name_);
  require_open_writer(plugin, writer_, what, set_name_);
  uint8_t locator[SBX_LOCATOR_MAX];
  size_t length = 0;
  check(plugin, what, call_plugin([&] { return plugin.storage.end_entry(writer_, locator, &length); }));
  if (length > SBX_LOCATOR_MAX) {
    fail(plugin, SBX_ERR_INTERNAL, what,
         "returned a locator of " + std::to_string(length) + " bytes, at most " +
             std::to_string(SBX_LOCATOR_MAX) + " are allowed");
  }
  return std::string(reinterpret_cast<const char*>(locator), length);
}

sbx_set_stats StorageWriter::commit() {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  const std::string what = "commit set " + in_quotes(set_name_);
  require_open_writer(plugin, writer_, what, set_name_);
  // commit_set frees the writer whatever it returns, so it must not be aborted afterwards.
  sbx_storage_writer* writer = std::exchange(writer_, nullptr);
  sbx_set_stats stats{};
  stats.struct_size = sizeof stats;
  check(plugin, what, call_plugin([&] { return plugin.storage.commit_set(writer, &stats); }));
  return detail::accept_filled(stats, detail::kSetStatsV1Size, plugin, what, "sbx_set_stats");
}

// ------------------------------------------------------------------------------------------------ reader
StorageReader::StorageReader(std::shared_ptr<detail::DeviceHandle> device, sbx_storage_reader* reader,
                             std::string set_name)
    : device_(std::move(device)), reader_(reader), set_name_(std::move(set_name)) {}

StorageReader::~StorageReader() {
  call_plugin_void([&] { device_->plugin->storage.close_reader(reader_); });
}

void StorageReader::read_entries(std::span<const sbx_bytes> locators, const sbx_entry_sink& sink) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  const std::string what = "read entries of set " + in_quotes(set_name_);
  if (sink.struct_size < detail::kEntrySinkV1Size || !sink.on_entry || !sink.on_data || !sink.on_entry_end ||
      !sink.on_entry_error) {
    fail(plugin, SBX_ERR_INVALID_ARGUMENT, what, "the host passed an incomplete sbx_entry_sink");
  }
  check(plugin, what, call_plugin([&] {
          return plugin.storage.read_entries(reader_, locators.data(), locators.size(), &sink);
        }));
}

// ------------------------------------------------------------------------------------------------ device
StorageDevice::StorageDevice(std::shared_ptr<detail::DeviceHandle> device) : device_(std::move(device)) {}
StorageDevice::~StorageDevice() = default;

const PluginInfo& StorageDevice::plugin() const {
  return device_->plugin->info;
}

sbx_storage_info StorageDevice::info() {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  sbx_storage_info info{};
  info.struct_size = sizeof info;
  check(plugin, "device info", call_plugin([&] { return plugin.storage.info(device_->device, &info); }));
  return detail::accept_filled(info, detail::kStorageInfoV1Size, plugin, "device info", "sbx_storage_info");
}

std::unique_ptr<StorageWriter> StorageDevice::begin_set(std::string_view name) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  const std::string what = "begin set " + in_quotes(name);
  sbx_storage_writer* writer = nullptr;
  check(plugin, what,
        call_plugin([&] { return plugin.storage.begin_set(device_->device, to_str(name), &writer); }));
  if (!writer) fail(plugin, SBX_ERR_INTERNAL, what, "returned success but no writer");
  try {
    return std::unique_ptr<StorageWriter>(new StorageWriter(device_, writer, std::string(name)));
  } catch (...) {
    call_plugin_void([&] { plugin.storage.abort_set(writer); });
    throw;
  }
}

std::unique_ptr<StorageReader> StorageDevice::open_set(std::string_view name) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  const std::string what = "open set " + in_quotes(name);
  sbx_storage_reader* reader = nullptr;
  check(plugin, what,
        call_plugin([&] { return plugin.storage.open_set(device_->device, to_str(name), &reader); }));
  if (!reader) fail(plugin, SBX_ERR_INTERNAL, what, "returned success but no reader");
  try {
    return std::unique_ptr<StorageReader>(new StorageReader(device_, reader, std::string(name)));
  } catch (...) {
    call_plugin_void([&] { plugin.storage.close_reader(reader); });
    throw;
  }
}

void StorageDevice::delete_set(std::string_view name) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  const std::string what = "delete set " + in_quotes(name);
  if (!plugin.has(SBX_CAP_DELETE))
    fail(plugin, SBX_ERR_UNSUPPORTED, what, "this device cannot delete single sets");
  check(plugin, what, call_plugin([&] { return plugin.storage.delete_set(device_->device, to_str(name)); }));
}

std::vector<std::string> StorageDevice::list_sets() {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  struct Collected {
    std::vector<std::string> names;
    bool out_of_memory = false;
  } collected;
  // A C callback: nothing may be thrown through the plugin's frames.
  const sbx_set_name_fn add = [](void* ctx, sbx_str name) noexcept {
    auto* into = static_cast<Collected*>(ctx);
    try {
      into->names.emplace_back(name.data ? name.data : "", name.data ? name.len : 0);
    } catch (...) {
      into->out_of_memory = true;
    }
  };
  check(plugin, "list sets",
        call_plugin([&] { return plugin.storage.list_sets(device_->device, add, &collected); }));
  if (collected.out_of_memory) throw std::bad_alloc();
  return std::move(collected.names);
}

// ---------------------------------------------------------------------------------------------- registry
std::unique_ptr<StorageDevice> Registry::open_storage(std::string_view type,
                                                      const nlohmann::json& config) const {
  auto handle = std::make_shared<detail::DeviceHandle>(require(SBX_KIND_STORAGE, type));
  const detail::LoadedPlugin& plugin = *handle->plugin;
  const std::string text = detail::config_text(plugin, config, "open device");
  // Taken only on success: a failing plugin may have written anything to *out.
  sbx_storage_device* device = nullptr;
  check(plugin, "open device", call_plugin([&] { return plugin.storage.open(to_str(text), &device); }));
  if (!device) fail(plugin, SBX_ERR_INTERNAL, "open device", "returned success but no device");
  handle->device = device;
  return std::unique_ptr<StorageDevice>(new StorageDevice(std::move(handle)));
}

}  // namespace sbx::plugins
