#include "tree_walker.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sbx::files {

using sbx::sdk::Entry;
using sbx::sdk::Error;

namespace {

constexpr size_t kDataBlock = size_t{1} << 20;
// Directory read-ahead threads: they wait for the disk, not for a core, so more than there are cores.
constexpr unsigned kScanThreads = 8;

sbx_bytes bytes_of(std::string_view s) {
  return sbx::sdk::make_bytes(s);
}

// The canonical form of an absolute source path: its parent resolved with realpath, its last component
// kept as given (so a symlink source stays a symlink). Returns the errno of a failed resolution.
int canonical_source(const std::string& source, std::string& out) {
  std::string trimmed = source;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  if (trimmed == "/") {
    out = "/";
    return 0;
  }
  size_t slash = trimmed.rfind('/');
  std::string parent = slash == 0 ? "/" : trimmed.substr(0, slash);
  std::string last = trimmed.substr(slash + 1);
  if (last == "." || last == "..") {
    // "/a/.." names a directory, not an entry inside one: resolve all of it.
    char* resolved = realpath(trimmed.c_str(), nullptr);
    if (!resolved) return errno;
    std::string full = resolved;
    free(resolved);
    if (full == "/") {
      out = "/";
      return 0;
    }
    return canonical_source(full, out);
  }
  char* resolved = realpath(parent.c_str(), nullptr);
  if (!resolved) return errno;
  std::string real_parent = resolved;
  free(resolved);
  out = (real_parent == "/" ? "" : real_parent) + "/" + last;
  return 0;
}

std::string open_failure(int error) {
  if (error == ELOOP) return "was replaced by a symlink during the backup; skipped";
  if (error == ENOENT) return "vanished before it could be read";
  return "cannot open: " + errno_text(error);
}

}  // namespace

BackupRun::BackupRun(const BackupJob& job, const sbx_backup_sink& sink)
    : job_(job), sink_(sink), excludes_(job.excludes, "exclude"), includes_(job.includes, "include") {
  if (sink.struct_size < sizeof(sbx_backup_sink))
    throw Error(SBX_ERR_INVALID_ARGUMENT, "backup sink struct_size is " + std::to_string(sink.struct_size) +
                                              ", wanted at least " + std::to_string(sizeof(sbx_backup_sink)));
  if (!sink.check || !sink.on_entry || !sink.on_data || !sink.on_entry_end || !sink.on_warning)
    throw Error(SBX_ERR_INVALID_ARGUMENT,
                "backup sink lacks a callback (check, on_entry, on_data, "
                "on_entry_end and on_warning are all required)");
  // Paths under /proc/self/fd/N reach an entry through its already-open parent, which keeps path-based
  // calls (xattrs of symlinks and devices) inside the tree the walk verified.
  proc_fd_paths_ = ::access("/proc/self/fd", X_OK) == 0;
}

void BackupRun::run() {
  buffer_.resize(kDataBlock);
  std::vector<std::string> roots;
  for (const std::string& source : job_.sources) {
    std::string canonical;
    int error = canonical_source(source, canonical);
    if (error != 0) {
      path_ = source;
      warn(error == ENOENT ? "source does not exist" : "cannot resolve source: " + errno_text(error));
      continue;
    }
    roots.push_back(std::move(canonical));
  }
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
  source_roots_.insert(roots.begin(), roots.end());
  // A full backup reads every file, so their data is worth asking for early; an incremental reads few.
  if (job_.level == BackupLevel::kFull) prefetch_ = std::make_unique<Prefetcher>();
  scanner_ = std::make_unique<TreeScanner>(
      [this](const std::string& path, const std::string& name, const struct stat& st, dev_t walk_device) {
        return descends(path, name, st, walk_device);
      },
      kScanThreads);
  for (const std::string& root : roots) back_up_source(root);
}

bool BackupRun::descends(const std::string& path, const std::string& name, const struct stat& st,
                         dev_t walk_device) const {
  if (source_roots_.size() > 1 && source_roots_.count(path)) return false;
  if (excludes_.matches(path, name, true)) return false;
  return !(job_.one_file_system && st.st_dev != walk_device);
}

