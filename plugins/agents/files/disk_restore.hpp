// Restore side of the files agent: writes the entries the host sends below a target directory through
// libarchive's archive_write_disk, after checking every path itself.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "posix_io.hpp"
#include "strongbox/sdk/plugin.hpp"

struct archive;

namespace sbx::files {

// Safety rules, checked before libarchive sees an entry:
//  - An entry path must be relative, non-empty, without NUL, empty, "." or ".." components; a bad one is
//    refused with SBX_ERR_CORRUPT naming it. The file lands at realpath(target) + "/" + path.
//  - A hard link may only name a regular file this restore wrote earlier (which also rules out targets
//    outside the tree); anything else is refused.
//  - ARCHIVE_EXTRACT_SECURE_SYMLINKS: nothing is written through a symlink that exists in the target tree,
//    including one this restore created. ARCHIVE_EXTRACT_UNLINK is deliberately off: with it libarchive
//    deletes a symlink it meets in a path instead of refusing, which in an in-place restore would remove
//    an admin's symlink (say /var/www -> /srv/www) and put a directory in its place.
//  - An existing non-directory in the way is replaced, never written into (so a planted hard link to a file
//    outside the tree cannot redirect data); ARCHIVE_EXTRACT_SAFE_WRITES makes that replacement atomic: the
//    file is written under a temporary name and renamed over the old one, so an in-place restore never
//    leaves a half-written file where a good one was.
//  - ARCHIVE_EXTRACT_SPARSE is off: holes come back exactly where the backup recorded them (data is written
//    at each extent's offset and the size set at the end), and a dense file stays dense even when it holds
//    runs of zeros (a swap file or a preallocated database file must not gain holes).
//  - Files, directories, symlinks and special files are created from their parent directory: the restore
//    thread gets a working directory of its own (unshare(CLONE_FS)), enters the parent through an openat
//    chain from the target that follows no symlink, and hands libarchive the last component only, without
//    its symlink check (four system calls a file): libarchive creates the name with O_EXCL (mkdir for a
//    directory), which never follows a symlink, and replaces a non-directory in the way. A parent swapped
//    for a symlink during the restore is never followed: the entry lands in the directory that was
//    entered. A parent that is missing or is not a plain directory, and hard links, take libarchive's
//    full-path route. A directory created from its parent is made 0700 and gets its mode and times from
//    finish, deepest first, each opened through the same chain without following a symlink (libarchive
//    would apply them by the name it was given, relative to whatever the working directory is at close).
//  - POSIX ACLs travel as the system.posix_acl_access/_default xattrs, which libarchive's xattr code skips;
//    they are set here with lsetxattr once libarchive has finished the entry (and checked its path).
//    Default ACLs of directories wait for finish, so that restored children do not inherit entries they
//    did not have.
//  - Owners (ARCHIVE_EXTRACT_OWNER) are restored only when running as root: by name when the entry has one
//    that exists here, else by number. Directory modes and times are applied by finish (libarchive defers
//    them so that a read-only directory can still be filled).
class DiskRestore : public sbx::sdk::AgentRestore {
 public:
  // options_json: {"target": "/abs/dir"}; "/" restores in place. A missing target directory is created.
  explicit DiskRestore(std::string_view options_json);
  ~DiskRestore() override;

  void restore_entry(const sbx_entry& entry) override;
  void restore_data(std::string_view data) override;
  void restore_entry_end() override;
  void finish() override;
  void abort() noexcept override;

 private:
  enum class State { kIdle, kOpen, kRefused };

  void open_disk_writer();
  void start_entry(const sbx_entry& entry);
  void abandon_current() noexcept;
  [[noreturn]] void fail_entry(sbx_status status, const std::string& message);
  void check_usable() const;
  // Makes the entry's parent directory (relative to the target) this thread's working directory; false
  // when the full-path route must be taken instead.
  bool enter_parent(std::string_view parent);
  // The parent's O_PATH descriptor through the chain, or -1 when a component is missing or not a plain
  // directory; moves no working directory.
  int reach_parent(std::string_view parent);
  void leave_parents() noexcept;
  // The file this process creates in the entered parent already has the entry's owner and group, so
  // libarchive's fchown would change nothing.
  bool created_with_its_owner(const sbx_entry& entry) const;
  void apply_directory_fixups();

  std::string root_;   // realpath of the target, "" for "/" so that root_ + "/" + path is always right
  UniqueFd root_dir_;  // O_PATH of root_
  // The parent-directory route: set up on the first entry's thread, used on that thread only.
  bool parents_tried_ = false;
  bool parents_usable_ = false;
  std::thread::id parents_thread_;
  UniqueFd saved_cwd_;  // this thread's working directory before the restore
  // The entered parent's components, relative to the target, each with an O_PATH of it: entries come in
  // path order, so the next parent shares most of them and only the rest is opened.
  struct ChainLink {
    std::string name;
    UniqueFd dir;
    struct stat st;
  };
  std::vector<ChainLink> parent_chain_;
  struct stat root_st_ {};  // of root_dir_
  bool in_parent_ = false;  // the working directory is the chain's last one
  struct archive* disk_ = nullptr;
  int disk_flags_ = 0;  // ARCHIVE_EXTRACT_* for an entry given by its full path
  uid_t euid_ = 0;
  gid_t egid_ = 0;
  bool broken_ = false;  // libarchive returned ARCHIVE_FATAL; its handle is unusable
  std::string broken_reason_;

  State state_ = State::kIdle;
  std::string path_;       // entry path being restored
  std::string disk_path_;  // where it lands
  bool is_file_ = false;
  bool keep_as_link_source_ = false;
  std::vector<sbx_extent> extents_;
  std::vector<sbx::sdk::Xattr> acls_;  // applied after libarchive finished the entry
  std::vector<std::pair<std::string, std::string>> default_acls_;  // on-disk path, value; applied by finish
  size_t extent_index_ = 0;
  uint64_t extent_done_ = 0;
  uint64_t expected_ = 0;
  uint64_t received_ = 0;

  // Directories created from their parent: their mode and times, applied by finish.
  struct DirectoryFixup {
    std::string path;  // relative to the target
    mode_t mode;
    struct timespec times[2];  // atime, mtime as futimens takes them
  };
  std::vector<DirectoryFixup> directory_fixups_;

  // Regular files written so far that may be hard-linked to (nlink != 1).
  std::unordered_set<std::string> link_sources_;
};

}  // namespace sbx::files
