#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <strongbox/clock.hpp>
#include <thread>

#include "internal.hpp"

namespace fs = std::filesystem;

namespace sbx::service {
namespace {

constexpr const char* kSiteFile = "site.json";
constexpr int kSiteFormatVersion = 1;

fs::path installed_policies() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return exe.parent_path().parent_path() / "share" / "strongbox" / "policies";
}

}  // namespace

namespace detail {

void write_file_durably(const fs::path& path, const std::string& content) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw ServiceError("cannot create " + tmp.string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      throw ServiceError("cannot write " + tmp.string() + ": " + std::strerror(errno));
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0)
    throw ServiceError("cannot sync " + tmp.string() + ": " + std::strerror(errno));
  fs::rename(tmp, path);
  int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_) throw std::bad_alloc();
  reset();
}
Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_);
}
void Sha256::reset() {
  // Fetched once: EVP_sha256() looks the implementation up again on every init, once per file.
  // Freed at exit before OpenSSL cleans up (registered after OpenSSL's own handler, so it runs first).
  static const struct Fetched {
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    ~Fetched() { EVP_MD_free(md); }
  } fetched;
  if (!fetched.md || EVP_DigestInit_ex(ctx_, fetched.md, nullptr) != 1)
    throw ServiceError("SHA-256 is unavailable in OpenSSL");
}
void Sha256::update(std::string_view data) {
  EVP_DigestUpdate(ctx_, data.data(), data.size());
}
std::string Sha256::finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, out, &len);
  reset();
  return std::string(reinterpret_cast<char*>(out), len);
}

LocalLink open_local_link(plugins::Registry& registry, const std::string& name) {
  LocalLink link;
  link.transport = registry.open_transport("local", nlohmann::json::object());
  link.listener = link.transport->listen(name);
  link.agent_end = link.transport->connect(name, 10000);
  link.server_end = link.listener->accept(10000);
  if (!link.server_end) throw ServiceError("the local transport did not accept the agent's connection");
  return link;
}

