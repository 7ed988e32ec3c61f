#include "store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <strongbox/sdk/plugin.hpp>
#include <unordered_set>

#include "bytes.hpp"
#include "common/settings.hpp"

namespace sbx::dedup {
namespace {

constexpr std::string_view kManifestSuffix = ".manifest";
constexpr std::string_view kManifestLabel = "strongbox-dedup manifest v1:";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

StoreSettings parse_store_settings(std::string_view config_json) {
  const storage::DeviceConfig config(
      "dedup device", config_json,
      {"path", "key_file", "domain_from", "compression_level", "index_memory_mib", "pack_mib",
       "chunk_avg_kib", "seal_threads", "read_threads"},
      {"path"});
  StoreSettings s;
  s.root = config.absolute_path("path");
  if (config.has("key_file")) s.key_file = config.absolute_path("key_file");
  if (config.has("domain_from")) s.domain_from = config.absolute_path("domain_from");
  if (config.has("compression_level")) s.compression_level = int(config.integer("compression_level", -7, 19));
  if (config.has("index_memory_mib"))
    s.index_memory_bytes = uint64_t(config.integer("index_memory_mib", 1, 1 << 20)) << 20;
  if (config.has("seal_threads")) s.seal_threads = unsigned(config.integer("seal_threads", 0, 64));
  if (config.has("read_threads")) s.read_threads = unsigned(config.integer("read_threads", 0, 64));
  if (config.has("pack_mib")) s.pack_bytes = uint64_t(config.integer("pack_mib", 1, 1024)) << 20;
  if (config.has("chunk_avg_kib")) {
    const auto avg = uint32_t(config.integer("chunk_avg_kib", 1, 16384)) << 10;
    s.chunker = ChunkerParams{avg / 4, avg, avg * 4};
    try {
      Chunker check(*s.chunker);
    } catch (const std::invalid_argument& e) {
      config.fail(std::string("\"chunk_avg_kib\": ") + e.what());
    }
  }
  return s;
}

void check_set_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 200 && name.front() != '.';
  for (char c : name)
    ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '_' || c == '-');
  if (!ok)
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                     "invalid set name \"" + std::string(name.substr(0, 60)) +
                         "\": wanted 1-200 characters of A-Z a-z 0-9 . _ - not starting with .");
}

