// The command channel: the configured program runs without a shell, with the alert on stdin and in its
// environment, and is killed when it outlives the timeout.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "internal.hpp"

extern char** environ;

namespace sbx::alerts::detail {
namespace {

constexpr size_t kKeptOutput = 4096;
constexpr const char* kEnvPrefix = "STRONGBOX_ALERT_";

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string errno_text(int error) {
  return std::strerror(error);
}

// The server's environment without alert variables a parent may have left, then this alert's.
std::vector<std::string> child_environment(const std::vector<std::string>& extra_env) {
  std::vector<std::string> env;
  for (char** entry = environ; entry && *entry; ++entry) {
    if (std::strncmp(*entry, kEnvPrefix, std::strlen(kEnvPrefix)) != 0) env.emplace_back(*entry);
  }
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

std::string last_line(const std::string& output) {
  std::string trimmed = output;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r' || trimmed.back() == ' '))
    trimmed.pop_back();
  auto newline = trimmed.find_last_of('\n');
  return one_line(newline == std::string::npos ? trimmed : trimmed.substr(newline + 1), 200);
}

void keep_tail(std::string& kept, const char* data, size_t size) {
  kept.append(data, size);
  if (kept.size() > kKeptOutput) kept.erase(0, kept.size() - kKeptOutput);
}

// Spawns the command in a process group of its own, so a timeout kills whatever it started too.
struct Spawned {
  pid_t pid = -1;
  std::string error;
};

Spawned spawn(std::vector<std::string> argv, std::vector<std::string> env, int stdin_fd, int output_fd) {
  Spawned result;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, output_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, output_fd, STDERR_FILENO);
  // The server may ignore or block signals (SIGPIPE, SIGCHLD...); the command gets the ordinary defaults.
  sigset_t defaults, empty;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int signal_number : {SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT})
    sigaddset(&defaults, signal_number);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setsigmask(&attributes, &empty);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  auto argv_pointers = pointers(argv);
  auto env_pointers = pointers(env);
  int rc = posix_spawnp(&result.pid, argv[0].c_str(), &actions, &attributes, argv_pointers.data(),
                        env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    result.pid = -1;
    result.error = "cannot start alert command " + argv[0] + ": " + errno_text(rc);
  }
  return result;
}

std::string describe_status(const std::string& program, int status, const std::string& output) {
  std::string detail = last_line(output);
  std::string suffix = detail.empty() ? "" : ": " + detail;
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) == 0) return "";
    return "alert command " + program + " exited with status " + std::to_string(WEXITSTATUS(status)) + suffix;
  }
  if (WIFSIGNALED(status))
    return "alert command " + program + " was killed by signal " + std::to_string(WTERMSIG(status)) + suffix;
  return "alert command " + program + " ended with wait status " + std::to_string(status) + suffix;
}

}  // namespace

std::string run_command(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                        const std::string& input, int timeout_ms) {
  if (argv.empty() || argv[0].empty()) return "the alert command is empty";
  const std::string& program = argv[0];
  // stdin is a socket rather than a pipe: send(MSG_NOSIGNAL) to a command that exits without reading its
  // input returns EPIPE instead of raising SIGPIPE in the server.
  int stdin_pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stdin_pair) != 0)
    return "cannot make the stdin of alert command " + program + ": " + errno_text(errno);
  Fd to_child(stdin_pair[0]), child_stdin(stdin_pair[1]);
  int output_pipe[2];
  if (::pipe2(output_pipe, O_CLOEXEC) != 0)
    return "cannot make the output pipe of alert command " + program + ": " + errno_text(errno);
  Fd from_child(output_pipe[0]), child_output(output_pipe[1]);

  Spawned child = spawn(argv, child_environment(extra_env), child_stdin.get(), child_output.get());
  child_stdin.reset();
  child_output.reset();
  if (child.pid < 0) return child.error;

  ::fcntl(to_child.get(), F_SETFL, ::fcntl(to_child.get(), F_GETFL) | O_NONBLOCK);
  ::fcntl(from_child.get(), F_SETFL, ::fcntl(from_child.get(), F_GETFL) | O_NONBLOCK);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t written = 0;
  bool output_open = true;
  std::string output;
  char buffer[4096];
  auto drain_output = [&] {
    while (output_open) {
      ssize_t n = ::read(from_child.get(), buffer, sizeof buffer);
      if (n > 0) {
        keep_tail(output, buffer, size_t(n));
      } else if (n == 0) {
        output_open = false;
      } else if (errno != EINTR) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) output_open = false;
        break;
      }
    }
  };
  if (input.empty()) to_child.reset();

  for (;;) {
    int status = 0;
    pid_t waited = ::waitpid(child.pid, &status, WNOHANG);
    if (waited == child.pid) {
      // Whatever a background process of the command still writes is not waited for.
      drain_output();
      return describe_status(program, status, output);
    }
    if (waited < 0 && errno != EINTR) {
      // Someone else reaped it (a SIGCHLD handler of the host process): the outcome is unknown.
      return "the exit status of alert command " + program + " was lost: " + errno_text(errno);
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      ::kill(-child.pid, SIGKILL);
      ::kill(child.pid, SIGKILL);
      while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
      }
      return "alert command " + program + " did not finish within " + std::to_string(timeout_ms) +
             " ms and was killed";
    }
    pollfd fds[2];
    nfds_t count = 0;
    if (to_child.get() >= 0) fds[count++] = pollfd{to_child.get(), POLLOUT, 0};
    if (output_open) fds[count++] = pollfd{from_child.get(), POLLIN, 0};
    // A short poll, since the child's exit is noticed by waitpid rather than by an fd.
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    int wait_ms = int(std::min<int64_t>(remaining + 1, 10));
    int ready = count ? ::poll(fds, count, wait_ms) : ::poll(nullptr, 0, wait_ms);
    if (ready < 0 && errno != EINTR) {
      ::kill(-child.pid, SIGKILL);
      while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
      }
      return "waiting for alert command " + program + " failed: " + errno_text(errno);
    }
    if (to_child.get() >= 0) {
      ssize_t n = ::send(to_child.get(), input.data() + written, input.size() - written, MSG_NOSIGNAL);
      if (n > 0) written += size_t(n);
      // EPIPE/ECONNRESET: the command closed its stdin without reading it all, which is its business.
      if ((n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) || written == input.size())
        to_child.reset();
    }
    drain_output();
  }
}

}  // namespace sbx::alerts::detail
