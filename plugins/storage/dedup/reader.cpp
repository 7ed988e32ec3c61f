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

std::string open_chunk(BlobCodec& codec, const std::string& stored, const ChunkRef& chunk,
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
    for (;;) {
      std::unique_lock lock(mutex_);
      wait(ready_, lock, host_waits_, [&] {
        return error_ || (!units_.empty() && units_.front().ready) || (planned_all_ && units_.empty());
      });
      if (error_) std::rethrow_exception(error_);
      if (units_.empty()) return;
      Unit unit = std::move(units_.front());
      units_.pop_front();
      ++front_seq_;
      bytes_ahead_ -= unit.chunk.length;
      if (planner_waits_) room_.notify_one();
      lock.unlock();

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

  // Appends a unit once the window has room; false when the pipeline is stopping. The planner's read of the
  // index ends before it waits.
  bool append(Unit unit, ChunkIndex& index) {
    std::unique_lock lock(mutex_);
    auto room = [&] {
      return stopping_ || units_.empty() ||
             (bytes_ahead_ + unit.chunk.length <= kBytesAhead && units_.size() < kUnitsAhead);
    };
    if (!room()) index.end_read();
    wait(room_, lock, planner_waits_, room);
    if (stopping_) return false;
    bytes_ahead_ += unit.chunk.length;
    const bool needs_decoding = !unit.ready;
    units_.push_back(std::move(unit));
    if (needs_decoding && workers_wait_) work_.notify_one();
    if (units_.size() == 1 && host_waits_) ready_.notify_one();
    return true;
  }

  void plan(BlobReaders& readers) {
    ChunkIndex& index = *readers.index;
    ChunkIndex::ReadScope reading(index);
    for (size_t i = 0; i < locators_.size(); ++i) {
      std::shared_ptr<const EntryRecord> record;
      try {
        record = readers.entries.find(sdk::view(locators_[i]));
      } catch (const sdk::Error& e) {
        if (!append({.kind = Unit::Kind::start, .entry = i, .ready = true, .error = e}, index)) return;
        continue;
      }
      if (!append({.kind = Unit::Kind::start, .entry = i, .record = record, .ready = true}, index)) return;
      for (const auto& chunk : record->chunks) {
        Unit unit{.kind = Unit::Kind::chunk, .entry = i, .record = record, .chunk = chunk};
        try {
          unit.where = locate_stored(readers.store, index, chunk.id);
        } catch (const sdk::Error& e) {
          unit.error = e;
          unit.ready = true;
        }
        if (!append(std::move(unit), index)) return;
      }
      if (!append({.kind = Unit::Kind::end, .entry = i, .ready = true}, index)) return;
    }
    std::lock_guard lock(mutex_);
    planned_all_ = true;
    if (host_waits_) ready_.notify_one();
  }

  void decode(BlobReaders& readers) {
    std::unique_lock lock(mutex_);
    for (;;) {
      Unit* unit = nullptr;
      wait(work_, lock, workers_wait_, [&] { return stopping_ || (unit = next_unclaimed()) != nullptr; });
      if (stopping_) return;
      unit->claimed = true;
      lock.unlock();
      std::string plain;
      std::optional<sdk::Error> error;
      try {
        const ChunkRef& chunk = unit->chunk;
        std::string stored = read_located(readers.files, unit->where, [&] {
          // gc moved the blob since the planner looked: this worker needs an index of its own after all.
          if (!readers.index) readers.index = readers.store.open_index();
          return locate_stored(readers.store, *readers.index, chunk.id);
        });
        plain = open_chunk(*readers.codec, stored, chunk, unit->record->entry.path);
      } catch (const sdk::Error& e) {
        error = e;
      }
      lock.lock();
      unit->plain = std::move(plain);
      unit->error = std::move(error);
      unit->ready = true;
      if (unit == &units_.front() && host_waits_) ready_.notify_one();
    }
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
