// Policy decisions: every decision names its set, the policy revision and the reasons.
#include <gtest/gtest.h>

#include "catalog_test_util.hpp"

namespace sbx::catalog {
namespace {

using testing::CatalogTest;
using Json = nlohmann::json;

using CatalogDecisions = CatalogTest;

TEST_F(CatalogDecisions, RecordAndListPerSet) {
  int64_t first = complete("full");
  int64_t second = complete("full");
  catalog->record_decision(first, "keep", {{"rule", "gfs.weekly"}}, "3f2a9c1");
  catalog->record_decision(second, "expire", {{"rule", "gfs.daily"}, {"age_days", 9}}, "3f2a9c1");
  catalog->record_decision(first, "expire", Json::array({"past weekly window"}), "sha256:ab12");

  auto all = catalog->list_decisions(std::nullopt);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].set_id, first);
  EXPECT_EQ(all[0].decision, "keep");
  EXPECT_EQ(all[0].revision, "3f2a9c1");
  EXPECT_EQ(all[0].reasons, (Json{{"rule", "gfs.weekly"}}));
  EXPECT_GT(all[0].time_ns, 0);

  auto of_first = catalog->list_decisions(first);
  ASSERT_EQ(of_first.size(), 2u);
  EXPECT_EQ(of_first[1].decision, "expire");
  EXPECT_EQ(of_first[1].revision, "sha256:ab12");
  EXPECT_EQ(catalog->list_decisions(second).at(0).reasons["age_days"], 9);

  // The decision outlives the expiry it ordered.
  catalog->expire_set(second);
  EXPECT_EQ(catalog->list_decisions(second).size(), 1u);
}

TEST_F(CatalogDecisions, BadInputRefused) {
  int64_t set = complete("full");
  EXPECT_CATALOG_ERROR(catalog->record_decision(31337, "keep", Json::object(), "r1"),
                       "no backup set with id 31337");
  EXPECT_CATALOG_ERROR(catalog->record_decision(set, "keep", Json::object(), ""),
                       "policy revision of a decision must not be empty");
  EXPECT_CATALOG_ERROR(catalog->record_decision(set, "", Json::object(), "r1"), "invalid policy decision");
  EXPECT_TRUE(catalog->list_decisions(std::nullopt).empty());
}

}  // namespace
}  // namespace sbx::catalog
