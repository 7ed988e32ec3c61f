// The embedded catalog of a strongbox site: one SQLite file holding servers, devices, media, jobs and their
// history, backup sets, file versions, alerts, the audit log and policy decisions.
//
// Conventions: paths and other file-system names are raw bytes (std::string used as a byte buffer, never
// assumed to be UTF-8); times are int64 nanoseconds since the Unix epoch (UTC); every failure throws
// CatalogError with a one-line message. A Catalog object is not thread-safe: use it from one thread at a time
// (open one Catalog per thread if several threads need the catalog; SQLite's WAL lets them coexist).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sbx::catalog {

class CatalogError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Server {
  int64_t id = 0;
  std::string name;
  std::string role;  // standalone | central | managed | offsite
  int64_t created_ns = 0;
  int64_t updated_ns = 0;
};

struct Device {
  int64_t id = 0;
  std::string name;
  std::string type;  // the storage plugin that serves it, e.g. "disk"
  nlohmann::json settings;
  int64_t created_ns = 0;
  // Removed devices stay in the catalog so the history of their sets keeps naming them; they are invisible to
  // find_device/list_devices and their name may be reused.
  std::optional<int64_t> removed_ns;
  int64_t max_jobs = 1;  // jobs the server runs on it at once
  bool enabled = true;   // false: an admin took it out of service; pools and the scheduler skip it
};

// A device pool: devices of one storage type; a job aimed at the pool takes the first available member.
struct Pool {
  int64_t id = 0;
  std::string name;
  std::string type;
  std::vector<std::string> members;  // device names, in the order jobs try them
  int64_t created_ns = 0;
};

// A backup definition: what to protect, when, where, for how long. The spec is JSON the site module
// validates; the catalog stores it as given.
struct Definition {
  int64_t id = 0;
  std::string name;
  nlohmann::json spec;
  int64_t created_ns = 0;
  int64_t updated_ns = 0;
};

struct Medium {
  int64_t id = 0;
  int64_t device_id = 0;
  std::string label;
  std::string state;  // available (new media start so)
  int64_t created_ns = 0;
};

struct Job {
  int64_t id = 0;
  std::string kind;   // backup restore verify expire synthesize duplicate ...
  std::string state;  // queued running succeeded partial failed cancelled missed
  std::optional<int64_t> device_id;
  std::optional<int64_t> set_id;
  int64_t created_ns = 0;
  int64_t started_ns = 0;   // 0 while queued
  int64_t finished_ns = 0;  // 0 while not finished
  std::string message;
  nlohmann::json details;
  // Scheduling (jobs the server queues; jobs run directly from the CLI keep the defaults).
  std::string definition;     // the definition that made it, "" for none
  std::string target;         // device or pool name asked for, "" for the definition's/site's default
  int64_t priority = 50;      // higher runs first
  int64_t scheduled_ns = 0;   // the schedule firing it is for (0: not scheduled)
  int64_t not_before_ns = 0;  // not dispatched before (retry back-off, staging delays)
  int64_t deadline_ns = 0;    // must start by then (its backup window closes), else it is missed; 0: none
  int64_t attempt = 1;
  int64_t max_attempts = 1;
  std::optional<int64_t> retry_of;
  int64_t pid = 0;  // process running it
  bool paused = false;
  std::string control;  // cancel | pause | resume, asked for and not yet carried out
};

// What the server needs to queue a job.
struct JobRequest {
  std::string kind;
  nlohmann::json details = nlohmann::json::object();
  std::string definition;
  std::string target;
  int64_t priority = 50;
  int64_t scheduled_ns = 0;
  int64_t not_before_ns = 0;
  int64_t deadline_ns = 0;
  int64_t attempt = 1;
  int64_t max_attempts = 1;
  std::optional<int64_t> retry_of;
};

struct JobQuery {
  std::vector<std::string> states;  // empty: any
  std::string definition;           // "": any
  std::string kind;                 // "": any
  int64_t since_ns = 0;             // created at or after; 0: no bound
  int64_t until_ns = 0;             // created before; 0: no bound
  size_t limit = 0;                 // 0: all
  bool oldest_first = false;
};

struct JobLogLine {
  int64_t job_id = 0;
  int64_t time_ns = 0;
  std::string level;  // debug info warning error
  std::string message;
};

