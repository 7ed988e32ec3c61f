// Pieces the job implementations share; not part of the public service API.
#pragma once

#include <openssl/evp.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <strongbox/net.hpp>
#include <strongbox/service.hpp>
#include <thread>
#include <unordered_map>

namespace sbx::service::detail {

// What the base chain says about every path, for the agent side's change check. Paths and link targets live
// in one arena and the records in one vector indexed by an open-addressing table: a chain of 100k paths costs
// a few allocations, not a node and a string each.
class PriorState {
 public:
  struct Record {
    uint32_t type = 0;
    uint32_t mode = 0, uid = 0, gid = 0;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    uint64_t inode = 0;
    bool seen = false;     // the path still exists
    bool skipped = false;  // and is unchanged, so no data was read

   private:
    friend class PriorState;
    size_t path_at = 0, link_at = 0;
    uint32_t path_length = 0, link_length = 0;
  };

  // Paths come once each (the catalog's latest version of each).
  void add(std::string_view path, std::string_view link_target, const Record& record);
  Record* find(std::string_view path);
  std::string_view path(const Record& record) const {
    return {arena_.data() + record.path_at, record.path_length};
  }
  std::string_view link_target(const Record& record) const {
    return {arena_.data() + record.link_at, record.link_length};
  }
  std::vector<Record>& records() { return records_; }
  const std::vector<Record>& records() const { return records_; }

 private:
  void rehash(size_t slots);

  std::string arena_;
  std::vector<Record> records_;
  std::vector<uint32_t> slots_;  // record index + 1; 0 is empty
};

// The prior state is read from the catalog while the agent already walks (and its scanner reads directories
// ahead): the agent side waits here before its first use of it.
class PriorGate {
 public:
  // nullptr: a full backup, everything is sent and no deletions are computed.
  void open(PriorState* prior);
  // The prior state cannot be had; the agent side stops with `why`. Ignored once open.
  void fail(const std::string& why);
  // Throws std::runtime_error after fail().
  PriorState* wait();

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  bool settled_ = false;
  PriorState* prior_ = nullptr;
  std::string failure_;
};

// Runs the agent's backup on one end of a transport connection, framing what it produces.
void run_agent_backup(plugins::Agent& agent, plugins::Connection& connection, const nlohmann::json& job,
                      PriorGate& prior);
// Receives entries on a connection and restores them through the agent.
void run_agent_restore(plugins::Agent& agent, plugins::Connection& connection, const nlohmann::json& options);

// A warning frame: [u32 path length][path bytes][message].
std::string warning_payload(std::string_view path, std::string_view message);
std::pair<std::string, std::string> decode_warning(std::string_view payload);

// SHA-256 over an entry's data.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void reset();
  void update(std::string_view data);
  std::string finish();  // 32 raw bytes

 private:
  EVP_MD_CTX* ctx_;
};

// A pair of connected transport endpoints on the in-process transport, the way embedded mode runs
// the agent beside the server.
struct LocalLink {
  std::unique_ptr<plugins::Transport> transport;
  std::unique_ptr<plugins::Listener> listener;
  std::unique_ptr<plugins::Connection> server_end;
  std::unique_ptr<plugins::Connection> agent_end;
};
LocalLink open_local_link(plugins::Registry& registry, const std::string& name);

// How long a job that shares the site waits for an exclusive holder to let go.
inline constexpr std::chrono::seconds kSharedLockWait{30};

// Exclusive or shared lock on the site; ServiceError(kExitLocked) when it cannot be had: at once for an
// exclusive one, after up to kSharedLockWait for a shared one.
class SiteLock {
 public:
  SiteLock(const std::filesystem::path& site_dir, bool exclusive);
  ~SiteLock();
  SiteLock(const SiteLock&) = delete;
  SiteLock& operator=(const SiteLock&) = delete;

 private:
  int fd_ = -1;
};

// Throttles progress callbacks to a few per second.
class ProgressTicker {
 public:
  explicit ProgressTicker(const ProgressFn& fn) : fn_(fn) {}
  void tick(const ProgressInfo& info, bool force = false) {
    if (!fn_) return;
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    fn_(info);
  }

 private:
  const ProgressFn& fn_;
  std::chrono::steady_clock::time_point last_{};
};

// Receives the entries read back from a set; the reader has already checked each against the catalog.
class VersionConsumer {
 public:
  virtual ~VersionConsumer() = default;
  virtual void entry(const catalog::FileVersion& version, const sdk::Entry& entry) = 0;
  virtual void data(std::string_view bytes) = 0;
  virtual void end(const catalog::FileVersion& version) = 0;
  // The version could not be read intact; for data already passed on, end() is not called.
  virtual void damaged(const catalog::FileVersion& version, const std::string& problem) = 0;
};

