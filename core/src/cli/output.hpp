// How the CLI talks to people and to scripts: text tables, --json lines, terminal progress.
#pragma once

#include <strongbox/service.hpp>

#include <cstdio>
#include <string>

namespace sbx::cli {

struct OutputOptions {
  bool json = false;
  bool quiet = false;
};

// One JSON object per line on stdout.
void print_json(const nlohmann::json& object);
std::string human_bytes(uint64_t bytes);
// A progress callback that redraws one line on stderr when it is a terminal; empty when it must stay silent.
service::ProgressFn terminal_progress(const OutputOptions& options);
// Clears the progress line before normal output follows.
void end_progress(const OutputOptions& options);

}  // namespace sbx::cli
