#include "device.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <span>
#include <thread>

#include "bytes.hpp"
#include "entry_finder.hpp"

namespace sbx::dedup {
namespace {

// Chunks wait in a batch until this many (or this many bytes) are pending, so one index lookup pass and one
// append to the session file under the store lock serve them all.
constexpr size_t kBatchChunks = 256;
constexpr size_t kBatchBytes = 4u << 20;
// Four batches in flight keep the seal threads fed.
constexpr size_t kSealBytesInFlight = 4 * kBatchBytes;

void write_manifest_file(const Store& store, std::string_view set, std::string_view stored,
                         bool tolerate_identical) {
  const std::string file = std::string(set) + ".manifest";
  if (storage::write_file_atomically(store.sets_dir(), file, std::string(stored), /*no_replace=*/true))
    return;
  if (tolerate_identical && store.read_manifest_file(set) == stored) return;
  throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                   "set \"" + std::string(set) + "\" already exists on this device");
}

// Blobs on their way into packs, shared by the writer and the receiver: ids already handled by this session
// are skipped, the rest are looked up under the shared store lock, protected in the session, and the ones
// the store lacks are sealed (writer) or taken as stored (receiver) into the open pack. Lookups and adds may
// come from several threads (the writer's seal pool); a full pack is written outside the mutex, so sealing
// and lookups go on while it reaches the disk.
class PackSink {
 public:
  PackSink(std::shared_ptr<const Store> store)
      : store_(std::move(store)),
        index_(store_->open_index()),
        session_(*store_),
        pack_(std::make_unique<PackBuilder>(store_->layout())) {
    sweep_dead_writers(*store_);
  }

  // Only while no other thread uses the sink.
  ChunkIndex& index() { return *index_; }
  const Store& store() const { return *store_; }
  uint64_t stored_bytes() const {
    std::lock_guard lock(mutex_);
    return stored_bytes_;
  }

  // Returns false when the id was handled before in this session. The writer's own thread only.
  bool first_time(const ChunkId& id) { return known_.insert(id).second; }
  bool known(const ChunkId& id) const { return known_.count(id) != 0; }

  // Looks the ids up and protects them all; returns, per id, whether the store already has it.
  std::vector<bool> lookup_and_protect(const std::vector<ChunkId>& ids) {
    std::vector<bool> present(ids.size());
    std::lock_guard lock(mutex_);
    StoreLock shared(store_->lock_path(), false);
    ChunkIndex::ReadScope reading(*index_);
    for (size_t i = 0; i < ids.size(); ++i) present[i] = index_->find(ids[i]).has_value();
    session_.protect(ids);
    return present;
  }

  void add_stored(const ChunkId& id, std::string_view stored) {
    const std::pair<ChunkId, std::string_view> one{id, stored};
    add_stored({&one, 1});
  }

  // Under one lock for the lot (the seal threads would otherwise queue for it blob by blob); a pack that
  // fills up is written outside it.
  void add_stored(std::span<const std::pair<ChunkId, std::string_view>> blobs) {
    for (size_t next = 0; next < blobs.size();) {
      std::unique_ptr<PackBuilder> full;
      {
        std::lock_guard lock(mutex_);
        while (next < blobs.size() && !full) {
          const auto& [id, stored] = blobs[next++];
          pack_->add(id, stored);
          stored_bytes_ += stored.size();
          if (pack_->bytes() >= store_->settings().pack_bytes)
            full = std::exchange(pack_, std::make_unique<PackBuilder>(store_->layout()));
        }
      }
      if (full) write_pack(*full);
    }
  }

  void finish_pack() {
    std::unique_ptr<PackBuilder> last;
    {
      std::lock_guard lock(mutex_);
      if (pack_->empty()) return;
      last = std::exchange(pack_, std::make_unique<PackBuilder>(store_->layout()));
    }
    write_pack(*last);
  }

 private:
  void write_pack(PackBuilder& pack) {
    std::vector<PackRecord> records;
    uint64_t bytes = 0;
    std::string name = pack.finish(records, bytes);
    std::lock_guard lock(mutex_);
    index_->add_pack(name, bytes, records);
  }

