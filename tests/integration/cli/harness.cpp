#include "harness.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

extern char** environ;
namespace fs = std::filesystem;

namespace sbx::test {

std::vector<nlohmann::json> RunResult::json_lines() const {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

fs::path strongbox_binary() { return fs::path(SBX_BUILD_DIR) / "bin" / "strongbox"; }

RunResult run_strongbox(const std::vector<std::string>& args, const std::vector<std::string>& env,
                        const std::string& run_as_uid) {
  TempDir io;
  fs::path out = io / "out", err = io / "err";
  std::vector<std::string> argv_s;
  if (!run_as_uid.empty()) {
    // setpriv (util-linux) drops to another uid so permission checks bite even when tests run as root.
    argv_s = {"/usr/bin/setpriv", "--reuid=" + run_as_uid, "--regid=" + run_as_uid, "--clear-groups", "--"};
  }
  argv_s.push_back(strongbox_binary().string());
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    std::string v = *e;
    if (v.rfind("STRONGBOX_", 0) == 0) continue;  // tests say explicitly what they want
    env_s.push_back(v);
  }
  env_s.insert(env_s.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  RunResult r;
  if (rc != 0) {
    r.err = "posix_spawn failed";
    return r;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "sbx-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  // Tests make unreadable folders on purpose; open them up so removal works.
  for (auto it = fs::recursive_directory_iterator(path_, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) chmod(it->path().c_str(), 0755);
  }
  fs::remove_all(path_, ec);
}

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream o(p, std::ios::binary | std::ios::trunc);
  o << content;
}

std::string read_file(const fs::path& p) {
  std::ifstream i(p, std::ios::binary);
  std::ostringstream s;
  s << i.rdbuf();
  return s.str();
}

TreeState snapshot(const fs::path& root) {
  TreeState state;
  std::map<std::pair<dev_t, ino_t>, unsigned long long> groups;
  std::map<std::pair<dev_t, ino_t>, int> counts;
  std::vector<fs::path> paths{root};
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    paths.push_back(it->path());
  for (const auto& p : paths) {
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) continue;
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) counts[{st.st_dev, st.st_ino}]++;
  }
  for (const auto& p : paths) {
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) continue;
    NodeState n;
    n.mode = st.st_mode & 07777;
    n.uid = st.st_uid;
    n.gid = st.st_gid;
    if (S_ISREG(st.st_mode)) {
      n.type = "file";
      n.content = read_file(p);
      n.mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
      auto key = std::make_pair(st.st_dev, st.st_ino);
      if (counts[key] > 1) {
        if (!groups.count(key)) groups[key] = groups.size() + 1;
        n.link_group = groups[key];
      }
    } else if (S_ISDIR(st.st_mode)) {
      n.type = "dir";
      n.mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    } else if (S_ISLNK(st.st_mode)) {
      n.type = "symlink";
      n.content = fs::read_symlink(p).string();
      n.mode = 0;  // symlink modes are not meaningful on Linux
    } else {
      n.type = "other";
      n.mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    }
    char names[65536];
    ssize_t len = llistxattr(p.c_str(), names, sizeof names);
    for (ssize_t off = 0; len > 0 && off < len; off += ssize_t(strlen(names + off)) + 1) {
      std::string name = names + off;
      if (name.rfind("security.", 0) == 0) continue;
      char value[65536];
      ssize_t vlen = lgetxattr(p.c_str(), name.c_str(), value, sizeof value);
      if (vlen >= 0) n.xattrs[name] = std::string(value, size_t(vlen));
    }
    std::string rel = p == root ? "." : fs::relative(p, root).string();
    state[rel] = n;
  }
  return state;
}

std::string diff_trees(const TreeState& expected, const TreeState& actual) {
  std::ostringstream d;
  int shown = 0;
  for (const auto& [path, e] : expected) {
    if (shown > 10) break;
    auto it = actual.find(path);
    if (it == actual.end()) {
      d << "missing: " << path << "\n";
      ++shown;
      continue;
    }
    const auto& a = it->second;
    if (e.type != a.type) d << path << ": type " << e.type << " vs " << a.type << "\n", ++shown;
    else if (e.content != a.content) d << path << ": content differs\n", ++shown;
    else if (e.mode != a.mode) d << path << ": mode " << std::oct << e.mode << " vs " << a.mode << std::dec << "\n", ++shown;
    else if (e.mtime_ns != a.mtime_ns) d << path << ": mtime " << e.mtime_ns << " vs " << a.mtime_ns << "\n", ++shown;
    else if (e.uid != a.uid || e.gid != a.gid) d << path << ": owner differs\n", ++shown;
    else if (e.xattrs != a.xattrs) d << path << ": xattrs differ\n", ++shown;
    else if (e.link_group != a.link_group) d << path << ": hard link grouping differs\n", ++shown;
  }
  for (const auto& [path, a] : actual)
    if (!expected.count(path) && shown++ <= 10) d << "unexpected: " << path << "\n";
  return d.str();
}

fs::path init_site(const TempDir& dir) {
  fs::path site = dir / "site";
  auto r = run_strongbox({"init", site.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return site;
}

}  // namespace sbx::test