struct BackupSet {
  int64_t id = 0;
  std::optional<int64_t> job_id;
  int64_t device_id = 0;
  std::string store_name;              // the name the storage device knows the set by
  std::string level;                   // full | incremental | differential
  std::optional<int64_t> base_set_id;  // the set an incremental/differential was taken against
  std::string series;  // identifies what was backed up (normalized sources); retention runs per series
  std::vector<std::string> sources;  // raw bytes each; kept as a JSON array in the table
  std::string state;                 // writing | complete | expired
  int64_t started_ns = 0, completed_ns = 0, expired_ns = 0;
  uint64_t file_count = 0, bytes = 0, stored_bytes = 0, warnings = 0;
  bool legal_hold = false;
  std::string agent = "files";     // the agent plugin that made the data
  std::string definition;          // the definition it was taken for, "" for a manual backup
  bool synthetic = false;          // assembled from earlier sets without reading the source
  std::optional<int64_t> copy_of;  // a copy (staging/duplication) of this original set
  int64_t retain_until_ns = 0;     // a copy's own fixed retention; 0: none set
};

// A copy the stages hook planned for a set: made by a duplicate job once due, kept as its own set.
struct PlannedCopy {
  int64_t id = 0;
  int64_t set_id = 0;       // the original set
  std::string stage;        // the stage's name in the copy graph
  std::string after_stage;  // copy from that stage's copy instead of the original ("" = original)
  std::string target;       // device or pool
  int64_t not_before_ns = 0;
  std::string window;        // daily window the copy must start in ("" = any time)
  nlohmann::json retention;  // {"days": N} | {"until_copied": true} ...
  std::string state;         // pending queued done failed
  std::optional<int64_t> job_id;
  std::optional<int64_t> copy_set_id;
  std::string revision;  // policy revision that planned it
  std::string message;
  int64_t created_ns = 0;
};

struct FileVersion {
  int64_t set_id = 0;
  std::string path;      // raw bytes
  int type = 0;          // sbx_entry_type value (1 file,2 dir,3 symlink,4 hardlink,5 fifo,6 chr,7 blk)
  bool deleted = false;  // deletion marker: the path was gone when this set was taken
  uint64_t size = 0;
  uint32_t mode = 0, uid = 0, gid = 0;
  std::string user_name, group_name;  // raw bytes
  int64_t mtime_ns = 0, ctime_ns = 0;
  uint64_t device = 0, inode = 0, nlink = 0, rdev = 0;
  std::string link_target;   // bytes
  std::string xattrs;        // opaque serialized blob (the jobs module encodes it)
  std::string extents;       // opaque serialized blob (sparse map)
  std::string content_hash;  // raw 32 bytes or empty
  std::string locator;       // opaque bytes from the storage device, empty for deletion markers
  uint64_t seq = 0;          // order in which the set recorded it; reading in this order streams the set

  bool operator==(const FileVersion&) const = default;
};

// Which fields of a FileVersion a read fills in.
enum class FileFields {
  kAll,
  // What a backup compares with lstat to skip unchanged files: set_id, path, type, deleted, size, mode, uid,
  // gid, mtime_ns, ctime_ns, inode and link_target; the rest stay empty.
  kChangeCheck,
};

struct Alert {
  int64_t id = 0;
  int64_t time_ns = 0;
  std::string severity;  // info warning error critical
  std::string source;
  std::string message;
  bool acknowledged = false;
  bool cleared = false;
  std::string subject;       // what it is about ("device:disk1:full"); one active alert per subject
  int64_t delivered_ns = 0;  // handed to the configured command/webhook; 0: not yet
  std::string delivery_error;
};

struct AuditEntry {
  int64_t id = 0;
  int64_t time_ns = 0;
  std::string actor;
  std::string action;
  nlohmann::json details;
};

struct PolicyDecision {
  int64_t id = 0;
  int64_t time_ns = 0;
  int64_t set_id = 0;
  std::string decision;  // e.g. keep | expire
  nlohmann::json reasons;
  std::string revision;  // the policy revision (git commit or content hash) that made the decision
};

namespace detail {
class Database;
}

class Catalog {
 public:
  enum class Mode {
    open_existing,   // the file must exist and be a strongbox catalog (an older schema is migrated)
    create,          // the file must not exist; a new catalog is made
    open_or_create,  // either of the above
  };

