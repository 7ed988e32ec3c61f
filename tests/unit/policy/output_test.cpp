// The engine validates every output of expire: wrong shapes fail closed, missing decisions keep the set.
#include <nlohmann/json.hpp>

#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

const std::vector<SetInfo> kSeries = {full(1, kNov20_2026 - 2 * kDay), full(2, kNov20_2026 - kDay),
                                      full(3, kNov20_2026)};

ExpireResult returning(const std::string& expression, const std::vector<SetInfo>& sets = kSeries) {
  TempDir temp;
  const fs::path dir =
      make_policy_dir(temp, "function expire(series, ctx)\n  return " + expression + "\nend\n");
  auto engine = make_engine(dir);
  EXPECT_FALSE(engine.last_error().has_value()) << engine.last_error().value_or("");
  return engine.evaluate_expire("nightly", sets, kNov20_2026);
}

struct BadOutput {
  std::string expression;
  std::string error;
};

class PolicyOutputShape : public ::testing::TestWithParam<BadOutput> {};

TEST_P(PolicyOutputShape, FailsClosed) {
  const ExpireResult result = returning(GetParam().expression);
  expect_failed_closed(result, kSeries, "default/retention.lua: " + GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    WrongTypes, PolicyOutputShape,
    ::testing::Values(
        BadOutput{"nil", "expire(series, ctx) must return a table of decisions keyed by set id, got nil"},
        BadOutput{"5", "expire(series, ctx) must return a table of decisions keyed by set id, got number"},
        BadOutput{"{ ['1'] = { keep = false } }",
                  "expire returned a decision under key '1'; keys must be set ids (integers)"},
        BadOutput{"{ [1.5] = { keep = false } }",
                  "expire returned a decision under key 1.5; keys must be set ids (integers)"},
        BadOutput{"{ [42] = { keep = false } }",
                  "expire returned a decision for set 42, which is not in series 'nightly'"},
        BadOutput{"{ [1] = false }",
                  "decision for set 1 must be a table {keep = true|false, reasons = {...}}, got boolean"},
        BadOutput{"{ [1] = { keep = 'no' } }", "decision for set 1: keep must be true or false, got string"},
        BadOutput{"{ [1] = { keep = false, reasons = 'old' } }",
                  "decision for set 1: reasons must be a list of strings"},
        BadOutput{"{ [1] = { keep = false, reasons = { 'old', 7 } } }",
                  "decision for set 1: reasons must be a list of strings"},
        BadOutput{"{ [1] = { keep = false, reasons = { 'old', x = 'y' } } }",
                  "decision for set 1: reasons must be a list of strings"},
        BadOutput{"{ [1] = { keep = false, reason = 'old' } }",
                  "decision for set 1 has unknown field 'reason' (expected keep and reasons)"},
        BadOutput{"{ [1] = { reasons = { 'old' } } }",
                  "decision for set 1 has no keep field (true or false)"},
        BadOutput{"ctx", "expire returned a decision under key '"}));

TEST(PolicyOutput, MissingDecisionsKeepTheSet) {
  const ExpireResult result = returning("{ [1] = { keep = false, reasons = { 'too old' } } }");
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_FALSE(decision_for(result, 1).keep);
  EXPECT_EQ(decision_for(result, 1).reasons, std::vector<std::string>{"too old"});
  EXPECT_TRUE(decision_for(result, 2).keep);
  EXPECT_EQ(decision_for(result, 2).reasons, std::vector<std::string>{"policy gave no decision"});
  EXPECT_FALSE(decision_for(result, 2).overridden);
}

TEST(PolicyOutput, DecisionWithoutReasonsSaysSo) {
  const ExpireResult result = returning("{ [2] = { keep = false } }");
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_EQ(decision_for(result, 2).reasons, std::vector<std::string>{"policy gave no reason"});
}

TEST(PolicyOutput, OverlongReasonsAreTruncated) {
  const ExpireResult result = returning("{ [2] = { keep = false, reasons = { string.rep('r', 5000) } } }");
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_EQ(decision_for(result, 2).reasons.front(), std::string(1024, 'r') + "...");
}

TEST(PolicyOutput, InvalidInputFailsClosed) {
  std::vector<SetInfo> duplicate = {full(1, kNov20_2026), full(1, kNov20_2026 + 1)};
  expect_failed_closed(returning("{}", duplicate), duplicate, "set 1 appears twice in the series");
  std::vector<SetInfo> odd_level = {full(1, kNov20_2026)};
  odd_level[0].level = "synthetic";
  expect_failed_closed(returning("{}", odd_level), odd_level,
                       "set 1 has level 'synthetic'; expected full, incremental or differential");
}

TEST(PolicyOutput, ResultCarriesRevisionAndPolicyFile) {
  const ExpireResult result = returning("{}");
  EXPECT_TRUE(result.revision.starts_with("sha256:")) << result.revision;
  EXPECT_EQ(result.policy_file, "default/retention.lua");
  EXPECT_FALSE(result.error.has_value());
}

TEST(PolicyOutput, JsonFormCarriesEveryField) {
  const ExpireResult result = returning("{ [1] = { keep = false, reasons = { 'too old' } } }");
  const nlohmann::json j = result;
  EXPECT_EQ(j.at("revision"), result.revision);
  EXPECT_EQ(j.at("policy"), "default/retention.lua");
  EXPECT_EQ(j.at("failed"), false);
  EXPECT_TRUE(j.at("error").is_null());
  ASSERT_EQ(j.at("decisions").size(), 3u);
  EXPECT_EQ(j.at("decisions")[0],
            (nlohmann::json{{"set", 1}, {"keep", false}, {"reasons", {"too old"}}, {"overridden", false}}));

  const ExpireResult failed = returning("nil");
  const nlohmann::json f = failed;
  EXPECT_EQ(f.at("failed"), true);
  EXPECT_TRUE(f.at("error").is_string());
}

}  // namespace
}  // namespace sbx::policy::testing
