#include "reader.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "bytes.hpp"

namespace sbx::dedup {
namespace {

// Decoded chunks the host has not taken yet: enough to keep two decoders busy across a large file, small
// enough that a restore's memory stays flat.
constexpr uint64_t kBytesAhead = 8ull << 20;
// Entries of empty or tiny files cost a unit each and almost no bytes.
constexpr size_t kUnitsAhead = 4096;
// The planner hands units over this many at a time; the host takes at most this many ready ones (or about
// this many bytes) at a time.
constexpr size_t kPlannedUnits = 64;
constexpr size_t kTakenUnits = 256;
constexpr uint64_t kTakenBytes = 1 << 20;
// A worker claims the chunks stored back to back in one pack together, up to this many bytes and units.
constexpr uint64_t kBatchBytes = 256 << 10;
constexpr size_t kBatchUnits = 64;
constexpr size_t kNoEntry = SIZE_MAX;

// Thrown when the host's sink refuses: reading stops with the host's status instead of going on.
struct SinkRefused {
  sbx_status status;
};

sbx_status call_sink(sbx_status status) {
  if (status < 0) throw SinkRefused{status};
  return status;
}

// Returns true when the host wants the entry's metadata only.
bool start_entry(const sbx_entry_sink& sink, const sdk::Entry& entry) {
  return call_sink(sink.on_entry(sink.ctx, &entry.as_c())) == SBX_SKIP;
}

std::string open_chunk(BlobCodec& codec, std::string_view stored, const ChunkRef& chunk,
                       const std::string& path) {
  const std::string what = "a data chunk of " + path;
  std::string plain = codec.open(stored, chunk.id, BlobType::data, what);
  if (plain.size() != chunk.length) throw sdk::Error(SBX_ERR_CORRUPT, what + " has the wrong length");
  return plain;
}

}  // namespace

BlobReaders::BlobReaders(const Store& s, bool with_index)
    : store(s),
      index(with_index ? s.open_index() : nullptr),
      codec(s.make_codec()),
      files(s.layout()),
      entries(s, *codec, [this](const ChunkId& id) { return fetch(id); }) {}

std::string BlobReaders::fetch(const ChunkId& id) {
  return fetch_stored(store, *index, files, id);
}

std::string BlobReaders::open(const ChunkId& id, BlobType type, const std::string& what) {
  return codec->open(fetch(id), id, type, what);
}

// The planner walks the locators and appends, per entry, one unit for the entry, one per chunk and one for
// its end; workers claim chunk units in order and decode them; the host's thread takes units from the front
// as they become ready. Units are only ever appended at the back and removed at the front, so a worker's
// reference to the unit it decodes stays valid while the lock is released.
class SetReader::Pipeline {
 public:
  Pipeline(std::vector<std::unique_ptr<BlobReaders>>& readers, std::span<const sbx_bytes> locators)
      : locators_(locators) {
    threads_.emplace_back([this, &planner = *readers[0]] { guard([&] { plan(planner); }); });
    for (size_t i = 1; i < readers.size(); ++i)
      threads_.emplace_back([this, &worker = *readers[i]] { guard([&] { decode(worker); }); });
  }

  ~Pipeline() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    room_.notify_all();
    work_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void deliver(const sbx_entry_sink& sink) {
    size_t failed_entry = kNoEntry;   // after a chunk of it failed, the rest of that entry is dropped
    size_t skipped_entry = kNoEntry;  // the host answered SBX_SKIP: metadata only
    std::vector<Unit> taken;
    for (;;) {
      {
        // Every ready unit at the front is taken under one lock: a restore passes hundreds of thousands
        // of units through here, and each lock taken against the planner and the workers may cost a wake.
        std::unique_lock lock(mutex_);
        wait(ready_, lock, host_waits_, [&] {
          return error_ || (!units_.empty() && units_.front().ready) || (planned_all_ && units_.empty());
        });
        if (error_) std::rethrow_exception(error_);
        if (units_.empty()) return;
        uint64_t bytes = 0;
        while (!units_.empty() && units_.front().ready && taken.size() < kTakenUnits && bytes < kTakenBytes) {
          bytes += units_.front().chunk.length;
          taken.push_back(std::move(units_.front()));
          units_.pop_front();
          ++front_seq_;
        }
        bytes_ahead_ -= bytes;
        if (planner_waits_) room_.notify_one();
      }
      for (Unit& unit : taken) {
        if (failed_entry == unit.entry) continue;
        failed_entry = kNoEntry;
        if (unit.kind == Unit::Kind::chunk && skipped_entry == unit.entry) continue;
        skipped_entry = kNoEntry;
        if (unit.error) {
          call_sink(sink.on_entry_error(sink.ctx, unit.entry, unit.error->status(),
                                        sdk::make_str(unit.error->what())));
          if (unit.kind == Unit::Kind::chunk) failed_entry = unit.entry;
        } else if (unit.kind == Unit::Kind::start) {
          if (start_entry(sink, unit.record->entry)) skipped_entry = unit.entry;
        } else if (unit.kind == Unit::Kind::chunk) {
          call_sink(sink.on_data(sink.ctx, sdk::make_bytes(unit.plain)));
        } else {
          call_sink(sink.on_entry_end(sink.ctx));
        }
      }
      taken.clear();
    }
  }