  // Opens with WAL journal, foreign keys on, synchronous=FULL and a busy timeout. Refuses a file that is not
  // a SQLite database, a SQLite database that is not a strongbox catalog, and a catalog with a newer schema.
  static std::unique_ptr<Catalog> open(const std::filesystem::path& file, Mode mode);
  static int latest_schema_version();

  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  int schema_version();
  // BEGIN IMMEDIATE ... COMMIT, rolled back if body throws. Nests (as a savepoint) inside another
  // transaction, so every method below may be called inside body.
  void transaction(const std::function<void()>& body);
  // PRAGMA integrity_check and foreign_key_check; returns one line per problem, empty when the catalog is
  // sound.
  std::vector<std::string> check_integrity();

  // servers: inserts the server or updates its role; returns its id
  int64_t ensure_server(const std::string& name, const std::string& role);
  std::vector<Server> list_servers();

  // devices (name unique among live devices; remove refuses while non-expired sets live on it)
  int64_t add_device(const std::string& name, const std::string& type, const nlohmann::json& settings);
  void remove_device(const std::string& name);
  std::optional<Device> find_device(const std::string& name);
  Device device(int64_t id);           // also finds removed devices
  std::vector<Device> list_devices();  // live devices, by name

  // Per-device limits and service state.
  void set_device_max_jobs(const std::string& name, int64_t max_jobs);
  void set_device_enabled(const std::string& name, bool enabled);

  // pools (a pool holds devices of its type only; a device may be in several pools)
  int64_t add_pool(const std::string& name, const std::string& type);
  void remove_pool(const std::string& name);
  void add_pool_member(const std::string& pool, const std::string& device);  // appended at the end
  void remove_pool_member(const std::string& pool, const std::string& device);
  std::optional<Pool> find_pool(const std::string& name);
  std::vector<Pool> list_pools();  // by name

  // definitions (name as for devices; spec any JSON object)
  // Inserts or replaces; returns true when something changed (a spec equal to the stored one changes
  // nothing).
  bool put_definition(const std::string& name, const nlohmann::json& spec);
  void remove_definition(const std::string& name);
  std::optional<Definition> find_definition(const std::string& name);
  std::vector<Definition> list_definitions();  // by name

  // media (label unique per device)
  int64_t add_medium(int64_t device_id, const std::string& label);
  std::vector<Medium> list_media(std::optional<int64_t> device_id);

  // jobs and job history
  int64_t create_job(const std::string& kind, const nlohmann::json& details);  // state running, started now
  // state must be a final one (succeeded partial failed cancelled missed); an object `details` is merged into
  // the job's details, anything else replaces them (null keeps them).
  void finish_job(int64_t job_id, const std::string& state, const std::string& message,
                  const nlohmann::json& details);
  void set_job_set(int64_t job_id, int64_t set_id);
  void set_job_device(int64_t job_id, int64_t device_id);
  void append_job_log(int64_t job_id, const std::string& level, const std::string& message);
  std::vector<Job> list_jobs(size_t limit);                  // newest first; limit 0 means all
  std::vector<Job> jobs_in_state(const std::string& state);  // oldest first
  std::optional<Job> find_job(int64_t id);
  std::vector<JobLogLine> job_log(int64_t job_id);     // in the order appended
  std::vector<Job> query_jobs(const JobQuery& query);  // newest first unless query.oldest_first

  // the queue
  int64_t enqueue_job(const JobRequest& request);  // state queued
  // Queued jobs that may start at `now`: not paused, not_before reached; by priority (high first), then id.
  std::vector<Job> runnable_jobs(int64_t now_ns);
  // queued -> running with the process that runs it (0 until it is known); refused unless queued.
  void start_job(int64_t job_id, int64_t pid);
  void set_job_pid(int64_t job_id, int64_t pid);
  // An admin's request from another process (cancel | pause | resume); the server carries it out.
  void request_job_control(int64_t job_id, const std::string& action);
  // The server carried the request out: clears control and records whether the job is paused.
  void settle_job_control(int64_t job_id, bool paused);
  // Set the device a queued/running job runs on and the target it was aimed at.
  void set_job_target(int64_t job_id, const std::string& target);

  // scheduler marks: firings of (definition, schedule) up to handled_until were handled
  std::optional<int64_t> schedule_mark(const std::string& definition, const std::string& schedule);
  void set_schedule_mark(const std::string& definition, const std::string& schedule,
                         int64_t handled_until_ns);
  void remove_schedule_marks(const std::string& definition);

