// Runs cmake (and other tools) as child processes and installs the SDK from this build tree.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

namespace sdk_install_test {

namespace fs = std::filesystem;

struct RunResult {
  int exit_code = -1;  // -1 when the program could not be started or died of a signal
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv[0] (looked up in PATH) with argv, collecting its output. No shell: paths need no quoting.
inline RunResult run(const std::vector<std::string>& argv) {
  RunResult result;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int spawn_error = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (spawn_error != 0) {
    ::close(pipe_fds[0]);
    result.output = "cannot start " + argv[0] + ": " + std::strerror(spawn_error);
    return result;
  }
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

inline std::string describe(const std::vector<std::string>& argv, const RunResult& r) {
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  return "`" + cmd + "` exited with " + std::to_string(r.exit_code) + ":\n" + r.output;
}

// Runs argv and fails the test (fatally) unless it exits 0.
inline RunResult run_ok(const std::vector<std::string>& argv) {
  RunResult r = run(argv);
  EXPECT_EQ(r.exit_code, 0) << describe(argv, r);
  return r;
}

// `cmake --install <this build tree> --prefix <prefix> --component sdk`.
inline void install_sdk(const fs::path& prefix) {
  std::vector<std::string> argv{SBX_CMAKE_COMMAND, "--install",   SBX_BUILD_DIR, "--prefix",
                                prefix.string(),   "--component", "sdk"};
  RunResult r = run(argv);
  ASSERT_EQ(r.exit_code, 0) << describe(argv, r);
}

inline fs::path package_dir(const fs::path& prefix) {
  return prefix / SBX_INSTALL_LIBDIR / "cmake" / "strongbox-sdk";
}

// Configure arguments for a consumer project that must find the SDK in `prefix` and nowhere else.
inline std::vector<std::string> configure_args(const fs::path& source, const fs::path& build,
                                               const fs::path& prefix) {
  return {SBX_CMAKE_COMMAND,
          "-S",
          source.string(),
          "-B",
          build.string(),
          "-G",
          SBX_CMAKE_GENERATOR,
          "-DCMAKE_MAKE_PROGRAM=" SBX_CMAKE_MAKE_PROGRAM,
          "-DCMAKE_CXX_COMPILER=" SBX_CXX_COMPILER,
          "-DCMAKE_BUILD_TYPE=Debug",
          "-DCMAKE_PREFIX_PATH=" + prefix.string(),
          "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF",
          "-DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF"};
}

}  // namespace sdk_install_test
