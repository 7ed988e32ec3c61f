#include "prefetch.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

namespace sbx::files {

Prefetcher::Prefetcher(bool read_data, unsigned threads) : read_data_(read_data) {
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void Prefetcher::listed(int dir_fd, const std::vector<std::string>& names) {
  if (names.empty() || threads_.empty()) return;
  // A copy of the descriptor: the walk closes its own when it leaves the directory, and a reused number
  // must never point the threads at another directory.
  auto dir = std::make_shared<UniqueFd>(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
  if (!*dir) return;
  {
    std::lock_guard lock(mutex_);
    for (const auto& name : names) queue_.push_back({dir, name, next_seq_++});
  }
  wake_.notify_all();
}

void Prefetcher::visited() {
  std::lock_guard lock(mutex_);
  ++visited_;
  bool freed = false;
  while (!issued_.empty() && issued_.front().first < visited_) {
    issued_bytes_ -= issued_.front().second;
    issued_.pop_front();
    freed = true;
  }
  if (freed || visited_ % 64 == 0) wake_.notify_all();
}

void Prefetcher::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] {
      return stopping_ ||
             (!queue_.empty() && queue_.front().seq < visited_ + kNamesAhead && issued_bytes_ < kBytesAhead);
    });
    if (stopping_) return;
    Item item = std::move(queue_.front());
    queue_.pop_front();
    // Names the walk has passed already gain nothing from a hint.
    if (item.seq < visited_) continue;
    lock.unlock();
    warm(item);
    lock.lock();
  }
}

void Prefetcher::warm(const Item& item) {
  struct stat st;
  if (::fstatat(item.dir->get(), item.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (!read_data_ || !S_ISREG(st.st_mode) || st.st_size == 0) return;
  UniqueFd fd(open_at(item.dir->get(), item.name.c_str(),
                      O_RDONLY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) return;
  const uint64_t bytes = std::min<uint64_t>(uint64_t(st.st_size), kBytesPerFile);
  ::posix_fadvise(fd.get(), 0, off_t(bytes), POSIX_FADV_WILLNEED);
  std::lock_guard lock(mutex_);
  issued_.push_back({item.seq, bytes});
  issued_bytes_ += bytes;
}

}  // namespace sbx::files
