// Shared inputs of the staging tests: a site with two disks and a tape pool, a nightly set, and policy
// folders with a chosen stages.lua.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "policy_test_support.hpp"

namespace sbx::policy::testing {

using nlohmann::json;

inline constexpr std::int64_t kNs = 1'000'000'000;
inline constexpr std::int64_t kHourNs = 3600 * kNs;
// The nightly set completed at 2026-11-20T01:15:00Z.
inline constexpr std::int64_t kCompletedNs = (kNov20_2026 + 4500) * kNs;
inline constexpr std::int64_t kNowNs = kCompletedNs + 60 * kNs;

inline json site_devices() {
  return json{{"devices",
               {{"disk1", {{"type", "disk"}, {"online", true}}},
                {"disk2", {{"type", "disk"}, {"online", true}}},
                {"tape1", {{"type", "tape"}, {"online", false}}},
                {"tape2", {{"type", "tape"}, {"online", true}}}}},
              {"pools", {{"tapes", {{"type", "tape"}, {"members", {"tape1", "tape2"}}}}}}};
}

inline json nightly_set() {
  return json{{"id", 42},
              {"level", "full"},
              {"series", "/srv"},
              {"sources", {"/srv"}},
              {"definition", "nightly"},
              {"device", "disk1"},
              {"started_ns", kCompletedNs - 900 * kNs},
              {"completed_ns", kCompletedNs},
              {"bytes", 5'000'000'000LL},
              {"file_count", 120000}};
}

// The definition spec of definitions.md: back up to disk1, copy to disk2 4 hours later inside the night
// window (kept until the tape copy exists), then from that copy to the tape pool (kept a year).
inline json d2d2t_definition() {
  return json{
      {"sources", {"/srv"}},
      {"device", "disk1"},
      {"schedules", {{{"when", "daily 01:00"}, {"method", "full"}}}},
      {"stages",
       {{{"name", "disk2"},
         {"to", "disk2"},
         {"after", "4h"},
         {"window", "22:00-06:00"},
         {"retention", {{"until_copied", true}}}},
        {{"name", "tape"}, {"to", "pool:tapes"}, {"from", "disk2"}, {"retention", {{"days", 365}}}}}}};
}

inline const std::string& shipped_retention() {
  static const std::string text = read_file(shipped_policies() / "default" / "retention.lua");
  return text;
}

// A policy folder with the shipped lib/ and retention.lua, and default/stages.lua when given.
inline fs::path make_stages_dir(const TempDir& temp, std::optional<std::string_view> stages_lua) {
  const fs::path dir = make_policy_dir(temp, shipped_retention());
  if (stages_lua) write_file(dir / "default" / "stages.lua", *stages_lua);
  return dir;
}

inline std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += (out.empty() ? "" : "\n") + line;
  return out;
}

// Expects a refused plan: no entries, exactly one error, containing every needle.
inline void expect_refused(const StagePlan& plan, std::initializer_list<std::string_view> needles) {
  EXPECT_TRUE(plan.refused());
  EXPECT_TRUE(plan.entries.empty());
  ASSERT_EQ(plan.errors.size(), 1u) << joined(plan.errors);
  for (std::string_view needle : needles) {
    EXPECT_NE(plan.errors.front().find(needle), std::string::npos)
        << "missing `" << needle << "` in: " << plan.errors.front();
  }
}

}  // namespace sbx::policy::testing
