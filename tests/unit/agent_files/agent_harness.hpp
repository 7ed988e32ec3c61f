// Test harness for the files agent: loads the built plugin with dlopen as the host does, drives its C
// vtable with a recording backup sink, feeds recorded entries back through the restore callbacks, and
// snapshots directory trees so that a round trip can be compared byte for byte.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "strongbox/sdk/entry.hpp"
#include "strongbox/sdk/plugin.hpp"
#include "strongbox/sdk/testkit/fake_host.hpp"
#include "strongbox/sdk/testkit/support.hpp"

namespace agent_test {

using sbx::sdk::Entry;
using sbx::testkit::printable;
using sbx::testkit::TempDir;

inline std::string plugin_path() {
  return std::string(SBX_BUILD_DIR) + "/lib/strongbox/plugins/sbx_agent_files.so";
}

// The plugin stays loaded for the whole test binary: agents made from it must not outlive it.
inline const sbx::testkit::LoadedPlugin& plugin() {
  static sbx::testkit::LoadedPlugin loaded = sbx::testkit::load_plugin_file(plugin_path());
  return loaded;
}
inline const sbx_agent_vtable& vt() {
  return *plugin().agent();
}

// An open agent instance.
class Agent {
 public:
  explicit Agent(std::string_view config = "{}") {
    sbx_status status = vt().open(sbx::sdk::make_str(config), &agent_);
    if (status != SBX_OK) throw std::runtime_error("open failed: " + sbx::testkit::FakeHost::last_error());
  }
  ~Agent() { vt().close(agent_); }
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;
  sbx_agent* get() const { return agent_; }

 private:
  sbx_agent* agent_ = nullptr;
};

struct Recorded {
  Entry entry;
  std::string data;
};

struct Warning {
  std::string path;
  std::string message;
};

// A backup sink that keeps everything it is given and checks the call protocol as it goes.
class RecordingSink {
 public:
  // Decides check()'s answer; default: send everything.
  std::function<sbx_status(const Entry&)> on_check;
  // Runs inside on_entry, after the entry was recorded (a test may change the file under the agent here).
  std::function<void(const Entry&)> after_entry;
  // Status on_data returns; lets a test make the host refuse.
  sbx_status data_status = SBX_OK;

  std::vector<Entry> checked;
  std::vector<Recorded> entries;
  std::vector<Warning> warnings;
  std::vector<std::string> protocol_errors;

  sbx_backup_sink c_sink() {
    sbx_backup_sink sink{};
    sink.struct_size = sizeof sink;
    sink.ctx = this;
    sink.check = [](void* ctx, const sbx_entry* e) { return self(ctx).do_check(*e); };
    sink.on_entry = [](void* ctx, const sbx_entry* e) { return self(ctx).do_entry(*e); };
    sink.on_data = [](void* ctx, sbx_bytes data) { return self(ctx).do_data(data); };
    sink.on_entry_end = [](void* ctx) { return self(ctx).do_end(); };
    sink.on_warning = [](void* ctx, sbx_bytes path, sbx_str message) {
      self(ctx).warnings.push_back({std::string(sbx::sdk::view(path)), std::string(sbx::sdk::view(message))});
    };
    return sink;
  }

  const Recorded* find(std::string_view path) const {
    for (const Recorded& r : entries)
      if (r.entry.path == path) return &r;
    return nullptr;
  }
  bool was_checked(std::string_view path) const {
    return std::any_of(checked.begin(), checked.end(), [&](const Entry& e) { return e.path == path; });
  }
  std::string warnings_text() const {
    std::string out;
    for (const Warning& w : warnings) out += printable(w.path) + ": " + w.message + "\n";
    return out;
  }

 private:
  static RecordingSink& self(void* ctx) { return *static_cast<RecordingSink*>(ctx); }