  std::shared_ptr<const Store> store_;
  mutable std::mutex mutex_;  // index_, session_, pack_, stored_bytes_
  std::unique_ptr<ChunkIndex> index_;
  Session session_;
  std::unique_ptr<PackBuilder> pack_;
  ChunkIdSet known_;
  uint64_t stored_bytes_ = 0;
};

struct PendingBlob {
  ChunkId id;
  BlobType type;
  std::string plain;
};

// Compression and encryption are most of a backup's CPU time: batches of new blobs are sealed by worker
// threads, each with its own codec, while the writer's thread goes on chunking and hashing. The bytes in
// flight are bounded, so a fast reader waits instead of filling memory.
class SealPool {
 public:
  SealPool(const Store& store, PackSink& sink, unsigned threads, size_t max_bytes_in_flight)
      : sink_(sink), max_bytes_(max_bytes_in_flight) {
    if (threads == 0) inline_codec_ = store.make_codec();
    for (unsigned i = 0; i < threads; ++i)
      workers_.emplace_back([this, codec = std::shared_ptr<BlobCodec>(store.make_codec())] { work(*codec); });
  }
  ~SealPool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  // Waits while too much is in flight; rethrows what stopped a worker.
  void submit(std::vector<PendingBlob> batch, size_t bytes) {
    if (inline_codec_) {
      seal_all(*inline_codec_, batch);
      return;
    }
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return error_ || in_flight_ == 0 || in_flight_ + bytes <= max_bytes_; });
    rethrow();
    in_flight_ += bytes;
    queue_.push_back({std::move(batch), bytes});
    wake_.notify_one();
  }

  // Returns when every submitted blob is in a pack (or a pack being written has been indexed).
  void drain() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return error_ || in_flight_ == 0; });
    rethrow();
  }

 private:
  struct Batch {
    std::vector<PendingBlob> blobs;
    size_t bytes;
  };

  void rethrow() {
    if (error_) std::rethrow_exception(error_);
  }

  // Seals a batch and adds it to the pack under one lock; each plain text is freed once sealed.
  void seal_all(BlobCodec& codec, std::vector<PendingBlob>& blobs) {
    std::vector<std::string> sealed;
    sealed.reserve(blobs.size());
    for (auto& blob : blobs) {
      sealed.push_back(codec.seal(blob.type, blob.id, blob.plain));
      std::string().swap(blob.plain);
    }
    std::vector<std::pair<ChunkId, std::string_view>> added;
    added.reserve(blobs.size());
    for (size_t i = 0; i < blobs.size(); ++i) added.emplace_back(blobs[i].id, sealed[i]);
    sink_.add_stored(added);
  }

  void work(BlobCodec& codec) {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;  // what is still queued belongs to an abandoned set
      Batch batch = std::move(queue_.front());
      queue_.pop_front();
      const bool skip = error_ != nullptr;  // after a failure the set is lost: seal nothing more
      lock.unlock();
      std::exception_ptr failed;
      try {
        if (!skip) seal_all(codec, batch.blobs);
      } catch (...) {
        failed = std::current_exception();
      }
      batch.blobs.clear();
      lock.lock();
      if (failed && !error_) error_ = failed;
      in_flight_ -= batch.bytes;
      idle_.notify_all();
    }
  }

  PackSink& sink_;
  const size_t max_bytes_;
  std::unique_ptr<BlobCodec> inline_codec_;  // no threads: sealed by submit() itself
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<Batch> queue_;
  size_t in_flight_ = 0;
  std::exception_ptr error_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

class DedupWriter : public sdk::StorageWriter {
 public:
  DedupWriter(std::shared_ptr<const Store> store, std::string set_name)
      : sink_(store),
        seal_pool_(*store, sink_, store->settings().seal_threads, kSealBytesInFlight),
        codec_(store->make_codec()),
        chunker_(store->config().chunker),
        set_name_(std::move(set_name)),
        writing_marker_(store->writing_path(set_name_)) {
    storage::UniqueFd marker = storage::open_or_throw(writing_marker_, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    marker.close_checked(writing_marker_);
  }
  ~DedupWriter() override {
    if (!committed_) ::unlink(writing_marker_.c_str());
  }

  void write_entry(const sbx_entry& entry) override {
    if (in_entry_) throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "write_entry before the previous entry ended");
    record_ = EntryRecord{};
    record_.entry = sdk::Entry::from(entry);
    data_seen_ = 0;
    buffer_.clear();
    buffer_start_ = 0;
    in_entry_ = true;
  }

