// One direction of a local connection: a bounded in-memory byte queue between one writer side and one
// reader side. A writer that outruns its reader blocks once `capacity` bytes are queued, so a fast sender
// costs the process at most `capacity` bytes per direction, not the size of what it sends.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <strongbox/sdk/plugin.hpp>
#include <vector>

namespace sbx::local {

class BytePipe {
 public:
  explicit BytePipe(size_t capacity);
  BytePipe(const BytePipe&) = delete;
  BytePipe& operator=(const BytePipe&) = delete;

  // Queues all of data, waiting for room as long as the reader is there. Throws sdk::Error(SBX_ERR_CLOSED)
  // when the reader has gone or this side has shut down. Concurrent writes do not interleave.
  void write(std::string_view data);

  // Copies 1..capacity queued bytes into buffer. SBX_END once the writer side has ended and everything
  // queued has been read; SBX_TIMEOUT when nothing arrived within timeout_ms (< 0 waits for ever, 0 polls).
  // Throws sdk::Error(SBX_ERR_CLOSED) when the writer side was torn down with a reason (see fail_writer).
  sbx_status read(uint8_t* buffer, size_t capacity, size_t* received, int32_t timeout_ms);

  // The writer will send nothing more; the reader drains what is queued, then sees SBX_END.
  void end_writer();
  // The writer side was torn down before it was ever used (a connection nobody accepted): the reader
  // gets SBX_ERR_CLOSED with `reason` instead of a clean end.
  void fail_writer(std::string reason);
  // The reader has gone: queued bytes are dropped and every write, waiting or future, fails.
  void close_reader();

  size_t capacity() const { return capacity_; }

 private:
  void append_locked(const uint8_t* data, size_t n);

  const size_t capacity_;
  // Serializes writers so one write's bytes stay contiguous; held across waits for room.
  std::mutex write_order_;
  std::mutex mutex_;
  std::condition_variable readable_;
  std::condition_variable writable_;
  // Queued bytes in blocks of at most kBlockBytes; small writes fill the last block before a new one is
  // allocated, so memory stays near `queued_` whatever the write sizes are.
  std::deque<std::vector<uint8_t>> blocks_;
  // The last block read empty, kept for the next write instead of a new allocation.
  std::vector<uint8_t> spare_;
  size_t front_offset_ = 0;  // bytes of blocks_.front() already read
  size_t queued_ = 0;
  bool writer_ended_ = false;
  bool reader_closed_ = false;
  std::string writer_failure_;  // non-empty after fail_writer
};

}  // namespace sbx::local