SiteLock::SiteLock(const fs::path& site_dir, bool exclusive) {
  fs::path file = site_dir / "lock";
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw ServiceError("cannot open lock file " + file.string() + ": " + std::strerror(errno));
  // Exclusive holds are short upkeep (recovering interrupted jobs, sweeping orphans, removing a device) that
  // another job's start can take at any moment: a job that shares the site waits them out instead of
  // failing. An exclusive taker never waits; its callers skip the upkeep when the site is in use.
  const auto deadline = std::chrono::steady_clock::now() + kSharedLockWait;
  while (::flock(fd_, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK && !exclusive && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    ::close(fd_);
    fd_ = -1;
    throw ServiceError("site " + site_dir.string() + " is busy: " +
                           (exclusive ? std::string("its server or another strongbox job holds its lock")
                                      : "another strongbox job has held it exclusively for more than " +
                                            std::to_string(kSharedLockWait.count()) + " s"),
                       kExitLocked);
  }
}
SiteLock::~SiteLock() {
  if (fd_ >= 0) ::close(fd_);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace detail

int64_t now_ns() {
  return clock::now_ns();
}

std::string format_time(int64_t ns) {
  time_t secs = time_t(ns / 1000000000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<int64_t> parse_time(const std::string& text) {
  struct tm tm {};
  const char* rest = nullptr;
  for (const char* format :
       {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"}) {
    tm = {};
    rest = strptime(text.c_str(), format, &tm);
    if (rest) break;
  }
  if (!rest) return std::nullopt;
  int64_t fraction_ns = 0;
  if (*rest == '.') {
    ++rest;
    int64_t scale = 100000000;
    while (*rest >= '0' && *rest <= '9') {
      fraction_ns += (*rest - '0') * scale;
      scale /= 10;
      ++rest;
    }
  }
  time_t secs;
  if (*rest == '\0') {
    tm.tm_isdst = -1;
    secs = mktime(&tm);
  } else if ((rest[0] == 'Z' || rest[0] == 'z') && rest[1] == '\0') {
    secs = timegm(&tm);
  } else if (rest[0] == '+' || rest[0] == '-') {
    int hours = 0, minutes = 0;
    if (sscanf(rest + 1, "%2d:%2d", &hours, &minutes) != 2 &&
        sscanf(rest + 1, "%2d%2d", &hours, &minutes) != 2)
      return std::nullopt;
    if (hours > 23 || minutes > 59) return std::nullopt;
    int offset = (hours * 3600 + minutes * 60) * (rest[0] == '-' ? -1 : 1);
    secs = timegm(&tm) - offset;
  } else {
    return std::nullopt;
  }
  return int64_t(secs) * 1000000000 + fraction_ns;
}

std::vector<std::string> normalize_sources(const std::vector<std::string>& sources) {
  std::set<std::string> out;
  for (const auto& s : sources) {
    if (s.empty()) throw ServiceError("an empty source path was given", kExitUsage);
    std::error_code ec;
    fs::path p = fs::absolute(s, ec);
    if (ec) throw ServiceError("cannot resolve source " + s + ": " + ec.message(), kExitUsage);
    std::string n = p.lexically_normal().string();
    while (n.size() > 1 && n.back() == '/') n.pop_back();
    out.insert(n);
  }
  return {out.begin(), out.end()};
}

std::string series_key(const std::vector<std::string>& normalized_sources) {
  std::string key = "files:";
  for (size_t i = 0; i < normalized_sources.size(); ++i) key += (i ? "," : "") + normalized_sources[i];
  return key;
}

std::string hex(std::string_view raw) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string printable(std::string_view raw) {
  nlohmann::json j = std::string(raw);
  std::string dumped = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(dumped).get<std::string>();
}

fs::path Site::locate(const std::string& site_flag) {
  if (!site_flag.empty()) return fs::absolute(site_flag);
  if (const char* env = std::getenv("STRONGBOX_SITE"); env && *env) return fs::absolute(env);
  return fs::current_path();
}

void Site::init(const fs::path& dir_in) {
  fs::path dir = fs::absolute(dir_in).lexically_normal();
  std::error_code ec;
  if (fs::exists(dir / kSiteFile, ec)) throw ServiceError("a site already exists in " + dir.string());
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw ServiceError(dir.string() + " exists and is not a directory");
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
    throw ServiceError(dir.string() + " is not empty; give a new or empty directory for the site");
  fs::path policies = installed_policies();
  if (!fs::exists(policies / "default" / "retention.lua", ec))
    throw ServiceError("default policies not found at " + policies.string() +
                       " (is strongbox installed completely?)");
  bool created = !fs::exists(dir, ec);
  try {
    fs::create_directories(dir / "devices");
    fs::copy(policies, dir / "policies", fs::copy_options::recursive);
    {
      auto catalog = catalog::Catalog::open(dir / "catalog.db", catalog::Catalog::Mode::create);
      catalog->ensure_server("local", "standalone");
      catalog->audit("cli", "site.init", {{"dir", dir.string()}});
    }
    nlohmann::json site = {{"format", "strongbox-site"}, {"version", kSiteFormatVersion}};
    detail::write_file_durably(dir / kSiteFile, site.dump(2) + "\n");
    auto opened = open(dir);
    opened->add_device("disk1", "disk", {{"path", (dir / "devices" / "disk1").string()}});
  } catch (...) {
    // A half-made site would be mistaken for a real one: take back everything init made.
    if (created) {
      fs::remove_all(dir, ec);
    } else {
      for (const auto& entry : fs::directory_iterator(dir, ec)) fs::remove_all(entry.path(), ec);
    }
    throw;
  }
}

Site::Site(fs::path dir) : dir_(std::move(dir)) {}
Site::~Site() = default;

std::unique_ptr<Site> Site::open(const fs::path& dir_in) {
  fs::path dir = fs::absolute(dir_in).lexically_normal();
  fs::path file = dir / kSiteFile;
  std::ifstream in(file);
  if (!in)
    throw ServiceError("no strongbox site at " + dir.string() + " (run `strongbox init DIR`, or give --site)",
                       kExitSiteMissing);
  nlohmann::json site;
  try {
    site = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw ServiceError(file.string() + " is not valid JSON: " + e.what());
  }
  if (!site.is_object() || site.value("format", "") != "strongbox-site")
    throw ServiceError(file.string() + " is not a strongbox site file");
  if (site.value("version", 0) > kSiteFormatVersion)
    throw ServiceError(file.string() + " has site format " + std::to_string(site.value("version", 0)) +
                       ", this strongbox knows up to " + std::to_string(kSiteFormatVersion));
  std::unique_ptr<Site> s(new Site(dir));
  s->catalog_ = catalog::Catalog::open(dir / "catalog.db", catalog::Catalog::Mode::open_existing);
  s->registry_ = std::make_unique<plugins::Registry>();
  for (const auto& d : plugins::Registry::default_dirs()) s->registry_->load_dir(d);
  if (site.contains("plugin_dirs"))
    for (const auto& d : site["plugin_dirs"]) s->registry_->load_dir(d.get<std::string>());
  return s;
}

std::unique_ptr<plugins::StorageDevice> Site::open_device(const catalog::Device& device) {
  return registry_->open_storage(device.type, device.settings);
}

DeviceStatus Site::add_device(const std::string& name, const std::string& type,
                              const nlohmann::json& settings) {
  static const std::string allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";
  if (name.empty() || name.size() > 64 || name.find_first_not_of(allowed) != std::string::npos)
    throw ServiceError("device name '" + name + "' is invalid: use 1-64 letters, digits, '-', '_' or '.'",
                       kExitUsage);
  if (!registry_->find(SBX_KIND_STORAGE, type)) {
    std::string names;
    for (const auto& p : registry_->list())
      if (p.kind == "storage") names += (names.empty() ? "" : ", ") + p.name;
    throw ServiceError("no storage plugin named '" + type + "' (available: " + names + ")", kExitUsage);
  }
  if (catalog_->find_device(name))
    throw ServiceError("a device named '" + name + "' already exists", kExitUsage);
  // Opening the device validates its settings (path, key) before the catalog records it. Adding is the one
  // time a store may be made: every later open finds it or reports the device offline.
  DeviceStatus status;
  auto device = registry_->open_or_create_storage(type, settings);
  sbx_storage_info info = device->info();
  int64_t id = catalog_->add_device(name, type, settings);
  catalog_->audit("cli", "device.add", {{"name", name}, {"type", type}, {"settings", settings}});
  status.device = catalog_->device(id);
  status.online = info.online != 0;
  status.total_bytes = info.total_bytes;
  status.free_bytes = info.free_bytes;
  status.used_bytes = info.used_bytes;
  return status;
}

void Site::remove_device(const std::string& name) {
  detail::SiteLock lock(dir_, true);
  if (!catalog_->find_device(name)) throw ServiceError("no device named '" + name + "'", kExitUsage);
  catalog_->remove_device(name);
  catalog_->audit("cli", "device.remove", {{"name", name}});
}

std::vector<DeviceStatus> Site::list_devices() {
  std::vector<DeviceStatus> out;
  for (const auto& d : catalog_->list_devices()) {
    DeviceStatus s;
    s.device = d;
    try {
      auto dev = open_device(d);
      sbx_storage_info info = dev->info();
      s.online = info.online != 0;
      s.total_bytes = info.total_bytes;
      s.free_bytes = info.free_bytes;
      s.used_bytes = info.used_bytes;
    } catch (const std::exception& e) {
      s.problem = e.what();
    }
    out.push_back(std::move(s));
  }
  return out;
}

// Every set of a chain is resolved to an instance that can be read: the set itself while it is complete on a
// live device, else a complete copy of it (newest first). base_set_id always names the original, so the
// chain is walked through originals and each step picks its own instance.
std::vector<catalog::BackupSet> Site::chain_of(const catalog::BackupSet& set) {
  auto readable = [&](const catalog::BackupSet& s) {
    return s.state == "complete" && !catalog_->device(s.device_id).removed_ns;
  };
  auto resolve = [&](const catalog::BackupSet& wanted, int64_t asked_for) -> catalog::BackupSet {
    if (readable(wanted)) return wanted;
    const int64_t logical = wanted.copy_of.value_or(wanted.id);
    std::optional<catalog::BackupSet> original;
    if (logical == wanted.id)
      original = wanted;
    else
      original = catalog_->find_set(logical);
    if (original && original->id != wanted.id && readable(*original)) return *original;
    auto copies = catalog_->copies_of_set(logical);
    for (auto it = copies.rbegin(); it != copies.rend(); ++it)
      if (readable(*it)) return *it;
    std::string state = original ? original->state : std::string("gone");
    std::string where =
        asked_for == logical ? "" : " (in the chain of set " + std::to_string(asked_for) + ")";
    throw ServiceError("set " + std::to_string(logical) + where + " is " + state +
                       " and no complete copy of it survives; it cannot be read");
  };
  std::vector<catalog::BackupSet> chain{resolve(set, set.id)};
  std::set<int64_t> visited{set.copy_of.value_or(set.id)};
  while (chain.back().base_set_id) {
    int64_t base = *chain.back().base_set_id;
    if (!visited.insert(base).second)
      throw ServiceError("catalog has a cycle in the base chain of set " + std::to_string(set.id));
    auto b = catalog_->find_set(base);
    if (!b)
      throw ServiceError("set " + std::to_string(set.id) + " depends on set " + std::to_string(base) +
                         ", which the catalog no longer has");
    chain.push_back(resolve(*b, set.id));
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

std::unique_ptr<SiteHold> Site::hold(bool exclusive) {
  struct Held : SiteHold {
    Held(const fs::path& dir, bool exclusive) : lock(dir, exclusive) {}
    detail::SiteLock lock;
  };
  return std::make_unique<Held>(dir_, exclusive);
}

int64_t Site::begin_job(const std::string& kind, const nlohmann::json& details, const JobBinding& binding) {
  if (!binding.job_id) return catalog_->create_job(kind, details);
  auto job = catalog_->find_job(*binding.job_id);
  if (!job) throw ServiceError("no job with id " + std::to_string(*binding.job_id), kExitUsage);
  if (job->state != "running" || job->kind != kind)
    throw ServiceError("job " + std::to_string(job->id) + " is a " + job->state + " " + job->kind +
                       " job, not a running " + kind + " job");
  return job->id;
}

std::vector<int64_t> Site::recover_if_idle() {
  try {
    detail::SiteLock exclusive(dir_, true);
    return recover_interrupted("interrupted: the process running it stopped before it finished");
  } catch (const ServiceError& e) {
    if (e.exit_code() != kExitLocked) throw;
    return {};
  }
}

std::vector<int64_t> Site::recover_interrupted(const std::string& cause) {
  std::vector<int64_t> marked;
  for (const auto& job : catalog_->jobs_in_state("running")) {
    try {
      catalog_->append_job_log(job.id, "error", cause);
      catalog_->finish_job(job.id, "failed", cause, nlohmann::json::object());
      catalog_->raise_alert("error", job.kind,
                            job.kind + " job " + std::to_string(job.id) + " failed: " + cause);
      marked.push_back(job.id);
    } catch (const std::exception& e) {
      spdlog::warn("could not mark interrupted job {}: {}", job.id, e.what());
    }
  }
  discard_interrupted_sets();
  return marked;
}

void Site::discard_sets_of_job(int64_t job_id) {
  for (const auto& set : catalog_->sets_in_state("writing")) {
    if (set.job_id != job_id) continue;
    auto device = open_device(catalog_->device(set.device_id));
    try {
      device->delete_set(set.store_name);
    } catch (const plugins::PluginError& e) {
      if (e.status() != SBX_ERR_NOT_FOUND) throw;
    }
    catalog_->discard_set(set.id);
    spdlog::info("discarded set {} of interrupted job {}", set.id, job_id);
  }
}

// A backup killed mid-write leaves a 'writing' set in the catalog and maybe a partial file on the device:
// neither was acknowledged, so both go. Called under the exclusive site lock.
void Site::discard_interrupted_sets() {
  for (const auto& set : catalog_->sets_in_state("writing")) {
    try {
      auto device = open_device(catalog_->device(set.device_id));
      try {
        device->delete_set(set.store_name);
      } catch (const plugins::PluginError& e) {
        if (e.status() != SBX_ERR_NOT_FOUND) throw;
      }
      catalog_->discard_set(set.id);
      spdlog::info("discarded set {} left by an interrupted backup", set.id);
    } catch (const std::exception& e) {
      spdlog::warn("could not discard interrupted set {}: {}", set.id, e.what());
    }
  }
}

nlohmann::json BackupResult::to_json() const {
  nlohmann::json j = {{"type", "backup"},
                      {"job_id", job_id},
                      {"set_id", set_id},
                      {"level", level},
                      {"entries_stored", entries_stored},
                      {"entries_unchanged", entries_unchanged},
                      {"entries_deleted", entries_deleted},
                      {"bytes_read", bytes_read},
                      {"stored_bytes", stored_bytes},
                      {"warnings", warnings},
                      {"seconds", seconds}};
  j["base_set_id"] = base_set_id ? nlohmann::json(*base_set_id) : nlohmann::json(nullptr);
  if (!note.empty()) j["note"] = note;
  return j;
}

nlohmann::json RestoreResult::to_json() const {
  return {{"type", "restore"}, {"job_id", job_id}, {"sets_read", sets_read}, {"entries", entries},
          {"bytes", bytes},    {"errors", errors}, {"seconds", seconds}};
}

nlohmann::json VerifyResult::to_json() const {
  nlohmann::json d = nlohmann::json::array();
  for (const auto& x : damage) d.push_back({{"set_id", x.set_id}, {"path", x.path}, {"problem", x.problem}});
  return {{"type", "verify"},
          {"job_id", job_id},
          {"sets", sets},
          {"entries", entries},
          {"bytes", bytes},
          {"chunks_checked", chunks_checked},
          {"chunks_read", chunks_read},
          {"damaged_chunks", damaged_chunks},
          {"damage", d},
          {"ok", damage.empty()},
          {"seconds", seconds}};
}

nlohmann::json ExpireResult::to_json() const {
  nlohmann::json d = nlohmann::json::array();
  for (const auto& x : decisions)
    d.push_back({{"set_id", x.set_id}, {"series", x.series}, {"keep", x.keep}, {"reasons", x.reasons}});
  return {{"type", "expire"}, {"dry_run", dry_run}, {"revision", revision},
          {"decisions", d},   {"errors", errors},   {"expired", expired}};
}

}  // namespace sbx::service
