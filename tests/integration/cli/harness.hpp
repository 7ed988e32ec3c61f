// Runs the built strongbox binary and compares directory trees; shared by the CLI end-to-end tests.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace sbx::test {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::vector<nlohmann::json> json_lines() const;  // stdout parsed as one JSON object per line
};

std::filesystem::path strongbox_binary();
// Runs strongbox with args (no shell); env entries "K=V" are added to the environment.
RunResult run_strongbox(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                        const std::string& run_as_uid = "");

// A fresh temp folder, removed at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& p) const { return path_ / p; }

 private:
  std::filesystem::path path_;
};

// Everything `strongbox restore` must bring back, per relative path.
struct NodeState {
  std::string type;  // file dir symlink other
  unsigned mode = 0;
  long long mtime_ns = 0;
  unsigned uid = 0, gid = 0;
  std::string content;  // file data or symlink target
  std::map<std::string, std::string> xattrs;
  unsigned long long link_group = 0;  // files sharing an inode get the same nonzero number
  bool operator==(const NodeState&) const = default;
};
using TreeState = std::map<std::string, NodeState>;

TreeState snapshot(const std::filesystem::path& root);
// Empty when equal; else a description of the first differences.
std::string diff_trees(const TreeState& expected, const TreeState& actual);

void write_file(const std::filesystem::path& p, const std::string& content);
std::string read_file(const std::filesystem::path& p);
// A site made with `strongbox init` in dir/site.
std::filesystem::path init_site(const TempDir& dir);

}  // namespace sbx::test
