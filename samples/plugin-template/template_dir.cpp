// template-dir: a small but complete strongbox storage plugin to start your own from.
//
// A device is a directory. Each backup set is a subdirectory holding one data file per file entry and a
// manifest.json describing every entry. Writes go to partial/<set> and become visible with one rename to
// sets/<set> after everything is fsync'ed, so a crash never leaves a half-written set readable.
//
//   <path>/sets/<set>/manifest.json   {"format": "strongbox-template-dir", "version": 1, "entries": [...]}
//   <path>/sets/<set>/data/<index>    the data of entry <index> (only entries that carry data)
//   <path>/partial/<set>/             a set being written, or left by an interrupted write
//
// Paths, link targets, names and xattrs are raw bytes (not necessarily UTF-8), so the manifest stores them
// hex-encoded. A locator is the entry's index as decimal text.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <strongbox/sdk/plugin.hpp>
#include <system_error>
#include <utility>
#include <vector>

namespace template_dir {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sbx::sdk::Error;

constexpr const char* kFormat = "strongbox-template-dir";
constexpr int kFormatVersion = 1;
constexpr size_t kReadChunk = 1 << 20;
constexpr size_t kMaxSetName = 200;

// ------------------------------------------------------------------------------------------- file helpers
sbx_status status_for_errno(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return SBX_ERR_NO_SPACE;
    case EACCES:
    case EPERM:
    case EROFS:
      return SBX_ERR_PERMISSION;
    case ENOENT:
      return SBX_ERR_NOT_FOUND;
    default:
      return SBX_ERR_IO;
  }
}

[[noreturn]] void fail_errno(const std::string& what, const fs::path& path, int err = errno) {
  throw Error(status_for_errno(err),
              "template-dir: cannot " + what + " " + path.string() + ": " + std::strerror(err));
}

class Fd {
 public:
  Fd() = default;
  Fd(const fs::path& path, int flags, mode_t mode = 0)
      : path_(path), fd_(::open(path.c_str(), flags | O_CLOEXEC, mode)) {
    if (fd_ < 0) fail_errno("open", path);
  }
  Fd(Fd&& o) noexcept : path_(std::move(o.path_)), fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      path_ = std::move(o.path_);
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }

  bool is_open() const { return fd_ >= 0; }
  void write_all(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail_errno("write", path_);
      data.remove_prefix(static_cast<size_t>(n));
    }
  }
  // Reads up to len bytes; 0 only at end of file.
  size_t read_some(char* buffer, size_t len) {
    for (;;) {
      ssize_t n = ::read(fd_, buffer, len);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail_errno("read", path_);
      return static_cast<size_t>(n);
    }
  }
  uint64_t size() const {
    struct stat st;
    if (::fstat(fd_, &st) != 0) fail_errno("stat", path_);
    return static_cast<uint64_t>(st.st_size);
  }
  // fsync, then close, reporting either failure: a close error can be the only sign of lost data on NFS.
  void sync_and_close() {
    if (::fsync(fd_) != 0) fail_errno("fsync", path_);
    int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) fail_errno("close", path_);
  }

 private:
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  fs::path path_;
  int fd_ = -1;
};

void sync_dir(const fs::path& dir) {
  Fd(dir, O_RDONLY | O_DIRECTORY).sync_and_close();
}

void make_dir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) fail_errno("create directory", dir);
}

void write_file_durably(const fs::path& path, std::string_view content) {
  fs::path tmp = path;
  tmp += ".tmp";
  Fd out(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  out.write_all(content);
  out.sync_and_close();
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail_errno("rename into place", path);
  sync_dir(path.parent_path());
}

// ------------------------------------------------------------------------------------------------ encoding
std::string hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string unhex(const json& value, const char* field) {
  if (!value.is_string())
    throw Error(SBX_ERR_CORRUPT, std::string("template-dir: manifest field ") + field + " is not a string");
  const std::string& s = value.get_ref<const std::string&>();
  auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw Error(SBX_ERR_CORRUPT,
                std::string("template-dir: manifest field ") + field + " is not lowercase hex");
  };
  if (s.size() % 2)
    throw Error(SBX_ERR_CORRUPT, std::string("template-dir: manifest field ") + field + " has odd length");
  std::string out(s.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<char>(nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]));
  return out;
}