  sbx_status do_check(const sbx_entry& e) {
    if (open_) protocol_errors.push_back("check while an entry is open");
    checked.push_back(Entry::from(e));
    return on_check ? on_check(checked.back()) : SBX_OK;
  }
  sbx_status do_entry(const sbx_entry& e) {
    if (open_) protocol_errors.push_back("on_entry while an entry is open");
    Entry entry = Entry::from(e);
    if (checked.empty() || checked.back().path != entry.path)
      protocol_errors.push_back("on_entry for '" + printable(entry.path) + "' without a check just before");
    open_ = true;
    entries.push_back({std::move(entry), {}});
    if (after_entry) after_entry(entries.back().entry);
    return SBX_OK;
  }
  sbx_status do_data(sbx_bytes data) {
    if (!open_) protocol_errors.push_back("on_data outside an entry");
    if (data.len == 0) protocol_errors.push_back("empty on_data block");
    if (data.len > (size_t{4} << 20)) protocol_errors.push_back("on_data block over 4 MiB");
    if (!entries.empty()) entries.back().data.append(sbx::sdk::view(data));
    return data_status;
  }
  sbx_status do_end() {
    if (!open_) protocol_errors.push_back("on_entry_end outside an entry");
    open_ = false;
    if (!entries.empty()) {
      const Recorded& r = entries.back();
      if (r.data.size() != r.entry.data_length())
        protocol_errors.push_back("'" + printable(r.entry.path) + "' announced " +
                                  std::to_string(r.entry.data_length()) + " bytes of data, sent " +
                                  std::to_string(r.data.size()));
    }
    return SBX_OK;
  }
  bool open_ = false;
};

struct BackupResult {
  sbx_status status;
  std::string error;  // the plugin's set_error message, if any
};

inline BackupResult backup(const Agent& agent, const nlohmann::json& job, RecordingSink& sink) {
  sbx::testkit::FakeHost::clear_error();
  std::string text = job.dump();
  sbx_backup_sink c_sink = sink.c_sink();
  sbx_status status = vt().backup(agent.get(), sbx::sdk::make_str(text), &c_sink);
  return {status, sbx::testkit::FakeHost::last_error()};
}

inline nlohmann::json job_for(const std::vector<std::string>& sources,
                              const std::vector<std::string>& excludes = {}) {
  return {{"sources", sources}, {"excludes", excludes}, {"level", "full"}, {"one_file_system", false}};
}

// One restore session driven through the C vtable.
class Restore {
 public:
  Restore(const Agent& agent, const std::string& target) {
    nlohmann::json options = {{"target", target}};
    std::string text = options.dump();
    sbx::testkit::FakeHost::clear_error();
    status_ = vt().begin_restore(agent.get(), sbx::sdk::make_str(text), &restore_);
  }
  ~Restore() {
    if (restore_) vt().abort_restore(restore_);
  }
  Restore(const Restore&) = delete;
  Restore& operator=(const Restore&) = delete;

  sbx_status begin_status() const { return status_; }

  // Sends entry, data in `chunk`-byte pieces and the end; returns the first failing status (or SBX_OK)
  // and keeps the plugin's message in last_error.
  sbx_status put(const Entry& entry, std::string_view data, size_t chunk = 64 * 1024) {
    last_error.clear();
    sbx::testkit::FakeHost::clear_error();
    sbx_status status = vt().restore_entry(restore_, &entry.as_c());
    if (status != SBX_OK) return fail(status);
    for (size_t at = 0; at < data.size(); at += chunk) {
      std::string_view piece = data.substr(at, chunk);
      status = vt().restore_data(restore_, sbx::sdk::make_bytes(piece));
      if (status != SBX_OK) return fail(status);
    }
    status = vt().restore_entry_end(restore_);
    if (status != SBX_OK) return fail(status);
    return SBX_OK;
  }
  sbx_status put(const Recorded& r, size_t chunk = 64 * 1024) { return put(r.entry, r.data, chunk); }

  sbx_status finish() {
    sbx::testkit::FakeHost::clear_error();
    sbx_status status = vt().finish_restore(restore_);
    restore_ = nullptr;
    if (status != SBX_OK) last_error = sbx::testkit::FakeHost::last_error();
    return status;
  }

  sbx_agent_restore* get() const { return restore_; }
  std::string last_error;

