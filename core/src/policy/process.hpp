// Running a helper program (git) without a shell.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sbx::policy::detail {

struct ProcessOutput {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;     // standard output; standard error is discarded
};

// Runs argv[0] (looked up in PATH) with stdin from /dev/null and an environment without GIT_* variables, so a
// caller running inside a git hook cannot redirect git to another repository. Kills the child after
// `timeout`. nullopt when the program cannot be started or timed out.
std::optional<ProcessOutput> run_process(const std::vector<std::string>& argv,
                                         std::chrono::milliseconds timeout);

}  // namespace sbx::policy::detail