void BackupRun::back_up_source(const std::string& source) {
  if (source == "/") {
    path_ = "/";
    struct stat st;
    if (::lstat("/", &st) != 0) {
      int error = errno;
      warn("cannot open source: " + errno_text(error));
      return;
    }
    std::shared_ptr<Listing> listing = scanner_->start(nullptr, "/", st, "/");
    if (!listing->dir) {
      warn("cannot open source: " + errno_text(listing->open_error));
      return;
    }
    if (!usable(*listing)) return;
    if (prefetch_) prefetch_->listed(listing->dir, listing->names);
    walk(Frame{std::move(listing), 0, 0, st.st_dev});
    return;
  }
  size_t slash = source.rfind('/');
  std::string parent = slash == 0 ? "/" : source.substr(0, slash);
  std::string name = source.substr(slash + 1);
  path_ = source;
  // O_PATH: the parent only needs search permission, as with a path lookup (a source in a 0711 home).
  auto parent_dir =
      std::make_shared<const UniqueFd>(open_at(AT_FDCWD, parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!*parent_dir) {
    int error = errno;
    warn(error == ENOENT ? "source does not exist" : "cannot open the source's parent: " + errno_text(error));
    return;
  }
  struct stat st;
  if (::fstatat(parent_dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    int error = errno;
    warn(error == ENOENT ? "source does not exist" : "cannot stat: " + errno_text(error));
    return;
  }
  std::optional<Frame> root = visit(parent_dir->get(), name, st, st.st_dev, true,
                                    [&](bool) { return scanner_->start(parent_dir, name, st, path_); });
  if (root) walk(std::move(*root));
}

void BackupRun::walk(Frame root) {
  std::vector<Frame> stack;
  stack.push_back(std::move(root));
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next == top.listing->names.size()) {
      scanner_->leave(*top.listing);
      stack.pop_back();
      continue;
    }
    const size_t index = top.next++;
    const ScannedName& entry = top.listing->names[index];
    path_.resize(top.path_length);
    path_ += '/';
    path_ += entry.name;
    if (prefetch_) prefetch_->visited();
    std::optional<Frame> child;
    if (entry.stat_error != 0) {
      warn(entry.stat_error == ENOENT ? "vanished before it could be backed up"
                                      : "cannot stat: " + errno_text(entry.stat_error));
    } else {
      const std::shared_ptr<Listing>& listing = top.listing;
      child = visit(listing->fd(), entry.name, entry.st, top.device, false,
                    [&](bool list) { return scanner_->enter(listing, index, list); });
    }
    // push_back may move `top`; nothing of it is used after this point.
    if (child) stack.push_back(std::move(*child));
  }
}

std::optional<BackupRun::Frame> BackupRun::visit(int parent_fd, const std::string& name,
                                                 const struct stat& st, dev_t walk_device, bool is_root,
                                                 const OpenDirectory& open_directory) {
  // A source inside another source is walked on its own.
  if (!is_root && source_roots_.size() > 1 && source_roots_.count(path_)) return std::nullopt;
  switch (st.st_mode & S_IFMT) {
    case S_IFSOCK:
      // A socket is recreated by its server; tar cannot hold one either.
      sbx::sdk::log(SBX_LOG_DEBUG, "skipping socket " + printable(path_));
      return std::nullopt;
    case S_IFDIR:
      if (!is_root && excludes_.matches(path_, name, true)) return std::nullopt;
      return visit_directory(parent_fd, name, st, walk_device, open_directory);
    default:
      break;
  }
  if (!is_root && excludes_.matches(path_, name, false)) return std::nullopt;
  if (!is_root && !includes_.empty() && !includes_.matches(path_, name, false)) return std::nullopt;
  switch (st.st_mode & S_IFMT) {
    case S_IFREG:
      visit_file(parent_fd, name, st);
      break;
    case S_IFLNK:
      visit_other(parent_fd, name, st, SBX_ENTRY_SYMLINK);
      break;
    case S_IFIFO:
      visit_other(parent_fd, name, st, SBX_ENTRY_FIFO);
      break;
    case S_IFCHR:
      visit_other(parent_fd, name, st, SBX_ENTRY_CHAR_DEVICE);
      break;
    case S_IFBLK:
      visit_other(parent_fd, name, st, SBX_ENTRY_BLOCK_DEVICE);
      break;
    default:
      warn("has a file type tar cannot hold (mode " + std::to_string(st.st_mode & S_IFMT) + "); skipped");
      break;
  }
  return std::nullopt;
}

