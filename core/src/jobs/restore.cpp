// True image restore: the tree exactly as a chain of sets shows it at a set or a time, built from the full
// and the incrementals that cover it, with files deleted before that point left out.
#include <algorithm>
#include <map>

#include "internal.hpp"

namespace sbx::service {
namespace {

bool wanted(const std::string& path, const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) return true;
  for (const auto& p : prefixes) {
    if (path == p) return true;
    if (path.size() > p.size() && path.compare(0, p.size(), p) == 0 && path[p.size()] == '/') return true;
  }
  return false;
}

// Forwards verified entries to the agent's end of the transport.
class RestoreForwarder : public detail::VersionConsumer {
 public:
  RestoreForwarder(net::FrameWriter& writer, RestoreResult& result, detail::ProgressTicker& ticker)
      : writer_(writer), result_(result), ticker_(ticker) {}
  void entry(const catalog::FileVersion&, const sdk::Entry& entry) override {
    writer_.write(net::FrameType::entry, net::encode_entry(entry.as_c()));
    open_ = true;
    info_.current = entry.path;
  }
  void data(std::string_view bytes) override {
    writer_.write(net::FrameType::data, bytes);
    result_.bytes += bytes.size();
    info_.bytes = result_.bytes;
    ticker_.tick(info_);
  }
  void end(const catalog::FileVersion&) override {
    writer_.write(net::FrameType::entry_end, {});
    open_ = false;
    ++result_.entries;
    info_.files = result_.entries;
    ticker_.tick(info_);
  }
  void damaged(const catalog::FileVersion& version, const std::string& problem) override {
    result_.errors.push_back("/" + printable(version.path) + ": set " + std::to_string(version.set_id) +
                             ": " + problem);
    // If the agent has the entry open, end it so the stream stays well formed; the file is reported above.
    if (open_) writer_.write(net::FrameType::entry_end, {});
    open_ = false;
  }

 private:
  net::FrameWriter& writer_;
  RestoreResult& result_;
  detail::ProgressTicker& ticker_;
  ProgressInfo info_{"restore", 0, 0, {}};
  bool open_ = false;
};

}  // namespace