json encode(const sbx::sdk::Entry& e) {
  json xattrs = json::array();
  for (const auto& x : e.xattrs) xattrs.push_back({hex(x.name), hex(x.value)});
  json extents = json::array();
  for (const auto& x : e.extents) extents.push_back({x.offset, x.length});
  return {{"type", e.type},         {"path", hex(e.path)},      {"link_target", hex(e.link_target)},
          {"size", e.size},         {"mode", e.mode},           {"uid", e.uid},
          {"gid", e.gid},           {"user", hex(e.user_name)}, {"group", hex(e.group_name)},
          {"mtime_ns", e.mtime_ns}, {"ctime_ns", e.ctime_ns},   {"atime_ns", e.atime_ns},
          {"device", e.device},     {"inode", e.inode},         {"nlink", e.nlink},
          {"rdev", e.rdev},         {"xattrs", xattrs},         {"extents", extents}};
}

sbx::sdk::Entry decode(const json& j) {
  if (!j.is_object()) throw Error(SBX_ERR_CORRUPT, "template-dir: manifest entry is not an object");
  sbx::sdk::Entry e;
  try {
    e.type = j.at("type").get<uint32_t>();
    e.path = unhex(j.at("path"), "path");
    e.link_target = unhex(j.at("link_target"), "link_target");
    e.size = j.at("size").get<uint64_t>();
    e.mode = j.at("mode").get<uint32_t>();
    e.uid = j.at("uid").get<uint32_t>();
    e.gid = j.at("gid").get<uint32_t>();
    e.user_name = unhex(j.at("user"), "user");
    e.group_name = unhex(j.at("group"), "group");
    e.mtime_ns = j.at("mtime_ns").get<int64_t>();
    e.ctime_ns = j.at("ctime_ns").get<int64_t>();
    e.atime_ns = j.at("atime_ns").get<int64_t>();
    e.device = j.at("device").get<uint64_t>();
    e.inode = j.at("inode").get<uint64_t>();
    e.nlink = j.at("nlink").get<uint64_t>();
    e.rdev = j.at("rdev").get<uint64_t>();
    for (const json& x : j.at("xattrs"))
      e.xattrs.push_back({unhex(x.at(0), "xattr name"), unhex(x.at(1), "xattr value")});
    for (const json& x : j.at("extents"))
      e.extents.push_back({x.at(0).get<uint64_t>(), x.at(1).get<uint64_t>()});
  } catch (const json::exception& ex) {
    throw Error(SBX_ERR_CORRUPT, std::string("template-dir: malformed manifest entry: ") + ex.what());
  }
  return e;
}

// ------------------------------------------------------------------------------------------------- device
struct Layout {
  fs::path root;
  fs::path sets() const { return root / "sets"; }
  fs::path partial() const { return root / "partial"; }
};

// Set names become directory names, so only a conservative alphabet is allowed.
std::string checked_set_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxSetName && name.front() != '.';
  for (char c : name)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                c == '_' || c == '.');
  if (!ok)
    throw Error(SBX_ERR_INVALID_ARGUMENT,
                "template-dir: set name '" + std::string(name.substr(0, kMaxSetName)) +
                    "' must be 1-200 characters of [A-Za-z0-9._-] not starting with '.'");
  return std::string(name);
}

bool path_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

class Writer final : public sbx::sdk::StorageWriter {
 public:
  Writer(Layout layout, std::string name) : layout_(std::move(layout)), name_(std::move(name)) {
    dir_ = layout_.partial() / name_;
    if (path_exists(layout_.sets() / name_))
      throw Error(SBX_ERR_INVALID_ARGUMENT,
                  "template-dir: set '" + name_ + "' already exists in " + layout_.sets().string());
    if (::mkdir(dir_.c_str(), 0755) != 0) {
      if (errno == EEXIST)
        throw Error(SBX_ERR_INVALID_ARGUMENT, "template-dir: set '" + name_ +
                                                  "' is being written or was interrupted (" + dir_.string() +
                                                  " exists); delete_set it first");
      fail_errno("create directory", dir_);
    }
    owns_dir_ = true;
    try {
      make_dir(dir_ / "data");
    } catch (...) {
      discard();  // a throwing constructor gets no destructor call
      throw;
    }
  }
  ~Writer() override { discard(); }

