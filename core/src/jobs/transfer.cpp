// Transfer drives: sets leave a dedup device for a removable path (export) and enter another dedup device
// of the same domain from it (import), so an MSP seeds a remote store by shipping a disk instead of a month
// of uploads. The path holds a store of the device's own type, joined to its domain, and the listing: what
// the catalog knows of each set (its fields and every file version), so the importing site can restore from
// the sets without the exporting site's catalog. The listing is the one entry of a set of the drive's store,
// sealed by the domain's keys as the chunks are, so a drive damaged or altered in transit is refused at
// import instead of cataloguing files the sets do not hold; strongbox-transfer.json names that set. Chunks
// move by the optimized protocol in both directions, so an export or import carries only what the other side
// lacks.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <fstream>
#include <map>

#include "internal.hpp"

namespace sbx::service {
namespace {

constexpr const char* kListingFile = "strongbox-transfer.json";
constexpr const char* kListingFormat = "strongbox-transfer";
constexpr int kListingVersion = 2;
constexpr const char* kListingEntryPath = "strongbox-transfer-listing.json";
constexpr const char* kListingSetPrefix = "strongbox-transfer-listing-";

std::string hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string unhex(const std::string& text, const char* field) {
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (text.size() % 2) throw ServiceError(std::string("transfer listing: \"") + field + "\" is not hex");
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = value(text[i]), lo = value(text[i + 1]);
    if (hi < 0 || lo < 0) throw ServiceError(std::string("transfer listing: \"") + field + "\" is not hex");
    out.push_back(char(hi * 16 + lo));
  }
  return out;
}

nlohmann::json version_json(const catalog::FileVersion& v) {
  return {{"path", hex(v.path)},
          {"type", v.type},
          {"deleted", v.deleted},
          {"size", v.size},
          {"mode", v.mode},
          {"uid", v.uid},
          {"gid", v.gid},
          {"user", hex(v.user_name)},
          {"group", hex(v.group_name)},
          {"mtime_ns", v.mtime_ns},
          {"ctime_ns", v.ctime_ns},
          {"device", v.device},
          {"inode", v.inode},
          {"nlink", v.nlink},
          {"rdev", v.rdev},
          {"link_target", hex(v.link_target)},
          {"xattrs", hex(v.xattrs)},
          {"extents", hex(v.extents)},
          {"content_hash", hex(v.content_hash)},
          {"locator", hex(v.locator)},
          {"seq", v.seq}};
}

catalog::FileVersion version_from(const nlohmann::json& j) {
  catalog::FileVersion v;
  v.path = unhex(j.at("path").get<std::string>(), "path");
  v.type = j.at("type").get<int>();
  v.deleted = j.at("deleted").get<bool>();
  v.size = j.at("size").get<uint64_t>();
  v.mode = j.at("mode").get<uint32_t>();
  v.uid = j.at("uid").get<uint32_t>();
  v.gid = j.at("gid").get<uint32_t>();
  v.user_name = unhex(j.at("user").get<std::string>(), "user");
  v.group_name = unhex(j.at("group").get<std::string>(), "group");
  v.mtime_ns = j.at("mtime_ns").get<int64_t>();
  v.ctime_ns = j.at("ctime_ns").get<int64_t>();
  v.device = j.at("device").get<uint64_t>();
  v.inode = j.at("inode").get<uint64_t>();
  v.nlink = j.at("nlink").get<uint64_t>();
  v.rdev = j.at("rdev").get<uint64_t>();
  v.link_target = unhex(j.at("link_target").get<std::string>(), "link_target");
  v.xattrs = unhex(j.at("xattrs").get<std::string>(), "xattrs");
  v.extents = unhex(j.at("extents").get<std::string>(), "extents");
  v.content_hash = unhex(j.at("content_hash").get<std::string>(), "content_hash");
  v.locator = unhex(j.at("locator").get<std::string>(), "locator");
  v.seq = j.at("seq").get<uint64_t>();
  if (v.type < SBX_ENTRY_FILE || v.type > SBX_ENTRY_BLOCK_DEVICE)
    throw ServiceError("transfer listing: a file version has an unknown type");
  return v;
}

// The transfer store is a device of the source's type in DIR, joined to the source's dedup domain.
nlohmann::json transfer_store_settings(const catalog::Device& device, const std::string& dir, bool join) {
  nlohmann::json settings = device.settings;
  if (join)
    settings["domain_from"] = settings.value("path", std::string());
  else
    settings.erase("domain_from");
  settings["path"] = dir;
  return settings;
}

std::string domain_hex(plugins::StorageDevice& device) {
  sbx_dedup_info info = device.dedup_info();
  return hex(std::string_view(reinterpret_cast<const char*>(info.domain), sizeof info.domain));
}

// strongbox-transfer.json: what the drive holds (device type, domain) and where its sealed listing is.
nlohmann::json read_pointer(const std::string& dir) {
  std::ifstream in(dir + "/" + kListingFile);
  if (!in) return nlohmann::json();
  nlohmann::json pointer = nlohmann::json::parse(in, nullptr, false);
  if (pointer.is_discarded() || !pointer.is_object() || pointer.value("format", "") != kListingFormat)
    throw ServiceError(dir + "/" + kListingFile + " is not a strongbox transfer listing");
  if (pointer.value("version", 0) != kListingVersion)
    throw ServiceError(dir + "/" + kListingFile + " has version " +
                       pointer.value("version", nlohmann::json()).dump() + "; this strongbox reads version " +
                       std::to_string(kListingVersion));
  return pointer;
}

// Collects the listing set's one entry; anything the reader finds wrong with it is kept as the problem.
class ListingReader : public detail::VersionConsumer {
 public:
  std::string text, problem;
  void entry(const catalog::FileVersion&, const sdk::Entry&) override {}
  void data(std::string_view bytes) override { text.append(bytes); }
  void end(const catalog::FileVersion&) override {}
  void damaged(const catalog::FileVersion&, const std::string& why) override { problem = why; }
};

// The listing ({"sets": [...]}) as the drive's store holds it, checked by the store's keys; an empty one
// when the drive holds no transfer yet.
nlohmann::json read_listing(const std::string& dir, const nlohmann::json& pointer,
                            plugins::StorageDevice& drive) {
  if (pointer.is_null()) return {{"sets", nlohmann::json::array()}};
  const std::string where = "the transfer listing in " + dir;
  catalog::BackupSet listing_set;
  catalog::FileVersion version;
  try {
    listing_set.store_name = pointer.at("listing_set").get<std::string>();
    version.locator = unhex(pointer.at("listing_locator").get<std::string>(), "listing_locator");
  } catch (const nlohmann::json::exception&) {
    throw ServiceError(dir + "/" + kListingFile + " does not name its listing set");
  }
  if (listing_set.store_name.rfind(kListingSetPrefix, 0) != 0)
    throw ServiceError(dir + "/" + kListingFile + " names set '" + printable(listing_set.store_name) +
                       "' as its listing, which is not a listing set");
  version.path = kListingEntryPath;
  version.type = SBX_ENTRY_FILE;
  ListingReader reader;
  detail::read_versions(drive, listing_set, {&version}, reader);
  if (!reader.problem.empty()) throw ServiceError(where + " is damaged or was altered: " + reader.problem);
  nlohmann::json listing = nlohmann::json::parse(reader.text, nullptr, false);
  if (listing.is_discarded() || !listing.is_object() || !listing.contains("sets") ||
      !listing["sets"].is_array())
    throw ServiceError(where + " holds no list of sets");
  return listing;
}

// Seals the listing into a new set of the drive's store, then points strongbox-transfer.json at it; the
// listings it replaces are deleted last, so a drive unplugged at any moment holds one whole listing.
void write_listing(const std::string& dir, nlohmann::json pointer, const nlohmann::json& listing,
                   plugins::StorageDevice& drive) {
  const std::string text = listing.dump();
  const std::string old_set = pointer.is_null() ? "" : pointer.value("listing_set", "");
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string name =
      kListingSetPrefix + std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
  sdk::Entry entry;
  entry.type = SBX_ENTRY_FILE;
  entry.path = kListingEntryPath;
  entry.size = text.size();
  entry.mode = 0600;
  auto writer = drive.begin_set(name);
  writer->write_entry(entry.as_c());
  constexpr size_t kPiece = 1 << 20;
  for (size_t at = 0; at < text.size(); at += kPiece)
    writer->write_data(std::string_view(text).substr(at, kPiece));
  const std::string locator = writer->end_entry();
  writer->commit();
  pointer["listing_set"] = name;
  pointer["listing_locator"] = hex(locator);
  // Durable before export reports success: a drive unplugged afterwards must hold what export reported.
  detail::write_file_durably(std::filesystem::path(dir) / kListingFile, pointer.dump(2) + "\n");
  // Every other listing set goes, not only the one the pointer named: an export killed between sealing its
  // listing and pointing at it left one that nothing names.
  std::vector<std::string> stale;
  if (!old_set.empty() && old_set != name) stale.push_back(old_set);
  try {
    for (auto& set : drive.list_sets())
      if (set.rfind(kListingSetPrefix, 0) == 0 && set != name && set != old_set)
        stale.push_back(std::move(set));
  } catch (const std::exception& e) {
    spdlog::warn("transfer drive {}: cannot list its sets to find listings left by an interrupted export: {}",
                 dir, e.what());
  }
  for (const auto& set : stale) {
    try {
      drive.delete_set(set);
    } catch (const std::exception& e) {
      spdlog::warn("transfer drive {}: the old listing stays as set {}: {}", dir, set, e.what());
    }
  }
}

// The store name of the base set's instance on `device_id`: an incremental names its base's original, which
// may live elsewhere while a copy of it is the one exported beside the incremental.
std::string base_instance_on(catalog::Catalog& catalog, int64_t base_set_id, int64_t device_id) {
  auto base = catalog.find_set(base_set_id);
  if (!base) return "";
  const int64_t original = base->copy_of.value_or(base->id);
  if (auto first = catalog.find_set(original);
      first && first->device_id == device_id && first->state == "complete")
    return first->store_name;
  for (const auto& copy : catalog.copies_of_set(original))
    if (copy.device_id == device_id && copy.state == "complete") return copy.store_name;
  return base->store_name;
}

}  // namespace