  void write_data(std::string_view data) override {
    if (!in_entry_) throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "write_data outside an entry");
    data_seen_ += data.size();
    if (data_seen_ > record_.entry.data_length())
      throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                       "more data than the entry's length for " + record_.entry.path);
    const bool last = data_seen_ == record_.entry.data_length();
    if (buffer_start_ < buffer_.size()) {
      buffer_.append(data);
      cut_chunks(last);
      return;
    }
    // Nothing is pending: chunks are cut straight from the incoming bytes and only an undecided tail is
    // kept (a small file that arrives whole is one chunk, copied once, into its blob).
    buffer_.clear();
    buffer_start_ = 0;
    while (!data.empty()) {
      const size_t cut = chunker_.next_cut(reinterpret_cast<const uint8_t*>(data.data()), data.size(), last);
      if (cut == 0) break;
      add_chunk(data.substr(0, cut));
      data.remove_prefix(cut);
    }
    buffer_.append(data);
  }

  sdk::Locator end_entry() override {
    if (!in_entry_) throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "end_entry outside an entry");
    if (data_seen_ != record_.entry.data_length())
      throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                       "entry " + record_.entry.path + " ended after " + std::to_string(data_seen_) + " of " +
                           std::to_string(record_.entry.data_length()) + " data bytes");
    cut_chunks(true);
    in_entry_ = false;
    manifest_.data_bytes += data_seen_;
    return add_to_group(record_);
  }

  sdk::Locator link_entry(std::string_view source_locator) override {
    if (in_entry_) throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "link_entry inside an entry");
    const EntryAddress address = decode_locator(source_locator);
    seal_pool_.drain();  // the index is read below on this thread
    if (!finder_)
      finder_.emplace(sink_.store(), *codec_, [this](const ChunkId& id) {
        return fetch_stored(sink_.store(), sink_.index(), files_, id);
      });
    const GroupRef source = finder_->group_of(address);
    // Protected before it is read: gc cannot take the group or its chunks away in between.
    if (!sink_.lookup_and_protect({source.id})[0])
      throw sdk::Error(SBX_ERR_NOT_FOUND, "the entry to link is not on this device");
    sink_.first_time(source.id);
    std::shared_ptr<const EntryGroup> group = finder_->open_group(source);
    const EntryRecord& record = (*group)[address.index];
    std::vector<ChunkId> chunk_ids;
    for (const auto& c : record.chunks) chunk_ids.push_back(c.id);
    auto present = sink_.lookup_and_protect(chunk_ids);
    for (size_t i = 0; i < chunk_ids.size(); ++i) {
      if (!present[i])
        throw sdk::Error(SBX_ERR_NOT_FOUND, "data of " + record.entry.path + " is not on this device");
      sink_.first_time(chunk_ids[i]);
    }
    manifest_.data_bytes += record.entry.data_length();
    return add_to_group(record);
  }

  sbx_set_stats commit() override {
    if (in_entry_) throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "commit inside an entry");
    end_group();
    flush_batch();
    seal_pool_.drain();
    sink_.finish_pack();
    const std::string stored =
        codec_->seal(BlobType::manifest, Store::manifest_id(*codec_, set_name_), encode_manifest(manifest_));
    {
      // Under the shared lock: gc, deciding under the exclusive one, sees either this session or the
      // manifest.
      StoreLock shared(sink_.store().lock_path(), false);
      write_manifest_file(sink_.store(), set_name_, stored, false);
      committed_ = true;
      ::unlink(writing_marker_.c_str());
    }
    sbx_set_stats stats{};
    stats.struct_size = sizeof stats;
    stats.stored_bytes = sink_.stored_bytes() + stored.size();
    stats.entries = manifest_.entry_count();
    return stats;
  }

  void abort() noexcept override {}

 private:
  sdk::Locator add_to_group(const EntryRecord& record) {
    const EntryAddress address{set_name_, uint32_t(manifest_.groups.size()), group_.entries()};
    if (group_.add(record)) end_group();
    return encode_locator(address);
  }

  void end_group() {
    if (group_.entries() == 0) return;
    const uint32_t entries = group_.entries();
    std::string encoded = group_.take();
    ChunkId id = codec_->id_of(encoded);
    enqueue(id, BlobType::entries, std::move(encoded));
    manifest_.groups.push_back({id, entries});
  }

  void cut_chunks(bool at_end) {
    while (buffer_start_ < buffer_.size()) {
      const auto* data = reinterpret_cast<const uint8_t*>(buffer_.data()) + buffer_start_;
      size_t cut = chunker_.next_cut(data, buffer_.size() - buffer_start_, at_end);
      if (cut == 0) break;
      add_chunk(std::string_view(buffer_.data() + buffer_start_, cut));
      buffer_start_ += cut;
    }
    // Keep the buffer from growing: drop consumed bytes once they outweigh the rest.
    if (buffer_start_ > 0 && buffer_start_ * 2 >= buffer_.size()) {
      buffer_.erase(0, buffer_start_);
      buffer_start_ = 0;
    }
  }

  void add_chunk(std::string_view chunk) {
    ChunkId id = codec_->id_of(chunk);
    record_.chunks.push_back({id, uint32_t(chunk.size())});
    enqueue(id, BlobType::data, std::string(chunk));
  }

  void enqueue(const ChunkId& id, BlobType type, std::string plain) {
    if (!sink_.first_time(id)) return;
    batch_bytes_ += plain.size();
    batch_.push_back({id, type, std::move(plain)});
    if (batch_.size() >= kBatchChunks || batch_bytes_ >= kBatchBytes) flush_batch();
  }

  void flush_batch() {
    if (batch_.empty()) return;
    std::vector<ChunkId> ids;
    ids.reserve(batch_.size());
    for (const auto& p : batch_) ids.push_back(p.id);
    auto present = sink_.lookup_and_protect(ids);
    std::vector<PendingBlob> missing;
    size_t missing_bytes = 0;
    for (size_t i = 0; i < batch_.size(); ++i)
      if (!present[i]) {
        missing_bytes += batch_[i].plain.size();
        missing.push_back(std::move(batch_[i]));
      }
    batch_.clear();
    batch_bytes_ = 0;
    if (!missing.empty()) seal_pool_.submit(std::move(missing), missing_bytes);
  }

  PackSink sink_;
  SealPool seal_pool_;
  std::unique_ptr<BlobCodec> codec_;
  PackFiles files_{sink_.store().layout()};
  Chunker chunker_;
  std::string set_name_;
  std::string writing_marker_;
  bool committed_ = false;
  bool in_entry_ = false;
  EntryRecord record_;
  EntryGroupWriter group_;
  std::optional<EntryFinder> finder_;  // for link_entry
  uint64_t data_seen_ = 0;
  std::string buffer_;
  size_t buffer_start_ = 0;
  std::vector<PendingBlob> batch_;
  size_t batch_bytes_ = 0;
  Manifest manifest_;  // of the set being written
};

