#include "disk_device.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>

#include "common/settings.hpp"
#include "common_names.hpp"
#include "set_format.hpp"
#include "set_reader.hpp"
#include "set_writer.hpp"

namespace sbx::disk {
namespace {

constexpr const char* kDeviceFile = "device.json";
constexpr const char* kDeviceFormat = "strongbox-disk";
constexpr int kDeviceVersion = 1;
constexpr int kMinLevel = -7;
constexpr int kMaxLevel = 19;
// zstd worker threads per writer. Measured on 2 cores with storage_disk_throughput: 2 workers write
// ~1.5x faster than compressing on the calling thread, on a par with `tar | zstd -1 -T2`; 3 gain nothing.
constexpr int kCompressionWorkers = 2;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The set a file of DIR/sets belongs to, or "" for files that are not sets.
std::string set_of_file(std::string_view file) {
  std::string_view name;
  if (file.size() > 1 && file.front() == '.' && ends_with(file, kPartialSuffix))
    name = file.substr(1, file.size() - 1 - kPartialSuffix.size());
  else if (ends_with(file, kEncryptedSuffix))
    name = file.substr(0, file.size() - kEncryptedSuffix.size());
  else if (ends_with(file, kPlainSuffix))
    name = file.substr(0, file.size() - kPlainSuffix.size());
  else
    return "";
  try {
    check_set_name(name);
  } catch (const sdk::Error&) {
    return "";
  }
  return std::string(name);
}

template <class Fn>
void for_each_set_file(const std::string& sets_dir, Fn&& fn) {
  DIR* dir = ::opendir(sets_dir.c_str());
  if (!dir) throw_errno(errno, "cannot list " + sets_dir);
  struct Closer {
    DIR* d;
    ~Closer() { ::closedir(d); }
  } closer{dir};
  for (;;) {
    errno = 0;
    dirent* entry = ::readdir(dir);
    if (!entry) {
      if (errno != 0) throw_errno(errno, "cannot list " + sets_dir);
      return;
    }
    std::string set = set_of_file(entry->d_name);
    if (!set.empty()) fn(set, entry->d_name, ::dirfd(dir));
  }
}

}  // namespace

DeviceSettings parse_device_settings(std::string_view config_json) {
  const DeviceConfig config("disk device", config_json,
                            {"path", "key_file", "compression_level", "frame_bytes"}, {"path"});
  DeviceSettings settings;
  settings.root = config.absolute_path("path");
  settings.sets_dir = (settings.root == "/" ? "" : settings.root) + "/sets";
  settings.compression.level = 1;
  settings.compression.frame_bytes = kDefaultFrameBytes;
  settings.compression.workers = kCompressionWorkers;
  if (config.has("compression_level"))
    settings.compression.level = static_cast<int>(config.integer("compression_level", kMinLevel, kMaxLevel));
  if (config.has("frame_bytes"))
    settings.compression.frame_bytes =
        static_cast<size_t>(config.integer("frame_bytes", kMinFrameBytes, kMaxFrameBytes));
  if (config.has("key_file")) {
    settings.key_file = config.absolute_path("key_file");
    settings.key = std::make_shared<const SecretKey>(load_key_file(settings.key_file));
  }
  return settings;
}

DiskDevice::DiskDevice(std::string_view config_json, sdk::StoreOpening how)
    : settings_(parse_device_settings(config_json)) {
  open_layout(how);
}

void DiskDevice::open_layout(sdk::StoreOpening how) {
  const std::string& root = settings_.root;
  const bool may_create = how == sdk::StoreOpening::create_if_missing;
  open_store_directory(root, "disk device", may_create);
  const std::string device_file = root + "/" + kDeviceFile;
  const std::string my_key_id = settings_.key ? key_id(*settings_.key) : "";

  struct stat st;
  if (::stat(device_file.c_str(), &st) != 0) {
    if (errno != ENOENT) throw_errno(errno, "disk device: cannot stat " + device_file);
    if (::stat(settings_.sets_dir.c_str(), &st) == 0)
      throw sdk::Error(SBX_ERR_CORRUPT, "disk device: " + root + " holds sets but no " + kDeviceFile +
                                            ": put it back from a copy (see docs/admin-guide.md)");
    if (!may_create)
      throw sdk::Error(SBX_ERR_OFFLINE, "disk device: " + root +
                                            " holds no store (is its drive mounted?); `strongbox devices "
                                            "add` makes one");
    nlohmann::json fresh = {{"format", kDeviceFormat},
                            {"version", kDeviceVersion},
                            {"encrypted", settings_.key != nullptr},
                            {"key_id", my_key_id}};
    // A concurrent first open may win the race; its file is then checked like any existing one.
    write_file_atomically(root, kDeviceFile, fresh.dump(2) + "\n", /*no_replace=*/true);
  }

  nlohmann::json device = nlohmann::json::parse(read_small_file(device_file, 64 << 10), nullptr, false);
  auto broken = [&](const std::string& why) {
    throw sdk::Error(SBX_ERR_CORRUPT, "disk device: " + device_file + " " + why);
  };
  if (device.is_discarded() || !device.is_object()) broken("is not a JSON object");
  if (device.value("format", "") != kDeviceFormat) broken("does not describe a strongbox-disk device");
  if (!device.contains("version") || !device["version"].is_number_integer()) broken("has no version");
  if (device["version"].get<int64_t>() != kDeviceVersion)
    broken("has version " + device["version"].dump() + ", this plugin reads version " +
           std::to_string(kDeviceVersion) + " (written by a newer strongbox?)");
  if (!device.contains("encrypted") || !device["encrypted"].is_boolean()) broken("has no \"encrypted\" flag");
  const bool encrypted = device["encrypted"].get<bool>();
  if (encrypted) {
    if (!device.contains("key_id") || !device["key_id"].is_string()) broken("has no key_id");
    const std::string want = device["key_id"].get<std::string>();
    if (!settings_.key)
      throw sdk::Error(
          SBX_ERR_CRYPTO,
          "disk device " + root + " is encrypted: \"key_file\" is required to open it (key id " + want + ")");
    if (my_key_id != want)
      throw sdk::Error(SBX_ERR_CRYPTO, "disk device " + root + ": key_file " + settings_.key_file +
                                           " is not this device's key (key id " + my_key_id +
                                           ", device wants " + want + ")");
  } else if (settings_.key) {
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                     "disk device " + root + " is not encrypted, but key_file " + settings_.key_file +
                         " was given; remove key_file, or use a new directory for an "
                         "encrypted device");
  }
  make_directory(settings_.sets_dir, "disk device");
}