Store::Store(StoreSettings settings, sdk::StoreOpening how) : settings_(std::move(settings)) {
  layout_.root = settings_.root;
  const bool may_create = how == sdk::StoreOpening::create_if_missing;
  storage::open_store_directory(settings_.root, "dedup device", may_create);
  struct statvfs fs;
  read_only_ = ::statvfs(settings_.root.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0;
  struct stat st;
  const std::string config_path = settings_.root + "/dedup.json";
  if (::stat(config_path.c_str(), &st) == 0) {
    // "domain_from" matters only when the store is made: the store's own dedup.json holds its keys from then
    // on. Reading the other store at every open would make this one unreadable once that one is lost, which
    // is when an offsite copy is needed most.
    config_ = load_store_config(settings_.root, settings_.key_file);
  } else if (errno != ENOENT) {
    storage::throw_errno(errno, "dedup device: cannot stat " + config_path);
  } else if (::stat(sets_dir().c_str(), &st) == 0 || ::stat(layout_.packs_dir().c_str(), &st) == 0) {
    // Keys made anew could never open the packs already there, and the next gc would sweep them.
    throw sdk::Error(SBX_ERR_CORRUPT, "dedup device: " + settings_.root +
                                          " holds sets or packs but no dedup.json, which holds their keys: "
                                          "put it back from a copy (see docs/admin-guide.md)");
  } else if (!may_create || read_only_) {
    throw sdk::Error(SBX_ERR_OFFLINE, "dedup device: " + settings_.root +
                                          " holds no store (is its drive mounted?); `strongbox devices add` "
                                          "makes one");
  } else {
    config_ = create_store_config(settings_.root, settings_.key_file, settings_.domain_from,
                                  settings_.chunker.value_or(default_chunker_params()));
  }
  if (read_only_) return;
  for (const auto& dir : {layout_.packs_dir(), sets_dir(), sessions_dir(), layout_.tmp_dir()})
    storage::make_directory(dir, "dedup device");
}

void Store::require_writable(std::string_view what) const {
  if (read_only_)
    throw sdk::Error(SBX_ERR_PERMISSION, "dedup device " + settings_.root +
                                             " is on a read-only file system: cannot " + std::string(what) +
                                             " (its sets can be restored, verified and imported from)");
}

std::unique_ptr<ChunkIndex> Store::open_read_only_index() const {
  std::string why;
  struct stat st;
  if (::stat(ChunkIndex::rebuild_marker(index_path()).c_str(), &st) == 0) {
    why = "its index is marked as damaged";
  } else if (::stat(index_path().c_str(), &st) != 0) {
    why = "it has no index";
  } else if (::stat((index_path() + "-wal").c_str(), &st) == 0 && st.st_size > 0) {
    // Commits still in the write-ahead log, which an immutable open does not read.
    why = "its index was not closed cleanly";
  } else {
    try {
      return std::make_unique<ChunkIndex>(index_path(), settings_.index_memory_bytes,
                                          ChunkIndex::Access::kImmutable);
    } catch (const sdk::Error& e) {
      if (e.status() != SBX_ERR_CORRUPT) throw;
      why = e.what();
    }
  }
  // The index is only a cache of the pack trailers; the packs are read instead, into a temporary file.
  auto temporary = std::make_unique<ChunkIndex>("", settings_.index_memory_bytes);
  const size_t packs = adopt_unindexed_packs(*temporary);
  if (!warned_read_only_index_.exchange(true))
    sdk::log(SBX_LOG_WARN, "dedup device " + settings_.root + " is read-only and " + why +
                               ": read through a temporary index of its " + std::to_string(packs) + " packs");
  return temporary;
}

std::unique_ptr<ChunkIndex> Store::open_index() const {
  if (read_only_) return open_read_only_index();
  const std::string marker = ChunkIndex::rebuild_marker(index_path());
  struct stat st;
  if (::stat(marker.c_str(), &st) != 0) {
    try {
      return std::make_unique<ChunkIndex>(index_path(), settings_.index_memory_bytes);
    } catch (const sdk::Error& e) {
      if (e.status() != SBX_ERR_CORRUPT) throw;
    }
  }
  // The index is a cache of the pack trailers, never the only copy of anything: a damaged one is set aside
  // (kept for a post-mortem) and a new one fills itself from the packs. Under the exclusive lock, so two
  // processes that both found it damaged do not set aside each other's new index.
  StoreLock exclusive(lock_path(), true);
  std::string damage;
  if (::stat(marker.c_str(), &st) == 0) {
    damage = storage::read_small_file(marker, 64 * 1024);
    while (!damage.empty() && damage.back() == '\n') damage.pop_back();
  } else {
    try {
      return std::make_unique<ChunkIndex>(index_path(), settings_.index_memory_bytes);
    } catch (const sdk::Error& e) {
      if (e.status() != SBX_ERR_CORRUPT) throw;
      damage = e.what();
    }
  }
  const std::string aside = index_path() + ".damaged-" + std::to_string(::time(nullptr));
  for (const char* suffix : {"", "-wal"})
    if (::rename((index_path() + suffix).c_str(), (aside + suffix).c_str()) != 0 && errno != ENOENT)
      storage::throw_errno(errno, "dedup device: cannot set the damaged index aside");
  ::unlink((index_path() + "-shm").c_str());
  // After the rename: a crash in between leaves the marker, and the next open sets aside a new index, which
  // costs a rebuild and loses nothing.
  if (::unlink(marker.c_str()) != 0 && errno != ENOENT)
    storage::throw_errno(errno, "dedup device: cannot remove " + marker);
  storage::fsync_directory(settings_.root);
  sdk::log(SBX_LOG_WARN, "dedup device " + settings_.root + ": " + damage + "; set it aside as " + aside +
                             " and rebuilding the index from the packs");
  // Now, under the lock: an index filled only as lookups miss would let the next backups store again every
  // chunk the store already holds.
  auto rebuilt = std::make_unique<ChunkIndex>(index_path(), settings_.index_memory_bytes);
  const size_t packs = adopt_unindexed_packs(*rebuilt);
  sdk::log(SBX_LOG_WARN,
           "dedup device " + settings_.root + ": rebuilt the index from " + std::to_string(packs) + " packs");
  return rebuilt;
}

std::unique_ptr<BlobCodec> Store::make_codec() const {
  return std::make_unique<BlobCodec>(config_.keys, settings_.compression_level);
}

ChunkId Store::manifest_id(BlobCodec& codec, std::string_view set) {
  std::string label(kManifestLabel);
  label.append(set);
  return codec.id_of(label);
}

std::vector<std::string> Store::committed_sets() const {
  std::vector<std::string> sets;
  for (const auto& file : list_directory(sets_dir()))
    if (ends_with(file, kManifestSuffix) && file.front() != '.')
      sets.push_back(file.substr(0, file.size() - kManifestSuffix.size()));
  std::sort(sets.begin(), sets.end());
  return sets;
}

std::string Store::read_manifest_file(std::string_view set) const {
  const std::string path = manifest_path(set);
  int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) {
    if (errno == ENOENT)
      throw sdk::Error(SBX_ERR_NOT_FOUND, "no set named \"" + std::string(set) + "\" on this device");
    storage::throw_errno(errno, "cannot open " + path);
  }
  storage::UniqueFd fd(raw);
  const uint64_t size = storage::file_size(fd.get(), path);
  if (size > (1ull << 32)) throw sdk::Error(SBX_ERR_CORRUPT, "manifest " + path + " is implausibly large");
  std::string stored(size, '\0');
  if (storage::pread_full(fd.get(), stored.data(), size, 0, path) != size)
    throw sdk::Error(SBX_ERR_IO, "cannot read " + path);
  return stored;
}