// Reads the given versions of one set from its device in order, checking path, length and SHA-256 against
// the catalog. Damage never throws: every affected version goes to consumer.damaged.
void read_versions(plugins::StorageDevice& device, const catalog::BackupSet& set,
                   const std::vector<const catalog::FileVersion*>& versions, VersionConsumer& consumer);

double seconds_since(std::chrono::steady_clock::time_point start);

// A new set written from versions that already live in other sets (synthetic full, duplicate): one group per
// read of a source set, its versions in the order that set recorded them (seq); the new set records them in
// group order. Deletion markers (no data) pass straight to the catalog.
struct CopyGroup {
  catalog::BackupSet source;
  std::vector<const catalog::FileVersion*> versions;
};

struct CopiedSet {
  int64_t set_id = 0;
  uint64_t entries = 0;  // entries written (deletion markers not counted)
  uint64_t bytes = 0;    // data bytes written
  uint64_t stored_bytes = 0;
  uint64_t linked = 0;        // entries a dedup device linked instead of copying (no data read or written)
  uint64_t chunks_total = 0;  // chunk copies: chunks the set needs
  uint64_t chunks_sent = 0;   // chunk copies: chunks the target lacked and received
  uint64_t bytes_sent = 0;    // chunk copies: bytes on the wire, frame headers included
};

// Writes `target` (the catalog fields begin_set takes; store_name is chosen here) on `device` from `groups`,
// verifying every version as it is read. The catalog set begins as 'writing' and completes last, together
// with planned copy `fulfils` (state done) when given. Any damaged source version fails the whole copy with
// a ServiceError naming set and path; on any error neither the catalog nor the device keeps the new set.
CopiedSet write_set_from(Site& site, const catalog::Device& device, catalog::BackupSet target,
                         const std::vector<CopyGroup>& groups, uint64_t warnings,
                         std::optional<int64_t> fulfils, const ProgressFn& progress,
                         const std::string& phase);
// Undoes a copy that failed: its data on `device` (null when nothing was committed there) and its catalog
// set. Never throws: it runs while another error is on its way out.
void discard_new_set(catalog::Catalog& catalog, plugins::StorageDevice* device, int64_t set_id,
                     const std::string& store_name);

// Optimized duplication (chunk_copier.cpp). True when both devices deduplicate in one domain, so chunks can
// travel as stored.
bool same_dedup_domain(plugins::StorageDevice& a, plugins::StorageDevice& b);
// The receiving end: answers chunk queries and keeps what arrives, until the sender closes. Later it runs
// on the server that owns the target device; errors go back to the sender as an error frame.
void serve_chunk_receiver(plugins::Connection& connection, plugins::StorageDevice& target);
struct ChunkTransfer {
  uint64_t chunks_total = 0;  // chunks the set needs
  uint64_t chunks_sent = 0;   // chunks the target lacked
  uint64_t bytes_sent = 0;    // on the wire, frame headers included
  uint64_t stored_bytes = 0;  // stored size of all the set's chunks
};
// Sends set `store_name` from one dedup device to another of its domain over an in-process transport
// connection: only the chunks the target lacks, then the manifest. The target then holds the set.
ChunkTransfer transfer_set_chunks(plugins::Registry& registry, plugins::StorageDevice& source,
                                  plugins::StorageDevice& target, const std::string& store_name,
                                  const ProgressFn& progress);
// Throws a ServiceError when `target` already holds a set stored as `store_name`. Called by the copies that
// own a catalog row for that name: the catalog does not list such a set there (another site shares the
// device, or the catalog was rebuilt), and a copy that failed would delete it with its own.
void refuse_set_unknown_to_catalog(plugins::StorageDevice& target, const std::string& device_name,
                                   const std::string& store_name);
// Adds the versions of a copied set to the catalog (same locators, set_id of `out`), counting entries. The
// caller sets out.bytes from the original set: a version's size counts a sparse file's holes.
void record_copied_versions(catalog::Catalog& catalog, CopiedSet& out,
                            const std::vector<const catalog::FileVersion*>& versions);
// Copies `source` (a complete set) to `device` by sending only the chunks the device lacks, then the set's
// manifest, through the in-process transport; the catalog records the copy as write_set_from does.
CopiedSet copy_set_by_chunks(Site& site, const catalog::BackupSet& source, const catalog::Device& device,
                             catalog::BackupSet target,
                             const std::vector<const catalog::FileVersion*>& versions,
                             std::optional<int64_t> fulfils, const ProgressFn& progress);

// Replaces `path` with `content` crash-safely: temp file, fsync, rename, fsync of the directory.
void write_file_durably(const std::filesystem::path& path, const std::string& content);

// "set-<UTC stamp>-<16 hex digits>", the name a device knows a new set by.
std::string new_store_name(int64_t started_ns);

}  // namespace sbx::service::detail
