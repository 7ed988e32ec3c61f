// The service layer: every verb the CLI (and later the server and web console) offers, implemented once.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <strongbox/catalog.hpp>
#include <strongbox/plugins.hpp>
#include <vector>

namespace sbx::service {

// Exit codes, documented in the README.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,
  kExitUsage = 2,
  kExitPartial = 3,  // finished, but some files could not be read or restored
  kExitDamaged = 4,  // verify found damage
  kExitSiteMissing = 10,
  kExitLocked = 11,
};

class ServiceError : public std::runtime_error {
 public:
  explicit ServiceError(const std::string& message, int exit_code = kExitFailed)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

struct ProgressInfo {
  std::string phase;
  uint64_t files = 0;
  uint64_t bytes = 0;
  std::string current;  // path being worked on
};
using ProgressFn = std::function<void(const ProgressInfo&)>;

// Jobs the server queued run in a child process under the job id the server started; a verb run from the CLI
// makes its own job. Every request that makes a job carries this.
struct JobBinding {
  std::optional<int64_t> job_id;  // a job the catalog already has in state running
  std::string definition;         // the definition the job is for ("" for none)
};

struct BackupRequest {
  std::vector<std::string> sources;
  std::string device;  // empty: the site's only device, or "disk1"
  std::string level = "incremental";
  std::vector<std::string> excludes;
  std::vector<std::string> includes;  // empty: everything under the sources
  std::string agent = "files";
  JobBinding job;
};

// A new full set assembled from the last full of a series and the incrementals after it, without the source.
struct SynthesizeRequest {
  std::optional<int64_t> set_id;  // the newest set of the chain to assemble (default: the series' newest)
  std::string definition;         // or: the newest set taken for this definition
  std::string device;             // where the new full goes ("" = the device of the newest set)
  JobBinding job;
};

struct SynthesizeResult {
  int64_t job_id = 0;
  int64_t set_id = 0;
  std::vector<int64_t> from_sets;  // the chain read, oldest first
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t stored_bytes = 0;
  uint64_t linked = 0;  // entries a dedup device linked: no data read or written for them
  double seconds = 0;
  nlohmann::json to_json() const;
};

// A copy of a set on another device (staging, duplication); the copy is a set of its own (copy_of).
struct DuplicateRequest {
  int64_t set_id = 0;
  std::string device;                      // target device
  int64_t retain_until_ns = 0;             // the copy's own fixed retention (0: none)
  std::optional<int64_t> planned_copy_id;  // the stage plan entry this fulfils
  JobBinding job;
};

struct DuplicateResult {
  int64_t job_id = 0;
  int64_t source_set_id = 0;
  int64_t set_id = 0;
  std::string device;
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t stored_bytes = 0;
  bool optimized = false;     // chunks moved between dedup devices of one domain, only the missing ones
  uint64_t chunks_total = 0;  // optimized: chunks the set needs
  uint64_t chunks_sent = 0;   // optimized: chunks the target lacked
  uint64_t bytes_sent = 0;    // bytes that crossed the transport (all data bytes when not optimized)
  double seconds = 0;
  nlohmann::json to_json() const;
};

struct BackupResult {
  int64_t job_id = 0;
  int64_t set_id = 0;
  std::string level;
  std::optional<int64_t> base_set_id;
  std::string note;  // e.g. why an incremental became a full
  uint64_t entries_stored = 0;
  uint64_t entries_unchanged = 0;
  uint64_t entries_deleted = 0;
  uint64_t bytes_read = 0;
  uint64_t stored_bytes = 0;
  std::vector<std::string> warnings;
  double seconds = 0;
  nlohmann::json to_json() const;
};

struct RestoreRequest {
  std::optional<int64_t> set_id;  // any set of a copy group; the restore reads whichever copy survives
  std::optional<int64_t> as_of_ns;
  std::string target = "/";
  std::vector<std::string> paths;  // absolute paths to restore (with everything below); empty = all
  std::string agent = "files";
};

struct RestoreResult {
  int64_t job_id = 0;
  std::vector<int64_t> sets_read;
  uint64_t entries = 0;
  uint64_t bytes = 0;
  std::vector<std::string> errors;
  double seconds = 0;
  nlohmann::json to_json() const;
};

struct Damage {
  int64_t set_id = 0;
  std::string path;
  std::string problem;
};

struct VerifyResult {
  int64_t job_id = 0;
  uint64_t sets = 0;
  uint64_t entries = 0;
  uint64_t bytes = 0;
  // Dedup device checks (verify --device on a dedup device).
  uint64_t chunks_checked = 0;
  uint64_t chunks_read = 0;
  uint64_t damaged_chunks = 0;
  std::vector<Damage> damage;
  double seconds = 0;
  nlohmann::json to_json() const;
};

struct ExpireDecisionView {
  int64_t set_id = 0;
  std::string series;
  bool keep = true;
  std::vector<std::string> reasons;
};

struct ExpireResult {
  bool dry_run = false;
  std::string revision;
  std::vector<ExpireDecisionView> decisions;
  std::vector<std::string> errors;  // policy failures (retention then failed closed)
  uint64_t expired = 0;
  nlohmann::json to_json() const;
};

// What gc did (or, with dry_run, would do) on one dedup device.
struct GcDeviceResult {
  std::string device;
  uint64_t sets_marked = 0;   // live sets whose chunks were kept
  uint64_t sets_unknown = 0;  // sets on the device the catalog does not know: kept, never deleted by gc
  uint64_t chunks_live = 0;
  uint64_t chunks_freed = 0;
  uint64_t bytes_freed = 0;
  uint64_t packs_deleted = 0;
  uint64_t packs_rewritten = 0;
  uint64_t bytes_after = 0;
  std::string error;    // set when gc stopped on this device
  std::string offline;  // set when the device's store could not be reached (a drive not plugged in): skipped
};

struct GcResult {
  int64_t job_id = 0;
  bool dry_run = false;
  std::vector<GcDeviceResult> devices;
  double seconds = 0;
  nlohmann::json to_json() const;
};

struct TransferResult {
  int64_t job_id = 0;
  std::string direction;  // export | import
  std::string dir;
  std::string device;         // the device the sets left (export) or entered (import)
  std::vector<int64_t> sets;  // exported set ids, or the ids of the imported sets on this site
  uint64_t chunks_total = 0;  // chunks the sets need
  uint64_t chunks_sent = 0;   // chunks the receiving side lacked
  uint64_t bytes_sent = 0;
  double seconds = 0;
  nlohmann::json to_json() const;
};

struct DeviceStatus {
  catalog::Device device;
  bool online = false;
  uint64_t total_bytes = 0, free_bytes = 0, used_bytes = 0;
  std::string problem;
};

// Holds the site lock until destroyed (see Site::hold).
class SiteHold {
 public:
  virtual ~SiteHold() = default;
};

// A site: a folder with site.json, catalog.db, policies/ and the default disk device's folder.
class Site {
 public:
  // Makes a new site in dir (which must be empty or missing) with one disk device named disk1.
  static void init(const std::filesystem::path& dir);
  // Opens the site at dir; ServiceError(kExitSiteMissing) when there is none.
  static std::unique_ptr<Site> open(const std::filesystem::path& dir);
  // --site, else $STRONGBOX_SITE, else the current directory.
  static std::filesystem::path locate(const std::string& site_flag);
  ~Site();

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path policy_dir() const { return dir_ / "policies"; }
  catalog::Catalog& catalog() { return *catalog_; }
  plugins::Registry& registry() { return *registry_; }

