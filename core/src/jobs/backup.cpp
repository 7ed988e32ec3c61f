// The server side of a backup: picks level and base, runs the agent on the local transport, streams entries
// into the storage device and file versions into the catalog; the catalog commit comes last.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "internal.hpp"

namespace sbx::service {
namespace {

constexpr size_t kCatalogBatch = 5000;

std::string random_suffix() {
  std::random_device rd;
  char buf[9];
  snprintf(buf, sizeof buf, "%08x", rd());
  return buf;
}

catalog::FileVersion version_of(const sdk::Entry& e, int64_t set_id) {
  catalog::FileVersion v;
  v.set_id = set_id;
  v.path = e.path;
  v.type = int(e.type);
  v.size = e.size;
  v.mode = e.mode & 07777;
  v.uid = e.uid;
  v.gid = e.gid;
  v.user_name = e.user_name;
  v.group_name = e.group_name;
  v.mtime_ns = e.mtime_ns;
  v.ctime_ns = e.ctime_ns;
  v.device = e.device;
  v.inode = e.inode;
  v.nlink = e.nlink;
  v.rdev = e.rdev;
  v.link_target = e.link_target;
  const sbx_entry& c = e.as_c();
  v.xattrs = net::encode_xattrs(c.xattrs, c.xattr_count);
  v.extents = net::encode_extents(c.extents, c.extent_count);
  return v;
}

}  // namespace

BackupResult Site::backup(const BackupRequest& request, const ProgressFn& progress) {
  auto started = std::chrono::steady_clock::now();
  if (request.sources.empty()) throw ServiceError("give at least one source to back up", kExitUsage);
  if (request.level != "full" && request.level != "incremental" && request.level != "differential")
    throw ServiceError("level must be full, incremental or differential, not '" + request.level + "'",
                       kExitUsage);
  std::vector<std::string> sources = normalize_sources(request.sources);
  for (const auto& s : sources) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(s, ec)))
      throw ServiceError("source " + s + " does not exist", kExitUsage);
  }
  recover_if_idle();
  detail::SiteLock lock(dir_, false);

  std::string device_name = request.device;
  if (device_name.empty()) {
    auto devices = catalog_->list_devices();
    if (devices.size() == 1)
      device_name = devices[0].name;
    else
      device_name = "disk1";
  }
  auto device_row = catalog_->find_device(device_name);
  if (!device_row)
    throw ServiceError("no device named '" + device_name + "' (see `strongbox devices list`)", kExitUsage);

  BackupResult result;
  const std::string series = series_key(sources);
  result.level = request.level;
  std::vector<catalog::BackupSet> history = catalog_->series_sets(series);
  std::optional<catalog::BackupSet> base;
  if (request.level == "incremental" && !history.empty()) {
    base = history.back();
  } else if (request.level == "differential") {
    for (auto it = history.rbegin(); it != history.rend(); ++it)
      if (it->level == "full") {
        base = *it;
        break;
      }
  }
  if (request.level != "full" && !base) {
    result.note = "no earlier full backup of these sources: taking a full backup instead of " + request.level;
    result.level = "full";
  }

  std::vector<int64_t> chain_ids;
  if (base) {
    for (const auto& s : chain_of(*base)) chain_ids.push_back(s.id);
    result.base_set_id = base->copy_of.value_or(base->id);  // bases name the original set
  }

  nlohmann::json details = {{"sources", sources}, {"level", result.level}, {"device", device_name}};
  result.job_id = begin_job("backup", details, request.job);
  catalog_->set_job_device(result.job_id, device_row->id);
  if (!result.note.empty()) catalog_->append_job_log(result.job_id, "info", result.note);

  catalog::BackupSet set;
  set.job_id = result.job_id;
  set.device_id = device_row->id;
  set.level = result.level;
  set.base_set_id = result.base_set_id;
  set.series = series;
  set.sources = sources;
  set.agent = request.agent;
  set.definition = request.job.definition;
  set.state = "writing";
  set.started_ns = now_ns();
  // The catalog row comes first so an interrupted write is recognised and cleaned up by the next job;
  // it only becomes 'complete' after the device has made the set durable.
  std::string stamp = format_time(set.started_ns);
  stamp.erase(std::remove_if(stamp.begin(), stamp.end(), [](char c) { return c == '-' || c == ':'; }),
              stamp.end());
  const std::string store_name = "set-" + stamp + "-" + random_suffix() + random_suffix();
  set.store_name = store_name;
  result.set_id = catalog_->begin_set(set);
  catalog_->set_job_set(result.job_id, result.set_id);

  try {
    auto device = open_device(*device_row);
    auto writer = device->begin_set(store_name);
    auto agent = registry_->open_agent(request.agent, nlohmann::json::object());
    auto link = detail::open_local_link(*registry_,
                                        "backup-" + std::to_string(result.set_id) + "-" + random_suffix());
    nlohmann::json job = {{"sources", sources}, {"excludes", request.excludes}, {"level", result.level}};
    if (!request.includes.empty()) job["includes"] = request.includes;
    // The agent starts walking (its scanner reading directories ahead) while the base chain's state is read
    // here; its first check waits for that.
    detail::PriorGate gate;
    detail::PriorState prior;
    std::thread agent_thread([&] { detail::run_agent_backup(*agent, *link.agent_end, job, gate); });
    struct Joiner {
      std::thread& t;
      std::unique_ptr<plugins::Connection>& server_end;
      detail::PriorGate& gate;
      ~Joiner() {
        // Closing our end unblocks an agent still sending, so the join cannot hang on a failed job; nor can
        // one still waiting for the prior state.
        gate.fail("the backup stopped before the base sets were read");
        server_end.reset();
        if (t.joinable()) t.join();
      }
    } joiner{agent_thread, link.server_end, gate};
    if (base) {
      catalog_->for_each_latest(
          chain_ids,
          [&](catalog::FileVersion&& v) {
            if (v.deleted) return;
            detail::PriorState::Record r;
            r.type = uint32_t(v.type);
            r.size = v.size;
            r.mtime_ns = v.mtime_ns;
            r.ctime_ns = v.ctime_ns;
            r.inode = v.inode;
            r.mode = v.mode;
            r.uid = v.uid;
            r.gid = v.gid;
            prior.add(v.path, v.link_target, r);
          },
          catalog::FileFields::kChangeCheck);
    }
    gate.open(base ? &prior : nullptr);

    net::FrameReader reader(*link.server_end);
    net::FrameView frame;
    sdk::Entry entry;
    catalog::FileVersion current;
    std::vector<catalog::FileVersion> batch;
    batch.reserve(kCatalogBatch);
    bool in_entry = false, done = false;
    ProgressInfo info{"backup", 0, 0, {}};
    detail::ProgressTicker ticker(progress);
    auto flush_batch = [&] {
      if (batch.empty()) return;
      catalog_->add_file_versions(result.set_id, batch);
      batch.clear();
    };
    while (!done) {
      if (!reader.read(frame)) throw net::ProtocolError("agent stream ended without a result");
      switch (frame.type) {
        case net::FrameType::entry:
          if (in_entry) throw net::ProtocolError("agent sent an entry inside another entry");
          net::decode_entry(frame.payload, entry);
          writer->write_entry(entry.as_c());
          current = version_of(entry, result.set_id);
          in_entry = true;
          info.current = entry.path;
          break;
        case net::FrameType::data:
          if (!in_entry) throw net::ProtocolError("agent sent data outside an entry");
          writer->write_data(frame.payload);
          result.bytes_read += frame.payload.size();
          info.bytes = result.bytes_read;
          ticker.tick(info);
          break;
        case net::FrameType::entry_end:
          if (!in_entry) throw net::ProtocolError("agent ended an entry it never began");
          current.locator = writer->end_entry();
          current.seq = result.entries_stored;
          if (current.type == SBX_ENTRY_FILE) current.content_hash = frame.payload;
          batch.push_back(std::move(current));
          in_entry = false;
          ++result.entries_stored;
          info.files = result.entries_stored;
          ticker.tick(info);
          if (batch.size() >= kCatalogBatch) flush_batch();
          break;
        case net::FrameType::deleted: {
          catalog::FileVersion gone;
          gone.set_id = result.set_id;
          gone.path = frame.payload;
          gone.deleted = true;
          const detail::PriorState::Record* before = prior.find(frame.payload);
          gone.type = before ? int(before->type) : 0;
          batch.push_back(std::move(gone));
          ++result.entries_deleted;
          if (batch.size() >= kCatalogBatch) flush_batch();
          break;
        }
        case net::FrameType::warning: {
          auto [path, message] = detail::decode_warning(frame.payload);
          std::string line = "/" + printable(path) + ": " + message;
          result.warnings.push_back(line);
          catalog_->append_job_log(result.job_id, "warning", line);
          break;
        }
        case net::FrameType::done:
          if (in_entry) throw net::ProtocolError("agent finished inside an entry");
          done = true;
          break;
        case net::FrameType::error:
          throw ServiceError("agent failed: " + net::parse_json(frame).value("message", "unknown error"));
        default:
          throw net::ProtocolError("unexpected frame type " + std::to_string(int(frame.type)) +
                                   " from the agent");
      }
    }
    flush_batch();
    sbx_set_stats stats = writer->commit();
    result.stored_bytes = stats.stored_bytes;
    for (const auto& record : prior.records()) result.entries_unchanged += record.skipped ? 1 : 0;
    catalog_->complete_set(result.set_id, result.entries_stored, result.bytes_read, result.stored_bytes,
                           result.warnings.size());
  } catch (const std::exception& e) {
    std::string message = e.what();
    try {
      catalog_->discard_set(result.set_id);
      catalog_->append_job_log(result.job_id, "error", message);
      catalog_->finish_job(result.job_id, "failed", message, nlohmann::json::object());
      catalog_->raise_alert("error", "backup",
                            "backup job " + std::to_string(result.job_id) + " failed: " + message);
    } catch (const std::exception& inner) {
      spdlog::error("could not record the failure of job {}: {}", result.job_id, inner.what());
    }
    throw ServiceError("backup failed: " + message);
  }
  result.seconds = detail::seconds_since(started);
  const char* state = result.warnings.empty() ? "succeeded" : "partial";
  catalog_->finish_job(result.job_id, state,
                       std::to_string(result.entries_stored) + " entries stored, " +
                           std::to_string(result.warnings.size()) + " warnings",
                       result.to_json());
  if (!result.warnings.empty())
    catalog_->raise_alert("warning", "backup",
                          "backup job " + std::to_string(result.job_id) + " was partial: " +
                              std::to_string(result.warnings.size()) + " files could not be read");
  if (progress) progress(ProgressInfo{"backup", result.entries_stored, result.bytes_read, {}});
  return result;
}

}  // namespace sbx::service
