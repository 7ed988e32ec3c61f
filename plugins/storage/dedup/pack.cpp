#include "pack.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <strongbox/sdk/plugin.hpp>

#include "bytes.hpp"
#include "common/crypto.hpp"
#include "common/posix_file.hpp"
#include "common/settings.hpp"

namespace sbx::dedup {
namespace {

constexpr std::string_view kPackMagic = "SBXPACK1";
constexpr std::string_view kEndMagic = "SBXPEND1";
constexpr size_t kRecordBytes = kIdBytes + 8 + 4;
constexpr size_t kFooterBytes = 4 + SHA256_DIGEST_LENGTH + 8;

[[noreturn]] void corrupt(const std::string& path, const std::string& why) {
  throw sdk::Error(SBX_ERR_CORRUPT, "pack " + path + " is damaged: " + why);
}

// The blob's place comes from an index or a trailer, which may be damaged: it is checked against the file
// before its length is allocated, so a wild length costs an error, not gigabytes of memory.
std::string read_within(int fd, uint64_t file_bytes, uint64_t offset, uint32_t length,
                        const std::string& path) {
  if (offset > file_bytes || length > file_bytes - offset)
    throw sdk::Error(SBX_ERR_CORRUPT, "pack " + path + " is shorter than its index says");
  std::string out(length, '\0');
  if (storage::pread_full(fd, out.data(), length, offset, path) != length)
    throw sdk::Error(SBX_ERR_CORRUPT, "pack " + path + " is shorter than its index says");
  return out;
}

bool is_pack_name(std::string_view name) {
  if (name.size() != 32 + 5 || name.substr(32) != ".pack") return false;
  for (char c : name.substr(0, 32))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

template <class Fn>
void for_each_name(const std::string& dir_path, Fn&& fn) {
  DIR* dir = ::opendir(dir_path.c_str());
  if (!dir) {
    if (errno == ENOENT) return;
    storage::throw_errno(errno, "cannot list " + dir_path);
  }
  struct Closer {
    DIR* d;
    ~Closer() { ::closedir(d); }
  } closer{dir};
  for (;;) {
    errno = 0;
    dirent* entry = ::readdir(dir);
    if (!entry) {
      if (errno != 0) storage::throw_errno(errno, "cannot list " + dir_path);
      return;
    }
    std::string name = entry->d_name;
    if (name != "." && name != "..") fn(name);
  }
}

}  // namespace

std::string PackLayout::pack_path(std::string_view pack) const {
  return root + "/packs/" + std::string(pack.substr(0, 2)) + "/" + std::string(pack) + ".pack";
}

PackBuilder::PackBuilder(const PackLayout& layout) : layout_(layout) {}

PackBuilder::~PackBuilder() {
  if (fd_) ::unlink(tmp_path_.c_str());  // never finished: the partial pack is nobody's
}

void PackBuilder::add(const ChunkId& id, std::string_view stored) {
  if (!fd_) {
    uint8_t raw[16];
    storage::random_bytes(raw, sizeof raw);
    name_ = to_hex(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
    tmp_path_ = layout_.tmp_dir() + "/" + name_ + ".pack.tmp";
    fd_ = storage::open_or_throw(tmp_path_, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    pending_.reserve(kWriteBytes);
    pending_.append(kPackMagic);
    size_ = kPackMagic.size();
  }
  // Blobs go to the file a few hundred KiB at a time: page cache holds a pack being built, not this process's
  // heap, and most blobs are too small for a write each.
  pending_.append(stored);
  records_.push_back({id, size_, uint32_t(stored.size())});
  size_ += stored.size();
  if (pending_.size() >= kWriteBytes) write_pending();
}

void PackBuilder::write_pending() {
  storage::write_all(fd_.get(), pending_.data(), pending_.size(), tmp_path_);
  pending_.clear();
}

std::string PackBuilder::finish(std::vector<PackRecord>& records_out, uint64_t& file_bytes) {
  if (!fd_) throw sdk::Error(SBX_ERR_INTERNAL, "dedup device: an empty pack cannot be finished");
  std::string trailer;
  trailer.reserve(records_.size() * kRecordBytes + kFooterBytes);
  for (const auto& r : records_) {
    trailer.append(reinterpret_cast<const char*>(r.id.data()), kIdBytes);
    put_u64(trailer, r.offset);
    put_u32(trailer, r.length);
  }
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(trailer.data()), trailer.size(), digest);
  put_u32(trailer, uint32_t(records_.size()));
  trailer.append(reinterpret_cast<const char*>(digest), sizeof digest);
  trailer.append(kEndMagic);

  const std::string final_path = layout_.pack_path(name_);
  const std::string subdir = final_path.substr(0, final_path.find_last_of('/'));
  storage::make_directory(layout_.packs_dir(), "dedup device");
  struct stat st;
  if (::stat(subdir.c_str(), &st) != 0) {
    storage::make_directory(subdir, "dedup device");
    storage::fsync_directory(layout_.packs_dir());
  }
  pending_.append(trailer);
  write_pending();
  storage::fsync_or_throw(fd_.get(), tmp_path_);
  fd_.close_checked(tmp_path_);
  if (::rename(tmp_path_.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_path_.c_str());
    storage::throw_errno(err, "cannot rename " + tmp_path_ + " to " + final_path);
  }
  storage::fsync_directory(subdir);
  file_bytes = size_ + trailer.size();
  records_out = std::move(records_);
  records_.clear();
  size_ = 0;
  return std::exchange(name_, {});
}

std::vector<PackRecord> read_pack_trailer(const std::string& path, uint64_t* file_bytes) {
  storage::UniqueFd fd = storage::open_or_throw(path, O_RDONLY | O_CLOEXEC);
  const uint64_t size = storage::file_size(fd.get(), path);
  if (file_bytes) *file_bytes = size;
  if (size < kPackMagic.size() + kFooterBytes) corrupt(path, "too short to be a pack");
  char magic[8];
  if (storage::pread_full(fd.get(), magic, sizeof magic, 0, path) != sizeof magic ||
      std::string_view(magic, 8) != kPackMagic)
    corrupt(path, "wrong magic at the start");
  char footer[kFooterBytes];
  if (storage::pread_full(fd.get(), footer, sizeof footer, size - kFooterBytes, path) != sizeof footer)
    corrupt(path, "cannot read the footer");
  if (std::string_view(footer + 4 + SHA256_DIGEST_LENGTH, 8) != kEndMagic)
    corrupt(path, "wrong magic at the end");
  const uint64_t count = get_u32(footer);
  const uint64_t trailer_bytes = count * kRecordBytes;
  if (trailer_bytes > size - kPackMagic.size() - kFooterBytes) corrupt(path, "blob count exceeds the file");
  const uint64_t trailer_at = size - kFooterBytes - trailer_bytes;
  std::string trailer(trailer_bytes, '\0');
  if (storage::pread_full(fd.get(), trailer.data(), trailer.size(), trailer_at, path) != trailer.size())
    corrupt(path, "cannot read the trailer");
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(trailer.data()), trailer.size(), digest);
  if (std::memcmp(digest, footer + 4, sizeof digest) != 0) corrupt(path, "trailer checksum mismatch");
  std::vector<PackRecord> records;
  records.reserve(count);
  uint64_t expected_offset = kPackMagic.size();
  for (uint64_t i = 0; i < count; ++i) {
    const char* p = trailer.data() + i * kRecordBytes;
    PackRecord r;
    std::memcpy(r.id.data(), p, kIdBytes);
    r.offset = get_u64(p + kIdBytes);
    r.length = get_u32(p + kIdBytes + 8);
    if (r.offset != expected_offset || r.offset + r.length > trailer_at)
      corrupt(path, "a blob lies outside its place");
    expected_offset += r.length;
    records.push_back(r);
  }
  if (expected_offset != trailer_at) corrupt(path, "blobs do not fill the pack");
  return records;
}

std::vector<std::string> list_packs(const PackLayout& layout) {
  std::vector<std::string> packs;
  for_each_name(layout.packs_dir(), [&](const std::string& sub) {
    if (sub.size() != 2) return;
    for_each_name(layout.packs_dir() + "/" + sub, [&](const std::string& file) {
      if (is_pack_name(file) && file.substr(0, 2) == sub) packs.push_back(file.substr(0, 32));
    });
  });
  return packs;
}

std::vector<std::string> list_directory(const std::string& path) {
  std::vector<std::string> names;
  for_each_name(path, [&](const std::string& name) { names.push_back(name); });
  return names;
}

std::string read_blob(const std::string& pack_path, uint64_t offset, uint32_t length) {
  int raw = ::open(pack_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) {
    int err = errno;
    if (err == ENOENT) throw sdk::Error(SBX_ERR_NOT_FOUND, "pack " + pack_path + " is missing");
    storage::throw_errno(err, "cannot open " + pack_path);
  }
  storage::UniqueFd fd(raw);
  return read_within(fd.get(), storage::file_size(fd.get(), pack_path), offset, length, pack_path);
}

}  // namespace sbx::dedup

namespace sbx::dedup {

std::string PackFiles::read(const std::string& pack, uint64_t offset, uint32_t length) {
  const std::string path = layout_.pack_path(pack);
  auto it = open_.begin();
  while (it != open_.end() && it->name != pack) ++it;
  if (it == open_.end()) {
    int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0) {
      int err = errno;
      if (err == ENOENT) throw sdk::Error(SBX_ERR_NOT_FOUND, "pack " + path + " is missing");
      storage::throw_errno(err, "cannot open " + path);
    }
    storage::UniqueFd fd(raw);
    const uint64_t bytes = storage::file_size(fd.get(), path);
    open_.push_front({pack, std::move(fd), bytes});
    if (open_.size() > kOpenPacks) open_.pop_back();
  } else if (it != open_.begin()) {
    open_.splice(open_.begin(), open_, it);
  }
  return read_within(open_.front().fd.get(), open_.front().bytes, offset, length, path);
}

}  // namespace sbx::dedup
