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

std::string StorageWriter::link_entry(std::string_view source_locator) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  const std::string what = "link an entry into set " + in_quotes(set_name_);
  require_open_writer(plugin, writer_, what, set_name_);
  if (!plugin.storage.link_entry) fail(plugin, SBX_ERR_UNSUPPORTED, what, "this device cannot link entries");
  uint8_t locator[SBX_LOCATOR_MAX];
  size_t length = 0;
  check(plugin, what, call_plugin([&] {
          return plugin.storage.link_entry(writer_, detail::to_bytes(source_locator), locator, &length);
        }));
  if (length > SBX_LOCATOR_MAX)
    fail(plugin, SBX_ERR_INTERNAL, what, "returned a locator longer than SBX_LOCATOR_MAX");
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

// ------------------------------------------------------------------------------------------------- dedup
namespace {

void require_dedup(const detail::LoadedPlugin& plugin, std::string_view what) {
  if (!plugin.has(SBX_CAP_DEDUP) || !plugin.storage.verify_device)
    fail(plugin, SBX_ERR_UNSUPPORTED, what, "this device does not deduplicate");
}

// Collects the bytes a plugin hands to an sbx_bytes_fn; nothing may be thrown through the plugin's frames.
struct CollectedBytes {
  std::string bytes;
  bool out_of_memory = false;
  static sbx_status take(void* ctx, sbx_bytes data) noexcept {
    auto* into = static_cast<CollectedBytes*>(ctx);
    try {
      into->bytes.assign(reinterpret_cast<const char*>(data.data), data.len);
      return SBX_OK;
    } catch (...) {
      into->out_of_memory = true;
      return SBX_ERR_INTERNAL;
    }
  }
};

}  // namespace

bool StorageDevice::deduplicates() const {
  return device_->plugin->has(SBX_CAP_DEDUP) && device_->plugin->storage.verify_device;
}

sbx_dedup_info StorageDevice::dedup_info() {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  require_dedup(plugin, "dedup info");
  sbx_dedup_info info{};
  info.struct_size = sizeof info;
  check(plugin, "dedup info", call_plugin([&] { return plugin.storage.dedup_info(device_->device, &info); }));
  return detail::accept_filled(info, detail::kDedupInfoV1Size, plugin, "dedup info", "sbx_dedup_info");
}

std::vector<ChunkRef> StorageDevice::set_chunks(std::string_view set_name) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  const std::string what = "list the chunks of set " + in_quotes(set_name);
  require_dedup(plugin, what);
  struct Collected {
    std::vector<ChunkRef> chunks;
    bool out_of_memory = false;
  } collected;
  const sbx_chunk_fn add = [](void* ctx, sbx_bytes id, uint64_t stored_bytes) noexcept {
    auto* into = static_cast<Collected*>(ctx);
    try {
      into->chunks.push_back({std::string(reinterpret_cast<const char*>(id.data), id.len), stored_bytes});
    } catch (...) {
      into->out_of_memory = true;
    }
  };
  check(plugin, what, call_plugin([&] {
          return plugin.storage.set_chunks(device_->device, to_str(set_name), add, &collected);
        }));
  if (collected.out_of_memory) throw std::bad_alloc();
  for (const auto& chunk : collected.chunks)
    if (chunk.id.size() != SBX_CHUNK_ID_BYTES)
      fail(plugin, SBX_ERR_INTERNAL, what,
           "named a chunk id of " + std::to_string(chunk.id.size()) + " bytes");
  return std::move(collected.chunks);
}

std::string StorageDevice::read_chunk(std::string_view chunk_id) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  require_dedup(plugin, "read a chunk");
  CollectedBytes collected;
  check(plugin, "read a chunk", call_plugin([&] {
          return plugin.storage.read_chunk(device_->device, detail::to_bytes(chunk_id), &CollectedBytes::take,
                                           &collected);
        }));
  if (collected.out_of_memory) throw std::bad_alloc();
  return std::move(collected.bytes);
}

