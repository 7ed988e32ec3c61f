// Shared helpers of the policy engine tests: temp policy folders and synthetic backup series.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "strongbox/policy.hpp"

namespace sbx::policy::testing {

namespace fs = std::filesystem;

inline constexpr std::int64_t kDay = 86400;
// 2026-11-20T00:00:00Z
inline constexpr std::int64_t kNov20_2026 = 1795132800;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "sbx-policy-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline void write_file(const fs::path& path, std::string_view content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

inline fs::path shipped_policies() {
  return fs::path(SBX_SOURCE_DIR) / "policies";
}

// A policy folder holding the shipped lib/ and the given default/retention.lua.
inline fs::path make_policy_dir(const TempDir& temp, std::string_view retention_lua) {
  const fs::path dir = temp.path() / "policies";
  for (const auto& entry : fs::directory_iterator(shipped_policies() / "lib")) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".lua" && !name.ends_with("_test.lua")) {
      write_file(dir / "lib" / name, read_file(entry.path()));
    }
  }
  write_file(dir / "default" / "retention.lua", retention_lua);
  return dir;
}

// Small limits keep the runaway-script tests fast, also under sanitizers.
inline SandboxLimits test_limits() {
  SandboxLimits limits;
  limits.memory_bytes = std::size_t{32} << 20;
  limits.instructions = 2'000'000;
  limits.wall_clock = std::chrono::milliseconds(20'000);
  return limits;
}

inline PolicyEngine make_engine(const fs::path& dir, SandboxLimits limits = test_limits()) {
  return PolicyEngine(dir, EngineOptions{limits});
}

inline SetInfo full(std::int64_t id, std::int64_t started) {
  return SetInfo{id, "full", std::nullopt, started, started + 600, 100, 1'000'000, false};
}

inline SetInfo incremental(std::int64_t id, std::int64_t base, std::int64_t started) {
  return SetInfo{id, "incremental", base, started, started + 60, 10, 10'000, false};
}

inline SetInfo differential(std::int64_t id, std::int64_t base, std::int64_t started) {
  return SetInfo{id, "differential", base, started, started + 60, 20, 20'000, false};
}

// One full a day at 01:00 UTC for `days` days ending on the day of `last_day`, ids 1..days.
inline std::vector<SetInfo> daily_fulls(int days, std::int64_t last_day) {
  std::vector<SetInfo> sets;
  for (int i = 0; i < days; ++i) {
    sets.push_back(full(i + 1, last_day - static_cast<std::int64_t>(days - 1 - i) * kDay + 3600));
  }
  return sets;
}

inline const ExpireDecision& decision_for(const ExpireResult& result, std::int64_t id) {
  for (const ExpireDecision& d : result.decisions) {
    if (d.set_id == id) return d;
  }
  throw std::runtime_error("no decision for set " + std::to_string(id));
}

inline std::string joined_reasons(const ExpireDecision& d) {
  std::string out;
  for (const std::string& r : d.reasons) out += (out.empty() ? "" : "; ") + r;
  return out;
}

// Expects a fail-closed result: failed, every set kept, the error containing `needle`.
inline void expect_failed_closed(const ExpireResult& result, const std::vector<SetInfo>& sets,
                                 std::string_view needle) {
  EXPECT_TRUE(result.failed);
  ASSERT_TRUE(result.error.has_value());
  EXPECT_NE(result.error->find(needle), std::string::npos) << *result.error;
  ASSERT_EQ(result.decisions.size(), sets.size());
  for (const ExpireDecision& d : result.decisions) {
    EXPECT_TRUE(d.keep) << "set " << d.set_id;
    ASSERT_FALSE(d.reasons.empty());
    EXPECT_NE(d.reasons.front().find(needle), std::string::npos) << d.reasons.front();
  }
}

}  // namespace sbx::policy::testing