std::optional<BackupRun::Frame> BackupRun::visit_directory(int parent_fd, const std::string& name,
                                                           const struct stat& st, dev_t walk_device,
                                                           const OpenDirectory& open_directory) {
  const bool descend = !(job_.one_file_system && st.st_dev != walk_device);
  std::shared_ptr<Listing> listing = open_directory(descend);
  const int open_error = listing->open_error;
  if (listing->replaced || open_error == ELOOP || open_error == ENOTDIR) {
    warn("was replaced during the backup; skipped");
    return std::nullopt;
  }
  if (open_error == ENOENT) {
    warn("vanished before it could be read");
    return std::nullopt;
  }

  Entry entry = entry_for(st, SBX_ENTRY_DIRECTORY);
  if (check(entry) != SBX_SKIP) {
    read_xattrs_into(entry, listing->fd(), parent_fd, name);
    emit(entry);
  }
  if (!listing->dir) {
    // The directory itself is kept; what is inside cannot be listed.
    warn("cannot open directory: " + errno_text(open_error));
    return std::nullopt;
  }
  if (!descend) {
    sbx::sdk::log(SBX_LOG_INFO, "not descending into " + printable(path_) + ": another file system");
    return std::nullopt;
  }
  if (!usable(*listing)) return std::nullopt;
  if (prefetch_) prefetch_->listed(listing->dir, listing->names);
  return Frame{std::move(listing), 0, path_.size(), walk_device};
}

bool BackupRun::usable(const Listing& listing) {
  if (listing.list_error == 0) return true;
  // Listing a directory that was removed after it was opened fails with ENOENT: it vanished, as a file
  // removed during the backup does, and is reported in the same words.
  const bool vanished = listing.list_error == ENOENT;
  // What was listed before the error is still backed up.
  if (listing.list_partial) {
    warn(vanished ? "vanished while it was being listed; what was listed before is backed up"
                  : "cannot list directory completely: " + errno_text(listing.list_error));
    return true;
  }
  warn(vanished ? "vanished before it could be listed"
                : "cannot list directory: " + errno_text(listing.list_error));
  return false;
}

void BackupRun::visit_file(int parent_fd, const std::string& name, const struct stat& st) {
  const bool hard_linked = st.st_nlink > 1;
  const std::pair<dev_t, ino_t> inode{st.st_dev, st.st_ino};
  Entry entry = entry_for(st, SBX_ENTRY_FILE);
  if (hard_linked) {
    auto first = first_links_.find(inode);
    if (first != first_links_.end()) {
      entry.type = SBX_ENTRY_HARDLINK;
      entry.link_target = first->second;
      entry.size = 0;
      if (check(entry) != SBX_SKIP) emit(entry);
      return;
    }
  }
  if (check(entry) == SBX_SKIP) {
    // The host keeps this path from an earlier set, so later links may still name it.
    if (hard_linked) first_links_.emplace(inode, std::string(entry_path()));
    return;
  }

  UniqueFd fd(open_at(parent_fd, name.c_str(),
                      O_RDONLY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) {
    warn(open_failure(errno));
    return;
  }
  struct stat now;
  if (::fstat(fd.get(), &now) != 0 || !same_file(st, now)) {
    warn("was replaced during the backup; skipped");
    return;
  }
  refresh_metadata(entry, now);
  const uint64_t size = static_cast<uint64_t>(now.st_size);
  if (static_cast<uint64_t>(now.st_blocks) * 512 < size) {
    std::optional<std::vector<sbx_extent>> extents = find_data_extents(fd.get(), size);
    if (extents) entry.extents = std::move(*extents);
  }
  read_xattrs_into(entry, fd.get(), parent_fd, name);

  call_sink(sink_.on_entry(sink_.ctx, &entry.as_c()), "on_entry");
  send_data(fd.get(), entry);
  call_sink(sink_.on_entry_end(sink_.ctx), "on_entry_end");
  if (hard_linked) first_links_.emplace(inode, entry.path);
}

void BackupRun::visit_other(int parent_fd, const std::string& name, const struct stat& st,
                            sbx_entry_type type) {
  Entry entry = entry_for(st, type);
  if (check(entry) == SBX_SKIP) return;
  if (type == SBX_ENTRY_SYMLINK) {
    std::string target(static_cast<size_t>(std::max<off_t>(st.st_size, 255)) + 1, '\0');
    for (;;) {
      ssize_t got = ::readlinkat(parent_fd, name.c_str(), target.data(), target.size());
      if (got < 0) {
        int error = errno;
        warn(error == ENOENT ? "vanished before it could be read"
                             : "cannot read symlink target: " + errno_text(error));
        return;
      }
      if (static_cast<size_t>(got) < target.size()) {
        target.resize(static_cast<size_t>(got));
        break;
      }
      target.resize(target.size() * 2);  // grew since lstat
    }
    entry.link_target = std::move(target);
  }
  read_xattrs_into(entry, -1, parent_fd, name);
  emit(entry);
}

void BackupRun::send_data(int fd, const Entry& entry) {
  std::vector<sbx_extent> dense;
  const std::vector<sbx_extent>* regions = &entry.extents;
  if (entry.extents.empty()) {
    dense.push_back({0, entry.size});
    regions = &dense;
  }
  // Larger read-ahead for a file read in several blocks; one that fits a block is a single read, and the
  // hint would be one more system call for each of the many small files of a tree.
  if (entry.size > buffer_.size()) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  bool changed = false;  // once set, the rest of the announced length is zeros
  size_t filled = 0;
  auto flush = [&] {
    if (filled == 0) return;
    call_sink(sink_.on_data(sink_.ctx, {reinterpret_cast<const uint8_t*>(buffer_.data()), filled}),
              "on_data");
    filled = 0;
  };
  for (const sbx_extent& region : *regions) {
    uint64_t offset = region.offset;
    uint64_t left = region.length;
    while (left > 0) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(left, buffer_.size() - filled));
      ssize_t got = 0;
      if (!changed) {
        got = pread_full(fd, buffer_.data() + filled, want, offset);
        if (got < 0) {
          int error = errno;
          warn("read error at offset " + std::to_string(offset) + ": " + errno_text(error) +
               "; the rest of the file is stored as zeros");
          changed = true;
          got = 0;
        } else if (static_cast<size_t>(got) < want) {
          warn("changed while being read: it shrank to " +
               std::to_string(offset + static_cast<uint64_t>(got)) + " bytes; the rest is stored as zeros");
          changed = true;
        }
      }
      if (static_cast<size_t>(got) < want) std::memset(buffer_.data() + filled + got, 0, want - got);
      filled += want;
      offset += want;
      left -= want;
      if (filled == buffer_.size()) flush();
    }
  }
  flush();
  if (changed) return;
  struct stat after;
  if (::fstat(fd, &after) == 0 &&
      (static_cast<uint64_t>(after.st_size) != entry.size || to_ns(after.st_mtim) != entry.mtime_ns))
    warn("changed while being read (now " + std::to_string(after.st_size) +
         " bytes); the copy may be inconsistent");
}

