#include "backup_job.hpp"

#include <fnmatch.h>

#include <nlohmann/json.hpp>

#include "posix_io.hpp"
#include "strongbox/sdk/plugin.hpp"

namespace sbx::files {

using sbx::sdk::Error;

PathPatterns::PathPatterns(const std::vector<std::string>& patterns, const std::string& kind) {
  for (const std::string& original : patterns) {
    Pattern pattern;
    pattern.glob = original;
    while (pattern.glob.size() > 1 && pattern.glob.back() == '/') {
      pattern.glob.pop_back();
      pattern.directories_only = true;
    }
    if (pattern.glob.empty() || pattern.glob == "/")
      throw Error(SBX_ERR_INVALID_ARGUMENT, kind + " pattern '" + printable(original) + "' is empty");
    if (pattern.glob.find('\0') != std::string::npos)
      throw Error(SBX_ERR_INVALID_ARGUMENT,
                  kind + " pattern '" + printable(original) + "' contains a NUL byte");
    pattern.whole_path = pattern.glob.find('/') != std::string::npos;
    if (pattern.whole_path && pattern.glob.front() != '/')
      throw Error(SBX_ERR_INVALID_ARGUMENT,
                  kind + " pattern '" + printable(original) +
                      "' contains '/' but does not start with '/': patterns with '/' "
                      "match absolute paths, patterns without '/' match names");
    patterns_.push_back(std::move(pattern));
  }
}

bool PathPatterns::matches(const std::string& abs_path, const std::string& name, bool is_directory) const {
  for (const Pattern& pattern : patterns_) {
    if (pattern.directories_only && !is_directory) continue;
    int match = pattern.whole_path ? fnmatch(pattern.glob.c_str(), abs_path.c_str(), FNM_PATHNAME)
                                   : fnmatch(pattern.glob.c_str(), name.c_str(), 0);
    if (match == 0) return true;
  }
  return false;
}

namespace {

std::string string_field(const nlohmann::json& value, const char* what) {
  if (!value.is_string())
    throw Error(SBX_ERR_INVALID_ARGUMENT, std::string("job ") + what + " must be a string");
  return value.get<std::string>();
}

std::vector<std::string> string_list(const nlohmann::json& job, const char* key) {
  std::vector<std::string> out;
  auto it = job.find(key);
  if (it == job.end() || it->is_null()) return out;
  if (!it->is_array())
    throw Error(SBX_ERR_INVALID_ARGUMENT, std::string("job \"") + key + "\" must be an array of strings");
  for (const auto& item : *it)
    out.push_back(string_field(item, (std::string("\"") + key + "\" item").c_str()));
  return out;
}

}  // namespace

BackupJob BackupJob::parse(std::string_view json) {
  nlohmann::json job;
  try {
    job = nlohmann::json::parse(json);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(SBX_ERR_INVALID_ARGUMENT, std::string("job is not valid JSON: ") + e.what());
  }
  if (!job.is_object()) throw Error(SBX_ERR_INVALID_ARGUMENT, "job must be a JSON object");

  BackupJob out;
  out.sources = string_list(job, "sources");
  if (out.sources.empty()) throw Error(SBX_ERR_INVALID_ARGUMENT, "job has no \"sources\" to back up");
  for (const std::string& source : out.sources) {
    if (source.empty() || source.front() != '/')
      throw Error(SBX_ERR_INVALID_ARGUMENT, "source '" + printable(source) + "' is not an absolute path");
    if (source.find('\0') != std::string::npos)
      throw Error(SBX_ERR_INVALID_ARGUMENT, "source '" + printable(source) + "' contains a NUL byte");
  }
  out.excludes = string_list(job, "excludes");
  out.includes = string_list(job, "includes");

  if (auto it = job.find("level"); it != job.end() && !it->is_null()) {
    std::string level = string_field(*it, "\"level\"");
    if (level == "full") {
      out.level = BackupLevel::kFull;
    } else if (level == "incremental") {
      out.level = BackupLevel::kIncremental;
    } else if (level == "differential") {
      out.level = BackupLevel::kDifferential;
    } else {
      throw Error(SBX_ERR_INVALID_ARGUMENT,
                  "job \"level\" is '" + printable(level) + "', wanted full, incremental or differential");
    }
  }
  if (auto it = job.find("one_file_system"); it != job.end() && !it->is_null()) {
    if (!it->is_boolean())
      throw Error(SBX_ERR_INVALID_ARGUMENT, "job \"one_file_system\" must be true or false");
    out.one_file_system = it->get<bool>();
  }
  return out;
}

}  // namespace sbx::files
