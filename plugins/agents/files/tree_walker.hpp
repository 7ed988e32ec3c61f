// One backup run of the files agent: walks the job's sources through directory fds and pushes every entry
// (metadata, then data) to the host's backup sink.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "backup_job.hpp"
#include "posix_io.hpp"
#include "prefetch.hpp"
#include "scanner.hpp"
#include "strongbox/sdk/plugin.hpp"

namespace sbx::files {

// Walk rules:
//  - Depth-first, parent before children, the names of a directory sorted by their bytes (memcmp), so two
//    runs over the same tree produce the same order. Directories are opened, listed and lstat-ed ahead of the
//    walk by the scanner's threads (scanner.hpp); an entry is checked against the lstat of that listing.
//  - Every step is relative to an open directory fd (openat/fstatat with O_NOFOLLOW), and a directory is
//    only descended after its fd was checked to be the directory lstat saw. Renaming a directory or
//    swapping it for a symlink mid-walk therefore cannot lead the walk out of the tree. Symlinks are never
//    followed.
//  - A source's parent directories are resolved with realpath, so entry paths name where the data really
//    lives (a source /lib/x on a merged-/usr system is stored as usr/lib/x) and restoring in place never has
//    to write through a symlink. The source's last component is not followed: a symlink source is stored as
//    a symlink. The source "/" itself has no entry (its path would be empty); its contents do.
//  - Sources are walked in byte order; one that lies inside another is walked on its own (so it is kept
//    even when an exclude or one_file_system would have cut it off) and skipped by the outer walk.
class BackupRun {
 public:
  // Throws sbx::sdk::Error(SBX_ERR_INVALID_ARGUMENT) when the sink is too old or incomplete.
  BackupRun(const BackupJob& job, const sbx_backup_sink& sink);

  // Throws sbx::sdk::Error with the sink's status when the host stops the backup.
  void run();

 private:
  struct Frame {
    std::shared_ptr<Listing> listing;
    size_t next = 0;         // index of the next name to visit
    size_t path_length = 0;  // length of path_ for this directory
    dev_t device = 0;        // file system being walked, for one_file_system
  };
  // The directory the walk is about to enter, opened and checked (and listed unless `list` is false).
  using OpenDirectory = std::function<std::shared_ptr<Listing>(bool list)>;

  void back_up_source(const std::string& source);
  void walk(Frame root);
  std::optional<Frame> visit(int parent_fd, const std::string& name, const struct stat& st, dev_t walk_device,
                             bool is_root, const OpenDirectory& open_directory);
  std::optional<Frame> visit_directory(int parent_fd, const std::string& name, const struct stat& st,
                                       dev_t walk_device, const OpenDirectory& open_directory);
  void visit_file(int parent_fd, const std::string& name, const struct stat& st);
  void visit_other(int parent_fd, const std::string& name, const struct stat& st, sbx_entry_type type);
  // Whether the walk enters a directory (the scanner's rule, from its threads).
  bool descends(const std::string& path, const std::string& name, const struct stat& st,
                dev_t walk_device) const;
  // Warns about a listing that failed or stopped early; false when there is nothing to walk.
  bool usable(const Listing& listing);
  void send_data(int fd, const sbx::sdk::Entry& entry);

  sbx::sdk::Entry entry_for(const struct stat& st, sbx_entry_type type);
  void refresh_metadata(sbx::sdk::Entry& entry, const struct stat& st);
  std::string path_at(int parent_fd, const std::string& name) const;
  void read_xattrs_into(sbx::sdk::Entry& entry, int fd, int parent_fd, const std::string& name);

  sbx_status check(const sbx::sdk::Entry& entry);
  void emit(const sbx::sdk::Entry& entry);
  void call_sink(sbx_status status, const char* callback);
  void warn(const std::string& message);
  std::string_view entry_path() const;

  const BackupJob& job_;
  const sbx_backup_sink& sink_;
  PathPatterns excludes_;
  PathPatterns includes_;
  NameCache names_;
  std::unordered_set<std::string> source_roots_;  // canonical absolute paths, skipped by the other walks
  std::map<std::pair<dev_t, ino_t>, std::string> first_links_;  // hard-linked inode -> first path sent
  std::string path_;                                            // absolute path of the entry being visited
  std::vector<char> buffer_;
  bool proc_fd_paths_ = false;
  // Created by run(), last so that their threads stop before anything they read is gone.
  std::unique_ptr<Prefetcher> prefetch_;  // full backups only
  std::unique_ptr<TreeScanner> scanner_;
};

}  // namespace sbx::files