class Receiver : public sdk::DedupReceiver {
 public:
  explicit Receiver(std::shared_ptr<const Store> store) : sink_(store), codec_(store->make_codec()) {}

  void missing_chunks(std::span<const sbx_bytes> ids, uint8_t* missing) override {
    std::vector<ChunkId> asked;
    asked.reserve(ids.size());
    for (const auto& id : ids) asked.push_back(id_from(sdk::view(id)));
    auto present = sink_.lookup_and_protect(asked);
    for (size_t i = 0; i < asked.size(); ++i) {
      // Received earlier in this session counts as present even before its pack is indexed.
      missing[i] = (present[i] || sink_.known(asked[i])) ? 0 : 1;
      if (present[i]) sink_.first_time(asked[i]);
    }
  }

  void offer_set(std::string_view set_name, std::string_view manifest_stored,
                 const std::function<void(std::string_view)>& fn) override {
    for (const auto& id : lacking(set_name, manifest_stored, "offered")) fn(id_view(id));
  }

  void receive_chunk(std::string_view chunk_id, std::string_view stored) override {
    ChunkId id = id_from(chunk_id);
    if (stored.size() < kBlobHeaderBytes) throw sdk::Error(SBX_ERR_CORRUPT, "a received chunk is truncated");
    BlobType type = BlobType(uint8_t(stored[1]));
    if (type != BlobType::data && type != BlobType::entries)
      throw sdk::Error(SBX_ERR_CORRUPT, "a received chunk is of an unknown type");
    std::string plain = codec_->open(stored, id, type, "a received chunk");
    if (codec_->id_of(plain) != id)
      throw sdk::Error(SBX_ERR_CORRUPT, "a received chunk does not match its id (another dedup domain?)");
    if (sink_.known(id)) return;  // sent twice (a resumed duplication): keep the first
    sink_.lookup_and_protect({id});
    sink_.first_time(id);
    sink_.add_stored(id, stored);
  }