Manifest Store::load_manifest(BlobCodec& codec, std::string_view set) const {
  return decode_manifest(codec.open(read_manifest_file(set), manifest_id(codec, set), BlobType::manifest,
                                    "manifest " + manifest_path(set)));
}

size_t Store::adopt_unindexed_packs(ChunkIndex& index) const {
  // Nothing can have been written since the immutable index was (the file system is read-only); a pack it
  // lacks was lost to a crash before the file system was made read-only, and is not looked for.
  if (index.read_only()) return 0;
  // Packs the index lists whose files are gone go first: their rows then yield to the copies adopted below.
  // Only an index that lost commits (a power cut, an older copy put back) lists such packs, and its rows
  // may point there while the blobs live in a pack gc rewrote; kept, they would hide that pack from gc's
  // marking, and gc would delete it as unused.
  // The index is read before the directory: a writer renames its pack into place before indexing it, so a
  // pack indexed by then is on disk unless it was deleted. The other order would take a pack a writer
  // indexed in between for gone.
  std::vector<std::string> indexed;
  index.for_each_pack([&](const std::string& pack, uint64_t) { indexed.push_back(pack); });
  const std::vector<std::string> on_disk = list_packs(layout_);
  const std::unordered_set<std::string> present(on_disk.begin(), on_disk.end());
  std::vector<std::string> gone;
  for (auto& pack : indexed)
    if (!present.count(pack)) gone.push_back(std::move(pack));
  if (!gone.empty()) index.forget_packs(gone);
  size_t adopted = 0;
  for (const auto& pack : on_disk) {
    if (index.has_pack(pack)) continue;
    try {
      uint64_t bytes = 0;
      auto records = read_pack_trailer(layout_.pack_path(pack), &bytes);
      index.add_pack(pack, bytes, records);
      ++adopted;
    } catch (const sdk::Error& e) {
      if (e.status() != SBX_ERR_CORRUPT && e.status() != SBX_ERR_NOT_FOUND) throw;
    }
  }
  return adopted;
}

StoreLock::StoreLock(const std::string& path, bool exclusive) {
  int raw = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (raw < 0 && errno == EROFS) {
    raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0 && errno == ENOENT) return;
  }
  if (raw < 0) storage::throw_errno(errno, "cannot open " + path);
  fd_ = storage::UniqueFd(raw);
  while (::flock(fd_.get(), exclusive ? LOCK_EX : LOCK_SH) != 0)
    if (errno != EINTR) storage::throw_errno(errno, "cannot lock " + path);
}

StoreLock::~StoreLock() = default;  // closing the descriptor releases the lock