TransferResult Site::transfer_export(const std::vector<int64_t>& set_ids, const std::string& dir,
                                     const ProgressFn& progress) {
  auto started = std::chrono::steady_clock::now();
  if (set_ids.empty()) throw ServiceError("name the sets to export", kExitUsage);
  if (dir.empty() || dir.front() != '/')
    throw ServiceError("the transfer directory must be an absolute path", kExitUsage);
  recover_if_idle();
  detail::SiteLock lock(dir_, false);
  std::vector<catalog::BackupSet> sets;
  for (int64_t id : set_ids) {
    auto set = catalog_->find_set(id);
    if (!set || set->state != "complete")
      throw ServiceError("no complete backup set with id " + std::to_string(id), kExitUsage);
    sets.push_back(*set);
  }
  const catalog::Device source_row = catalog_->device(sets.front().device_id);
  auto source = open_device(source_row);
  if (!source->deduplicates())
    throw ServiceError("set " + std::to_string(sets.front().id) + " lives on device '" + source_row.name +
                           "', which does not deduplicate; transfer drives carry sets of dedup devices",
                       kExitUsage);
  for (const auto& set : sets)
    if (set.device_id != source_row.id)
      throw ServiceError("sets " + std::to_string(sets.front().id) + " and " + std::to_string(set.id) +
                             " live on different devices; export the sets of one device at a time",
                         kExitUsage);
  struct stat st;
  const std::string parent = dir.substr(0, std::max<size_t>(dir.find_last_of('/'), 1));
  if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw ServiceError(
        "cannot export to " + dir + ": " + parent + " is not a directory (is the drive mounted?)",
        kExitUsage);

  TransferResult result;
  result.direction = "export";
  result.dir = dir;
  result.device = source_row.name;
  result.job_id = begin_job("transfer-export", {{"sets", set_ids}, {"dir", dir}}, {});
  try {
    auto drive =
        registry_->open_or_create_storage(source_row.type, transfer_store_settings(source_row, dir, true));
    if (domain_hex(*drive) != domain_hex(*source))
      throw ServiceError(dir + " holds a transfer of another dedup domain; use an empty directory");
    nlohmann::json pointer = read_pointer(dir);
    nlohmann::json listing = read_listing(dir, pointer, *drive);
    if (pointer.is_null())
      pointer = {{"format", kListingFormat},
                 {"version", kListingVersion},
                 {"device_type", source_row.type},
                 {"domain", domain_hex(*source)}};
    std::map<std::string, size_t> listed;
    for (size_t i = 0; i < listing["sets"].size(); ++i) listed[listing["sets"][i].at("store_name")] = i;
    for (const auto& set : sets) {
      auto sent = detail::transfer_set_chunks(*registry_, *source, *drive, set.store_name, progress);
      result.chunks_total += sent.chunks_total;
      result.chunks_sent += sent.chunks_sent;
      result.bytes_sent += sent.bytes_sent;
      nlohmann::json versions = nlohmann::json::array();
      catalog_->for_each_file(set.id,
                              [&](const catalog::FileVersion& v) { versions.push_back(version_json(v)); });
      std::string base_store;
      if (set.base_set_id) base_store = base_instance_on(*catalog_, *set.base_set_id, source_row.id);
      nlohmann::json entry = {{"store_name", set.store_name}, {"original_id", set.copy_of.value_or(set.id)},
                              {"level", set.level},           {"base_store_name", base_store},
                              {"series", set.series},         {"sources", set.sources},
                              {"started_ns", set.started_ns}, {"file_count", set.file_count},
                              {"bytes", set.bytes},           {"stored_bytes", set.stored_bytes},
                              {"warnings", set.warnings},     {"agent", set.agent},
                              {"definition", set.definition}, {"synthetic", set.synthetic},
                              {"versions", versions}};
      if (auto it = listed.find(set.store_name); it != listed.end())
        listing["sets"][it->second] = entry;
      else
        listing["sets"].push_back(entry);
      result.sets.push_back(set.id);
      catalog_->append_job_log(result.job_id, "info",
                               "set " + std::to_string(set.id) + ": sent " +
                                   std::to_string(sent.chunks_sent) + " of " +
                                   std::to_string(sent.chunks_total) + " chunks to " + dir);
    }
    write_listing(dir, pointer, listing, *drive);
  } catch (const std::exception& e) {
    std::string message = "export to " + dir + " failed: " + e.what();
    catalog_->append_job_log(result.job_id, "error", message);
    catalog_->finish_job(result.job_id, "failed", message, nlohmann::json::object());
    throw ServiceError(message);
  }
  result.seconds = detail::seconds_since(started);
  catalog_->finish_job(result.job_id, "succeeded",
                       "exported " + std::to_string(result.sets.size()) + " sets to " + dir,
                       result.to_json());
  return result;
}

