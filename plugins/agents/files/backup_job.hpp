// What a backup job asks of the files agent, parsed and checked from the host's job JSON, and the
// exclude patterns it carries.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sbx::files {

// Include and exclude patterns are fnmatch(3) globs in two forms:
//  - a pattern without '/' matches an entry's name at any depth ("*.tmp", "node_modules");
//  - a pattern with '/' must start with '/' and matches the whole absolute path, with FNM_PATHNAME so that
//    '*' and '?' stay within one path component, as in a shell ("/home/*/.cache" matches /home/ann/.cache
//    but not /home/ann/x/.cache; use ".cache" to drop it at every depth).
// A trailing '/' limits a pattern to directories ("build/"). Leading dots are not special: "*" matches
// ".hidden". An excluded directory is not descended. Includes select files, symlinks and special files (not
// directories: every directory is descended so includes at any depth are found); with includes given, an
// entry is backed up only when an include matches it and no exclude does. Source roots themselves are never
// excluded: the admin named them.
class PathPatterns {
 public:
  PathPatterns() = default;
  // Throws sbx::sdk::Error(SBX_ERR_INVALID_ARGUMENT) naming a pattern that can never match; `kind` ("exclude"
  // or "include") names the list in that message.
  PathPatterns(const std::vector<std::string>& patterns, const std::string& kind);

  bool empty() const { return patterns_.empty(); }
  // abs_path starts with '/'; name is its last component.
  bool matches(const std::string& abs_path, const std::string& name, bool is_directory) const;

 private:
  struct Pattern {
    std::string glob;
    bool whole_path = false;
    bool directories_only = false;
  };
  std::vector<Pattern> patterns_;
};

enum class BackupLevel { kFull, kIncremental, kDifferential };

struct BackupJob {
  std::vector<std::string> sources;  // absolute, as the job gave them
  std::vector<std::string> excludes;
  std::vector<std::string> includes;  // empty: everything
  BackupLevel level = BackupLevel::kFull;
  bool one_file_system = false;

  // Throws sbx::sdk::Error(SBX_ERR_INVALID_ARGUMENT) with a one-line reason. Unknown keys are ignored so
  // that a newer host can add some without breaking this agent.
  static BackupJob parse(std::string_view json);
};

}  // namespace sbx::files
