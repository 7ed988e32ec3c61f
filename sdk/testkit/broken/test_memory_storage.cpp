// test-memory: a valid storage plugin that keeps sets in memory, the good control for the loader tests and
// a device the host adapters can be exercised against. Config: {"capacity": bytes (0 = unlimited),
// "fail_open": "message"} where fail_open makes open fail with that message, to test error reporting.
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <strongbox/sdk/plugin.hpp>
#include <vector>

namespace {

using sbx::sdk::Error;

struct StoredEntry {
  sbx::sdk::Entry meta;
  std::string data;
};

struct StoredSet {
  std::vector<StoredEntry> entries;
  uint64_t bytes = 0;
};

std::string in_quotes(std::string_view text) {
  return "'" + std::string(text) + "'";
}

class MemoryDevice;

class MemoryWriter : public sbx::sdk::StorageWriter {
 public:
  MemoryWriter(MemoryDevice& device, std::string name) : device_(device), name_(std::move(name)) {}
  void write_entry(const sbx_entry& entry) override;
  void write_data(std::string_view data) override;
  sbx::sdk::Locator end_entry() override;
  sbx_set_stats commit() override;
  void abort() noexcept override {}

 private:
  MemoryDevice& device_;
  std::string name_;
  StoredSet pending_;
  bool in_entry_ = false;
};

class MemoryReader : public sbx::sdk::StorageReader {
 public:
  explicit MemoryReader(std::shared_ptr<const StoredSet> set) : set_(std::move(set)) {}

  void read_entries(std::span<const sbx_bytes> locators, const sbx_entry_sink& sink) override {
    constexpr size_t kChunk = 64 * 1024;
    for (size_t i = 0; i < locators.size(); ++i) {
      uint64_t index = 0;
      if (locators[i].len != sizeof index) {
        static const std::string message = "locator is not 8 bytes";
        sbx::sdk::check_sink(sink.on_entry_error(sink.ctx, i, SBX_ERR_CORRUPT, sbx::sdk::make_str(message)),
                             "on_entry_error");
        continue;
      }
      std::memcpy(&index, locators[i].data, sizeof index);
      if (index >= set_->entries.size()) {
        const std::string message = "locator points at entry " + std::to_string(index) + " of " +
                                    std::to_string(set_->entries.size());
        sbx::sdk::check_sink(sink.on_entry_error(sink.ctx, i, SBX_ERR_CORRUPT, sbx::sdk::make_str(message)),
                             "on_entry_error");
        continue;
      }
      const StoredEntry& stored = set_->entries[index];
      const bool metadata_only =
          sbx::sdk::check_sink(sink.on_entry(sink.ctx, &stored.meta.as_c()), "on_entry") == SBX_SKIP;
      for (size_t offset = 0; !metadata_only && offset < stored.data.size(); offset += kChunk) {
        const std::string_view chunk = std::string_view(stored.data).substr(offset, kChunk);
        sbx::sdk::check_sink(sink.on_data(sink.ctx, sbx::sdk::make_bytes(chunk)), "on_data");
      }
      sbx::sdk::check_sink(sink.on_entry_end(sink.ctx), "on_entry_end");
    }
  }

 private:
  std::shared_ptr<const StoredSet> set_;
};

class MemoryDevice : public sbx::sdk::StorageDevice {
 public:
  explicit MemoryDevice(std::string_view config_json) {
    nlohmann::json config;
    try {
      config = nlohmann::json::parse(config_json);
    } catch (const nlohmann::json::exception& e) {
      throw Error(SBX_ERR_INVALID_ARGUMENT, std::string("configuration is not JSON: ") + e.what());
    }
    if (!config.is_object()) throw Error(SBX_ERR_INVALID_ARGUMENT, "configuration is not a JSON object");
    if (config.contains("fail_open")) throw Error(SBX_ERR_PERMISSION, config["fail_open"].get<std::string>());
    capacity_ = config.value("capacity", uint64_t{0});
    sbx::sdk::log(SBX_LOG_INFO, "opened a memory device with capacity " + std::to_string(capacity_));
  }