 private:
  sbx_status fail(sbx_status status) {
    last_error = sbx::testkit::FakeHost::last_error();
    return status;
  }
  sbx_agent_restore* restore_ = nullptr;
  sbx_status status_ = SBX_OK;
};

// Restores everything recorded into target, expecting every call to succeed.
inline void restore_all(const Agent& agent, const std::vector<Recorded>& entries, const std::string& target) {
  Restore restore(agent, target);
  ASSERT_EQ(restore.begin_status(), SBX_OK) << sbx::testkit::FakeHost::last_error();
  for (const Recorded& r : entries)
    ASSERT_EQ(restore.put(r), SBX_OK) << printable(r.entry.path) << ": " << restore.last_error;
  ASSERT_EQ(restore.finish(), SBX_OK) << restore.last_error;
}

// A plain regular file entry of `size` bytes (mode 0644, one link, mtime 2020-09-13), for restores fed by
// hand.
inline Entry regular_file_entry(const std::string& path, uint64_t size) {
  Entry e;
  e.type = SBX_ENTRY_FILE;
  e.path = path;
  e.size = size;
  e.mode = 0644;
  e.nlink = 1;
  e.mtime_ns = 1600000000LL * 1000000000;
  return e;
}

// Entry path of an absolute path: without the leading '/'.
inline std::string entry_path(const std::filesystem::path& p) {
  return p.string().substr(1);
}

// --------------------------------------------------------------------------------------------- files
inline void write_file(const std::filesystem::path& p, std::string_view content, mode_t mode = 0644) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + p.string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) throw std::runtime_error("cannot write " + p.string());
    done += static_cast<size_t>(n);
  }
  ::fchmod(fd, mode);
  ::close(fd);
}

inline std::string read_file(const std::filesystem::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + p.string() + ": " + std::strerror(errno));
  std::string out;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) throw std::runtime_error("cannot read " + p.string());
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

inline void set_mtime(const std::filesystem::path& p, int64_t sec, long nsec) {
  struct timespec times[2] = {{sec, nsec}, {sec, nsec}};
  if (::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
    throw std::runtime_error("utimensat " + p.string() + ": " + std::strerror(errno));
}

// Puts a symlink to `target` where `path` was in one step (RENAME_EXCHANGE), then moves what was there to
// `moved_to`. Two steps (rename, then symlink) would let a walk running in other threads find the name
// missing in between, which is a different race from the one a test means to stage.
inline void swap_for_symlink(const std::filesystem::path& path, const std::filesystem::path& target,
                             const std::filesystem::path& moved_to) {
  const std::filesystem::path staged = path.string() + ".swap-link";
  std::filesystem::create_directory_symlink(target, staged);
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) != 0)
    throw std::runtime_error("cannot swap " + path.string() + " for a symlink: " + std::strerror(errno));
  std::filesystem::rename(staged, moved_to);
}

inline bool user_xattrs_supported(const std::filesystem::path& dir) {
  std::filesystem::path probe = dir / ".xattr-probe";
  write_file(probe, "x");
  bool ok = ::setxattr(probe.c_str(), "user.sbx_probe", "1", 1, 0) == 0;
  std::filesystem::remove(probe);
  return ok;
}

// --------------------------------------------------------------------------------------------- trees
struct Node {
  mode_t mode = 0;  // type and permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t blocks = 0;
  std::string content_digest;  // files: data regions (offset + bytes), so holes and data both count
  std::string link_target;
  std::map<std::string, std::string> xattrs;
  std::vector<std::string> same_inode;  // other paths of the tree sharing this file's inode, sorted
};

inline std::string digest_file(const std::filesystem::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + p.string());
  struct stat st;
  ::fstat(fd, &st);
  // FNV-1a over each data region and its offset: cheap, and reads no holes (a 9 GiB sparse file is fast).
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void* data, size_t len) {
    auto* b = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < len; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  std::vector<char> buffer(1 << 20);
  off_t pos = 0;
  while (pos < st.st_size) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) break;
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    mix(&data, sizeof data);
    for (off_t at = data; at < hole;) {
      ssize_t n = ::pread(fd, buffer.data(), std::min<off_t>(hole - at, buffer.size()), at);
      if (n <= 0) break;
      mix(buffer.data(), static_cast<size_t>(n));
      at += n;
    }
    pos = hole;
  }
  ::close(fd);
  return std::to_string(h);
}

