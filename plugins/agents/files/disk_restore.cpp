#include "disk_restore.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "posix_io.hpp"

namespace sbx::files {

using sbx::sdk::Error;
using sbx::sdk::view;

namespace {

constexpr std::string_view kAclAccess = "system.posix_acl_access";
constexpr std::string_view kAclDefault = "system.posix_acl_default";

// Why `path` may not be written below the target, or "" when it may.
std::string path_problem(std::string_view path) {
  if (path.empty()) return "is empty";
  if (path.find('\0') != std::string_view::npos) return "contains a NUL byte";
  if (path.front() == '/') return "is absolute";
  size_t start = 0;
  for (;;) {
    size_t end = path.find('/', start);
    std::string_view component = path.substr(start, end == std::string_view::npos ? path.npos : end - start);
    if (component.empty()) return "has an empty component";
    if (component == ".") return "has a '.' component";
    if (component == "..") return "has a '..' component";
    if (end == std::string_view::npos) return {};
    start = end + 1;
  }
}

// Every {pointer, length} of the entry points somewhere when its length is not zero.
bool views_valid(const sbx_entry& e) {
  auto ok = [](sbx_bytes b) { return b.len == 0 || b.data != nullptr; };
  if (!ok(e.path) || !ok(e.link_target) || !ok(e.user_name) || !ok(e.group_name)) return false;
  if (e.xattr_count > 0 && !e.xattrs) return false;
  for (size_t i = 0; i < e.xattr_count; ++i)
    if (!ok(e.xattrs[i].name) || !ok(e.xattrs[i].value)) return false;
  return e.extent_count == 0 || e.extents != nullptr;
}

sbx_status status_for_errno(int error) {
  switch (error) {
    case ENOSPC:
    case EDQUOT:
      return SBX_ERR_NO_SPACE;
    case EACCES:
    case EPERM:
    case EROFS:
      return SBX_ERR_PERMISSION;
    default:
      return SBX_ERR_IO;
  }
}

struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

std::string archive_message(struct archive* a) {
  const char* text = archive_error_string(a);
  return text ? text : "unknown libarchive error";
}

}  // namespace

DiskRestore::DiskRestore(std::string_view options_json) {
  nlohmann::json options;
  try {
    options = nlohmann::json::parse(options_json);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(SBX_ERR_INVALID_ARGUMENT, std::string("restore options are not valid JSON: ") + e.what());
  }
  if (!options.is_object() || !options.contains("target") || !options["target"].is_string())
    throw Error(SBX_ERR_INVALID_ARGUMENT,
                "restore options need a \"target\" directory, e.g. {\"target\":\"/srv/restore\"}");
  const std::string target = options["target"].get<std::string>();
  if (target.empty() || target.front() != '/' || target.find('\0') != std::string::npos)
    throw Error(SBX_ERR_INVALID_ARGUMENT,
                "restore target '" + printable(target) + "' is not an absolute path");

  std::error_code error;
  std::filesystem::create_directories(target, error);
  if (error)
    throw Error(status_for_errno(error.value()),
                "cannot create restore target '" + printable(target) + "': " + error.message());
  char* resolved = realpath(target.c_str(), nullptr);
  if (!resolved) {
    int resolve_error = errno;
    throw Error(status_for_errno(resolve_error),
                "cannot resolve restore target '" + printable(target) + "': " + errno_text(resolve_error));
  }
  root_ = resolved;
  free(resolved);
  struct stat st;
  if (::stat(root_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error(SBX_ERR_INVALID_ARGUMENT, "restore target '" + printable(target) + "' is not a directory");
  if (root_ == "/") root_.clear();
  root_dir_ = UniqueFd(::open(root_.empty() ? "/" : root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root_dir_ && ::fstat(root_dir_.get(), &root_st_) != 0) root_dir_.reset();
  euid_ = ::geteuid();
  egid_ = ::getegid();
  open_disk_writer();
}

DiskRestore::~DiskRestore() {
  if (disk_) archive_write_free(disk_);
  leave_parents();
}

bool DiskRestore::enter_parent(std::string_view parent) {
  if (!parents_tried_) {
    parents_tried_ = true;
    parents_thread_ = std::this_thread::get_id();
    UniqueFd cwd(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    // A working directory of this thread's own: entering parents must not move the host's other threads.
    parents_usable_ = root_dir_ && cwd && ::unshare(CLONE_FS) == 0;
    if (parents_usable_) saved_cwd_ = std::move(cwd);
  }
  if (!parents_usable_ || std::this_thread::get_id() != parents_thread_) return false;
  const int dir = reach_parent(parent);
  if (dir < 0) return false;
  if (!in_parent_) in_parent_ = ::fchdir(dir) == 0;
  return in_parent_;
}

int DiskRestore::reach_parent(std::string_view parent) {
  if (!root_dir_) return -1;
  // Keep the components the new parent shares with the one reached, open the rest one by one, never
  // following a symlink.
  size_t kept = 0, start = 0;
  while (kept < parent_chain_.size() && start < parent.size()) {
    const size_t end = std::min(parent.find('/', start), parent.size());
    if (parent.substr(start, end - start) != parent_chain_[kept].name) break;
    ++kept;
    start = end + 1;
  }
  if (kept < parent_chain_.size() || start < parent.size()) in_parent_ = false;
  parent_chain_.resize(kept);
  while (start < parent.size()) {
    const size_t end = std::min(parent.find('/', start), parent.size());
    std::string component(parent.substr(start, end - start));
    const int from = parent_chain_.empty() ? root_dir_.get() : parent_chain_.back().dir.get();
    UniqueFd dir(open_at(from, component.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st;
    if (!dir || ::fstat(dir.get(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      parent_chain_.clear();
      return -1;
    }
    parent_chain_.push_back({std::move(component), std::move(dir), st});
    start = end + 1;
  }
  return parent_chain_.empty() ? root_dir_.get() : parent_chain_.back().dir.get();
}

bool DiskRestore::created_with_its_owner(const sbx_entry& entry) const {
  if (entry.uid != euid_ || entry.gid != egid_ || (entry.mode & (S_ISUID | S_ISGID))) return false;
  // A set-group-ID parent (or a file system mounted with grpid) hands the parent's group down to what is
  // created in it: only a parent of the process's own group is sure not to. A parent of another owner may
  // sit on a file system that maps owners (NFS root squash, say), where the fchown and its warning matter.
  const struct stat& parent = parent_chain_.empty() ? root_st_ : parent_chain_.back().st;
  return parent.st_gid == egid_ && parent.st_uid == euid_;
}

void DiskRestore::apply_directory_fixups() {
  // Deepest first, as libarchive does: a parent made read-only must not stop its children's fixups.
  std::sort(directory_fixups_.begin(), directory_fixups_.end(),
            [](const DirectoryFixup& a, const DirectoryFixup& b) { return a.path > b.path; });
  for (const DirectoryFixup& fixup : directory_fixups_) {
    const size_t slash = fixup.path.rfind('/');
    const int parent = reach_parent(
        slash == std::string::npos ? std::string_view() : std::string_view(fixup.path).substr(0, slash));
    const std::string name = fixup.path.substr(slash == std::string::npos ? 0 : slash + 1);
    UniqueFd dir(parent < 0 ? -1
                            : open_at(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    const char* step = "open it";
    if (dir) {
      step = "set its mode";
      if (::fchmod(dir.get(), fixup.mode) == 0) {
        step = "set its times";
        if (::futimens(dir.get(), fixup.times) == 0) continue;
      }
    }
    const int error = errno;
    sbx::sdk::log(SBX_LOG_WARN,
                  "restoring '" + printable(fixup.path) + "': cannot " + step +
                      (parent < 0 ? ": a parent is not a directory" : ": " + errno_text(error)));
  }
  directory_fixups_.clear();
}

void DiskRestore::leave_parents() noexcept {
  if (saved_cwd_ && std::this_thread::get_id() == parents_thread_) (void)::fchdir(saved_cwd_.get());
  parent_chain_.clear();
  in_parent_ = false;
}

void DiskRestore::open_disk_writer() {
  disk_ = archive_write_disk_new();
  if (!disk_) throw Error(SBX_ERR_INTERNAL, "out of memory creating the libarchive disk writer");
  disk_flags_ = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_XATTR |
                ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                ARCHIVE_EXTRACT_SAFE_WRITES;
  if (::geteuid() == 0) disk_flags_ |= ARCHIVE_EXTRACT_OWNER;
  archive_write_disk_set_options(disk_, disk_flags_);
  if (disk_flags_ & ARCHIVE_EXTRACT_OWNER) archive_write_disk_set_standard_lookup(disk_);
}

void DiskRestore::check_usable() const {
  if (broken_)
    throw Error(SBX_ERR_INTERNAL, "restore cannot continue after an earlier failure: " + broken_reason_);
}

void DiskRestore::fail_entry(sbx_status status, const std::string& message) {
  abandon_current();
  state_ = State::kRefused;
  throw Error(status, message);
}

void DiskRestore::abandon_current() noexcept {
  if (state_ != State::kOpen) return;
  state_ = State::kRefused;
  if (broken_) return;
  // libarchive cannot cancel an entry: let it finish, then remove the incomplete file so that it is not
  // taken for a good copy.
  if (archive_write_finish_entry(disk_) == ARCHIVE_FATAL) {
    broken_ = true;
    broken_reason_ = archive_message(disk_);
  }
  if (is_file_) ::unlink(disk_path_.c_str());
}

void DiskRestore::restore_entry(const sbx_entry& c_entry) {
  check_usable();
  std::string unfinished;
  if (state_ == State::kOpen) {
    unfinished = path_;
    abandon_current();
  }
  state_ = State::kRefused;  // until the entry is accepted, its data is dropped
  if (c_entry.struct_size < sizeof(sbx_entry))
    throw Error(SBX_ERR_INVALID_ARGUMENT, "entry struct_size is " + std::to_string(c_entry.struct_size) +
                                              ", wanted at least " + std::to_string(sizeof(sbx_entry)));
  if (!views_valid(c_entry))
    throw Error(SBX_ERR_INVALID_ARGUMENT,
                "restore_entry got an entry with a NULL pointer for a non-empty field");
  if (!unfinished.empty())
    throw Error(SBX_ERR_INVALID_ARGUMENT, "restore_entry for '" + printable(view(c_entry.path)) +
                                              "' arrived while '" + printable(unfinished) +
                                              "' was still open; the incomplete '" + printable(unfinished) +
                                              "' was removed");
  start_entry(c_entry);
}

void DiskRestore::start_entry(const sbx_entry& c_entry) {
  const sbx::sdk::Entry entry = sbx::sdk::Entry::from(c_entry);
  path_ = entry.path;
  auto shown = [&] { return "'" + printable(entry.path) + "'"; };
  if (std::string problem = path_problem(entry.path); !problem.empty())
    throw Error(SBX_ERR_CORRUPT, "refusing to restore " + shown() + ": the path " + problem);

  std::unique_ptr<struct archive_entry, EntryDeleter> ae(archive_entry_new());
  if (!ae) throw Error(SBX_ERR_INTERNAL, "out of memory");
  disk_path_ = root_ + "/" + entry.path;
  archive_entry_set_perm(ae.get(), entry.mode & 07777);
  archive_entry_set_uid(ae.get(), entry.uid);
  archive_entry_set_gid(ae.get(), entry.gid);
  if (!entry.user_name.empty() && entry.user_name.find('\0') == std::string::npos)
    archive_entry_set_uname(ae.get(), entry.user_name.c_str());
  if (!entry.group_name.empty() && entry.group_name.find('\0') == std::string::npos)
    archive_entry_set_gname(ae.get(), entry.group_name.c_str());
  auto split = [](int64_t ns, int64_t& sec, long& nsec) {
    sec = ns / 1000000000;
    int64_t rest = ns % 1000000000;
    if (rest < 0) {
      rest += 1000000000;
      --sec;
    }
    nsec = static_cast<long>(rest);
  };
  int64_t sec = 0;
  long nsec = 0;
  split(entry.mtime_ns, sec, nsec);
  archive_entry_set_mtime(ae.get(), static_cast<time_t>(sec), nsec);
  if (entry.atime_ns != 0) {
    split(entry.atime_ns, sec, nsec);
    archive_entry_set_atime(ae.get(), static_cast<time_t>(sec), nsec);
  }

  is_file_ = false;
  keep_as_link_source_ = false;
  extents_.clear();
  expected_ = 0;
  switch (entry.type) {
    case SBX_ENTRY_FILE: {
      is_file_ = true;
      keep_as_link_source_ = entry.nlink != 1;
      archive_entry_set_filetype(ae.get(), AE_IFREG);
      archive_entry_set_size(ae.get(), static_cast<la_int64_t>(entry.size));
      if (entry.size > static_cast<uint64_t>(INT64_MAX))
        throw Error(SBX_ERR_CORRUPT, "refusing to restore " + shown() + ": size " +
                                         std::to_string(entry.size) + " does not fit a file offset");
      if (entry.extents.empty()) {
        if (entry.size > 0) extents_.push_back({0, entry.size});
      } else {
        uint64_t previous_end = 0;
        for (const sbx_extent& x : entry.extents) {
          uint64_t end = 0;
          if (__builtin_add_overflow(x.offset, x.length, &end) || x.offset < previous_end || end > entry.size)
            throw Error(SBX_ERR_CORRUPT,
                        "refusing to restore " + shown() + ": sparse extent at offset " +
                            std::to_string(x.offset) + " length " + std::to_string(x.length) +
                            " overlaps another or lies past the size " + std::to_string(entry.size));
          previous_end = end;
          if (x.length > 0) extents_.push_back(x);
        }
      }
      for (const sbx_extent& x : extents_) expected_ += x.length;
      break;
    }
    case SBX_ENTRY_DIRECTORY:
      archive_entry_set_filetype(ae.get(), AE_IFDIR);
      break;
    case SBX_ENTRY_SYMLINK:
      if (entry.link_target.empty() || entry.link_target.find('\0') != std::string::npos)
        throw Error(SBX_ERR_CORRUPT,
                    "refusing to restore symlink " + shown() + ": its target is empty or has a NUL byte");
      archive_entry_set_filetype(ae.get(), AE_IFLNK);
      archive_entry_set_symlink(ae.get(), entry.link_target.c_str());
      break;
    case SBX_ENTRY_HARDLINK: {
      if (std::string problem = path_problem(entry.link_target); !problem.empty())
        throw Error(SBX_ERR_CORRUPT, "refusing to restore hard link " + shown() + ": its target '" +
                                         printable(entry.link_target) + "' " + problem);
      if (!link_sources_.count(entry.link_target))
        throw Error(SBX_ERR_NOT_FOUND, "refusing to restore hard link " + shown() + ": its target '" +
                                           printable(entry.link_target) +
                                           "' is not a file this restore has written");
      archive_entry_set_filetype(ae.get(), AE_IFREG);
      archive_entry_set_size(ae.get(), 0);
      std::string target = root_ + "/" + entry.link_target;
      archive_entry_set_hardlink(ae.get(), target.c_str());
      break;
    }
    case SBX_ENTRY_FIFO:
      archive_entry_set_filetype(ae.get(), AE_IFIFO);
      break;
    case SBX_ENTRY_CHAR_DEVICE:
      archive_entry_set_filetype(ae.get(), AE_IFCHR);
      archive_entry_set_rdev(ae.get(), static_cast<dev_t>(entry.rdev));
      break;
    case SBX_ENTRY_BLOCK_DEVICE:
      archive_entry_set_filetype(ae.get(), AE_IFBLK);
      archive_entry_set_rdev(ae.get(), static_cast<dev_t>(entry.rdev));
      break;
    default:
      throw Error(SBX_ERR_CORRUPT,
                  "refusing to restore " + shown() + ": unknown entry type " + std::to_string(entry.type));
  }
  acls_.clear();
  if (entry.type != SBX_ENTRY_HARDLINK) {
    for (const sbx::sdk::Xattr& x : entry.xattrs) {
      if (x.name.empty() || x.name.find('\0') != std::string::npos)
        throw Error(SBX_ERR_CORRUPT, "refusing to restore " + shown() +
                                         ": an extended attribute name is empty or has a NUL byte");
      if (x.name == kAclAccess || x.name == kAclDefault)
        acls_.push_back(x);
      else
        archive_entry_xattr_add_entry(ae.get(), x.name.c_str(), x.value.data(), x.value.size());
    }
  }

  std::string name = disk_path_;
  if (entry.type != SBX_ENTRY_HARDLINK) {
    const size_t slash = entry.path.rfind('/');
    const std::string_view parent =
        slash == std::string::npos ? std::string_view() : std::string_view(entry.path).substr(0, slash);
    if (enter_parent(parent)) name = entry.path.substr(slash == std::string::npos ? 0 : slash + 1);
  }
  // A last component alone needs no symlink check: libarchive creates it with O_EXCL, which never follows
  // a symlink, and replaces whatever non-directory is in the way. The check cost four system calls a file.
  const bool last_component_only = name.size() != disk_path_.size();
  // libarchive changes directory itself for a full path longer than PATH_MAX.
  if (!last_component_only) in_parent_ = false;
  int flags = last_component_only ? disk_flags_ & ~ARCHIVE_EXTRACT_SECURE_SYMLINKS : disk_flags_;
  if (last_component_only && entry.type == SBX_ENTRY_FILE && created_with_its_owner(c_entry))
    flags &= ~ARCHIVE_EXTRACT_OWNER;
  // libarchive keeps a directory's deferred mode and times under the name it was given and applies them at
  // close from the working directory of that moment, where a name relative to its parent means another
  // directory. Such a directory is made 0700 (it can be filled whatever its mode) and finish applies its
  // mode and times from the target. With PERM off libarchive defers nothing for a directory made with the
  // mode it asks for.
  const bool fixup_here = last_component_only && entry.type == SBX_ENTRY_DIRECTORY;
  if (fixup_here) {
    flags &= ~(ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME);
    archive_entry_set_perm(ae.get(), 0700);
  }
  archive_write_disk_set_options(disk_, flags);
  archive_entry_set_pathname(ae.get(), name.c_str());
  int r = archive_write_header(disk_, ae.get());
  if (r == ARCHIVE_FATAL) {
    broken_ = true;
    broken_reason_ = archive_message(disk_);
  }
  if (r < ARCHIVE_WARN)
    throw Error(status_for_errno(archive_errno(disk_)),
                "cannot restore " + shown() + ": " + archive_message(disk_));
  if (fixup_here) {
    DirectoryFixup fixup{entry.path, static_cast<mode_t>(entry.mode & 07777), {}};
    split(entry.mtime_ns, sec, nsec);
    fixup.times[1] = {static_cast<time_t>(sec), nsec};
    fixup.times[0] = {0, UTIME_NOW};
    if (entry.atime_ns != 0) {
      split(entry.atime_ns, sec, nsec);
      fixup.times[0] = {static_cast<time_t>(sec), nsec};
    }
    directory_fixups_.push_back(std::move(fixup));
  }
  if (r == ARCHIVE_WARN) sbx::sdk::log(SBX_LOG_WARN, "restoring " + shown() + ": " + archive_message(disk_));
  state_ = State::kOpen;
  extent_index_ = 0;
  extent_done_ = 0;
  received_ = 0;
}

void DiskRestore::restore_data(std::string_view data) {
  check_usable();
  if (state_ == State::kRefused) return;  // the entry was refused and that was reported once
  if (state_ != State::kOpen)
    throw Error(SBX_ERR_INVALID_ARGUMENT, "restore_data arrived with no entry open");
  auto shown = [&] { return "'" + printable(path_) + "'"; };
  if (data.size() > expected_ - received_)
    fail_entry(SBX_ERR_CORRUPT, "cannot restore " + shown() + ": more data arrived than the " +
                                    std::to_string(expected_) +
                                    " bytes the entry announced; the incomplete file was removed");
  received_ += data.size();
  while (!data.empty()) {
    const sbx_extent& extent = extents_[extent_index_];
    size_t take = static_cast<size_t>(std::min<uint64_t>(data.size(), extent.length - extent_done_));
    la_ssize_t r = archive_write_data_block(disk_, data.data(), take,
                                            static_cast<la_int64_t>(extent.offset + extent_done_));
    if (r < ARCHIVE_OK) {
      if (r == ARCHIVE_FATAL) {
        broken_ = true;
        broken_reason_ = archive_message(disk_);
      }
      int error = archive_errno(disk_);
      fail_entry(status_for_errno(error), "cannot write " + shown() + ": " + archive_message(disk_));
    }
    data.remove_prefix(take);
    extent_done_ += take;
    if (extent_done_ == extent.length) {
      ++extent_index_;
      extent_done_ = 0;
    }
  }
}

void DiskRestore::restore_entry_end() {
  check_usable();
  if (state_ == State::kRefused) {
    state_ = State::kIdle;
    return;
  }
  if (state_ != State::kOpen)
    throw Error(SBX_ERR_INVALID_ARGUMENT, "restore_entry_end arrived with no entry open");
  auto shown = [&] { return "'" + printable(path_) + "'"; };
  if (received_ != expected_)
    fail_entry(SBX_ERR_CORRUPT, "cannot restore " + shown() + ": the entry announced " +
                                    std::to_string(expected_) + " bytes of data but " +
                                    std::to_string(received_) + " arrived; the incomplete file was removed");
  state_ = State::kIdle;
  int r = archive_write_finish_entry(disk_);
  if (r == ARCHIVE_FATAL) {
    broken_ = true;
    broken_reason_ = archive_message(disk_);
  }
  if (r < ARCHIVE_WARN)
    throw Error(status_for_errno(archive_errno(disk_)),
                "cannot finish " + shown() + ": " + archive_message(disk_));
  if (r == ARCHIVE_WARN) sbx::sdk::log(SBX_LOG_WARN, "restoring " + shown() + ": " + archive_message(disk_));
  if (is_file_ && keep_as_link_source_) link_sources_.insert(path_);
  for (const sbx::sdk::Xattr& acl : acls_) {
    if (acl.name == kAclDefault) {
      default_acls_.emplace_back(disk_path_, acl.value);
    } else if (::lsetxattr(disk_path_.c_str(), acl.name.c_str(), acl.value.data(), acl.value.size(), 0) !=
               0) {
      int error = errno;
      sbx::sdk::log(SBX_LOG_WARN,
                    "restoring " + shown() + ": cannot set " + acl.name + ": " + errno_text(error));
    }
  }
}

void DiskRestore::finish() {
  check_usable();
  std::string unfinished;
  if (state_ == State::kOpen) {
    unfinished = path_;
    abandon_current();
  }
  int r = archive_write_close(disk_);
  leave_parents();
  apply_directory_fixups();
  parent_chain_.clear();
  if (r < ARCHIVE_WARN)
    throw Error(status_for_errno(archive_errno(disk_)),
                "cannot apply directory permissions and times: " + archive_message(disk_));
  if (r == ARCHIVE_WARN) sbx::sdk::log(SBX_LOG_WARN, "finishing restore: " + archive_message(disk_));
  for (const auto& [path, value] : default_acls_) {
    if (::lsetxattr(path.c_str(), kAclDefault.data(), value.data(), value.size(), 0) != 0) {
      int error = errno;
      sbx::sdk::log(SBX_LOG_WARN, "restoring '" + printable(path) + "': cannot set " +
                                      std::string(kAclDefault) + ": " + errno_text(error));
    }
  }
  if (!unfinished.empty())
    throw Error(SBX_ERR_INVALID_ARGUMENT, "finish_restore arrived while '" + printable(unfinished) +
                                              "' was still open; the incomplete file was removed");
}

void DiskRestore::abort() noexcept {
  abandon_current();
  leave_parents();
}

}  // namespace sbx::files
