#include "prefetch.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

namespace sbx::files {

Prefetcher::Prefetcher(unsigned threads) {
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

void Prefetcher::listed(const std::shared_ptr<const UniqueFd>& dir, const std::vector<ScannedName>& names) {
  if (threads_.empty()) return;
  bool wake = false;
  {
    // The descriptor is shared, not copied: it stays open while an item needs it, so its number can never
    // name another directory.
    std::lock_guard lock(mutex_);
    for (const ScannedName& entry : names) {
      const uint64_t seq = next_seq_++;
      if (entry.stat_error != 0 || !S_ISREG(entry.st.st_mode) || entry.st.st_size <= 0) continue;
      queue_.push_back({dir, entry.name, std::min<uint64_t>(uint64_t(entry.st.st_size), kBytesPerFile), seq});
    }
    wake = sleeping_ > 0 && has_room(kResume);
  }
  if (wake) wake_.notify_all();
}

void Prefetcher::visited() {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    ++visited_;
    while (!issued_.empty() && issued_.front().first < visited_) {
      issued_bytes_ -= issued_.front().second;
      issued_.pop_front();
    }
    wake = sleeping_ > 0 && has_room(kResume);
  }
  if (wake) wake_.notify_all();
}

bool Prefetcher::has_room(Slack slack) const {
  // A sleeping thread wakes only once a good part of the window is free again: woken for every file the walk
  // passes, the threads cost more in wake-ups than their hints save.
  const uint64_t names = slack == kResume ? kNamesAhead - kNamesSlack : kNamesAhead;
  const uint64_t bytes = slack == kResume ? kBytesAhead - kBytesSlack : kBytesAhead;
  return !queue_.empty() && queue_.front().seq < visited_ + names && issued_bytes_ < bytes;
}

void Prefetcher::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) return;
    if (!has_room(kRunning)) {
      ++sleeping_;
      wake_.wait(lock, [&] { return stopping_ || has_room(kResume); });
      --sleeping_;
      continue;
    }
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
  UniqueFd fd(open_at(item.dir->get(), item.name.c_str(),
                      O_RDONLY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) return;
  ::posix_fadvise(fd.get(), 0, off_t(item.bytes), POSIX_FADV_WILLNEED);
  std::lock_guard lock(mutex_);
  issued_.push_back({item.seq, item.bytes});
  issued_bytes_ += item.bytes;
}

}  // namespace sbx::files