inline std::map<std::string, std::string> xattrs_of(const std::filesystem::path& p) {
  std::map<std::string, std::string> out;
  ssize_t n = ::llistxattr(p.c_str(), nullptr, 0);
  if (n <= 0) return out;
  std::string names(static_cast<size_t>(n), '\0');
  n = ::llistxattr(p.c_str(), names.data(), names.size());
  for (size_t start = 0; start < static_cast<size_t>(std::max<ssize_t>(n, 0));) {
    std::string name(names.c_str() + start);
    start += name.size() + 1;
    ssize_t v = ::lgetxattr(p.c_str(), name.c_str(), nullptr, 0);
    std::string value(static_cast<size_t>(std::max<ssize_t>(v, 0)), '\0');
    if (v > 0) ::lgetxattr(p.c_str(), name.c_str(), value.data(), value.size());
    out[name] = value;
  }
  return out;
}

// Every entry below root (root itself as ""), keyed by relative path.
inline std::map<std::string, Node> snapshot(const std::filesystem::path& root) {
  std::map<std::string, Node> tree;
  std::map<std::pair<dev_t, ino_t>, std::vector<std::string>> inodes;
  std::function<void(const std::filesystem::path&, const std::string&)> visit =
      [&](const std::filesystem::path& p, const std::string& rel) {
        struct stat st;
        if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("lstat " + p.string());
        Node node;
        node.mode = st.st_mode;
        node.uid = st.st_uid;
        node.gid = st.st_gid;
        node.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
        node.xattrs = xattrs_of(p);
        if (S_ISREG(st.st_mode)) {
          node.size = static_cast<uint64_t>(st.st_size);
          node.blocks = static_cast<uint64_t>(st.st_blocks);
          node.content_digest = digest_file(p);
          if (st.st_nlink > 1) inodes[{st.st_dev, st.st_ino}].push_back(rel);
        } else if (S_ISLNK(st.st_mode)) {
          std::string target(4096, '\0');
          ssize_t n = ::readlink(p.c_str(), target.data(), target.size());
          target.resize(static_cast<size_t>(std::max<ssize_t>(n, 0)));
          node.link_target = target;
        }
        tree[rel] = node;
        if (S_ISDIR(st.st_mode)) {
          for (const auto& child : std::filesystem::directory_iterator(p)) {
            std::string name = child.path().filename().string();
            visit(child.path(), rel.empty() ? name : rel + "/" + name);
          }
        }
      };
  visit(root, "");
  for (auto& [inode, paths] : inodes) {
    std::sort(paths.begin(), paths.end());
    for (const std::string& path : paths) tree[path].same_inode = paths;
  }
  return tree;
}

struct CompareOptions {
  bool owners = true;
  bool blocks = false;  // compare st_blocks of regular files (holes preserved)
};

// Differences between two snapshots, one line each; empty when the trees match.
inline std::vector<std::string> differences(const std::map<std::string, Node>& want,
                                            const std::map<std::string, Node>& got,
                                            CompareOptions options = {}) {
  std::vector<std::string> out;
  for (const auto& [path, a] : want) {
    auto it = got.find(path);
    std::string where = "'" + printable(path) + "': ";
    if (it == got.end()) {
      out.push_back(where + "missing");
      continue;
    }
    const Node& b = it->second;
    char buf[64];
    auto octal = [&](mode_t m) {
      std::snprintf(buf, sizeof buf, "0%o", static_cast<unsigned>(m));
      return std::string(buf);
    };
    if (a.mode != b.mode) out.push_back(where + "mode " + octal(a.mode) + " became " + octal(b.mode));
    if (options.owners && (a.uid != b.uid || a.gid != b.gid))
      out.push_back(where + "owner " + std::to_string(a.uid) + ":" + std::to_string(a.gid) + " became " +
                    std::to_string(b.uid) + ":" + std::to_string(b.gid));
    if (a.mtime_ns != b.mtime_ns)
      out.push_back(where + "mtime " + std::to_string(a.mtime_ns) + " became " + std::to_string(b.mtime_ns));
    if (a.size != b.size)
      out.push_back(where + "size " + std::to_string(a.size) + " became " + std::to_string(b.size));
    if (a.content_digest != b.content_digest) out.push_back(where + "content differs");
    if (a.link_target != b.link_target)
      out.push_back(where + "symlink target '" + printable(a.link_target) + "' became '" +
                    printable(b.link_target) + "'");
    if (a.xattrs != b.xattrs) out.push_back(where + "extended attributes differ");
    if (a.same_inode != b.same_inode) out.push_back(where + "hard-link group differs");
    if (options.blocks && S_ISREG(a.mode) && a.blocks != b.blocks)
      out.push_back(where + "st_blocks " + std::to_string(a.blocks) + " became " + std::to_string(b.blocks));
  }
  for (const auto& [path, b] : got)
    if (!want.count(path)) out.push_back("'" + printable(path) + "': unexpected");
  return out;
}

