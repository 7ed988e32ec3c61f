#include "server_harness.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;
namespace fs = std::filesystem;
using nlohmann::json;

namespace sbx::test {

void SimulatedClock::set(const std::string& utc_time) {
  fs::path tmp = file_;
  tmp += ".tmp";
  { std::ofstream(tmp) << utc_time << "\n"; }
  fs::rename(tmp, file_);
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) kill9();
}

void ServerProcess::start() {
  ASSERT_LE(pid_, 0) << "server already running";
  std::vector<std::string> args = {
      strongbox_binary().string(), "--site", site_.string(), "server", "--config", config_.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) env_s.push_back(*e);
  for (const auto& e : env_) env_s.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string out = (site_.parent_path() / "server.out").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ASSERT_EQ(rc, 0) << "cannot start the server";
  ++starts_;
  // Started means: it holds server.lock and recorded its pid there.
  bool up = wait_until(
      [&] {
        std::ifstream in(site_ / "server.lock");
        std::string pid;
        std::getline(in, pid);
        return pid == std::to_string(pid_);
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(up) << "server did not start:\n" << log();
}

void ServerProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "server exit status " << status << "\n"
                                                             << log();
}

pid_t ServerProcess::stop_job_process(std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
    for (const auto& entry : fs::directory_iterator("/proc")) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after its last ')'.
      std::string stat = read_file(entry.path() / "stat");
      auto close = stat.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(stat.substr(close + 1));
      std::string state;
      pid_t ppid = 0;
      rest >> state >> ppid;
      if (ppid != pid_) continue;
      // Only after its exec: by then it leads its own process group and dies with the server.
      const std::string cmdline = read_file(entry.path() / "cmdline");
      if (cmdline.find(std::string("\0job\0run\0", 9)) == std::string::npos) continue;
      const pid_t child = std::stoi(name);
      ::kill(-child, SIGSTOP);
      return child;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

void ServerProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string ServerProcess::log() const {
  return read_file(site_.parent_path() / "server.out");
}

fs::path write_server_config(const TempDir& dir, const fs::path& site, const json& extra) {
  json config = {{"site", site.string()}, {"time_zone", "UTC"},      {"tick", "1s"},
                 {"late_grace", "2m"},    {"expire_every", "never"}, {"device_check", "1m"}};
  for (const auto& [k, v] : extra.items()) config[k] = v;
  fs::path file = dir / "server.json";
  write_file(file, config.dump(2));
  return file;
}

void apply_document(const TempDir& dir, const fs::path& site, const json& document,
                    const std::vector<std::string>& env) {
  fs::path file = dir / "definitions.json";
  write_file(file, document.dump(2));
  auto r = run_strongbox({"--site", site.string(), "apply", file.string()}, env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
}

std::vector<json> list_jobs(const fs::path& site, const std::vector<std::string>& env) {
  auto r = run_strongbox({"--site", site.string(), "--json", "jobs", "list", "--limit", "0"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto jobs = r.json_lines();
  std::reverse(jobs.begin(), jobs.end());  // oldest first reads better in tests
  return jobs;
}

std::vector<json> list_alerts(const fs::path& site) {
  auto r = run_strongbox({"--site", site.string(), "--json", "alerts", "list", "--all"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.json_lines();
}

bool wait_until(const std::function<bool()>& pred, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

bool queue_idle(const fs::path& site) {
  for (const auto& j : list_jobs(site))
    if (j["state"] == "queued" && !j["paused"].get<bool>())
      return false;
    else if (j["state"] == "running")
      return false;
  return true;
}

void write_random_file(const fs::path& path, size_t bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  std::vector<uint64_t> block(1 << 17);
  uint64_t state = 0x9e3779b97f4a7c15ull;
  for (size_t written = 0; written < bytes; written += block.size() * 8) {
    for (auto& word : block) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      word = state;
    }
    out.write(reinterpret_cast<const char*>(block.data()),
              std::streamsize(std::min(bytes - written, block.size() * 8)));
  }
}

size_t count_state(const std::vector<json>& jobs, const std::string& state) {
  size_t n = 0;
  for (const auto& j : jobs) n += j["state"] == state ? 1 : 0;
  return n;
}

}  // namespace sbx::test
