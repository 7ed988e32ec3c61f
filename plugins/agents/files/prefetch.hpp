// Read-ahead of file data for a full backup: a file read from a cold cache waits for the disk, one file at a
// time. Two threads run a little ahead of the walk and ask the kernel to start reading the regular files of
// each directory it enters (POSIX_FADV_WILLNEED), so the disk has several requests in flight. Hints only:
// the walk opens, checks and reads every file itself.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "posix_io.hpp"
#include "scanner.hpp"

namespace sbx::files {

class Prefetcher {
 public:
  explicit Prefetcher(unsigned threads = 2);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // The walk entered a directory: its names with their lstat, in the order the walk will visit them.
  void listed(const std::shared_ptr<const UniqueFd>& dir, const std::vector<ScannedName>& names);
  // The walk visited one more name.
  void visited();

 private:
  struct Item {
    std::shared_ptr<const UniqueFd> dir;
    std::string name;
    uint64_t bytes;  // asked for: the start of the file
    uint64_t seq;
  };
  enum Slack { kRunning, kResume };
  void work();
  void warm(const Item& item);
  bool has_room(Slack slack) const;  // under the lock: the next item is within the window

  // How far ahead of the walk the threads may be, in names and in bytes asked for.
  static constexpr uint64_t kNamesAhead = 512;
  static constexpr uint64_t kBytesAhead = uint64_t{64} << 20;
  static constexpr uint64_t kBytesPerFile = uint64_t{8} << 20;
  // How much of the window must be free before a sleeping thread is woken.
  static constexpr uint64_t kNamesSlack = 64;
  static constexpr uint64_t kBytesSlack = uint64_t{8} << 20;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  std::deque<std::pair<uint64_t, uint64_t>> issued_;  // (seq, bytes) asked for and not yet visited
  uint64_t issued_bytes_ = 0;
  uint64_t next_seq_ = 0;
  uint64_t visited_ = 0;
  unsigned sleeping_ = 0;  // threads waiting for room
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sbx::files
