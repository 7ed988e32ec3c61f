// Reading and validating policy folders; shared by PolicyRepo, `policy check` and `policy test`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "sandbox.hpp"
#include "strongbox/policy.hpp"

namespace sbx::policy::detail {

inline constexpr std::size_t kMaxPolicyFileBytes = std::size_t{16} << 20;

// A problem found in a folder, reported as "file:line: message" (or "file: message").
struct FolderProblem {
  std::string file;
  std::string text;
};

// Every *.lua file under dir (recursively, hidden entries skipped), sorted by relative path. Unreadable or
// oversized files are reported in problems and left out.
std::vector<PolicyFile> scan_lua_files(const std::filesystem::path& dir,
                                       std::vector<FolderProblem>& problems);

bool is_test_file(std::string_view relative_path);

// The files of a folder that make up its policy.
struct Layout {
  ModuleMap defaults;                                     // by file name
  std::map<std::string, ModuleMap, std::less<>> tenants;  // tenant -> file name -> file
  ModuleMap modules;                                      // lib modules by name
  std::vector<const PolicyFile*> members;                 // every file above
};

// Sorts files into the layout; misnamed lib modules and tenant folders are reported.
Layout make_layout(const std::vector<PolicyFile>& files, std::vector<FolderProblem>& problems);

// Compiles every member, runs each module and each hook file's top level once, checks required hooks.
void validate_layout(const Layout& layout, const SandboxLimits& limits, std::vector<FolderProblem>& problems);

// "file:line: message" for a Lua failure inside file.
std::string failure_line(const LuaFailure& failure, const std::string& file);

// Revision from the folder's git state, else from the content of files.
std::string compute_revision(const std::filesystem::path& dir, const std::vector<PolicyFile>& files);

std::vector<std::string> sorted_texts(std::vector<FolderProblem> problems);

}  // namespace sbx::policy::detail
