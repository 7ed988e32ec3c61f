#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "strongbox/policy.hpp"

namespace sbx::policy {

PolicyEngine::PolicyEngine(std::filesystem::path dir, EngineOptions options)
    : dir_(std::move(dir)), options_(options) {
  reload();
}

ReloadResult PolicyEngine::reload() {
  ReloadResult result;
  std::shared_ptr<const PolicyRepo> loaded;
  std::optional<std::string> error;
  try {
    loaded = PolicyRepo::load(dir_, options_.limits);
  } catch (const std::exception& e) {
    error = e.what();
  }
  std::lock_guard lock(mutex_);
  if (loaded) {
    repo_ = std::move(loaded);
    last_error_.reset();
    result.ok = true;
    spdlog::info("policies in {} loaded, revision {}", dir_.string(), repo_->revision());
  } else {
    last_error_ = error;
    result.error = error;
    spdlog::error("policies in {} not loaded; {}: {}", dir_.string(),
                  repo_ ? "keeping revision " + repo_->revision() : std::string("no revision in effect"),
                  error.value_or(""));
  }
  result.revision = repo_ ? repo_->revision() : std::string();
  return result;
}

std::string PolicyEngine::revision() const {
  std::lock_guard lock(mutex_);
  return repo_ ? repo_->revision() : std::string();
}

std::optional<std::string> PolicyEngine::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

ExpireResult PolicyEngine::evaluate_expire(const std::string& series, const std::vector<SetInfo>& sets,
                                           std::int64_t now_s, const std::string& tenant) const {
  std::shared_ptr<const PolicyRepo> repo;
  std::optional<std::string> load_error;
  {
    std::lock_guard lock(mutex_);
    repo = repo_;
    load_error = last_error_;
  }
  if (repo) return policy::evaluate_expire(*repo, series, sets, now_s, tenant, options_.limits);

  ExpireResult result;
  result.policy_file = "default/retention.lua";
  result.failed = true;
  result.error = "no policy loaded from " + dir_.string() + ": " + load_error.value_or("unknown error");
  for (const SetInfo& s : sets) {
    result.decisions.push_back({s.id, true, {"policy failed, everything kept: " + *result.error}, false});
  }
  spdlog::error("retention of series '{}': {}; all {} sets kept", series, *result.error, sets.size());
  return result;
}

void to_json(nlohmann::json& j, const ExpireDecision& d) {
  j = nlohmann::json{
      {"set", d.set_id}, {"keep", d.keep}, {"reasons", d.reasons}, {"overridden", d.overridden}};
}

void to_json(nlohmann::json& j, const ExpireResult& r) {
  j = nlohmann::json{{"revision", r.revision},
                     {"policy", r.policy_file},
                     {"failed", r.failed},
                     {"error", r.error ? nlohmann::json(*r.error) : nlohmann::json(nullptr)},
                     {"decisions", r.decisions}};
  if (!r.traceback.empty()) j["traceback"] = r.traceback;
}

void to_json(nlohmann::json& j, const CheckResult& r) {
  j = nlohmann::json{
      {"ok", r.ok()}, {"files_checked", r.files_checked}, {"revision", r.revision}, {"errors", r.errors}};
}

void to_json(nlohmann::json& j, const TestCaseResult& r) {
  j = nlohmann::json{{"file", r.file}, {"name", r.name}, {"passed", r.passed}};
  if (!r.passed) {
    j["location"] = r.location;
    j["message"] = r.message;
    if (!r.traceback.empty()) j["traceback"] = r.traceback;
  }
}

void to_json(nlohmann::json& j, const TestReport& r) {
  j = nlohmann::json{{"ok", r.ok()},       {"files", r.files},   {"passed", r.passed},
                     {"failed", r.failed}, {"errors", r.errors}, {"cases", r.cases}};
}

}  // namespace sbx::policy