  DeviceStatus add_device(const std::string& name, const std::string& type, const nlohmann::json& settings);
  void remove_device(const std::string& name);
  std::vector<DeviceStatus> list_devices();

  BackupResult backup(const BackupRequest& request, const ProgressFn& progress);
  RestoreResult restore(const RestoreRequest& request, const ProgressFn& progress);
  VerifyResult verify(std::optional<int64_t> set_id, const ProgressFn& progress, const JobBinding& job = {});
  // Verify one device. A dedup device checks its own structure and, with read_data_percent > 0, decrypts and
  // rehashes that share of its chunks, naming the sets and files each damaged chunk breaks; other devices
  // read every complete set back (read_data_percent must then be unset).
  VerifyResult verify_device(const std::string& device, const ProgressFn& progress,
                             const JobBinding& job = {},
                             std::optional<uint32_t> read_data_percent = std::nullopt);
  SynthesizeResult synthesize(const SynthesizeRequest& request, const ProgressFn& progress);
  DuplicateResult duplicate(const DuplicateRequest& request, const ProgressFn& progress);
  ExpireResult expire(bool dry_run, int64_t now_ns, const JobBinding& job = {});
  // Transfer drives: sets of a dedup device to a removable directory, and from one into a dedup device of the
  // same domain (key_file: the admin key that opens the drive's store, default the device's own).
  TransferResult transfer_export(const std::vector<int64_t>& set_ids, const std::string& dir,
                                 const ProgressFn& progress);
  TransferResult transfer_import(const std::string& dir, const std::string& device,
                                 const std::string& key_file, const ProgressFn& progress);
  // Reclaims the space of expired sets on dedup devices (every one, or the one named): mark and sweep from
  // the catalog's live sets, beside running backups.
  GcResult collect_garbage(const std::string& device, bool dry_run, const JobBinding& job = {});
  // Copy retention: expires complete copies whose own retention (retain_until_ns) passed, and sets whose
  // planned copies (stages with {"until_copied": true} copying from them) are all done. Legal hold and
  // dependents are respected (such a set is kept, with the reason). Records an 'expire' job when it acts.
  ExpireResult expire_copies(int64_t now_ns);
  // Removes the data and file versions of the sets a dead job was writing (the job never acknowledged them).
  void discard_sets_of_job(int64_t job_id);

