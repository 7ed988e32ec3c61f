#include "byte_pipe.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

namespace sbx::local {
namespace {

constexpr size_t kBlockBytes = 64 * 1024;

}  // namespace

BytePipe::BytePipe(size_t capacity) : capacity_(capacity) {
  if (capacity_ == 0)
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "local transport: a pipe needs capacity > 0");
}

void BytePipe::append_locked(const uint8_t* data, size_t n) {
  while (n > 0) {
    if (blocks_.empty() || blocks_.back().size() == blocks_.back().capacity()) {
      blocks_.push_back(std::move(spare_));
      spare_ = {};
      blocks_.back().reserve(std::min(kBlockBytes, capacity_));
    }
    std::vector<uint8_t>& block = blocks_.back();
    size_t take = std::min(n, block.capacity() - block.size());
    block.insert(block.end(), data, data + take);  // same element type on both sides: one memmove
    data += take;
    n -= take;
    queued_ += take;
  }
}

void BytePipe::write(std::string_view data) {
  std::lock_guard order(write_order_);
  std::unique_lock lock(mutex_);
  size_t done = 0;
  while (done < data.size()) {
    writable_.wait(lock, [&] { return reader_closed_ || writer_ended_ || queued_ < capacity_; });
    if (reader_closed_)
      throw sdk::Error(SBX_ERR_CLOSED, "local transport: the peer closed the connection after " +
                                           std::to_string(done) + " of " + std::to_string(data.size()) +
                                           " bytes of this send");
    if (writer_ended_) throw sdk::Error(SBX_ERR_CLOSED, "local transport: send after shutdown of this side");
    size_t n = std::min(data.size() - done, capacity_ - queued_);
    append_locked(reinterpret_cast<const uint8_t*>(data.data()) + done, n);
    done += n;
    readable_.notify_all();
  }
}

sbx_status BytePipe::read(uint8_t* buffer, size_t capacity, size_t* received, int32_t timeout_ms) {
  if (!buffer || !received || capacity == 0)
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "local transport: recv needs a buffer of at least one byte");
  *received = 0;
  std::unique_lock lock(mutex_);
  auto ready = [&] { return queued_ > 0 || writer_ended_; };
  if (timeout_ms < 0) {
    readable_.wait(lock, ready);
  } else if (!readable_.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready)) {
    return SBX_TIMEOUT;
  }
  if (queued_ == 0) {
    if (!writer_failure_.empty()) throw sdk::Error(SBX_ERR_CLOSED, writer_failure_);
    return SBX_END;
  }
  size_t want = std::min(capacity, queued_);
  size_t done = 0;
  while (done < want) {
    std::vector<uint8_t>& front = blocks_.front();
    size_t take = std::min(want - done, front.size() - front_offset_);
    std::memcpy(buffer + done, front.data() + front_offset_, take);
    done += take;
    front_offset_ += take;
    if (front_offset_ == front.size()) {
      front.clear();
      spare_ = std::move(front);
      blocks_.pop_front();
      front_offset_ = 0;
    }
  }
  queued_ -= done;
  *received = done;
  writable_.notify_all();
  return SBX_OK;
}

void BytePipe::end_writer() {
  std::lock_guard lock(mutex_);
  writer_ended_ = true;
  readable_.notify_all();
  writable_.notify_all();
}

void BytePipe::fail_writer(std::string reason) {
  std::lock_guard lock(mutex_);
  writer_ended_ = true;
  writer_failure_ = std::move(reason);
  readable_.notify_all();
  writable_.notify_all();
}

void BytePipe::close_reader() {
  std::lock_guard lock(mutex_);
  reader_closed_ = true;
  blocks_.clear();
  spare_ = {};
  front_offset_ = 0;
  queued_ = 0;
  readable_.notify_all();
  writable_.notify_all();
}

}  // namespace sbx::local