  void flush_received() override { sink_.finish_pack(); }

  void receive_set(std::string_view set_name, std::string_view manifest_stored) override {
    const std::vector<ChunkId> missing = lacking(set_name, manifest_stored, "received");
    if (!missing.empty())
      throw sdk::Error(SBX_ERR_NOT_FOUND, "set \"" + std::string(set_name) + "\" needs chunk " +
                                              to_hex(id_view(missing.front())).substr(0, 16) +
                                              ", which was not sent");
    StoreLock shared(sink_.store().lock_path(), false);
    write_manifest_file(sink_.store(), set_name, manifest_stored, /*tolerate_identical=*/true);
  }

 private:
  // The blobs of the set this device lacks, each once, in set order; the ones it has are protected. The
  // data chunks of a group it lacks are not known yet: a sender offers the set again once the groups are
  // here, and learns them then.
  std::vector<ChunkId> lacking(std::string_view set_name, std::string_view manifest_stored, const char* how) {
    check_set_name(set_name);
    flush_received();  // what was received is indexed, so its groups can be opened
    const Manifest manifest =
        decode_manifest(codec_->open(manifest_stored, Store::manifest_id(*codec_, set_name),
                                     BlobType::manifest, std::string("the ") + how + " manifest"));
    std::vector<ChunkId> groups;
    for (const auto& g : manifest.groups) groups.push_back(g.id);
    const std::vector<bool> group_present = sink_.lookup_and_protect(groups);
    std::vector<ChunkId> chunks;
    size_t at = 0;
    finder_.walk_blobs(
        manifest, [&](const GroupRef&) { return bool(group_present[at++]); },
        [&](const ChunkId& id) { chunks.push_back(id); });
    const std::vector<bool> chunk_present = sink_.lookup_and_protect(chunks);
    std::vector<ChunkId> missing;
    ChunkIdSet reported;
    auto sort_out = [&](const std::vector<ChunkId>& ids, const std::vector<bool>& present) {
      for (size_t i = 0; i < ids.size(); ++i)
        if (present[i])
          sink_.first_time(ids[i]);
        else if (reported.insert(ids[i]).second)
          missing.push_back(ids[i]);
    };
    sort_out(groups, group_present);
    sort_out(chunks, chunk_present);
    return missing;
  }

  PackSink sink_;
  std::unique_ptr<BlobCodec> codec_;
  PackFiles files_{sink_.store().layout()};
  EntryFinder finder_{sink_.store(), *codec_, [this](const ChunkId& id) {
                        return fetch_stored(sink_.store(), sink_.index(), files_, id);
                      }};
};

}  // namespace

DedupDevice::DedupDevice(std::string_view config_json, sdk::StoreOpening how)
    : store_(std::make_shared<const Store>(parse_store_settings(config_json), how)) {}

sbx_storage_info DedupDevice::info() {
  sbx_storage_info info{};
  info.struct_size = sizeof info;
  struct statvfs fs;
  if (::statvfs(store_->settings().root.c_str(), &fs) != 0) {
    info.online = 0;
    return info;
  }
  info.total_bytes = uint64_t(fs.f_blocks) * fs.f_frsize;
  info.free_bytes = uint64_t(fs.f_bavail) * fs.f_frsize;
  info.used_bytes = store_->open_index()->pack_bytes();
  info.online = 1;
  return info;
}

std::unique_ptr<sdk::StorageWriter> DedupDevice::begin_set(std::string_view set_name) {
  check_set_name(set_name);
  store_->require_writable("write a set");
  if (::access(store_->manifest_path(set_name).c_str(), F_OK) == 0)
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                     "set \"" + std::string(set_name) + "\" already exists on this device");
  return std::make_unique<DedupWriter>(store_, std::string(set_name));
}