sbx_storage_info DiskDevice::info() {
  sbx_storage_info info{};
  info.struct_size = sizeof info;
  struct statvfs vfs;
  if (::statvfs(settings_.root.c_str(), &vfs) == 0) {
    info.total_bytes = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
    info.free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  }
  struct stat st;
  info.online = ::stat(settings_.root.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
                ::access(settings_.root.c_str(), W_OK) == 0 &&
                ::access(settings_.sets_dir.c_str(), W_OK) == 0;
  if (info.online) {
    for_each_set_file(settings_.sets_dir, [&](const std::string&, const char* file, int dir_fd) {
      struct stat file_stat;
      if (::fstatat(dir_fd, file, &file_stat, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(file_stat.st_mode))
        info.used_bytes += static_cast<uint64_t>(file_stat.st_size);
    });
  }
  return info;
}

std::unique_ptr<sdk::StorageWriter> DiskDevice::begin_set(std::string_view set_name) {
  check_set_name(set_name);
  for (const std::string& path :
       {settings_.sets_dir + "/" + std::string(set_name) + std::string(kPlainSuffix),
        settings_.sets_dir + "/" + std::string(set_name) + std::string(kEncryptedSuffix)}) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0)
      throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                       "set " + std::string(set_name) + " already exists on disk device " + settings_.root);
  }
  return std::make_unique<SetWriter>(settings_, std::string(set_name));
}

std::unique_ptr<sdk::StorageReader> DiskDevice::open_set(std::string_view set_name) {
  check_set_name(set_name);
  return std::make_unique<SetReader>(settings_, std::string(set_name));
}

void DiskDevice::delete_set(std::string_view set_name) {
  check_set_name(set_name);
  const std::string name(set_name);
  int removed = 0;
  for (const std::string& path :
       {settings_.sets_dir + "/" + name + std::string(kPlainSuffix),
        settings_.sets_dir + "/" + name + std::string(kEncryptedSuffix), settings_.partial_path(name)}) {
    if (::unlink(path.c_str()) == 0)
      ++removed;
    else if (errno != ENOENT)
      throw_errno(errno, "cannot delete " + path);
  }
  if (removed == 0)
    throw sdk::Error(SBX_ERR_NOT_FOUND, "set " + name + " not found on disk device " + settings_.root);
  fsync_directory(settings_.sets_dir);
}

void DiskDevice::list_sets(const std::function<void(std::string_view)>& fn) {
  std::set<std::string> names;
  for_each_set_file(settings_.sets_dir, [&](const std::string& set, const char*, int) { names.insert(set); });
  for (const std::string& name : names) fn(name);
}

}  // namespace sbx::disk