  sbx_storage_info info() override {
    sbx_storage_info info{};
    info.struct_size = sizeof info;
    info.total_bytes = capacity_;
    info.free_bytes = capacity_ ? capacity_ - used_ : 0;
    info.used_bytes = used_;
    info.online = 1;
    return info;
  }

  std::unique_ptr<sbx::sdk::StorageWriter> begin_set(std::string_view name) override {
    if (name.empty()) throw Error(SBX_ERR_INVALID_ARGUMENT, "a set needs a name");
    if (sets_.count(std::string(name)))
      throw Error(SBX_ERR_INVALID_ARGUMENT, "set " + in_quotes(name) + " exists");
    return std::make_unique<MemoryWriter>(*this, std::string(name));
  }

  std::unique_ptr<sbx::sdk::StorageReader> open_set(std::string_view name) override {
    const auto found = sets_.find(std::string(name));
    if (found == sets_.end()) throw Error(SBX_ERR_NOT_FOUND, "no set named " + in_quotes(name));
    return std::make_unique<MemoryReader>(found->second);
  }

  void delete_set(std::string_view name) override {
    const auto found = sets_.find(std::string(name));
    if (found == sets_.end()) throw Error(SBX_ERR_NOT_FOUND, "no set named " + in_quotes(name));
    used_ -= found->second->bytes;
    sets_.erase(found);
  }

  void list_sets(const std::function<void(std::string_view)>& fn) override {
    for (const auto& [name, set] : sets_) fn(name);
  }

  // For the writer: bytes a set may still take.
  void reserve(uint64_t already_pending, size_t more) const {
    if (capacity_ && used_ + already_pending + more > capacity_) {
      throw Error(SBX_ERR_NO_SPACE, "memory device full: capacity " + std::to_string(capacity_) + " bytes, " +
                                        std::to_string(used_ + already_pending) + " in use");
    }
  }

  void add(const std::string& name, StoredSet set) {
    if (sets_.count(name)) throw Error(SBX_ERR_INVALID_ARGUMENT, "set " + in_quotes(name) + " exists");
    used_ += set.bytes;
    sets_.emplace(name, std::make_shared<const StoredSet>(std::move(set)));
  }

 private:
  uint64_t capacity_ = 0;
  uint64_t used_ = 0;
  std::map<std::string, std::shared_ptr<const StoredSet>> sets_;
};

void MemoryWriter::write_entry(const sbx_entry& entry) {
  if (in_entry_) throw Error(SBX_ERR_INVALID_ARGUMENT, "the previous entry was not ended");
  pending_.entries.push_back({sbx::sdk::Entry::from(entry), {}});
  in_entry_ = true;
}

void MemoryWriter::write_data(std::string_view data) {
  if (!in_entry_) throw Error(SBX_ERR_INVALID_ARGUMENT, "data outside an entry");
  device_.reserve(pending_.bytes, data.size());
  pending_.entries.back().data.append(data);
  pending_.bytes += data.size();
}

sbx::sdk::Locator MemoryWriter::end_entry() {
  if (!in_entry_) throw Error(SBX_ERR_INVALID_ARGUMENT, "no entry to end");
  in_entry_ = false;
  const uint64_t index = pending_.entries.size() - 1;
  sbx::sdk::Locator locator(sizeof index);
  std::memcpy(locator.data(), &index, sizeof index);
  return locator;
}

sbx_set_stats MemoryWriter::commit() {
  if (in_entry_) throw Error(SBX_ERR_INVALID_ARGUMENT, "the last entry was not ended");
  sbx_set_stats stats{};
  stats.struct_size = sizeof stats;
  stats.stored_bytes = pending_.bytes;
  stats.entries = pending_.entries.size();
  device_.add(name_, std::move(pending_));
  return stats;
}

}  // namespace

SBX_DEFINE_PLUGIN(SBX_KIND_STORAGE, "test-memory", "1.2.3",
                  "sets kept in memory, for the plugin host's tests", SBX_CAP_RANDOM_ACCESS | SBX_CAP_DELETE,
                  sbx::sdk::storage_vtable<MemoryDevice>())