 private:
  struct Unit {
    enum class Kind { start, chunk, end } kind;
    size_t entry;
    std::shared_ptr<const EntryRecord> record{};  // start and chunk units
    ChunkRef chunk{};                             // chunk units
    BlobLocation where{};                         // chunk units: found by the planner
    bool claimed = false, ready = false;
    std::string plain{};
    std::optional<sdk::Error> error{};
  };

  template <class Fn>
  void guard(Fn&& fn) {
    try {
      fn();
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
      ready_.notify_one();
    }
  }

  // Waits on `cv`, counting the waiter in `waiting` so that the side that changes the state signals only
  // when somebody waits: a restore passes hundreds of thousands of units through here.
  template <class Pred>
  void wait(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, unsigned& waiting, Pred pred) {
    while (!pred()) {
      ++waiting;
      cv.wait(lock);
      --waiting;
    }
  }

  // Appends the planned units as the window makes room and empties `planned`; false when the pipeline is
  // stopping. The planner's read of the index ends before it waits.
  bool append(std::vector<Unit>& planned, ChunkIndex& index) {
    std::unique_lock lock(mutex_);
    size_t to_decode = 0;
    bool host_may_go = false;
    auto signal = [&] {
      if (to_decode > 0 && workers_wait_) to_decode > 1 ? work_.notify_all() : work_.notify_one();
      if (host_may_go && host_waits_) ready_.notify_one();
      to_decode = 0;
      host_may_go = false;
    };
    for (Unit& unit : planned) {
      auto room = [&] {
        return stopping_ || units_.empty() ||
               (bytes_ahead_ + unit.chunk.length <= kBytesAhead && units_.size() < kUnitsAhead);
      };
      if (!room()) {
        signal();
        index.end_read();
        wait(room_, lock, planner_waits_, room);
      }
      if (stopping_) return false;
      bytes_ahead_ += unit.chunk.length;
      if (!unit.ready) ++to_decode;
      if (units_.empty()) host_may_go = true;
      units_.push_back(std::move(unit));
    }
    signal();
    planned.clear();
    return true;
  }

  void plan(BlobReaders& readers) {
    ChunkIndex& index = *readers.index;
    ChunkIndex::ReadScope reading(index);
    // Units go to the window a few dozen at a time: one lock each would contend with the host and the
    // workers hundreds of thousands of times a restore.
    std::vector<Unit> planned;
    auto add = [&](Unit unit) {
      planned.push_back(std::move(unit));
      return planned.size() < kPlannedUnits || append(planned, index);
    };
    for (size_t i = 0; i < locators_.size(); ++i) {
      std::shared_ptr<const EntryRecord> record;
      try {
        record = readers.entries.find(sdk::view(locators_[i]));
      } catch (const sdk::Error& e) {
        if (!add({.kind = Unit::Kind::start, .entry = i, .ready = true, .error = e})) return;
        continue;
      }
      if (!add({.kind = Unit::Kind::start, .entry = i, .record = record, .ready = true})) return;
      for (const auto& chunk : record->chunks) {
        Unit unit{.kind = Unit::Kind::chunk, .entry = i, .record = record, .chunk = chunk};
        try {
          unit.where = locate_stored(readers.store, index, chunk.id);
        } catch (const sdk::Error& e) {
          unit.error = e;
          unit.ready = true;
        }
        if (!add(std::move(unit))) return;
      }
      if (!add({.kind = Unit::Kind::end, .entry = i, .ready = true})) return;
    }
    if (!append(planned, index)) return;
    std::lock_guard lock(mutex_);
    planned_all_ = true;
    if (host_waits_) ready_.notify_one();
  }

