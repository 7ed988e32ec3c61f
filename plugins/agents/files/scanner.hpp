// Directory read-ahead for the walk: from a cold cache every directory listing and every lstat waits for the
// disk, one at a time, and on the linux tree that was most of a backup that finds nothing changed. Scanner
// threads open, list and lstat the directories the walk will enter next, nearest first (depth-first order),
// so the disk has many requests in flight; the walk takes each listing when it gets there, or makes it
// itself when the scanner has not started on it. How far ahead they may be is bounded in directories (each
// holds an open descriptor) and in names.
#pragma once

#include <sys/stat.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "posix_io.hpp"

namespace sbx::files {

struct ScannedName {
  std::string name;
  struct stat st {};
  int stat_error = 0;  // errno of the lstat; st holds nothing when it is not 0
};

// One directory as the scanner found it.
class Listing {
 public:
  // O_RDONLY|O_DIRECTORY, opened without following a symlink; shared with whoever still needs it (the
  // read-ahead of file data, a subdirectory being opened from it). Null when it could not be opened.
  std::shared_ptr<const UniqueFd> dir;
  int open_error = 0;              // errno when dir could not be opened
  bool replaced = false;           // opened, but not the directory the parent's lstat saw: not listed
  int list_error = 0;              // errno that ended the listing
  bool list_partial = false;       // list_error came after some names
  std::vector<ScannedName> names;  // sorted by their bytes, without "." and ".."

  int fd() const { return dir ? dir->get() : -1; }

 private:
  friend class TreeScanner;
  enum class State { kQueued, kRunning, kReady, kTaken, kDropped };

  std::string path_;             // absolute
  dev_t walk_device_ = 0;        // the file system the walk started on
  std::vector<uint32_t> order_;  // position in the walk: the child indexes from the source root
  State state_ = State::kQueued;
  // Until it is scanned: the directory it is opened from (null: name_ is absolute) and what lstat saw.
  std::shared_ptr<const UniqueFd> parent_dir_;
  std::string name_;
  struct stat expected_ {};
  bool list_ = true;
  std::map<size_t, std::shared_ptr<Listing>> children_;  // subdirectories queued or scanned, by index
};

class TreeScanner {
 public:
  // Whether the walk would enter the directory `name` at `path` (absolute) that lstat describes as `st`,
  // in a walk of the file system `walk_device`. Called from scanner threads.
  using DescendRule =
      std::function<bool(const std::string& path, const std::string& name, const struct stat& st, dev_t)>;

  TreeScanner(DescendRule rule, unsigned threads);
  ~TreeScanner();
  TreeScanner(const TreeScanner&) = delete;
  TreeScanner& operator=(const TreeScanner&) = delete;

  // A source root: `name` in `parent_dir` (or the absolute `name` when parent_dir is null), which lstat
  // described as `st`; scanned on this thread, its subdirectories queued for the scanner threads.
  std::shared_ptr<Listing> start(std::shared_ptr<const UniqueFd> parent_dir, std::string name,
                                 const struct stat& st, std::string path);
  // The listing of `parent`'s name at `index`, a directory by that name's lstat. With `list` false the
  // directory is only opened and checked (the walk does not descend it: another file system).
  std::shared_ptr<Listing> enter(const std::shared_ptr<Listing>& parent, size_t index, bool list = true);
  // The walk is done with `listing`: whatever was scanned below it and not entered is dropped.
  void leave(Listing& listing);

 private:
  struct ByOrder {
    bool operator()(const std::shared_ptr<Listing>& a, const std::shared_ptr<Listing>& b) const {
      return a->order_ < b->order_;
    }
  };

  void work();
  static std::string child_path(const Listing& parent, const std::string& name);
  // The listing of parent's name at `index`, not yet scanned.
  static std::shared_ptr<Listing> make_child(const Listing& parent, size_t index, std::string path);
  // Opens, checks, lists and lstats; no lock held.
  static void scan(Listing& listing);
  // Under the lock: the listing is the walk's now (it was scanned by a thread or by the walk itself).
  std::shared_ptr<Listing> hand_over(const std::shared_ptr<Listing>& listing);
  // Under the lock: queues the subdirectories of a scanned listing.
  void queue_children(const std::shared_ptr<Listing>& listing);
  void drop(const std::shared_ptr<Listing>& listing);  // under the lock
  enum Slack { kRunning, kResume };
  bool within_budget(Slack slack) const {
    return slack == kRunning
               ? ready_ < kReadyAhead && ready_names_ < kNamesAhead
               : ready_ + kReadySlack <= kReadyAhead && ready_names_ + kNamesSlack <= kNamesAhead;
  }
  void wake_sleepers();  // under the lock

  static constexpr size_t kReadyAhead = 128;       // listings scanned and not yet entered
  static constexpr size_t kNamesAhead = 1u << 16;  // names in them
  // How much of the budget must be free before sleeping threads are woken.
  static constexpr size_t kReadySlack = 16;
  static constexpr size_t kNamesSlack = 1u << 13;

  const DescendRule rule_;
  std::mutex mutex_;
  std::condition_variable work_, ready_cv_;
  std::set<std::shared_ptr<Listing>, ByOrder> queue_;  // nearest to the walk first
  size_t ready_ = 0, ready_names_ = 0;
  unsigned sleeping_ = 0;  // threads waiting for work or budget
  uint32_t roots_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sbx::files
