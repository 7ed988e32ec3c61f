// --prune: definitions and pools missing from a section the document has are removed, with the schedule
// marks of removed definitions; a section the document leaves out is never pruned.
#include "site_test_util.hpp"

namespace sbx::site::testing {
namespace {

using ApplyPrune = SiteTest;

Json spec(const std::string& source) {
  return {{"sources", {source}}, {"device", "disk1"}};
}

class ApplyPruneWithState : public SiteTest {
 protected:
  void SetUp() override {
    apply_document({{"pools", {{"a", {{"type", "disk"}, {"devices", {"disk1"}}}}, {"b", {{"type", "tape"}}}}},
                    {"definitions", {{"one", spec("/one")}, {"two", spec("/two")}}}});
    catalog->set_schedule_mark("two", "{}", 42);
  }
};

TEST_F(ApplyPruneWithState, WithoutPruneOthersAreLeftAlone) {
  auto changes = apply_document({{"definitions", {{"one", spec("/one")}}}});
  EXPECT_EQ(summary(changes), "unchanged definition one\n");
  EXPECT_TRUE(catalog->find_definition("two").has_value());
}

TEST_F(ApplyPruneWithState, PruneRemovesWhatTheSectionDoesNotList) {
  auto changes = apply_document({{"definitions", {{"one", spec("/one")}}},
                                 {"pools", {{"a", {{"type", "disk"}, {"devices", {"disk1"}}}}}}},
                                false, true);
  EXPECT_EQ(summary(changes),
            "unchanged pool a\nunchanged definition one\nremove definition two\nremove pool b\n");
  EXPECT_FALSE(catalog->find_definition("two").has_value());
  EXPECT_FALSE(catalog->find_pool("b").has_value());
  EXPECT_FALSE(catalog->schedule_mark("two", "{}").has_value());
}

TEST_F(ApplyPruneWithState, PruneLeavesMissingSectionsAlone) {
  auto changes = apply_document({{"definitions", Json::object()}}, false, true);
  EXPECT_EQ(summary(changes), "remove definition one\nremove definition two\n");
  EXPECT_EQ(catalog->list_pools().size(), 2u);
}

TEST_F(ApplyPruneWithState, DryRunPruneRemovesNothing) {
  const Json before = export_document(*catalog);
  auto changes = apply_document({{"definitions", Json::object()}, {"pools", Json::object()}}, true, true);
  EXPECT_EQ(summary(changes), "remove definition one\nremove definition two\nremove pool a\nremove pool b\n");
  EXPECT_EQ(export_document(*catalog), before);
  EXPECT_EQ(catalog->schedule_mark("two", "{}"), 42);
}

TEST_F(ApplyPruneWithState, PruningAPoolAStoredDefinitionUsesIsRefused) {
  apply_document({{"definitions", {{"pooled", {{"sources", {"/p"}}, {"pool", "a"}}}}}});
  const Json before = export_document(*catalog);
  EXPECT_DEFINITION_ERROR(apply_document({{"pools", Json::object()}}, false, true),
                          "definition 'pooled': pool: no pool named 'a'");
  EXPECT_EQ(export_document(*catalog), before);
}

}  // namespace
}  // namespace sbx::site::testing