TransferResult Site::transfer_import(const std::string& dir, const std::string& device_name,
                                     const std::string& key_file, const ProgressFn& progress) {
  auto started = std::chrono::steady_clock::now();
  recover_if_idle();
  detail::SiteLock lock(dir_, false);
  auto device_row = catalog_->find_device(device_name);
  if (!device_row)
    throw ServiceError("no device named '" + device_name + "' (see `strongbox devices list`)", kExitUsage);
  const nlohmann::json pointer = read_pointer(dir);
  if (pointer.is_null())
    throw ServiceError(dir + " holds no strongbox transfer (" + kListingFile + " is missing)", kExitUsage);
  if (pointer.value("device_type", "") != device_row->type)
    throw ServiceError("the transfer in " + dir + " holds sets of '" + pointer.value("device_type", "") +
                           "' devices; device '" + device_name + "' is of type '" + device_row->type + "'",
                       kExitUsage);
  auto target = open_device(*device_row);
  if (!target->deduplicates())
    throw ServiceError("device '" + device_name + "' does not deduplicate; import into a dedup device",
                       kExitUsage);
  if (pointer.value("domain", "") != domain_hex(*target))
    throw ServiceError("the transfer in " + dir + " belongs to another dedup domain than device '" +
                           device_name + "'; create the device with the domain of the exporting device",
                       kExitUsage);
  nlohmann::json drive_settings = transfer_store_settings(*device_row, dir, false);
  if (!key_file.empty()) drive_settings["key_file"] = key_file;

  TransferResult result;
  result.direction = "import";
  result.dir = dir;
  result.device = device_name;
  result.job_id = begin_job("transfer-import", {{"dir", dir}, {"device", device_name}}, {});
  try {
    auto drive = registry_->open_storage(device_row->type, drive_settings);
    const nlohmann::json listing = read_listing(dir, pointer, *drive);
    // Sets by store name: what this site already has, on the target device and elsewhere.
    std::map<std::string, catalog::BackupSet> on_target, anywhere;
    std::map<std::string, catalog::BackupSet> in_flight;  // on the target, still being written
    for (const auto& s : catalog_->list_sets()) {
      if (s.store_name.empty()) continue;
      if (s.state == "writing" && s.device_id == device_row->id) in_flight[s.store_name] = s;
      if (s.state != "complete") continue;
      if (s.device_id == device_row->id) on_target[s.store_name] = s;
      anywhere.emplace(s.store_name, s);
    }
    for (const auto& entry : listing.at("sets")) {
      const std::string store_name = entry.at("store_name").get<std::string>();
      if (auto writing = in_flight.find(store_name); writing != in_flight.end())
        throw ServiceError(
            "set " + store_name + " is already being written on device " + device_name + " as set " +
            std::to_string(writing->second.id) +
            " (by another import, or left by one that was interrupted and is discarded once the "
            "site is idle); run the import again later");
      if (on_target.count(store_name)) {
        catalog_->append_job_log(result.job_id, "info",
                                 "set " + store_name + " is already on device " + device_name);
        continue;
      }
      catalog::BackupSet set;
      set.job_id = result.job_id;
      set.device_id = device_row->id;
      set.store_name = store_name;
      set.state = "writing";
      set.level = entry.at("level").get<std::string>();
      set.series = entry.at("series").get<std::string>();
      set.sources = entry.at("sources").get<std::vector<std::string>>();
      set.started_ns = entry.at("started_ns").get<int64_t>();
      set.agent = entry.at("agent").get<std::string>();
      set.definition = entry.at("definition").get<std::string>();
      set.synthetic = entry.at("synthetic").get<bool>();
      const std::string base_store = entry.at("base_store_name").get<std::string>();
      if (!base_store.empty()) {
        auto base = on_target.find(base_store);
        if (base == on_target.end())
          throw ServiceError("set " + store_name + " is an " + set.level + " whose base set " + base_store +
                             " is neither in the transfer before it nor on device " + device_name +
                             "; export it too");
        set.base_set_id = base->second.id;
      }
      // On the site that made it, an imported set is a copy of its original.
      if (auto original = anywhere.find(store_name); original != anywhere.end())
        set.copy_of = original->second.copy_of.value_or(original->second.id);
      std::vector<catalog::FileVersion> versions;
      for (const auto& v : entry.at("versions")) versions.push_back(version_from(v));
      std::vector<const catalog::FileVersion*> pointers;
      for (const auto& v : versions) pointers.push_back(&v);

      detail::CopiedSet copied;
      copied.set_id = catalog_->begin_set(set);
      bool committed = false;
      try {
        detail::refuse_set_unknown_to_catalog(*target, device_name, store_name);
        auto sent = detail::transfer_set_chunks(*registry_, *drive, *target, store_name, progress);
        committed = true;
        result.chunks_total += sent.chunks_total;
        result.chunks_sent += sent.chunks_sent;
        result.bytes_sent += sent.bytes_sent;
        detail::record_copied_versions(*catalog_, copied, pointers);
        copied.bytes = entry.at("bytes").get<uint64_t>();
        catalog_->complete_set(copied.set_id, copied.entries, copied.bytes, sent.stored_bytes,
                               entry.at("warnings").get<uint64_t>());
      } catch (...) {
        detail::discard_new_set(*catalog_, committed ? target.get() : nullptr, copied.set_id, store_name);
        throw;
      }
      set.id = copied.set_id;
      on_target[store_name] = set;
      result.sets.push_back(copied.set_id);
      catalog_->append_job_log(
          result.job_id, "info",
          "set " + std::to_string(copied.set_id) + " (" + store_name + ") imported on device " + device_name);
    }
  } catch (const nlohmann::json::exception& e) {
    std::string message = "import from " + dir + " failed: the transfer listing is damaged: " + e.what();
    catalog_->finish_job(result.job_id, "failed", message, nlohmann::json::object());
    throw ServiceError(message);
  } catch (const std::exception& e) {
    std::string message = "import from " + dir + " failed: " + e.what();
    catalog_->append_job_log(result.job_id, "error", message);
    catalog_->finish_job(result.job_id, "failed", message, nlohmann::json::object());
    throw ServiceError(message);
  }
  result.seconds = detail::seconds_since(started);
  catalog_->finish_job(result.job_id, "succeeded",
                       "imported " + std::to_string(result.sets.size()) + " sets from " + dir,
                       result.to_json());
  return result;
}

nlohmann::json TransferResult::to_json() const {
  return {{"type", "transfer"},
          {"direction", direction},
          {"job_id", job_id},
          {"dir", dir},
          {"device", device},
          {"sets", sets},
          {"chunks_total", chunks_total},
          {"chunks_sent", chunks_sent},
          {"bytes_sent", bytes_sent},
          {"seconds", seconds}};
}

}  // namespace sbx::service
