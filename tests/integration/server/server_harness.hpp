// Drives `strongbox server` as a process on a simulated clock: start, stop, kill -9, advance time, wait for
// the queue. Shared by the server's end-to-end tests.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "harness.hpp"

namespace sbx::test {

// The clock file the server reads through $STRONGBOX_CLOCK_FILE.
class SimulatedClock {
 public:
  explicit SimulatedClock(std::filesystem::path file) : file_(std::move(file)) {}
  void set(const std::string& utc_time);  // "2026-11-22T21:59:00Z"
  const std::filesystem::path& file() const { return file_; }
  std::string env() const { return "STRONGBOX_CLOCK_FILE=" + file_.string(); }

 private:
  std::filesystem::path file_;
};

class ServerProcess {
 public:
  ServerProcess(std::filesystem::path site, std::filesystem::path config, std::vector<std::string> env)
      : site_(std::move(site)), config_(std::move(config)), env_(std::move(env)) {}
  ~ServerProcess();
  void start();
  void stop();   // SIGTERM and wait
  void kill9();  // SIGKILL and wait
  bool running() const { return pid_ > 0; }
  // Waits for a job process of the server (`strongbox job run`, once exec-ed) and stops its process group
  // with SIGSTOP as soon as it appears, so a test can kill the server while a job runs whatever the
  // machine's speed. Returns the job process's pid, or -1 when none appeared within `timeout`.
  pid_t stop_job_process(std::chrono::seconds timeout = std::chrono::seconds(60));
  std::string log() const;  // what the server printed

 private:
  std::filesystem::path site_, config_;
  std::vector<std::string> env_;
  pid_t pid_ = -1;
  int starts_ = 0;
};

// Writes a server config for the site (UTC, fast ticks, no automatic retention unless asked) and returns its
// path.
std::filesystem::path write_server_config(const TempDir& dir, const std::filesystem::path& site,
                                          const nlohmann::json& extra = nlohmann::json::object());

// `strongbox apply` of a definitions document; fails the test on a non-zero exit.
void apply_document(const TempDir& dir, const std::filesystem::path& site, const nlohmann::json& document,
                    const std::vector<std::string>& env = {});

std::vector<nlohmann::json> list_jobs(const std::filesystem::path& site,
                                      const std::vector<std::string>& env = {});
std::vector<nlohmann::json> list_alerts(const std::filesystem::path& site);
// Polls until pred holds (true) or the timeout passes (false).
bool wait_until(const std::function<bool()>& pred, std::chrono::seconds timeout = std::chrono::seconds(60));
// No job queued or running.
bool queue_idle(const std::filesystem::path& site);
// A file of incompressible bytes (a job reading it takes a while on any machine).
void write_random_file(const std::filesystem::path& path, size_t bytes);
size_t count_state(const std::vector<nlohmann::json>& jobs, const std::string& state);

}  // namespace sbx::test
