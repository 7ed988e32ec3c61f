// The audit log: who did what, newest first, with JSON details.
#include <gtest/gtest.h>

#include "catalog_test_util.hpp"

namespace sbx::catalog {
namespace {

using testing::CatalogTest;
using Json = nlohmann::json;

using CatalogAudit = CatalogTest;

TEST_F(CatalogAudit, EntriesComeBackNewestFirst) {
  catalog->audit("root", "device.add", {{"name", "disk2"}, {"type", "disk"}});
  catalog->audit("alice", "set.expire", {{"set", 7}, {"dry_run", false}});
  catalog->audit("bob", "restore", Json::object());

  auto all = catalog->list_audit(0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].actor, "bob");
  EXPECT_EQ(all[1].action, "set.expire");
  EXPECT_EQ(all[1].details, (Json{{"set", 7}, {"dry_run", false}}));
  EXPECT_EQ(all[2].actor, "root");
  EXPECT_GT(all[2].time_ns, 0);
  EXPECT_LT(all[2].id, all[0].id);

  auto recent = catalog->list_audit(2);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].actor, "bob");
  EXPECT_EQ(recent[1].actor, "alice");
}

TEST_F(CatalogAudit, MissingActorOrActionRefused) {
  EXPECT_CATALOG_ERROR(catalog->audit("", "x", Json::object()), "actor of an audit entry must not be empty");
  EXPECT_CATALOG_ERROR(catalog->audit("root", "", Json::object()),
                       "action of an audit entry must not be empty");
  EXPECT_TRUE(catalog->list_audit(0).empty());
}

}  // namespace
}  // namespace sbx::catalog
