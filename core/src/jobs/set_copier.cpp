// Writes a new set from versions other sets already hold: the shared engine of synthetic fulls and
// duplicates. Every version is verified (path, length, SHA-256) as it is read, so a copy never carries damage
// forward; the catalog begins the set first and completes it last, as a backup does.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "internal.hpp"

namespace sbx::service::detail {
namespace {

constexpr size_t kCatalogBatch = 5000;

// Thrown inside a read callback to make the device stop once the copy is already lost.
struct StopReading : std::runtime_error {
  StopReading() : std::runtime_error("the copy already failed") {}
};

class CopyConsumer : public VersionConsumer {
 public:
  CopyConsumer(plugins::StorageWriter& writer, catalog::Catalog& catalog, int64_t set_id, CopiedSet& out,
               ProgressTicker& ticker, const std::string& phase)
      : writer_(writer),
        catalog_(catalog),
        set_id_(set_id),
        out_(out),
        ticker_(ticker),
        info_{phase, 0, 0, {}} {}

  void entry(const catalog::FileVersion&, const sdk::Entry& entry) override {
    guard([&] {
      writer_.write_entry(entry.as_c());
      info_.current = entry.path;
    });
  }
  void data(std::string_view bytes) override {
    guard([&] {
      writer_.write_data(bytes);
      out_.bytes += bytes.size();
      info_.bytes = out_.bytes;
      ticker_.tick(info_);
    });
  }
  void end(const catalog::FileVersion& version) override {
    guard([&] {
      catalog::FileVersion copied = version;
      copied.set_id = set_id_;
      copied.locator = writer_.end_entry();
      copied.seq = next_seq_++;
      batch_.push_back(std::move(copied));
      ++out_.entries;
      info_.files = out_.entries;
      ticker_.tick(info_);
      if (batch_.size() >= kCatalogBatch) flush();
    });
  }
  void damaged(const catalog::FileVersion& version, const std::string& problem) override {
    if (failure_) return;
    failure_ = "source set " + std::to_string(version.set_id) + " is damaged at /" + printable(version.path) +
               ": " + problem;
  }

  // A dedup device already holds the entry: the new set names it, no data moves.
  void linked(const catalog::FileVersion& version, std::string locator) {
    catalog::FileVersion copied = version;
    copied.set_id = set_id_;
    copied.locator = std::move(locator);
    copied.seq = next_seq_++;
    batch_.push_back(std::move(copied));
    ++out_.entries;
    ++out_.linked;
    if (batch_.size() >= kCatalogBatch) flush();
  }

  // A deletion marker has no data: it goes to the catalog as it is.
  void marker(const catalog::FileVersion& version) {
    catalog::FileVersion copied = version;
    copied.set_id = set_id_;
    batch_.push_back(std::move(copied));
    if (batch_.size() >= kCatalogBatch) flush();
  }
  void flush() {
    if (batch_.empty()) return;
    catalog_.add_file_versions(set_id_, batch_);
    batch_.clear();
  }
  // The first problem: a write-side error, else the first damaged source version.
  const std::optional<std::string>& failure() const { return failure_; }

 private:
  template <typename Body>
  void guard(const Body& body) {
    if (failure_) throw StopReading();
    try {
      body();
    } catch (const std::exception& e) {
      failure_ = e.what();
      throw;
    }
  }

  plugins::StorageWriter& writer_;
  catalog::Catalog& catalog_;
  int64_t set_id_;
  CopiedSet& out_;
  ProgressTicker& ticker_;
  ProgressInfo info_;
  std::vector<catalog::FileVersion> batch_;
  uint64_t next_seq_ = 0;
  std::optional<std::string> failure_;
};

}  // namespace

std::string new_store_name(int64_t started_ns) {
  std::string stamp = format_time(started_ns);
  stamp.erase(std::remove_if(stamp.begin(), stamp.end(), [](char c) { return c == '-' || c == ':'; }),
              stamp.end());
  std::random_device random;
  char suffix[17];
  snprintf(suffix, sizeof suffix, "%08x%08x", random(), random());
  return "set-" + stamp + "-" + suffix;
}

void discard_new_set(catalog::Catalog& catalog, plugins::StorageDevice* device, int64_t set_id,
                     const std::string& store_name) {
  try {
    if (device) device->delete_set(store_name);
  } catch (const std::exception& inner) {
    spdlog::warn("could not delete the data of discarded set {} ({}): {}", set_id, store_name, inner.what());
  }
  try {
    catalog.discard_set(set_id);
  } catch (const std::exception& inner) {
    spdlog::error("could not discard set {}: {}", set_id, inner.what());
  }
}

CopiedSet write_set_from(Site& site, const catalog::Device& device_row, catalog::BackupSet target,
                         const std::vector<CopyGroup>& groups, uint64_t warnings,
                         std::optional<int64_t> fulfils, const ProgressFn& progress,
                         const std::string& phase) {
  catalog::Catalog& catalog = site.catalog();
  CopiedSet out;
  target.device_id = device_row.id;
  target.state = "writing";
  // Named by the moment it is written, not the moment it represents, so names stay unique on the device.
  target.store_name = new_store_name(now_ns());
  out.set_id = catalog.begin_set(target);
  if (target.job_id) catalog.set_job_set(*target.job_id, out.set_id);

  std::unique_ptr<plugins::StorageDevice> device;
  bool committed = false;
  try {
    device = site.open_device(device_row);
    auto writer = device->begin_set(target.store_name);
    ProgressTicker ticker(progress);
    CopyConsumer consumer(*writer, catalog, out.set_id, out, ticker, phase);
    std::map<int64_t, std::unique_ptr<plugins::StorageDevice>> source_devices;
    for (const auto& group : groups) {
      std::vector<const catalog::FileVersion*> with_data;
      for (const auto* version : group.versions) {
        if (version->deleted)
          consumer.marker(*version);
        else
          with_data.push_back(version);
      }
      // On the dedup device that holds them, entries are linked: a synthetic full costs metadata only.
      if (group.source.device_id == device_row.id && device->deduplicates()) {
        for (const auto* version : with_data) consumer.linked(*version, writer->link_entry(version->locator));
        continue;
      }
      auto& source_device = source_devices[group.source.device_id];
      if (!source_device) source_device = site.open_device(catalog.device(group.source.device_id));
      read_versions(*source_device, group.source, with_data, consumer);
      if (consumer.failure()) throw ServiceError(*consumer.failure());
    }
    consumer.flush();
    sbx_set_stats stats = writer->commit();
    committed = true;
    out.stored_bytes = stats.stored_bytes;
    // The copy and the plan it fulfils become true together: expiry trusts a done plan to mean a live copy.
    catalog.transaction([&] {
      catalog.complete_set(out.set_id, out.entries, out.bytes, out.stored_bytes, warnings);
      if (fulfils) catalog.update_copy(*fulfils, "done", target.job_id, out.set_id, "");
    });
  } catch (const std::exception& e) {
    discard_new_set(catalog, committed ? device.get() : nullptr, out.set_id, target.store_name);
    throw ServiceError(e.what());
  }
  return out;
}

}  // namespace sbx::service::detail