Entry BackupRun::entry_for(const struct stat& st, sbx_entry_type type) {
  Entry entry;
  entry.type = type;
  entry.path.assign(entry_path());
  refresh_metadata(entry, st);
  if (type != SBX_ENTRY_FILE) entry.size = 0;
  if (type == SBX_ENTRY_CHAR_DEVICE || type == SBX_ENTRY_BLOCK_DEVICE) entry.rdev = st.st_rdev;
  return entry;
}

void BackupRun::refresh_metadata(Entry& entry, const struct stat& st) {
  if (entry.type == SBX_ENTRY_FILE) entry.size = static_cast<uint64_t>(st.st_size);
  entry.mode = st.st_mode & 07777;
  entry.uid = st.st_uid;
  entry.gid = st.st_gid;
  entry.user_name = names_.user(st.st_uid);
  entry.group_name = names_.group(st.st_gid);
  entry.mtime_ns = to_ns(st.st_mtim);
  entry.ctime_ns = to_ns(st.st_ctim);
  entry.atime_ns = to_ns(st.st_atim);
  entry.device = st.st_dev;
  entry.inode = st.st_ino;
  entry.nlink = st.st_nlink;
}

std::string BackupRun::path_at(int parent_fd, const std::string& name) const {
  if (!proc_fd_paths_) return path_;
  return "/proc/self/fd/" + std::to_string(parent_fd) + "/" + name;
}

void BackupRun::read_xattrs_into(Entry& entry, int fd, int parent_fd, const std::string& name) {
  std::string path = fd >= 0 ? std::string() : path_at(parent_fd, name);
  int error = read_xattrs(fd, path.c_str(), entry.xattrs);
  if (error != 0) {
    entry.xattrs.clear();
    warn("cannot read extended attributes: " + errno_text(error));
  }
}

sbx_status BackupRun::check(const Entry& entry) {
  sbx_status status = sink_.check(sink_.ctx, &entry.as_c());
  call_sink(status, "check");
  return status;
}

void BackupRun::emit(const Entry& entry) {
  call_sink(sink_.on_entry(sink_.ctx, &entry.as_c()), "on_entry");
  call_sink(sink_.on_entry_end(sink_.ctx), "on_entry_end");
}

void BackupRun::call_sink(sbx_status status, const char* callback) {
  if (status < 0)
    throw Error(status, std::string("backup stopped: the host's ") + callback + " returned " +
                            std::to_string(static_cast<int>(status)) + " at '" + printable(path_) + "'");
}

void BackupRun::warn(const std::string& message) {
  sink_.on_warning(sink_.ctx, bytes_of(entry_path()), sbx::sdk::make_str(message));
}

std::string_view BackupRun::entry_path() const {
  std::string_view path = path_;
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return path;
}

}  // namespace sbx::files