  // Sets that make up the tree as of a set: the set and the chain of bases it depends on, oldest first.
  std::vector<catalog::BackupSet> chain_of(const catalog::BackupSet& set);

  // Takes the site lock: shared (jobs run meanwhile) or exclusive (nothing else runs);
  // ServiceError(kExitLocked) when it is taken the other way. The server holds it shared for its lifetime.
  std::unique_ptr<SiteHold> hold(bool exclusive);
  // The job a verb records itself under: the bound one (already running) or a new one.
  int64_t begin_job(const std::string& kind, const nlohmann::json& details, const JobBinding& binding);
  // Opens a device by catalog name through its storage plugin.
  std::unique_ptr<plugins::StorageDevice> open_device(const catalog::Device& device);

 private:
  explicit Site(std::filesystem::path dir);
  void discard_interrupted_sets();
  void sweep_orphans();
  void sweep_orphans_if_idle();
  VerifyResult verify_dedup_device(const catalog::Device& device_row, plugins::StorageDevice& device,
                                   uint32_t read_data_percent, const JobBinding& job);
  void record_verify_outcome(const VerifyResult& result);  // alert, job log, job end
  VerifyResult verify_sets(const std::vector<catalog::BackupSet>& sets, const nlohmann::json& details,
                           const ProgressFn& progress, const JobBinding& job);

 public:
  // When no job holds the site (the exclusive lock is free), every job still marked running was interrupted:
  // marks it failed with the cause, discards the sets it was writing. Returns the jobs it marked. A no-op
  // while other jobs run (they hold the site shared).
  std::vector<int64_t> recover_if_idle();
  // The same, for a caller that already holds the site exclusively (the server at start-up).
  std::vector<int64_t> recover_interrupted(const std::string& cause);
  std::filesystem::path dir_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<plugins::Registry> registry_;
};

// Parses an ISO 8601 time ("2026-11-22T10:00:00Z", "...+02:00", "2026-11-22 10:00", "2026-11-22"; no offset
// means local time) into ns since the epoch; nullopt when it is not one.
std::optional<int64_t> parse_time(const std::string& text);
std::string format_time(int64_t ns);  // ISO 8601 UTC
int64_t now_ns();
// Normalized sources (absolute, no trailing slash, sorted, unique) and the series key they make.
std::vector<std::string> normalize_sources(const std::vector<std::string>& sources);
std::string series_key(const std::vector<std::string>& normalized_sources);
// Paths in JSON and messages: raw bytes shown with invalid UTF-8 replaced, never dropped.
std::string printable(std::string_view raw);
std::string hex(std::string_view raw);

}  // namespace sbx::service
