// Device pools: one storage type per pool, members in order, each device at most once per pool, and a
// device cannot leave the catalog while a pool holds it.
#include <gtest/gtest.h>

#include "catalog_test_util.hpp"

namespace sbx::catalog {
namespace {

using Json = nlohmann::json;

class CatalogPools : public testing::CatalogTest {
 protected:
  void SetUp() override {
    catalog->add_device("disk2", "disk", Json::object());
    catalog->add_device("disk3", "disk", Json::object());
    catalog->add_device("tape1", "tape", Json::object());
  }
};

TEST_F(CatalogPools, MembersKeepTheOrderTheyWereAddedIn) {
  int64_t id = catalog->add_pool("fast", "disk");
  catalog->add_pool_member("fast", "disk3");
  catalog->add_pool_member("fast", "disk1");
  catalog->add_pool_member("fast", "disk2");
  auto pool = catalog->find_pool("fast");
  ASSERT_TRUE(pool.has_value());
  EXPECT_EQ(pool->id, id);
  EXPECT_EQ(pool->type, "disk");
  EXPECT_GT(pool->created_ns, 0);
  EXPECT_EQ(pool->members, (std::vector<std::string>{"disk3", "disk1", "disk2"}));

  catalog->remove_pool_member("fast", "disk1");
  catalog->add_pool_member("fast", "disk1");
  EXPECT_EQ(catalog->find_pool("fast")->members, (std::vector<std::string>{"disk3", "disk2", "disk1"}));
}

TEST_F(CatalogPools, ListIsByNameAndShowsEmptyPools) {
  catalog->add_pool("slow", "disk");
  catalog->add_pool("archive", "tape");
  catalog->add_pool("fast", "disk");
  catalog->add_pool_member("archive", "tape1");
  catalog->add_pool_member("fast", "disk2");
  catalog->add_pool_member("fast", "disk1");
  auto pools = catalog->list_pools();
  ASSERT_EQ(pools.size(), 3u);
  EXPECT_EQ(pools[0].name, "archive");
  EXPECT_EQ(pools[0].members, std::vector<std::string>{"tape1"});
  EXPECT_EQ(pools[1].name, "fast");
  EXPECT_EQ(pools[1].members, (std::vector<std::string>{"disk2", "disk1"}));
  EXPECT_EQ(pools[2].name, "slow");
  EXPECT_TRUE(pools[2].members.empty());
  EXPECT_FALSE(catalog->find_pool("nope").has_value());
}

TEST_F(CatalogPools, DeviceOfAnotherTypeRefused) {
  catalog->add_pool("fast", "disk");
  EXPECT_CATALOG_ERROR(catalog->add_pool_member("fast", "tape1"),
                       "pool 'fast' holds disk devices; device 'tape1' is of type 'tape'");
  EXPECT_TRUE(catalog->find_pool("fast")->members.empty());
}

TEST_F(CatalogPools, SameDeviceTwiceRefusedButSeveralPoolsAllowed) {
  catalog->add_pool("fast", "disk");
  catalog->add_pool("all-disks", "disk");
  catalog->add_pool_member("fast", "disk1");
  EXPECT_CATALOG_ERROR(catalog->add_pool_member("fast", "disk1"), "device 'disk1' is already in pool 'fast'");
  catalog->add_pool_member("all-disks", "disk1");
  EXPECT_EQ(catalog->find_pool("fast")->members, std::vector<std::string>{"disk1"});
  EXPECT_EQ(catalog->find_pool("all-disks")->members, std::vector<std::string>{"disk1"});
}

TEST_F(CatalogPools, UnknownNamesAndBadNamesRefused) {
  EXPECT_CATALOG_ERROR(catalog->add_pool_member("nope", "disk1"), "no pool named 'nope'");
  catalog->add_pool("fast", "disk");
  EXPECT_CATALOG_ERROR(catalog->add_pool("fast", "disk"), "pool 'fast' already exists");
  EXPECT_CATALOG_ERROR(catalog->add_pool_member("fast", "disk9"), "no device named 'disk9'");
  EXPECT_CATALOG_ERROR(catalog->remove_pool_member("fast", "disk1"), "device 'disk1' is not in pool 'fast'");
  EXPECT_CATALOG_ERROR(catalog->remove_pool_member("fast", "disk9"), "no device named 'disk9'");
  EXPECT_CATALOG_ERROR(catalog->remove_pool("nope"), "no pool named 'nope'");
  for (const std::string& name : {std::string(), std::string("a b"), std::string("pool:x"),
                                  std::string("../x"), std::string("x\n"), std::string(65, 'p')}) {
    EXPECT_CATALOG_ERROR(catalog->add_pool(name, "disk"), "invalid pool name");
  }
  EXPECT_CATALOG_ERROR(catalog->add_pool("ok", "di sk"), "invalid pool type");
  EXPECT_EQ(catalog->list_pools().size(), 1u);
}

TEST_F(CatalogPools, RemovingAPoolKeepsItsDevices) {
  catalog->add_pool("fast", "disk");
  catalog->add_pool_member("fast", "disk1");
  catalog->remove_pool("fast");
  EXPECT_FALSE(catalog->find_pool("fast").has_value());
  EXPECT_TRUE(catalog->find_device("disk1").has_value());
  EXPECT_EQ(testing::query_int(file, "SELECT count(*) FROM pool_members"), 0);
  // The name is free again, and the new pool starts empty.
  catalog->add_pool("fast", "tape");
  EXPECT_TRUE(catalog->find_pool("fast")->members.empty());
}

TEST_F(CatalogPools, DeviceRemovalRefusedWhileInAPool) {
  catalog->add_pool("fast", "disk");
  catalog->add_pool("all-disks", "disk");
  catalog->add_pool_member("fast", "disk2");
  catalog->add_pool_member("all-disks", "disk2");
  EXPECT_CATALOG_ERROR(catalog->remove_device("disk2"),
                       "device 'disk2' is in pool 'all-disks', 'fast'; take it out first (strongbox pools "
                       "remove-device POOL disk2)");
  EXPECT_TRUE(catalog->find_device("disk2").has_value());
  catalog->remove_pool_member("fast", "disk2");
  catalog->remove_pool_member("all-disks", "disk2");
  catalog->remove_device("disk2");
  EXPECT_FALSE(catalog->find_device("disk2").has_value());
}

TEST_F(CatalogPools, FailedMemberChangeInsideATransactionRollsBack) {
  catalog->add_pool("fast", "disk");
  EXPECT_THROW(catalog->transaction([&] {
    catalog->add_pool_member("fast", "disk1");
    catalog->add_pool_member("fast", "tape1");
  }),
               CatalogError);
  EXPECT_TRUE(catalog->find_pool("fast")->members.empty());
}

}  // namespace
}  // namespace sbx::catalog