inline std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

}  // namespace agent_test

// ------------------------------------------------------------------------------------ unprivileged runs
namespace agent_test {

struct ChildBackup {
  sbx_status status = SBX_ERR_INTERNAL;
  std::string error;
  std::vector<std::string> sent;     // paths given to on_entry
  std::vector<std::string> checked;  // paths given to check
  std::vector<Warning> warnings;
  uint64_t data_bytes = 0;
  std::vector<std::string> protocol_errors;
};

inline constexpr uid_t kNobody = 65534;

// Runs a backup as an unprivileged user, so that permissions bite even when the tests run as root: as root
// the backup runs in a forked child that drops to uid/gid 65534 and reports back through a pipe; as any
// other user it runs in-process. skip_all makes check() answer SBX_SKIP for everything.
inline ChildBackup backup_unprivileged(const nlohmann::json& job, bool skip_all) {
  auto run = [&] {
    Agent agent;
    RecordingSink sink;
    if (skip_all) sink.on_check = [](const Entry&) { return SBX_SKIP; };
    BackupResult result = backup(agent, job, sink);
    ChildBackup out;
    out.status = result.status;
    out.error = result.error;
    for (const Recorded& r : sink.entries) {
      out.sent.push_back(r.entry.path);
      out.data_bytes += r.data.size();
    }
    for (const Entry& e : sink.checked) out.checked.push_back(e.path);
    out.warnings = sink.warnings;
    out.protocol_errors = sink.protocol_errors;
    return out;
  };
  if (::geteuid() != 0) return run();

  plugin();  // load before fork so that the child only runs plugin code
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    int code = 0;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
        ::setresuid(kNobody, kNobody, kNobody) != 0) {
      code = 2;
    } else {
      ChildBackup r = run();
      nlohmann::json out = {
          {"status", r.status},   {"error", r.error},           {"sent", r.sent},
          {"checked", r.checked}, {"data_bytes", r.data_bytes}, {"protocol_errors", r.protocol_errors}};
      out["warnings"] = nlohmann::json::array();
      for (const Warning& w : r.warnings) out["warnings"].push_back({w.path, w.message});
      std::string text = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      for (size_t done = 0; done < text.size();) {
        ssize_t n = ::write(fds[1], text.data() + done, text.size() - done);
        if (n <= 0) {
          code = 3;
          break;
        }
        done += static_cast<size_t>(n);
      }
    }
    ::close(fds[1]);
    ::_exit(code);
  }
  ::close(fds[1]);
  std::string text;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
    throw std::runtime_error("unprivileged child failed with wait status " + std::to_string(wstatus));
  nlohmann::json in = nlohmann::json::parse(text);
  ChildBackup out;
  out.status = in["status"].get<sbx_status>();
  out.error = in["error"].get<std::string>();
  out.sent = in["sent"].get<std::vector<std::string>>();
  out.checked = in["checked"].get<std::vector<std::string>>();
  out.data_bytes = in["data_bytes"].get<uint64_t>();
  out.protocol_errors = in["protocol_errors"].get<std::vector<std::string>>();
  for (const auto& w : in["warnings"])
    out.warnings.push_back({w[0].get<std::string>(), w[1].get<std::string>()});
  return out;
}

// A temp dir the unprivileged user can walk into (mkdtemp makes 0700 directories).
inline void open_up_for_nobody(const TempDir& tmp) {
  ::chmod(tmp.path().c_str(), 0755);
}

}  // namespace agent_test