  void write_entry(const sbx_entry& c) override {
    if (in_entry_)
      throw Error(SBX_ERR_INVALID_ARGUMENT,
                  "template-dir: write_entry before end_entry of the previous entry");
    sbx::sdk::Entry e = sbx::sdk::Entry::from(c);
    if (e.path.empty()) throw Error(SBX_ERR_INVALID_ARGUMENT, "template-dir: entry with an empty path");
    // No file system can hold a NUL in a name; such an entry could never be restored as written.
    if (e.path.find('\0') != std::string::npos || e.link_target.find('\0') != std::string::npos)
      throw Error(SBX_ERR_INVALID_ARGUMENT, "template-dir: entry path or link target contains a NUL byte");
    if (e.type < SBX_ENTRY_FILE || e.type > SBX_ENTRY_BLOCK_DEVICE)
      throw Error(SBX_ERR_INVALID_ARGUMENT,
                  "template-dir: entry type " + std::to_string(e.type) + " is unknown");
    expected_ = e.data_length();
    written_ = 0;
    if (expected_ > 0) data_ = Fd(data_path(entries_.size()), O_WRONLY | O_CREAT | O_EXCL, 0600);
    entries_.push_back(std::move(e));
    in_entry_ = true;
  }

  void write_data(std::string_view data) override {
    if (!in_entry_) throw Error(SBX_ERR_INVALID_ARGUMENT, "template-dir: write_data outside an entry");
    if (data.size() > expected_ - written_)
      throw Error(SBX_ERR_INVALID_ARGUMENT, "template-dir: entry '" + current_path() + "' declares " +
                                                std::to_string(expected_) + " bytes of data, got more");
    if (data.empty()) return;
    data_.write_all(data);
    written_ += data.size();
  }

  sbx::sdk::Locator end_entry() override {
    if (!in_entry_) throw Error(SBX_ERR_INVALID_ARGUMENT, "template-dir: end_entry without write_entry");
    if (written_ != expected_)
      throw Error(SBX_ERR_INVALID_ARGUMENT, "template-dir: entry '" + current_path() + "' declares " +
                                                std::to_string(expected_) + " bytes of data, got " +
                                                std::to_string(written_));
    if (data_.is_open()) data_.sync_and_close();
    stored_bytes_ += written_;
    in_entry_ = false;
    std::string index = std::to_string(entries_.size() - 1);
    return sbx::sdk::Locator(index.begin(), index.end());
  }

  sbx_set_stats commit() override {
    if (in_entry_) throw Error(SBX_ERR_INVALID_ARGUMENT, "template-dir: commit_set with an entry still open");
    json entries = json::array();
    for (const auto& e : entries_) entries.push_back(encode(e));
    std::string manifest =
        json{{"format", kFormat}, {"version", kFormatVersion}, {"entries", entries}}.dump();
    write_file_durably(dir_ / "manifest.json", manifest);
    sync_dir(dir_ / "data");
    fs::path final_dir = layout_.sets() / name_;
    // rename(2) would silently replace an empty directory; a set that appeared meanwhile must not be lost.
    if (path_exists(final_dir))
      throw Error(SBX_ERR_INVALID_ARGUMENT, "template-dir: set '" + name_ + "' already exists");
    if (::rename(dir_.c_str(), final_dir.c_str()) != 0) fail_errno("move the finished set to", final_dir);
    owns_dir_ = false;
    sync_dir(layout_.sets());
    sync_dir(layout_.partial());
    sbx_set_stats stats{};
    stats.struct_size = sizeof stats;
    stats.entries = entries_.size();
    stats.stored_bytes = stored_bytes_ + manifest.size();
    return stats;
  }

  void abort() noexcept override { discard(); }

 private:
  fs::path data_path(size_t index) const { return dir_ / "data" / std::to_string(index); }
  std::string current_path() const { return entries_.empty() ? std::string() : entries_.back().path; }
  void discard() noexcept {
    data_ = Fd();
    if (owns_dir_) {
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
      owns_dir_ = false;
    }
  }

  Layout layout_;
  std::string name_;
  fs::path dir_;
  bool owns_dir_ = false;
  std::vector<sbx::sdk::Entry> entries_;
  bool in_entry_ = false;
  uint64_t expected_ = 0;
  uint64_t written_ = 0;
  uint64_t stored_bytes_ = 0;
  Fd data_;
};

