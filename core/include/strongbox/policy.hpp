// Policy engine: Lua 5.4 policies run in a sandbox, their outputs checked against engine invariants.
// The contract policy authors see is documented in policies/default/retention.lua and policies/lib/*.lua;
// the design in DESIGN.md "Policies".
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>  // StagePlanEntry holds a json value
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sbx::policy {

// Limits of one evaluation (one fresh Lua state). Exceeding any of them fails the evaluation, even when the
// script wraps the offending code in pcall.
struct SandboxLimits {
  std::size_t memory_bytes = std::size_t{64} << 20;
  std::uint64_t instructions = 50'000'000;
  std::chrono::milliseconds wall_clock{10'000};
};

class PolicyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A policy repo that could not be loaded; what() is every problem, one "file:line: message" per line.
class PolicyLoadError : public PolicyError {
 public:
  explicit PolicyLoadError(std::vector<std::string> errors);
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::vector<std::string> errors_;
};

// One Lua file of a repo; relative_path uses '/' and is also the chunk name errors report
// ("default/retention.lua:12: ...").
struct PolicyFile {
  std::string relative_path;
  std::string source;
};

// The policy files every repo must provide and the global functions each must define.
struct RequiredHook {
  std::string file_name;  // inside default/ (and inside a tenant folder when the tenant overrides it)
  std::string function;
  std::string parameters;  // for messages: "series, ctx"
};
const std::vector<RequiredHook>& required_hooks();

// An immutable snapshot of a policy directory:
//   DIR/default/*.lua          the site's policies
//   DIR/lib/*.lua              modules; each returns a table, reachable from policies as lib.<name>
//   DIR/tenants/<t>/*.lua      per-tenant files that replace the same-named default file for that tenant
// *_test.lua files and fixtures/ folders belong to `policy test` and are not part of the loaded policy.
class PolicyRepo {
 public:
  // Reads the folder, compiles every policy and module, runs each module and each hook file's top level
  // once in a sandbox and checks the required hooks exist. Throws PolicyLoadError listing every problem.
  static std::shared_ptr<const PolicyRepo> load(const std::filesystem::path& dir,
                                                const SandboxLimits& limits = {});

  const std::filesystem::path& dir() const { return dir_; }
  // Git commit of the folder ("<40 hex>" or "<40 hex>-dirty") when it is tracked in a git work tree,
  // otherwise "sha256:<hex>" over the sorted relative paths and contents of every .lua file.
  const std::string& revision() const { return revision_; }
  // tenants/<tenant>/<file_name> when that tenant overrides it, else default/<file_name>; nullptr if neither.
  const PolicyFile* policy(std::string_view file_name, std::string_view tenant = {}) const;
  // lib modules by name ("gfs" for lib/gfs.lua).
  const std::map<std::string, PolicyFile, std::less<>>& modules() const { return modules_; }
  std::vector<std::string> tenants() const;

 private:
  PolicyRepo() = default;
  std::filesystem::path dir_;
  std::string revision_;
  std::map<std::string, PolicyFile, std::less<>> defaults_;  // by file name
  std::map<std::string, std::map<std::string, PolicyFile, std::less<>>, std::less<>> tenants_;
  std::map<std::string, PolicyFile, std::less<>> modules_;
};

// Revision of a policy folder as PolicyRepo::revision() defines it (reads the folder now). Throws
// PolicyLoadError when the folder cannot be read.
std::string policy_revision(const std::filesystem::path& dir);

// --- Retention -------------------------------------------------------------------------------------------

// A backup set of one series as the retention hook sees it. Levels: "full", "incremental", "differential";
// base is the set an incremental or differential was taken against.
struct SetInfo {
  std::int64_t id = 0;
  std::string level;
  std::optional<std::int64_t> base;
  std::int64_t started_s = 0;
  std::int64_t completed_s = 0;
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
  bool legal_hold = false;
};

struct ExpireDecision {
  std::int64_t set_id = 0;
  bool keep = true;
  std::vector<std::string> reasons;  // the policy's reasons, then any the engine added
  bool overridden = false;           // the policy said expire and an engine invariant kept the set
};

struct ExpireResult {
  std::vector<ExpireDecision> decisions;  // one per input set, in input order
  std::string revision;                   // policy revision that decided ("" if no policy ever loaded)
  std::string policy_file;                // e.g. "default/retention.lua"
  bool failed = false;                    // policy failed: everything kept; the caller must raise an alert
  std::optional<std::string> error;       // one line, "file:line: message" when the policy failed
  std::string traceback;                  // Lua traceback of the failure, when there is one
};

// --- Staging ---------------------------------------------------------------------------------------------

// Hooks a folder may leave out; when their file exists it must define the function. stages.lua: when a
// folder has none, the copy graph is the definition's "stages" unchanged.
const std::vector<RequiredHook>& optional_hooks();

// One copy of a backup set in the copy graph stages(set, ctx) returns, validated by the engine.
struct StagePlanEntry {
  std::string name;          // unique within the plan: letters, digits, '_', '-', '.'; at most 64 bytes
  std::string to;            // device name, or "pool:NAME"
  std::int64_t after_ns = 0;  // delay after the set completed, 0 .. 366 days
  std::string window;        // "" (any time) or "HH:MM-HH:MM": the daily window the copy must start in
  std::string from;          // "" (copy the original set) or the name of an earlier entry
  nlohmann::json retention;  // exactly {"days": N} (1 .. 36500) or {"until_copied": true}
};

struct StagePlan {
  std::vector<StagePlanEntry> entries;  // empty when the plan was refused
  std::string revision;                 // policy revision that planned it ("" if no policy ever loaded)
  std::string policy_file;              // "default/stages.lua", or "" when the folder has no stages hook
  std::vector<std::string> errors;      // one line each; non-empty means refused: no copies, raise an alert
  std::string traceback;                // Lua traceback of a script failure, when there is one
  bool refused() const { return !errors.empty(); }
};

// Runs stages(set, ctx) of the set's tenant (set["tenant"], else the site's default/), or, when the folder
// has no stages.lua, takes definition_spec["stages"] as the plan. Either way every entry is validated and
// one invalid entry refuses the whole plan. Never throws for policy problems.
//   set                a JSON object: id, level, series, sources, definition, device, started_ns,
//                      completed_ns, bytes, file_count, and tenant when it has one; passed to Lua as is
//   definition_spec    the definition's spec, or null for a manual backup (ctx.definition is then nil)
//   devices_and_pools  {"devices": {NAME: {"type": T, "online": B}}, "pools": {NAME: {"type": T,
//                      "members": [NAME, ...]}}}: what `to` may name; ctx.devices and ctx.pools
StagePlan evaluate_stages(const PolicyRepo& repo, const nlohmann::json& set,
                          const nlohmann::json& definition_spec, const nlohmann::json& devices_and_pools,
                          std::int64_t now_ns, const SandboxLimits& limits = {});

void to_json(nlohmann::json& j, const StagePlanEntry& e);
void to_json(nlohmann::json& j, const StagePlan& p);

// --- Engine ----------------------------------------------------------------------------------------------

struct EngineOptions {
  SandboxLimits limits;
};

struct ReloadResult {
  bool ok = false;
  std::string revision;              // the revision in effect after the reload
  std::optional<std::string> error;  // why the new revision was refused (the previous one stays)
};

// Long-lived owner of a policy folder. Loading is all-or-nothing: a reload that fails keeps the last good
// revision in effect. Safe to use from several threads.
class PolicyEngine {
 public:
  // Loads the folder once; a failure leaves the engine without policy (every retention evaluation then
  // fails closed) and is reported by last_error().
  explicit PolicyEngine(std::filesystem::path dir, EngineOptions options = {});

  ReloadResult reload();
  std::string revision() const;
  std::optional<std::string> last_error() const;
  const std::filesystem::path& dir() const { return dir_; }

  // Runs expire(series, ctx) of the tenant's retention policy. Never throws for policy problems: any
  // failure keeps every set and sets failed/error. tenant "" means the site's default policies.
  ExpireResult evaluate_expire(const std::string& series, const std::vector<SetInfo>& sets,
                               std::int64_t now_s, const std::string& tenant = {}) const;

  // Plans the copies of a completed set (see the free evaluate_stages). Without any loaded revision the plan
  // is refused.
  StagePlan evaluate_stages(const nlohmann::json& set, const nlohmann::json& definition_spec,
                            const nlohmann::json& devices_and_pools, std::int64_t now_ns) const;

 private:
  std::filesystem::path dir_;
  EngineOptions options_;
  mutable std::mutex mutex_;
  std::shared_ptr<const PolicyRepo> repo_;
  std::optional<std::string> last_error_;
};

// Runs the retention hook of one loaded repo (what PolicyEngine::evaluate_expire does on its snapshot).
ExpireResult evaluate_expire(const PolicyRepo& repo, const std::string& series,
                             const std::vector<SetInfo>& sets, std::int64_t now_s,
                             const std::string& tenant = {}, const SandboxLimits& limits = {});

// --- Offline tools: `strongbox policy check|test` -----------------------------------------------------

struct CheckResult {
  std::vector<std::string> errors;  // "file:line: message", or "file: message" when no line applies
  std::size_t files_checked = 0;
  std::string revision;
  bool ok() const { return errors.empty(); }
};

// Compiles every .lua file under dir (tests and fixtures included), runs each lib module and each hook
// file's top level, checks the required hooks are defined. Runs no hook.
CheckResult check_policy_dir(const std::filesystem::path& dir, const SandboxLimits& limits = {});

struct TestCaseResult {
  std::string file;  // "default/retention_test.lua"
  std::string name;  // "test_keeps_newest_full", or "(load)" when the file itself failed
  bool passed = false;
  std::string location;  // "default/retention_test.lua:42" of the failure
  std::string message;   // failure message
  std::string traceback;
};

struct TestReport {
  std::vector<TestCaseResult> cases;
  std::vector<std::string> errors;  // problems with the folder itself
  std::size_t files = 0;
  std::size_t passed = 0;
  std::size_t failed = 0;
  bool ok() const { return failed == 0 && errors.empty(); }
};

struct TestOptions {
  SandboxLimits limits;
  bool update_golden = false;  // write fixtures/<name>.golden instead of comparing
};

// Runs every *_test.lua under dir: each global function test_* in a fresh sandbox holding lib, the policy
// under test (the file beside the test without "_test") and the helpers expect_eq, expect_true,
// expect_error, fixture, expect_golden and freeze.
TestReport run_policy_tests(const std::filesystem::path& dir, const TestOptions& options = {});

// JSON forms for --json output and structured logs.
void to_json(nlohmann::json& j, const ExpireDecision& d);
void to_json(nlohmann::json& j, const ExpireResult& r);
void to_json(nlohmann::json& j, const CheckResult& r);
void to_json(nlohmann::json& j, const TestCaseResult& r);
void to_json(nlohmann::json& j, const TestReport& r);

}  // namespace sbx::policy