std::unique_ptr<sdk::StorageReader> DedupDevice::open_set(std::string_view set_name) {
  check_set_name(set_name);
  if (::access(store_->manifest_path(set_name).c_str(), F_OK) != 0)
    throw sdk::Error(SBX_ERR_NOT_FOUND, "no set named \"" + std::string(set_name) + "\" on this device");
  return std::make_unique<SetReader>(store_, store_->settings().read_threads);
}

void DedupDevice::delete_set(std::string_view set_name) {
  check_set_name(set_name);
  store_->require_writable("delete a set");
  bool found = false;
  for (const auto& path : {store_->manifest_path(set_name), store_->writing_path(set_name)}) {
    if (::unlink(path.c_str()) == 0)
      found = true;
    else if (errno != ENOENT)
      storage::throw_errno(errno, "cannot delete " + path);
  }
  if (!found)
    throw sdk::Error(SBX_ERR_NOT_FOUND, "no set named \"" + std::string(set_name) + "\" on this device");
  storage::fsync_directory(store_->sets_dir());
}

void DedupDevice::list_sets(const std::function<void(std::string_view)>& fn) {
  std::vector<std::string> names = store_->committed_sets();
  for (const auto& file : list_directory(store_->sets_dir())) {
    constexpr std::string_view suffix = ".writing";
    if (file.size() > suffix.size() && file.substr(file.size() - suffix.size()) == suffix)
      names.push_back(file.substr(0, file.size() - suffix.size()));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const auto& name : names) fn(name);
}

sbx_dedup_info DedupDevice::dedup_info() {
  sbx_dedup_info info{};
  info.struct_size = sizeof info;
  std::memcpy(info.domain, store_->config().keys.domain.data(), kDomainBytes);
  auto index = store_->open_index();
  info.chunks = index->blob_count();
  info.stored_bytes = index->pack_bytes();
  info.packs = index->pack_count();
  return info;
}

void DedupDevice::set_chunks(std::string_view set_name,
                             const std::function<void(std::string_view, uint64_t)>& fn) {
  check_set_name(set_name);
  BlobReaders& r = readers();
  Manifest manifest = store_->load_manifest(*r.codec, set_name);
  ChunkIdSet seen;
  auto list = [&](const ChunkId& id) {
    if (!seen.insert(id).second) return;
    // Through the pack trailers when the index lost the row, as a restore of the set would.
    BlobLocation where;
    try {
      where = locate_stored(*store_, *r.index, id);
    } catch (const sdk::Error& e) {
      if (e.status() != SBX_ERR_NOT_FOUND) throw;
      throw sdk::Error(SBX_ERR_NOT_FOUND, "set \"" + std::string(set_name) + "\" needs chunk " +
                                              to_hex(id_view(id)).substr(0, 16) + ", which the store lacks");
    }
    fn(id_view(id), where.length);
  };
  r.entries.walk_blobs(
      manifest,
      [&](const GroupRef& group) {
        list(group.id);
        return true;
      },
      list);
}

std::string DedupDevice::read_chunk(std::string_view chunk_id) {
  ChunkId id = id_from(chunk_id);
  BlobReaders& r = readers();
  std::string stored = r.fetch(id);
  // The tag binds the blob to its id: a damaged or misplaced chunk is never sent. The receiver decrypts and
  // rehashes it again anyway; it trusts nothing that arrives.
  r.codec->authenticate(stored, id, "chunk " + to_hex(chunk_id).substr(0, 16));
  return stored;
}

BlobReaders& DedupDevice::readers() {
  if (!readers_) readers_ = std::make_unique<BlobReaders>(*store_);
  return *readers_;
}

std::string DedupDevice::read_manifest(std::string_view set_name) {
  check_set_name(set_name);
  auto codec = store_->make_codec();
  std::string stored = store_->read_manifest_file(set_name);
  decode_manifest(codec->open(stored, Store::manifest_id(*codec, set_name), BlobType::manifest,
                              "manifest of " + std::string(set_name)));
  return stored;
}

std::unique_ptr<sdk::DedupReceiver> DedupDevice::begin_receive() {
  store_->require_writable("receive chunks");
  return std::make_unique<Receiver>(store_);
}

}  // namespace sbx::dedup
