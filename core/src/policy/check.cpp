// `strongbox policy check DIR`: everything that can be known about a policy folder without running a hook.
#include <set>

#include "repo_internal.hpp"

namespace sbx::policy {

CheckResult check_policy_dir(const std::filesystem::path& dir, const SandboxLimits& limits) {
  CheckResult result;
  std::vector<detail::FolderProblem> problems;
  const std::vector<PolicyFile> files = detail::scan_lua_files(dir, problems);
  result.files_checked = files.size();
  const detail::Layout layout = detail::make_layout(files, problems);

  std::set<std::string_view> members;
  for (const PolicyFile* member : layout.members) members.insert(member->relative_path);
  // Tests, fixtures and files outside the layout are compiled only: running them is `policy test`'s job.
  for (const PolicyFile& file : files) {
    if (members.contains(file.relative_path)) continue;
    try {
      detail::Sandbox sandbox(limits, file.relative_path);
      if (auto failure = sandbox.compile(file)) {
        problems.push_back({file.relative_path, detail::failure_line(*failure, file.relative_path)});
      }
    } catch (const std::exception& e) {
      problems.push_back({file.relative_path, e.what()});
    }
  }
  try {
    detail::validate_layout(layout, limits, problems);
  } catch (const std::exception& e) {
    problems.push_back({dir.string(), e.what()});
  }
  result.errors = detail::sorted_texts(std::move(problems));
  if (!files.empty()) {
    try {
      result.revision = detail::compute_revision(dir, files);
    } catch (const std::exception& e) {
      result.errors.push_back(dir.string() + ": " + e.what());
    }
  }
  return result;
}

}  // namespace sbx::policy
