// Engine invariants hold whatever the policy says: legal holds, the last recovery chain and the bases of
// kept sets are never expired.
#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

constexpr std::string_view kExpireEverything = R"(
function expire(series, ctx)
  local d = {}
  for _, set in ipairs(series) do d[set.id] = { keep = false, reasons = { "policy expires all" } } end
  return d
end
)";

// Keeps exactly the sets listed in the global KEEP_IDS.
std::string keep_only(const std::string& ids) {
  return "KEEP_IDS = {" + ids + R"(}
function expire(series, ctx)
  local keep = {}
  for _, id in ipairs(KEEP_IDS) do keep[id] = true end
  local d = {}
  for _, set in ipairs(series) do d[set.id] = { keep = keep[set.id] == true, reasons = { "listed" } } end
  return d
end
)";
}

// F1 <- I2 <- I3,  F4 <- I5, F4 <- D6,  F7 <- I8 <- I9 (given newest first to show order does not matter)
std::vector<SetInfo> three_chains() {
  const std::int64_t t = kNov20_2026;
  return {incremental(9, 8, t + 8 * kDay),  incremental(8, 7, t + 7 * kDay), full(7, t + 6 * kDay),
          differential(6, 4, t + 5 * kDay), incremental(5, 4, t + 4 * kDay), full(4, t + 3 * kDay),
          incremental(3, 2, t + 2 * kDay),  incremental(2, 1, t + kDay),     full(1, t)};
}

ExpireResult evaluate(std::string_view policy, const std::vector<SetInfo>& sets) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, policy);
  auto engine = make_engine(dir);
  EXPECT_FALSE(engine.last_error().has_value()) << engine.last_error().value_or("");
  return engine.evaluate_expire("s", sets, kNov20_2026 + 10 * kDay);
}

TEST(PolicyInvariants, LastRecoveryChainSurvivesAPolicyThatExpiresEverything) {
  const ExpireResult result = evaluate(kExpireEverything, three_chains());
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  for (std::int64_t id : {7, 8, 9}) {
    const ExpireDecision& d = decision_for(result, id);
    EXPECT_TRUE(d.keep) << id;
    EXPECT_TRUE(d.overridden) << id;
    EXPECT_EQ(d.reasons, (std::vector<std::string>{"policy expires all",
                                                   "kept by engine: part of the last recovery chain (newest "
                                                   "full 7 and the sets after it)"}));
  }
  for (std::int64_t id : {1, 2, 3, 4, 5, 6}) {
    EXPECT_FALSE(decision_for(result, id).keep) << id;
    EXPECT_FALSE(decision_for(result, id).overridden) << id;
  }
  ASSERT_EQ(result.decisions.size(), 9u);
  EXPECT_EQ(result.decisions.front().set_id, 9) << "decisions come in input order";
}

TEST(PolicyInvariants, BasesOfKeptSetsAreKeptTransitively) {
  const ExpireResult result = evaluate(keep_only("3, 6"), three_chains());
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_TRUE(decision_for(result, 3).keep);
  EXPECT_FALSE(decision_for(result, 3).overridden);
  EXPECT_TRUE(decision_for(result, 2).keep);
  EXPECT_TRUE(decision_for(result, 2).overridden);
  EXPECT_EQ(decision_for(result, 2).reasons.back(), "kept by engine: set 3 depends on it");
  EXPECT_TRUE(decision_for(result, 1).keep);
  EXPECT_EQ(decision_for(result, 1).reasons.back(), "kept by engine: set 2 depends on it");
  EXPECT_TRUE(decision_for(result, 4).keep);
  EXPECT_EQ(decision_for(result, 4).reasons.back(), "kept by engine: set 6 depends on it");
  EXPECT_FALSE(decision_for(result, 5).keep);
}

TEST(PolicyInvariants, LegalHoldIsNeverExpiredAndKeepsItsBase) {
  std::vector<SetInfo> sets = three_chains();
  for (SetInfo& s : sets) {
    if (s.id == 5) s.legal_hold = true;
  }
  const ExpireResult result = evaluate(kExpireEverything, sets);
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_TRUE(decision_for(result, 5).keep);
  EXPECT_TRUE(decision_for(result, 5).overridden);
  EXPECT_EQ(decision_for(result, 5).reasons.back(), "kept by engine: on legal hold");
  EXPECT_TRUE(decision_for(result, 4).keep);
  EXPECT_FALSE(decision_for(result, 6).keep);
  EXPECT_FALSE(decision_for(result, 1).keep);
}

TEST(PolicyInvariants, SeriesWithoutAFullKeepsEverything) {
  const std::vector<SetInfo> sets = {incremental(2, 1, kNov20_2026), incremental(3, 2, kNov20_2026 + kDay)};
  const ExpireResult result = evaluate(kExpireEverything, sets);
  ASSERT_FALSE(result.failed);
  for (const ExpireDecision& d : result.decisions) {
    EXPECT_TRUE(d.keep);
    EXPECT_EQ(d.reasons.back(),
              "kept by engine: part of the last recovery chain (the series has no full backup)");
  }
}

TEST(PolicyInvariants, ChainStartsAtTheNewestFullByTimeThenId) {
  // Two fulls started in the same second: the higher id counts as newer.
  const std::vector<SetInfo> sets = {full(11, kNov20_2026), full(10, kNov20_2026),
                                     full(9, kNov20_2026 - kDay)};
  const ExpireResult result = evaluate(kExpireEverything, sets);
  EXPECT_TRUE(decision_for(result, 11).keep);
  EXPECT_FALSE(decision_for(result, 10).keep);
  EXPECT_FALSE(decision_for(result, 9).keep);
}

TEST(PolicyInvariants, PolicyFailureKeepsEverythingAndFlagsIt) {
  const std::vector<SetInfo> sets = three_chains();
  const ExpireResult result = evaluate("function expire(series, ctx) return nil + 1 end\n", sets);
  expect_failed_closed(result, sets, "attempt to perform arithmetic on a nil value");
  for (const ExpireDecision& d : result.decisions) EXPECT_FALSE(d.overridden);
}

}  // namespace
}  // namespace sbx::policy::testing