std::string StorageDevice::read_manifest(std::string_view set_name) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  const std::string what = "read the manifest of set " + in_quotes(set_name);
  require_dedup(plugin, what);
  CollectedBytes collected;
  check(plugin, what, call_plugin([&] {
          return plugin.storage.read_manifest(device_->device, to_str(set_name), &CollectedBytes::take,
                                              &collected);
        }));
  if (collected.out_of_memory) throw std::bad_alloc();
  return std::move(collected.bytes);
}

std::unique_ptr<StorageReceiver> StorageDevice::begin_receive() {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  require_dedup(plugin, "begin receiving");
  sbx_storage_receiver* receiver = nullptr;
  check(plugin, "begin receiving",
        call_plugin([&] { return plugin.storage.begin_receive(device_->device, &receiver); }));
  if (!receiver) fail(plugin, SBX_ERR_INTERNAL, "begin receiving", "returned success but no receiver");
  try {
    return std::unique_ptr<StorageReceiver>(new StorageReceiver(device_, receiver));
  } catch (...) {
    call_plugin_void([&] { plugin.storage.close_receiver(receiver); });
    throw;
  }
}

sbx_gc_stats StorageDevice::collect_garbage(const std::vector<std::string>& live_sets, bool dry_run) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  require_dedup(plugin, "collect garbage");
  std::vector<sbx_str> names;
  names.reserve(live_sets.size());
  for (const auto& name : live_sets) names.push_back(to_str(name));
  sbx_gc_stats stats{};
  stats.struct_size = sizeof stats;
  check(plugin, "collect garbage", call_plugin([&] {
          return plugin.storage.collect_garbage(device_->device, names.data(), names.size(), dry_run ? 1 : 0,
                                                &stats);
        }));
  return detail::accept_filled(stats, detail::kGcStatsV1Size, plugin, "collect garbage", "sbx_gc_stats");
}

sbx_verify_stats StorageDevice::verify_device(const sbx_verify_options& options, const DamageFn& damage) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  require_dedup(plugin, "verify the device");
  struct Reported {
    const DamageFn& damage;
    bool failed = false;
  } reported{damage};
  const sbx_damage_fn report = [](void* ctx, sbx_str set, sbx_bytes locator, sbx_str path,
                                  sbx_str problem) noexcept {
    auto* into = static_cast<Reported*>(ctx);
    try {
      into->damage(std::string(set.data ? set.data : "", set.data ? set.len : 0),
                   std::string(locator.data ? reinterpret_cast<const char*>(locator.data) : "",
                               locator.data ? locator.len : 0),
                   std::string(path.data ? path.data : "", path.data ? path.len : 0),
                   detail::printable(
                       std::string_view(problem.data ? problem.data : "", problem.data ? problem.len : 0)));
    } catch (...) {
      into->failed = true;
    }
  };
  sbx_verify_stats stats{};
  stats.struct_size = sizeof stats;
  check(plugin, "verify the device", call_plugin([&] {
          return plugin.storage.verify_device(device_->device, &options, report, &reported, &stats);
        }));
  if (reported.failed) throw std::runtime_error("could not record a problem verify reported");
  return detail::accept_filled(stats, detail::kVerifyStatsV1Size, plugin, "verify the device",
                               "sbx_verify_stats");
}

// ---------------------------------------------------------------------------------------------- receiver
StorageReceiver::StorageReceiver(std::shared_ptr<detail::DeviceHandle> device, sbx_storage_receiver* receiver)
    : device_(std::move(device)), receiver_(receiver) {}

StorageReceiver::~StorageReceiver() {
  call_plugin_void([&] { device_->plugin->storage.close_receiver(receiver_); });
}