RestoreResult Site::restore(const RestoreRequest& request, const ProgressFn& progress) {
  auto started = std::chrono::steady_clock::now();
  detail::SiteLock lock(dir_, false);
  RestoreResult result;

  // Which chains: the one ending at --set, or per series the newest set taken at or before --as-of (or now).
  std::vector<std::vector<catalog::BackupSet>> chains;
  if (request.set_id) {
    // Any set of a copy group will do, also an expired original: chain_of reads whichever copy survives.
    auto set = catalog_->find_set(*request.set_id);
    if (!set || set->state == "writing")
      throw ServiceError("no complete backup set with id " + std::to_string(*request.set_id), kExitUsage);
    try {
      chains.push_back(chain_of(*set));
    } catch (const ServiceError& e) {
      throw ServiceError("cannot restore set " + std::to_string(set->id) + ": " + e.what(), kExitUsage);
    }
  } else {
    // Per series the newest logical set (an original and its copies are one), compared by the original's id
    // so a copy never outranks its original; the original's own instance is preferred while it is readable.
    std::map<std::string, catalog::BackupSet> newest;
    auto logical = [](const catalog::BackupSet& s) { return s.copy_of.value_or(s.id); };
    for (const auto& s : catalog_->sets_in_state("complete")) {
      if (request.as_of_ns && s.started_ns > *request.as_of_ns) continue;
      auto it = newest.find(s.series);
      if (it == newest.end() || s.started_ns > it->second.started_ns ||
          (s.started_ns == it->second.started_ns && logical(s) > logical(it->second)) ||
          (logical(s) == logical(it->second) && !s.copy_of))
        newest[s.series] = s;
    }
    if (newest.empty())
      throw ServiceError(request.as_of_ns
                             ? "no backup set was taken at or before " + format_time(*request.as_of_ns)
                             : std::string("the site has no complete backup set to restore"),
                         kExitUsage);
    for (const auto& [series, set] : newest) chains.push_back(chain_of(set));
  }

  std::vector<std::string> prefixes;
  for (const auto& p : request.paths) {
    std::string n = std::filesystem::path(p).lexically_normal().string();
    while (n.size() > 1 && n.back() == '/') n.pop_back();
    if (n.empty() || n[0] != '/') throw ServiceError("restore paths must be absolute: " + p, kExitUsage);
    prefixes.push_back(n.substr(1));
  }

  // Latest version of every path along each chain. Directories go first, in path order, so each exists with
  // its own metadata before anything lands in it (whichever set recorded it); hard links go last so their
  // targets exist.
  std::vector<catalog::FileVersion> versions;
  std::map<int64_t, catalog::BackupSet> sets;
  std::vector<int64_t> set_order;
  if (prefixes.empty()) {
    // Room for every entry up front: growing by doubling moved each version several times and touched
    // twice the memory, a third of the time a full restore of 80k files spent reading its catalog.
    size_t recorded = 0;
    for (const auto& chain : chains)
      for (const auto& s : chain) recorded += s.file_count;
    // A hint only: a damaged count must not make the restore ask for more memory than it will use.
    versions.reserve(std::min<size_t>(recorded, size_t{1} << 20));
  }
  for (const auto& chain : chains) {
    std::vector<int64_t> ids;
    for (const auto& s : chain) {
      ids.push_back(s.id);
      if (sets.emplace(s.id, s).second) set_order.push_back(s.id);
    }
    catalog_->for_each_latest(ids, [&](catalog::FileVersion&& v) {
      if (!v.deleted && wanted(v.path, prefixes)) versions.push_back(std::move(v));
    });
  }
  if (versions.empty() && !prefixes.empty())
    throw ServiceError("none of the given paths is in the backup", kExitUsage);

  std::map<int64_t, std::vector<const catalog::FileVersion*>> directories, others, hard_links;
  for (const auto& v : versions) {
    auto& pass = v.type == SBX_ENTRY_DIRECTORY  ? directories
                 : v.type == SBX_ENTRY_HARDLINK ? hard_links
                                                : others;
    pass[v.set_id].push_back(&v);
  }

  nlohmann::json details = {{"target", request.target}, {"sets", set_order}};
  result.job_id = catalog_->create_job("restore", details);
  try {
    auto agent = registry_->open_agent(request.agent, nlohmann::json::object());
    auto link = detail::open_local_link(*registry_, "restore-" + std::to_string(result.job_id));
    nlohmann::json options = {{"target", request.target}};
    std::thread agent_thread([&] { detail::run_agent_restore(*agent, *link.agent_end, options); });
    struct Joiner {
      std::thread& t;
      std::unique_ptr<plugins::Connection>& end;
      ~Joiner() {
        end.reset();
        if (t.joinable()) t.join();
      }
    } joiner{agent_thread, link.server_end};

    net::FrameWriter writer(*link.server_end);
    detail::ProgressTicker ticker(progress);
    RestoreForwarder forwarder(writer, result, ticker);
    std::map<int64_t, std::unique_ptr<plugins::StorageDevice>> devices;
    auto read_from = [&](int64_t set_id, const std::vector<const catalog::FileVersion*>& wanted_versions) {
      const auto& set = sets.at(set_id);
      auto& device = devices[set.device_id];
      if (!device) device = open_device(catalog_->device(set.device_id));
      detail::read_versions(*device, set, wanted_versions, forwarder);
    };
    // Directories in global path order, so a parent always precedes its children across sets.
    std::vector<const catalog::FileVersion*> all_directories;
    for (auto& [set_id, list] : directories)
      all_directories.insert(all_directories.end(), list.begin(), list.end());
    std::sort(all_directories.begin(), all_directories.end(),
              [](auto* a, auto* b) { return a->path < b->path; });
    for (size_t i = 0; i < all_directories.size();) {
      size_t j = i;
      std::vector<const catalog::FileVersion*> run;
      while (j < all_directories.size() && all_directories[j]->set_id == all_directories[i]->set_id)
        run.push_back(all_directories[j++]);
      read_from(all_directories[i]->set_id, run);
      i = j;
    }
    // Files in the order each set recorded them, so a set is read front to back once.
    for (auto* pass : {&others, &hard_links})
      for (int64_t set_id : set_order)
        if (auto it = pass->find(set_id); it != pass->end()) {
          std::stable_sort(it->second.begin(), it->second.end(),
                           [](auto* a, auto* b) { return a->seq < b->seq; });
          read_from(set_id, it->second);
        }
    for (int64_t id : set_order) result.sets_read.push_back(id);
    net::send_json(writer, net::FrameType::done, {{"ok", true}});
    writer.flush();

    net::FrameReader reader(*link.server_end);
    net::Frame frame;
    bool done = false;
    while (!done && reader.read(frame)) {
      if (frame.type == net::FrameType::warning) {
        result.errors.push_back(detail::decode_warning(frame.payload).second);
      } else if (frame.type == net::FrameType::done) {
        done = true;
      } else if (frame.type == net::FrameType::error) {
        throw ServiceError("agent failed: " + net::parse_json(frame).value("message", "unknown error"));
      }
    }
    if (!done) throw ServiceError("the agent stopped before confirming the restore");
  } catch (const std::exception& e) {
    catalog_->finish_job(result.job_id, "failed", e.what(), nlohmann::json::object());
    throw ServiceError(std::string("restore failed: ") + e.what());
  }
  result.seconds = detail::seconds_since(started);
  for (const auto& e : result.errors) catalog_->append_job_log(result.job_id, "error", e);
  catalog_->finish_job(result.job_id, result.errors.empty() ? "succeeded" : "partial",
                       std::to_string(result.entries) + " entries restored", result.to_json());
  return result;
}

}  // namespace sbx::service
