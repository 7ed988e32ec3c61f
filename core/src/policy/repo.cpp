#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>

#include "process.hpp"
#include "repo_internal.hpp"
#include "sandbox.hpp"

namespace sbx::policy {

namespace fs = std::filesystem;

namespace {

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

}  // namespace

PolicyLoadError::PolicyLoadError(std::vector<std::string> errors)
    : PolicyError(join_lines(errors)), errors_(std::move(errors)) {}

const std::vector<RequiredHook>& required_hooks() {
  static const std::vector<RequiredHook> kHooks = {{"retention.lua", "expire", "series, ctx"}};
  return kHooks;
}

namespace detail {
namespace {

bool is_identifier(std::string_view s) {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (s.empty() || !alpha(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

bool is_tenant_name(std::string_view s) {
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  };
  return !s.empty() && s[0] != '.' && s[0] != '-' && std::all_of(s.begin(), s.end(), ok);
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

const RequiredHook* hook_for(std::string_view file_name) {
  for (const RequiredHook& hook : required_hooks()) {
    if (hook.file_name == file_name) return &hook;
  }
  for (const RequiredHook& hook : optional_hooks()) {
    if (hook.file_name == file_name) return &hook;
  }
  return nullptr;
}

int index_lib_protected(lua_State* L) {
  const char* name = static_cast<const char*>(lua_touserdata(L, 1));
  lua_getglobal(L, "lib");
  lua_getfield(L, -1, name);
  return 0;
}

std::string sha256_hex(const std::vector<PolicyFile>& files) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    throw PolicyError("cannot compute the policy revision: SHA-256 is unavailable in OpenSSL");
  }
  for (const PolicyFile& file : files) {
    // Path and length framing keep distinct folders from ever hashing the same.
    const std::string header = file.relative_path + '\0' + std::to_string(file.source.size()) + '\0';
    EVP_DigestUpdate(ctx.get(), header.data(), header.size());
    EVP_DigestUpdate(ctx.get(), file.source.data(), file.source.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

std::optional<std::string> git_revision(const fs::path& dir) {
  using namespace std::chrono_literals;
  const std::string where = dir.string();
  const auto head = run_process({"git", "-C", where, "rev-parse", "--verify", "--quiet", "HEAD"}, 10s);
  if (!head || head->exit_code != 0) return std::nullopt;
  std::string commit = head->out;
  while (!commit.empty() && (commit.back() == '\n' || commit.back() == '\r')) commit.pop_back();
  if (commit.size() < 40 || !std::all_of(commit.begin(), commit.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      })) {
    return std::nullopt;
  }
  // A folder inside some unrelated work tree (a build directory, say) is not versioned by that commit.
  const auto tracked = run_process({"git", "-C", where, "ls-files", "-z", "--", "."}, 10s);
  if (!tracked || tracked->exit_code != 0 || tracked->out.empty()) return std::nullopt;
  const auto status = run_process({"git", "--no-optional-locks", "-C", where, "status", "--porcelain=v1",
                                   "-z", "--ignored=matching", "--untracked-files=all", "--", "."},
                                  10s);
  if (!status || status->exit_code != 0) return std::nullopt;
  bool dirty = false;
  std::string_view entries = status->out;
  while (!entries.empty() && !dirty) {
    const std::size_t end = entries.find('\0');
    const std::string_view entry = entries.substr(0, end);
    dirty = entry.ends_with(".lua");
    entries = end == std::string_view::npos ? std::string_view{} : entries.substr(end + 1);
  }
  return dirty ? commit + "-dirty" : commit;
}

}  // namespace

bool is_test_file(std::string_view relative_path) {
  return relative_path.ends_with("_test.lua");
}

std::vector<PolicyFile> scan_lua_files(const fs::path& dir, std::vector<FolderProblem>& problems) {
  std::vector<PolicyFile> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    problems.push_back({dir.string(), dir.string() + ": not a policy folder (no such directory)"});
    return files;
  }
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) {
    problems.push_back({dir.string(), dir.string() + ": cannot list: " + ec.message()});
    return files;
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      problems.push_back({dir.string(), dir.string() + ": cannot list: " + ec.message()});
      break;
    }
    const fs::path& path = it->path();
    const std::string name = path.filename().string();
    if (name.starts_with(".")) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (path.extension() != ".lua" || !it->is_regular_file(ec)) continue;
    const std::string relative = path.lexically_relative(dir).generic_string();
    const auto size = it->file_size(ec);
    if (ec) {
      problems.push_back({relative, relative + ": cannot read: " + ec.message()});
      continue;
    }
    if (size > kMaxPolicyFileBytes) {
      problems.push_back({relative, relative + ": " + std::to_string(size) +
                                        " bytes; policy files are limited to " +
                                        format_bytes(kMaxPolicyFileBytes)});
      continue;
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    if (!in || in.bad()) {
      problems.push_back({relative, relative + ": cannot read: " + std::strerror(errno)});
      continue;
    }
    files.push_back({relative, std::move(content).str()});
  }
  std::sort(files.begin(), files.end(),
            [](const PolicyFile& a, const PolicyFile& b) { return a.relative_path < b.relative_path; });
  return files;
}

Layout make_layout(const std::vector<PolicyFile>& files, std::vector<FolderProblem>& problems) {
  Layout layout;
  for (const PolicyFile& file : files) {
    if (is_test_file(file.relative_path)) continue;
    const std::vector<std::string_view> parts = split_path(file.relative_path);
    if (parts.size() == 2 && parts[0] == "default") {
      layout.defaults.emplace(std::string(parts[1]), file);
    } else if (parts.size() == 2 && parts[0] == "lib") {
      std::string_view name = parts[1];
      name.remove_suffix(4);
      if (!is_identifier(name)) {
        problems.push_back(
            {file.relative_path, file.relative_path +
                                     ": lib module names must be Lua identifiers (letters, digits, "
                                     "_) so policies can write lib." +
                                     std::string(name)});
        continue;
      }
      layout.modules.emplace(std::string(name), file);
    } else if (parts.size() == 3 && parts[0] == "tenants") {
      if (!is_tenant_name(parts[1])) {
        problems.push_back({file.relative_path, file.relative_path + ": tenant folder name '" +
                                                    std::string(parts[1]) +
                                                    "' must use letters, digits, '_', '-' or '.'"});
        continue;
      }
      layout.tenants[std::string(parts[1])].emplace(std::string(parts[2]), file);
    }
  }
  for (const auto& [name, file] : layout.defaults) layout.members.push_back(&file);
  for (const auto& [name, file] : layout.modules) layout.members.push_back(&file);
  for (const auto& [tenant, tenant_files] : layout.tenants) {
    for (const auto& [name, file] : tenant_files) layout.members.push_back(&file);
  }
  return layout;
}

std::string failure_line(const LuaFailure& failure, const std::string& file) {
  // Budget and memory failures already say which policy and where.
  if (failure.kind != LuaFailure::Kind::kError) return failure.message;
  if (!failure.location.empty() && !failure.message.starts_with(failure.location)) {
    return failure.location + ": " + failure.message;
  }
  if (failure.location.empty() && !failure.message.starts_with(file)) return file + ": " + failure.message;
  return failure.message;
}

void validate_layout(const Layout& layout, const SandboxLimits& limits,
                     std::vector<FolderProblem>& problems) {
  auto report = [&](const PolicyFile& file, const std::optional<LuaFailure>& failure) {
    if (failure) problems.push_back({file.relative_path, failure_line(*failure, file.relative_path)});
    return failure.has_value();
  };
  for (const auto& [name, file] : layout.modules) {
    Sandbox sandbox(limits, file.relative_path);
    sandbox.set_modules(&layout.modules);
    report(file, sandbox.call(&index_lib_protected, const_cast<char*>(name.c_str()), 0));
  }
  auto check_policy_file = [&](const std::string& file_name, const PolicyFile& file) {
    Sandbox sandbox(limits, file.relative_path);
    sandbox.set_modules(&layout.modules);
    const RequiredHook* hook = hook_for(file_name);
    if (hook == nullptr) {
      report(file, sandbox.compile(file));
      return;
    }
    if (report(file, sandbox.run_file(file))) return;
    if (!sandbox.has_global_function(hook->function.c_str())) {
      problems.push_back({file.relative_path, file.relative_path + ": required hook '" + hook->function +
                                                  "' is not defined (expected a global function " +
                                                  hook->function + "(" + hook->parameters + "))"});
    }
  };
  for (const auto& [name, file] : layout.defaults) check_policy_file(name, file);
  for (const auto& [tenant, tenant_files] : layout.tenants) {
    for (const auto& [name, file] : tenant_files) check_policy_file(name, file);
  }
  for (const RequiredHook& hook : required_hooks()) {
    if (!layout.defaults.contains(hook.file_name)) {
      const std::string path = "default/" + hook.file_name;
      problems.push_back({path, path + ": required policy file is missing (it must define " + hook.function +
                                    "(" + hook.parameters + "))"});
    }
  }
}

std::string compute_revision(const fs::path& dir, const std::vector<PolicyFile>& files) {
  if (auto git = git_revision(dir)) return *git;
  return "sha256:" + sha256_hex(files);
}

std::vector<std::string> sorted_texts(std::vector<FolderProblem> problems) {
  std::stable_sort(problems.begin(), problems.end(),
                   [](const FolderProblem& a, const FolderProblem& b) { return a.file < b.file; });
  std::vector<std::string> texts;
  for (FolderProblem& p : problems) texts.push_back(std::move(p.text));
  return texts;
}

}  // namespace detail

std::shared_ptr<const PolicyRepo> PolicyRepo::load(const fs::path& dir, const SandboxLimits& limits) {
  std::vector<detail::FolderProblem> problems;
  const std::vector<PolicyFile> files = detail::scan_lua_files(dir, problems);
  detail::Layout layout = detail::make_layout(files, problems);
  if (problems.empty()) detail::validate_layout(layout, limits, problems);
  if (!problems.empty()) throw PolicyLoadError(detail::sorted_texts(std::move(problems)));

  std::shared_ptr<PolicyRepo> repo(new PolicyRepo());
  repo->dir_ = dir;
  repo->revision_ = detail::compute_revision(dir, files);
  repo->defaults_ = std::move(layout.defaults);
  repo->modules_ = std::move(layout.modules);
  for (auto& [tenant, tenant_files] : layout.tenants) repo->tenants_.emplace(tenant, std::move(tenant_files));
  return repo;
}

const PolicyFile* PolicyRepo::policy(std::string_view file_name, std::string_view tenant) const {
  if (!tenant.empty()) {
    if (auto t = tenants_.find(tenant); t != tenants_.end()) {
      if (auto f = t->second.find(file_name); f != t->second.end()) return &f->second;
    }
  }
  auto f = defaults_.find(file_name);
  return f == defaults_.end() ? nullptr : &f->second;
}

std::vector<std::string> PolicyRepo::tenants() const {
  std::vector<std::string> names;
  for (const auto& [tenant, files] : tenants_) names.push_back(tenant);
  return names;
}

std::string policy_revision(const fs::path& dir) {
  std::vector<detail::FolderProblem> problems;
  const std::vector<PolicyFile> files = detail::scan_lua_files(dir, problems);
  if (!problems.empty()) throw PolicyLoadError(detail::sorted_texts(std::move(problems)));
  return detail::compute_revision(dir, files);
}

}  // namespace sbx::policy