std::vector<bool> StorageReceiver::missing_chunks(const std::vector<std::string>& ids) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  std::vector<sbx_bytes> views;
  views.reserve(ids.size());
  for (const auto& id : ids) views.push_back(detail::to_bytes(id));
  std::vector<uint8_t> flags(ids.size(), 2);
  check(plugin, "ask which chunks are missing", call_plugin([&] {
          return plugin.storage.missing_chunks(receiver_, views.data(), views.size(), flags.data());
        }));
  std::vector<bool> missing(ids.size());
  for (size_t i = 0; i < flags.size(); ++i) {
    if (flags[i] > 1) fail(plugin, SBX_ERR_INTERNAL, "ask which chunks are missing", "left an answer unset");
    missing[i] = flags[i] == 1;
  }
  return missing;
}

std::vector<std::string> StorageReceiver::offer_set(std::string_view set_name, std::string_view manifest) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  struct Collected {
    std::vector<std::string> ids;
    bool bad = false;
  } collected;
  const sbx_chunk_fn add = [](void* ctx, sbx_bytes id, uint64_t) noexcept {
    auto* into = static_cast<Collected*>(ctx);
    try {
      if (id.len != SBX_CHUNK_ID_BYTES)
        into->bad = true;
      else
        into->ids.emplace_back(reinterpret_cast<const char*>(id.data), id.len);
    } catch (...) {
      into->bad = true;
    }
  };
  const std::string what = "offer set " + in_quotes(set_name);
  check(plugin, what, call_plugin([&] {
          return plugin.storage.offer_set(receiver_, to_str(set_name), detail::to_bytes(manifest), add,
                                          &collected);
        }));
  if (collected.bad) fail(plugin, SBX_ERR_INTERNAL, what, "named a malformed chunk id");
  return std::move(collected.ids);
}

void StorageReceiver::receive_chunk(std::string_view chunk_id, std::string_view stored) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  check(plugin, "receive a chunk", call_plugin([&] {
          return plugin.storage.receive_chunk(receiver_, detail::to_bytes(chunk_id),
                                              detail::to_bytes(stored));
        }));
}

void StorageReceiver::flush_received() {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  check(plugin, "make received chunks durable",
        call_plugin([&] { return plugin.storage.flush_received(receiver_); }));
}

void StorageReceiver::receive_set(std::string_view set_name, std::string_view manifest) {
  const detail::LoadedPlugin& plugin = *device_->plugin;
  check(plugin, "receive set " + in_quotes(set_name), call_plugin([&] {
          return plugin.storage.receive_set(receiver_, to_str(set_name), detail::to_bytes(manifest));
        }));
}

// ---------------------------------------------------------------------------------------------- registry
std::unique_ptr<StorageDevice> Registry::open_storage(std::string_view type,
                                                      const nlohmann::json& config) const {
  return open_storage_device(type, config, false);
}

std::unique_ptr<StorageDevice> Registry::open_or_create_storage(std::string_view type,
                                                                const nlohmann::json& config) const {
  return open_storage_device(type, config, true);
}

std::unique_ptr<StorageDevice> Registry::open_storage_device(std::string_view type,
                                                             const nlohmann::json& config,
                                                             bool create_if_missing) const {
  auto handle = std::make_shared<detail::DeviceHandle>(require(SBX_KIND_STORAGE, type));
  const detail::LoadedPlugin& plugin = *handle->plugin;
  const std::string text = detail::config_text(plugin, config, "open device");
  // A plugin of ABI 1.1 has no open_or_create: its open makes the store.
  auto open = create_if_missing && plugin.storage.open_or_create ? plugin.storage.open_or_create
                                                                 : plugin.storage.open;
  // Taken only on success: a failing plugin may have written anything to *out.
  sbx_storage_device* device = nullptr;
  check(plugin, "open device", call_plugin([&] { return open(to_str(text), &device); }));
  if (!device) fail(plugin, SBX_ERR_INTERNAL, "open device", "returned success but no device");
  handle->device = device;
  return std::unique_ptr<StorageDevice>(new StorageDevice(std::move(handle)));
}

}  // namespace sbx::plugins