  // backup sets
  // Inserts with state 'writing' and returns the id. Uses job_id, device_id, store_name, level, base_set_id,
  // series, sources, legal_hold and started_ns (0 means now); the other fields are ignored. An incremental or
  // differential needs a complete base set, a full must have none.
  int64_t begin_set(const BackupSet& set);
  // Appends to a 'writing' set; one transaction per batch (a savepoint inside an enclosing transaction).
  void add_file_versions(int64_t set_id, const std::vector<FileVersion>& batch);
  void set_store_name(int64_t set_id, const std::string& store_name);
  // writing -> complete, completed_ns now
  void complete_set(int64_t set_id, uint64_t file_count, uint64_t bytes, uint64_t stored_bytes,
                    uint64_t warnings);
  // Deletes a set, its file versions and its policy decisions (used for interrupted 'writing' sets). Refused
  // while another set is based on it.
  void discard_set(int64_t set_id);
  // complete -> expired, expired_ns now; its file versions are deleted. Refused for a set on legal hold and
  // for a set that a non-expired set is based on (expire the dependents first).
  void expire_set(int64_t set_id);
  void set_legal_hold(int64_t set_id, bool hold);
  std::optional<BackupSet> find_set(int64_t id);
  std::vector<BackupSet> list_sets();  // all states, oldest first (by started_ns, then id)
  std::vector<BackupSet> sets_in_state(const std::string& state);  // oldest first
  std::vector<BackupSet> series_sets(const std::string& series);   // complete sets of a series, oldest first

  // set provenance and copies
  void set_retain_until(int64_t set_id, int64_t retain_until_ns);
  std::vector<BackupSet> copies_of_set(int64_t original_set_id);  // all states, oldest first
  int64_t plan_copy(const PlannedCopy& copy);                     // state pending; (set_id, stage) unique
  std::vector<PlannedCopy> planned_copies(std::optional<int64_t> set_id);  // oldest first
  std::vector<PlannedCopy> copies_in_state(const std::string& state);      // oldest first
  void update_copy(int64_t copy_id, const std::string& state, std::optional<int64_t> job_id,
                   std::optional<int64_t> copy_set_id, const std::string& message);

  // file versions
  void for_each_file(int64_t set_id,
                     const std::function<void(const FileVersion&)>& fn);  // ordered by path bytes
  // The tree as a chain of sets shows it: for every path, the version from the LAST set in `chain` (given
  // oldest first) that mentions it, ordered by path bytes; deletion markers included (the caller decides).
  // Each set is read once in path order, without a sort. Refuses unknown and expired sets in the chain.
  void for_each_latest(const std::vector<int64_t>& chain, const std::function<void(FileVersion&&)>& fn,
                       FileFields fields = FileFields::kAll);
  // Every version of one path in non-expired sets, oldest set first.
  std::vector<FileVersion> path_history(const std::string& path);

  // alerts (newest first). With a subject, an active (uncleared) alert on the same subject is kept and its id
  // returned instead of raising a second one.
  int64_t raise_alert(const std::string& severity, const std::string& source, const std::string& message,
                      const std::string& subject = "");
  std::vector<Alert> undelivered_alerts();                          // oldest first
  void mark_alert_delivered(int64_t id, const std::string& error);  // error "" when it went through
  // Clears the active alert on a subject (the condition went away); no-op when there is none.
  void clear_alert_subject(const std::string& subject);
  std::vector<Alert> list_alerts(bool include_cleared);
  void acknowledge_alert(int64_t id);
  void clear_alert(int64_t id);

  // audit log
  void audit(const std::string& actor, const std::string& action, const nlohmann::json& details);
  std::vector<AuditEntry> list_audit(size_t limit);  // newest first; limit 0 means all

  // policy decisions (every expiry decision with the policy revision and its reasons), oldest first
  void record_decision(int64_t set_id, const std::string& decision, const nlohmann::json& reasons,
                       const std::string& revision);
  std::vector<PolicyDecision> list_decisions(std::optional<int64_t> set_id);

 private:
  explicit Catalog(std::unique_ptr<detail::Database> db);
  std::unique_ptr<detail::Database> db_;
};

}  // namespace sbx::catalog