class Reader final : public sbx::sdk::StorageReader {
 public:
  Reader(const Layout& layout, std::string name) : name_(std::move(name)), dir_(layout.sets() / name_) {
    fs::path manifest_path = dir_ / "manifest.json";
    if (!path_exists(manifest_path))
      throw Error(SBX_ERR_NOT_FOUND,
                  "template-dir: no committed set '" + name_ + "' in " + layout.sets().string());
    std::string text;
    {
      Fd in(manifest_path, O_RDONLY);
      text.resize(in.size());
      size_t got = 0;
      while (got < text.size()) {
        size_t n = in.read_some(text.data() + got, text.size() - got);
        if (n == 0) break;
        got += n;
      }
      text.resize(got);
    }
    json manifest = json::parse(text, nullptr, /*allow_exceptions=*/false);
    auto field = [&](const char* key) {
      return manifest.is_object() && manifest.contains(key) ? manifest[key] : json();
    };
    if (manifest.is_discarded() || field("format") != kFormat || !field("entries").is_array())
      throw Error(SBX_ERR_CORRUPT,
                  "template-dir: " + manifest_path.string() + " is not a template-dir manifest");
    if (field("version") != kFormatVersion)
      throw Error(SBX_ERR_UNSUPPORTED, "template-dir: " + manifest_path.string() + " has format version " +
                                           field("version").dump() + ", this plugin reads " +
                                           std::to_string(kFormatVersion));
    for (const json& j : manifest["entries"]) entries_.push_back(decode(j));
  }

  void read_entries(std::span<const sbx_bytes> locators, const sbx_entry_sink& sink) override {
    std::vector<char> buffer;
    for (size_t i = 0; i < locators.size(); ++i) {
      size_t index = 0;
      if (!parse_locator(sbx::sdk::view(locators[i]), &index)) {
        report(sink, i, SBX_ERR_INVALID_ARGUMENT,
               "template-dir: locator #" + std::to_string(i) + " names no entry of set '" + name_ + "'");
        continue;
      }
      const sbx::sdk::Entry& entry = entries_[index];
      uint64_t length = entry.data_length();
      Fd data;
      if (length > 0) {
        fs::path path = dir_ / "data" / std::to_string(index);
        try {
          data = Fd(path, O_RDONLY);
          if (data.size() != length)
            throw Error(SBX_ERR_CORRUPT, "template-dir: " + path.string() + " holds " +
                                             std::to_string(data.size()) + " bytes, the manifest says " +
                                             std::to_string(length));
        } catch (const Error& e) {
          report(sink, i, e.status() == SBX_ERR_NOT_FOUND ? SBX_ERR_CORRUPT : e.status(), e.what());
          continue;
        }
      }
      // SBX_SKIP: the host wants the metadata only.
      if (sbx::sdk::check_sink(sink.on_entry(sink.ctx, &entry.as_c()), "on_entry") == SBX_SKIP) length = 0;
      buffer.resize(static_cast<size_t>(std::min<uint64_t>(kReadChunk, length)));
      // A failed read ends this entry with on_entry_error and reading goes on; a refusal by the sink
      // (check_sink throws) ends the whole call.
      bool whole = true;
      for (uint64_t sent = 0; sent < length;) {
        size_t n = 0;
        try {
          n = data.read_some(buffer.data(),
                             static_cast<size_t>(std::min<uint64_t>(buffer.size(), length - sent)));
          if (n == 0)
            throw Error(SBX_ERR_CORRUPT,
                        "template-dir: data of entry #" + std::to_string(index) + " ended early");
        } catch (const Error& e) {
          report(sink, i, e.status(), e.what());
          whole = false;
          break;
        }
        sbx::sdk::check_sink(sink.on_data(sink.ctx, sbx::sdk::make_bytes({buffer.data(), n})), "on_data");
        sent += n;
      }
      if (whole) sbx::sdk::check_sink(sink.on_entry_end(sink.ctx), "on_entry_end");
    }
  }

 private:
  // A locator is an index in decimal with no sign, no leading zeros and nothing else.
  bool parse_locator(std::string_view text, size_t* index) const {
    if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0')) return false;
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value >= entries_.size()) return false;
    *index = static_cast<size_t>(value);
    return true;
  }
  static void report(const sbx_entry_sink& sink, size_t i, sbx_status status, const std::string& message) {
    sbx::sdk::check_sink(sink.on_entry_error(sink.ctx, i, status, sbx::sdk::make_str(message)),
                         "on_entry_error");
  }

  std::string name_;
  fs::path dir_;
  std::vector<sbx::sdk::Entry> entries_;
};