  void decode(BlobReaders& readers) {
    std::vector<Unit*> batch;
    std::unique_lock lock(mutex_);
    for (;;) {
      batch.clear();
      wait(work_, lock, workers_wait_, [&] { return stopping_ || claim_batch(batch); });
      if (stopping_) return;
      lock.unlock();
      // Chunks stored one after the other come in one read: a restore reads tens of thousands of small
      // blobs, and a system call each cost more than the copying. The batch is handed over at once, so
      // the host waits (and is woken) once a batch, not once a chunk.
      std::vector<Decoded> decoded(batch.size());
      std::string run;
      const uint64_t run_at = batch.front()->where.offset;
      if (batch.size() > 1) {
        const BlobLocation& last = batch.back()->where;
        try {
          run = readers.files.read(batch.front()->where.pack, run_at,
                                   static_cast<uint32_t>(last.offset + last.length - run_at));
        } catch (const sdk::Error&) {
          run.clear();  // each chunk is read, and fails, on its own below
        }
      }
      for (size_t i = 0; i < batch.size(); ++i) {
        Unit* unit = batch[i];
        auto& [plain, error] = decoded[i];
        try {
          const ChunkRef& chunk = unit->chunk;
          std::string stored;
          std::string_view view;
          if (!run.empty()) {
            view = std::string_view(run).substr(unit->where.offset - run_at, unit->where.length);
          } else {
            stored = read_located(readers.files, unit->where, [&] {
              // gc moved the blob since the planner looked: this worker needs an index of its own after all.
              if (!readers.index) readers.index = readers.store.open_index();
              return relocate_stored(readers.store, *readers.index, chunk.id);
            });
            view = stored;
          }
          plain = open_chunk(*readers.codec, view, chunk, unit->record->entry.path);
        } catch (const sdk::Error& e) {
          error = e;
        }
      }
      lock.lock();
      const bool front_ready = batch.front() == &units_.front();
      for (size_t i = 0; i < batch.size(); ++i) {
        batch[i]->plain = std::move(decoded[i].first);
        batch[i]->error = std::move(decoded[i].second);
        batch[i]->ready = true;
      }
      if (front_ready && host_waits_) ready_.notify_one();
    }
  }
  using Decoded = std::pair<std::string, std::optional<sdk::Error>>;

  // Claims the first chunk unit no worker has, and after it the next ones stored right behind it in the
  // same pack, up to kBatchBytes; false when there is nothing to claim.
  bool claim_batch(std::vector<Unit*>& batch) {
    Unit* first = next_unclaimed();
    if (!first) return false;
    first->claimed = true;
    batch.push_back(first);
    uint64_t end = first->where.offset + first->where.length;
    uint64_t bytes = first->where.length;
    for (uint64_t seq = claim_seq_ + 1; seq - front_seq_ < units_.size() && batch.size() < kBatchUnits;
         ++seq) {
      Unit& unit = units_[seq - front_seq_];
      if (unit.ready) continue;  // entry starts and ends, chunks the planner could not find
      if (unit.claimed || unit.where.pack != first->where.pack || unit.where.offset != end ||
          bytes + unit.where.length > kBatchBytes)
        break;
      unit.claimed = true;
      batch.push_back(&unit);
      end += unit.where.length;
      bytes += unit.where.length;
    }
    return true;
  }

  // The first chunk unit no worker has claimed, skipping past those claimed already.
  Unit* next_unclaimed() {
    if (claim_seq_ < front_seq_) claim_seq_ = front_seq_;
    while (claim_seq_ - front_seq_ < units_.size()) {
      Unit& unit = units_[claim_seq_ - front_seq_];
      if (!unit.claimed && !unit.ready) return &unit;
      ++claim_seq_;
    }
    return nullptr;
  }

  const std::span<const sbx_bytes> locators_;
  std::mutex mutex_;
  std::condition_variable ready_, room_, work_;  // the host waits for the front, the planner for room
  unsigned host_waits_ = 0, planner_waits_ = 0, workers_wait_ = 0;
  std::deque<Unit> units_;
  uint64_t front_seq_ = 0;  // sequence number of units_.front()
  uint64_t claim_seq_ = 0;  // every unit before this one is claimed or needs no decoding
  uint64_t bytes_ahead_ = 0;
  bool planned_all_ = false;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> threads_;
};

SetReader::SetReader(std::shared_ptr<const Store> store, unsigned threads)
    : store_(std::move(store)), threads_(threads) {}

SetReader::~SetReader() = default;

void SetReader::read_entries(std::span<const sbx_bytes> locators, const sbx_entry_sink& sink) {
  try {
    if (threads_ == 0) {
      read_inline(locators, sink);
      return;
    }
    if (readers_.empty()) {
      for (unsigned i = 0; i <= threads_; ++i)
        readers_.push_back(std::make_unique<BlobReaders>(*store_, i == 0));
    }
    Pipeline pipeline(readers_, locators);
    pipeline.deliver(sink);
  } catch (const SinkRefused& refused) {
    throw sdk::Error(refused.status, "reading stopped: the host refused an entry");
  }
}

void SetReader::read_inline(std::span<const sbx_bytes> locators, const sbx_entry_sink& sink) {
  if (readers_.empty()) readers_.push_back(std::make_unique<BlobReaders>(*store_));
  BlobReaders& readers = *readers_[0];
  for (size_t i = 0; i < locators.size(); ++i) {
    try {
      std::shared_ptr<const EntryRecord> record = readers.entries.find(sdk::view(locators[i]));
      if (!start_entry(sink, record->entry))
        for (const auto& chunk : record->chunks)
          call_sink(sink.on_data(sink.ctx, sdk::make_bytes(open_chunk(*readers.codec, readers.fetch(chunk.id),
                                                                      chunk, record->entry.path))));
      call_sink(sink.on_entry_end(sink.ctx));
    } catch (const sdk::Error& e) {
      call_sink(sink.on_entry_error(sink.ctx, i, e.status(), sdk::make_str(e.what())));
    }
  }
}

}  // namespace sbx::dedup