Session::Session(const Store& store) {
  uint8_t raw[16];
  storage::random_bytes(raw, sizeof raw);
  path_ = store.sessions_dir() + "/" +
          to_hex(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw)) + ".ids";
  // Created and locked under the shared store lock: gc, holding it exclusively, never sees it unlocked.
  StoreLock shared(store.lock_path(), false);
  fd_ = storage::open_or_throw(path_, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) storage::throw_errno(errno, "cannot lock " + path_);
}

Session::~Session() {
  ::unlink(path_.c_str());
}

void Session::protect(const std::vector<ChunkId>& ids) {
  if (ids.empty()) return;
  std::string bytes;
  bytes.reserve(ids.size() * kIdBytes);
  for (const auto& id : ids) bytes.append(id_view(id));
  // Page cache is enough: gc runs on this machine and only needs the ids while this process lives.
  storage::write_all(fd_.get(), bytes.data(), bytes.size(), path_);
}

namespace {

// Calls `live` with each session file whose writer still holds it, deleting the others: nobody holds them,
// so their writer died, and the ids they list are garbage now.
void for_each_live_session(const Store& store, const std::function<void(const std::string&, int)>& live) {
  for (const auto& file : list_directory(store.sessions_dir())) {
    if (!ends_with(file, ".ids")) continue;
    const std::string path = store.sessions_dir() + "/" + file;
    int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0) continue;  // finished in the meantime
    storage::UniqueFd fd(raw);
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0)
      ::unlink(path.c_str());
    else
      live(path, fd.get());
  }
}

}  // namespace

void remove_unfinished_packs(const Store& store) {
  for (const auto& file : list_directory(store.layout().tmp_dir())) {
    const std::string path = store.layout().tmp_dir() + "/" + file;
    struct stat st;
    // Only old leftovers: a writer in flight may be writing this very file.
    if (::stat(path.c_str(), &st) == 0 && st.st_mtime + 24 * 3600 < ::time(nullptr)) ::unlink(path.c_str());
  }
}

void sweep_dead_writers(const Store& store) noexcept {
  try {
    storage::UniqueFd lock = storage::open_or_throw(store.lock_path(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    // Exclusive, as gc's reading of the sessions is: a session file is created before it is locked, under
    // the shared lock.
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) return;
    for_each_live_session(store, [](const std::string&, int) {});
    remove_unfinished_packs(store);
  } catch (const std::exception& e) {
    sdk::log(SBX_LOG_DEBUG, "dedup device " + store.settings().root +
                                ": leftovers of interrupted writers stay until gc: " + e.what());
  }
}

std::vector<ChunkId> live_session_ids(const Store& store) {
  std::vector<ChunkId> ids;
  for_each_live_session(store, [&](const std::string& path, int fd) {
    const uint64_t size = storage::file_size(fd, path);
    std::string bytes(size - size % kIdBytes, '\0');
    size_t got = storage::pread_full(fd, bytes.data(), bytes.size(), 0, path);
    for (size_t at = 0; at + kIdBytes <= got; at += kIdBytes)
      ids.push_back(id_from(std::string_view(bytes).substr(at, kIdBytes)));
  });
  return ids;
}

BlobLocation locate_stored(const Store& store, ChunkIndex& index, const ChunkId& id) {
  auto where = index.find(id);
  if (!where) {
    // Maybe the pack holding it was never indexed (a crash or power cut between pack and index).
    store.adopt_unindexed_packs(index);
    where = index.find(id);
  }
  if (!where)
    throw sdk::Error(SBX_ERR_NOT_FOUND, "blob " + to_hex(id_view(id)).substr(0, 16) + " is not in the store");
  return *where;
}

std::string read_located(PackFiles& files, const BlobLocation& where,
                         const std::function<BlobLocation()>& locate_again) {
  try {
    return files.read(where.pack, where.offset, where.length);
  } catch (const sdk::Error& e) {
    if (e.status() != SBX_ERR_NOT_FOUND) throw;
  }
  const BlobLocation moved = locate_again();
  return files.read(moved.pack, moved.offset, moved.length);
}

BlobLocation relocate_stored(const Store& store, ChunkIndex& index, const ChunkId& id) {
  store.adopt_unindexed_packs(index);
  return locate_stored(store, index, id);
}

std::string fetch_stored(const Store& store, ChunkIndex& index, PackFiles& files, const ChunkId& id) {
  return read_located(files, locate_stored(store, index, id),
                      [&] { return relocate_stored(store, index, id); });
}

}  // namespace sbx::dedup
