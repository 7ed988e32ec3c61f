#include "scanner.hpp"

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sbx::files {

TreeScanner::TreeScanner(DescendRule rule, unsigned threads) : rule_(std::move(rule)) {
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

TreeScanner::~TreeScanner() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  for (auto& t : threads_) t.join();
}

void TreeScanner::scan(Listing& listing) {
  const int from = listing.parent_dir_ ? listing.parent_dir_->get() : AT_FDCWD;
  UniqueFd fd(
      open_at(from, listing.name_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME));
  listing.parent_dir_.reset();
  if (!fd) {
    listing.open_error = errno;
    return;
  }
  struct stat now;
  if (::fstat(fd.get(), &now) != 0 || !same_file(listing.expected_, now)) {
    listing.replaced = true;
    return;
  }
  listing.dir = std::make_shared<const UniqueFd>(std::move(fd));
  if (!listing.list_) return;
  const int dir = listing.dir->get();
  // getdents64 straight into a buffer: readdir would need a duplicate descriptor to give to fdopendir.
  alignas(struct dirent64) char buffer[32 * 1024];
  for (;;) {
    const ssize_t got = ::getdents64(dir, buffer, sizeof buffer);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      listing.list_error = errno;
      listing.list_partial = !listing.names.empty();
      break;
    }
    for (ssize_t at = 0; at < got;) {
      const auto* item = reinterpret_cast<const struct dirent64*>(buffer + at);
      at += item->d_reclen;
      const char* n = item->d_name;
      if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
      listing.names.push_back(ScannedName{n, {}, 0});
    }
  }
  std::sort(listing.names.begin(), listing.names.end(),
            [](const ScannedName& a, const ScannedName& b) { return a.name < b.name; });
  for (ScannedName& entry : listing.names)
    if (::fstatat(dir, entry.name.c_str(), &entry.st, AT_SYMLINK_NOFOLLOW) != 0) entry.stat_error = errno;
}

std::string TreeScanner::child_path(const Listing& parent, const std::string& name) {
  return (parent.path_ == "/" ? "" : parent.path_) + "/" + name;
}

std::shared_ptr<Listing> TreeScanner::make_child(const Listing& parent, size_t index, std::string path) {
  auto child = std::make_shared<Listing>();
  const ScannedName& entry = parent.names[index];
  child->path_ = std::move(path);
  child->walk_device_ = parent.walk_device_;
  child->order_ = parent.order_;
  child->order_.push_back(static_cast<uint32_t>(index));
  child->parent_dir_ = parent.dir;
  child->name_ = entry.name;
  child->expected_ = entry.st;
  return child;
}

std::shared_ptr<Listing> TreeScanner::start(std::shared_ptr<const UniqueFd> parent_dir, std::string name,
                                            const struct stat& st, std::string path) {
  auto listing = std::make_shared<Listing>();
  listing->path_ = std::move(path);
  listing->walk_device_ = st.st_dev;
  listing->parent_dir_ = std::move(parent_dir);
  listing->name_ = std::move(name);
  listing->expected_ = st;
  std::unique_lock lock(mutex_);
  listing->order_ = {roots_++};
  listing->state_ = Listing::State::kRunning;
  lock.unlock();
  scan(*listing);  // here: nothing could be ahead of the walk yet
  lock.lock();
  return hand_over(listing);
}

std::shared_ptr<Listing> TreeScanner::enter(const std::shared_ptr<Listing>& parent, size_t index, bool list) {
  std::unique_lock lock(mutex_);
  std::shared_ptr<Listing> listing;
  if (auto it = parent->children_.find(index); it != parent->children_.end()) {
    listing = it->second;
    parent->children_.erase(it);
  }
  if (listing && listing->state_ == Listing::State::kRunning)
    ready_cv_.wait(lock, [&] { return listing->state_ != Listing::State::kRunning; });
  if (listing && listing->state_ == Listing::State::kReady) {
    --ready_;
    ready_names_ -= listing->names.size();
    wake_sleepers();
    listing->state_ = Listing::State::kTaken;
    return listing;
  }
  // Not started (or not queued at all): the walk scans it itself rather than wait for a thread.
  if (listing) {
    queue_.erase(listing);
  } else {
    listing = make_child(*parent, index, child_path(*parent, parent->names.at(index).name));
    listing->list_ = list;
  }
  listing->state_ = Listing::State::kRunning;
  lock.unlock();
  scan(*listing);
  lock.lock();
  return hand_over(listing);
}

std::shared_ptr<Listing> TreeScanner::hand_over(const std::shared_ptr<Listing>& listing) {
  listing->state_ = Listing::State::kTaken;
  queue_children(listing);
  return listing;
}

void TreeScanner::queue_children(const std::shared_ptr<Listing>& listing) {
  if (threads_.empty() || !listing->dir) return;
  for (size_t i = 0; i < listing->names.size(); ++i) {
    const ScannedName& entry = listing->names[i];
    if (entry.stat_error != 0 || !S_ISDIR(entry.st.st_mode)) continue;
    std::string path = child_path(*listing, entry.name);
    if (!rule_(path, entry.name, entry.st, listing->walk_device_)) continue;
    auto child = make_child(*listing, i, std::move(path));
    listing->children_.emplace(i, child);
    queue_.insert(std::move(child));
  }
  wake_sleepers();
}

void TreeScanner::leave(Listing& listing) {
  std::lock_guard lock(mutex_);
  for (auto& [index, child] : listing.children_) drop(child);
  listing.children_.clear();
}

void TreeScanner::drop(const std::shared_ptr<Listing>& listing) {
  if (listing->state_ == Listing::State::kQueued) queue_.erase(listing);
  if (listing->state_ == Listing::State::kReady) {
    --ready_;
    ready_names_ -= listing->names.size();
    wake_sleepers();
  }
  listing->state_ = Listing::State::kDropped;
  for (auto& [index, child] : listing->children_) drop(child);
  listing->children_.clear();
}

void TreeScanner::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) return;
    if (queue_.empty() || !within_budget(kRunning)) {
      ++sleeping_;
      work_.wait(lock, [&] { return stopping_ || (!queue_.empty() && within_budget(kResume)); });
      --sleeping_;
      continue;
    }
    std::shared_ptr<Listing> listing = *queue_.begin();
    queue_.erase(queue_.begin());
    listing->state_ = Listing::State::kRunning;
    lock.unlock();
    scan(*listing);
    lock.lock();
    // The walk left the parent while this was scanned: nobody will enter it.
    if (listing->state_ == Listing::State::kDropped) continue;
    listing->state_ = Listing::State::kReady;
    ++ready_;
    ready_names_ += listing->names.size();
    queue_children(listing);
    ready_cv_.notify_all();
  }
}

void TreeScanner::wake_sleepers() {
  // Sleeping threads are woken only once a good part of the budget is free again: woken for every directory
  // the walk enters, eight threads cost more in wake-ups than they save.
  if (sleeping_ > 0 && !queue_.empty() && within_budget(kResume)) work_.notify_all();
}

}  // namespace sbx::files