class Device final : public sbx::sdk::StorageDevice {
 public:
  // A store is made only when the host asks for one (open_or_create); a plain open of a path without one
  // reports the device offline, so an unmounted drive is never taken for an empty store.
  Device(std::string_view config_json, sbx::sdk::StoreOpening how) {
    json config = json::parse(config_json, nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded() || !config.is_object())
      throw Error(SBX_ERR_INVALID_ARGUMENT,
                  "template-dir: config must be a JSON object like {\"path\": \"/srv/backup\"}");
    for (const auto& [key, value] : config.items())
      if (key != "path")
        throw Error(SBX_ERR_INVALID_ARGUMENT,
                    "template-dir: unknown config key \"" + key + "\" (known: path)");
    if (!config.contains("path") || !config["path"].is_string() ||
        config["path"].get<std::string>().empty() || config["path"].get<std::string>().front() != '/')
      throw Error(SBX_ERR_INVALID_ARGUMENT,
                  "template-dir: config needs \"path\": an absolute directory path");
    layout_.root = config["path"].get<std::string>();
    std::error_code ec;
    if (how == sbx::sdk::StoreOpening::existing && !fs::is_directory(layout_.sets(), ec))
      throw Error(SBX_ERR_OFFLINE,
                  "template-dir: " + layout_.root.string() + " holds no store (is its drive mounted?)");
    fs::create_directories(layout_.root, ec);
    if (ec)
      throw Error(status_for_errno(ec.value()),
                  "template-dir: cannot create " + layout_.root.string() + ": " + ec.message());
    make_dir(layout_.sets());
    make_dir(layout_.partial());
  }

  sbx_storage_info info() override {
    sbx_storage_info info{};
    info.struct_size = sizeof info;
    struct statvfs vfs;
    if (::statvfs(layout_.sets().c_str(), &vfs) != 0) return info;  // online stays 0: the medium is gone
    info.online = 1;
    info.total_bytes = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
    info.free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(layout_.sets(), ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file(ec)) info.used_bytes += it->file_size(ec);
    return info;
  }

  std::unique_ptr<sbx::sdk::StorageWriter> begin_set(std::string_view set_name) override {
    return std::make_unique<Writer>(layout_, checked_set_name(set_name));
  }

  std::unique_ptr<sbx::sdk::StorageReader> open_set(std::string_view set_name) override {
    return std::make_unique<Reader>(layout_, checked_set_name(set_name));
  }

  void delete_set(std::string_view set_name) override {
    std::string name = checked_set_name(set_name);
    fs::path committed = layout_.sets() / name;
    fs::path partial = layout_.partial() / name;
    bool found = false;
    if (path_exists(committed)) {
      // Removing the manifest first makes the set unreadable at once; a crash after that leaves a
      // manifest-less directory that list_sets still names, so the host can finish the delete.
      fs::path manifest = committed / "manifest.json";
      if (::unlink(manifest.c_str()) != 0 && errno != ENOENT) fail_errno("remove", manifest);
      sync_dir(committed);
      remove_tree(committed);
      found = true;
    }
    if (path_exists(partial)) {
      remove_tree(partial);
      found = true;
    }
    if (!found)
      throw Error(SBX_ERR_NOT_FOUND, "template-dir: no set '" + name + "' in " + layout_.root.string());
    sync_dir(layout_.sets());
    sync_dir(layout_.partial());
  }

  void list_sets(const std::function<void(std::string_view)>& fn) override {
    std::vector<std::string> names;
    for (const fs::path& dir : {layout_.sets(), layout_.partial()}) {
      std::error_code ec;
      for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
        if (it->is_directory(ec)) names.push_back(it->path().filename().string());
      if (ec)
        throw Error(status_for_errno(ec.value()),
                    "template-dir: cannot list " + dir.string() + ": " + ec.message());
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    for (const std::string& name : names) fn(name);
  }

 private:
  static void remove_tree(const fs::path& dir) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec)
      throw Error(status_for_errno(ec.value()),
                  "template-dir: cannot remove " + dir.string() + ": " + ec.message());
  }

  Layout layout_;
};

}  // namespace
}  // namespace template_dir

SBX_DEFINE_PLUGIN(SBX_KIND_STORAGE, "template-dir", "1.0.0",
                  "sample: one directory per set, one file per entry", SBX_CAP_RANDOM_ACCESS | SBX_CAP_DELETE,
                  sbx::sdk::storage_vtable<template_dir::Device>())
