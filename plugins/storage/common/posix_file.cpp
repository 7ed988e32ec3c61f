#include "common/posix_file.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sbx::storage {

sbx_status status_from_errno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return SBX_ERR_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EROFS:
      return SBX_ERR_PERMISSION;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return SBX_ERR_NO_SPACE;
    default:
      return SBX_ERR_IO;
  }
}

void throw_errno(int err, const std::string& what) {
  throw sdk::Error(status_from_errno(err), what + ": " + std::strerror(err));
}

void UniqueFd::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void UniqueFd::close_checked(const std::string& path) {
  int fd = std::exchange(fd_, -1);
  if (fd >= 0 && ::close(fd) != 0 && errno != EINTR) throw_errno(errno, "cannot close " + path);
}

UniqueFd open_or_throw(const std::string& path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw_errno(errno, "cannot open " + path);
  return UniqueFd(fd);
}

void write_all(int fd, const void* data, size_t len, const std::string& path) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (len > 0) {
    ssize_t n = ::write(fd, p, std::min(len, kMaxSyscallBytes));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, "cannot write " + path);
    }
    if (n == 0) throw sdk::Error(SBX_ERR_IO, "cannot write " + path + ": write returned 0 bytes");
    p += n;
    len -= static_cast<size_t>(n);
  }
}

size_t pread_full(int fd, void* data, size_t len, uint64_t offset, const std::string& path) {
  auto* p = static_cast<uint8_t*>(data);
  size_t done = 0;
  while (done < len) {
    ssize_t n =
        ::pread(fd, p + done, std::min(len - done, kMaxSyscallBytes), static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, "cannot read " + path + " at offset " + std::to_string(offset + done));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

void fsync_or_throw(int fd, const std::string& path) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) throw_errno(errno, "cannot fsync " + path);
  }
}

void fsync_directory(const std::string& dir) {
  UniqueFd fd = open_or_throw(dir, O_RDONLY | O_DIRECTORY);
  fsync_or_throw(fd.get(), dir);
  fd.close_checked(dir);
}

uint64_t file_size(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) throw_errno(errno, "cannot stat " + path);
  return static_cast<uint64_t>(st.st_size);
}

int rename_without_replacing(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;
  // The file system cannot rename without replacing (FUSE, some network file systems): link() fails on an
  // existing name as well.
  if (::link(from.c_str(), to.c_str()) == 0) {
    ::unlink(from.c_str());
    return 0;
  }
  if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS) return errno;
  // Nor has it hard links (FAT and exFAT, as on most USB drives): look, then rename. Two processes racing
  // to make the same name there could both succeed, the later replacing the earlier; the names made this
  // way are a store's config file, made once before the store is used, and set names, which are unique.
  struct stat st;
  if (::lstat(to.c_str(), &st) == 0) return EEXIST;
  if (errno != ENOENT) return errno;
  return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

bool write_file_atomically(const std::string& dir, const std::string& name, const std::string& content,
                           bool no_replace) {
  const std::string final_path = dir + "/" + name;
  const std::string temp_path = dir + "/." + name + ".tmp";
  UniqueFd fd = open_or_throw(temp_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  try {
    write_all(fd.get(), content.data(), content.size(), temp_path);
    fsync_or_throw(fd.get(), temp_path);
    fd.close_checked(temp_path);
    if (no_replace) {
      const int err = rename_without_replacing(temp_path, final_path);
      if (err != 0) {
        ::unlink(temp_path.c_str());
        if (err == EEXIST) return false;
        throw_errno(err, "cannot create " + final_path);
      }
    } else if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
      throw_errno(errno, "cannot rename " + temp_path + " to " + final_path);
    }
  } catch (...) {
    fd.reset();
    ::unlink(temp_path.c_str());
    throw;
  }
  fsync_directory(dir);
  return true;
}

std::string read_small_file(const std::string& path, size_t max_bytes) {
  UniqueFd fd = open_or_throw(path, O_RDONLY);
  std::string content(max_bytes + 1, '\0');
  size_t n = pread_full(fd.get(), content.data(), content.size(), 0, path);
  if (n > max_bytes)
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, path + ": wanted a file of at most " +
                                                   std::to_string(max_bytes) + " bytes, found a larger one");
  content.resize(n);
  return content;
}

}  // namespace sbx::storage
