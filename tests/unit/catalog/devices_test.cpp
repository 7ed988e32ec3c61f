// Servers, devices and media: unique names, validation, and removal that refuses while sets live on a device.
#include <gtest/gtest.h>

#include "catalog_test_util.hpp"

namespace sbx::catalog {
namespace {

using testing::CatalogTest;
using Json = nlohmann::json;

using CatalogDevices = CatalogTest;

TEST_F(CatalogDevices, AddFindAndList) {
  int64_t tape = catalog->add_device("tape-lib.2", "tape", {{"changer", "/dev/sch0"}, {"drives", 2}});
  auto found = catalog->find_device("tape-lib.2");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, tape);
  EXPECT_EQ(found->type, "tape");
  EXPECT_EQ(found->settings, (Json{{"changer", "/dev/sch0"}, {"drives", 2}}));
  EXPECT_GT(found->created_ns, 0);
  EXPECT_FALSE(found->removed_ns.has_value());
  EXPECT_EQ(catalog->device(tape).name, "tape-lib.2");
  EXPECT_FALSE(catalog->find_device("nope").has_value());
  EXPECT_CATALOG_ERROR(catalog->device(999), "no device with id 999");

  auto devices = catalog->list_devices();
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].name, "disk1");
  EXPECT_EQ(devices[1].name, "tape-lib.2");
}

TEST_F(CatalogDevices, DuplicateNameRefused) {
  EXPECT_CATALOG_ERROR(catalog->add_device("disk1", "disk", Json::object()), "device 'disk1' already exists");
  EXPECT_EQ(catalog->list_devices().size(), 1u);
}

TEST_F(CatalogDevices, HostileNamesAndSettingsRefused) {
  for (const std::string& name :
       {std::string(), std::string("has space"), std::string("a/b"), std::string("-x"), std::string("x\n"),
        std::string("\xff"), std::string(65, 'a')}) {
    EXPECT_CATALOG_ERROR(catalog->add_device(name, "disk", Json::object()), "invalid device name");
  }
  EXPECT_CATALOG_ERROR(catalog->add_device("disk2", "../evil", Json::object()), "invalid device type");
  EXPECT_CATALOG_ERROR(catalog->add_device("disk2", "disk", Json::array()),
                       "must be a JSON object, not array");
  EXPECT_CATALOG_ERROR(catalog->add_device("disk2", "disk", {{"path", "/srv/\xff"}}), "not valid UTF-8");
  EXPECT_EQ(catalog->list_devices().size(), 1u);
}

TEST_F(CatalogDevices, RemoveRefusedWhileSetsLiveOnIt) {
  int64_t writing = begin("full");
  EXPECT_CATALOG_ERROR(catalog->remove_device("disk1"),
                       "device 'disk1' still holds 1 backup set(s) that are not expired (set " +
                           std::to_string(writing) + ")");
  catalog->complete_set(writing, 0, 0, 0, 0);
  int64_t second = complete("full");
  EXPECT_CATALOG_ERROR(catalog->remove_device("disk1"), "still holds 2 backup set(s)");
  catalog->expire_set(writing);
  catalog->expire_set(second);

  catalog->remove_device("disk1");
  EXPECT_FALSE(catalog->find_device("disk1").has_value());
  EXPECT_TRUE(catalog->list_devices().empty());
  // History keeps naming the removed device.
  Device removed = catalog->device(disk);
  EXPECT_EQ(removed.name, "disk1");
  EXPECT_TRUE(removed.removed_ns.has_value());
  EXPECT_EQ(catalog->find_set(second)->device_id, disk);

  int64_t again = catalog->add_device("disk1", "disk", Json::object());
  EXPECT_NE(again, disk);
  EXPECT_CATALOG_ERROR(catalog->remove_device("nope"), "no device named 'nope'");
}

TEST_F(CatalogDevices, NewSetsRefusedOnRemovedDevice) {
  catalog->remove_device("disk1");
  EXPECT_CATALOG_ERROR(begin("full"), "device 'disk1' (id " + std::to_string(disk) + ") was removed");
}

TEST_F(CatalogDevices, Media) {
  int64_t tape = catalog->add_device("tape1", "tape", Json::object());
  int64_t first = catalog->add_medium(tape, "A00001L8");
  int64_t second = catalog->add_medium(tape, "A00002L8");
  int64_t on_disk = catalog->add_medium(disk, "A00001L8");  // labels are unique per device only
  EXPECT_CATALOG_ERROR(catalog->add_medium(tape, "A00001L8"), "already has a medium labelled 'A00001L8'");
  EXPECT_CATALOG_ERROR(catalog->add_medium(tape, "bad label"), "invalid medium label");
  EXPECT_CATALOG_ERROR(catalog->add_medium(777, "A00003L8"), "no device with id 777");

  auto media = catalog->list_media(tape);
  ASSERT_EQ(media.size(), 2u);
  EXPECT_EQ(media[0].id, first);
  EXPECT_EQ(media[0].label, "A00001L8");
  EXPECT_EQ(media[0].state, "available");
  EXPECT_EQ(media[0].device_id, tape);
  EXPECT_EQ(media[1].id, second);
  EXPECT_EQ(catalog->list_media(std::nullopt).size(), 3u);
  EXPECT_EQ(catalog->list_media(disk).at(0).id, on_disk);
}

TEST_F(CatalogDevices, ServersAreUpserted) {
  int64_t id = catalog->ensure_server("backup01.example.com", "standalone");
  EXPECT_EQ(catalog->ensure_server("backup01.example.com", "central"), id);
  int64_t other = catalog->ensure_server("backup02", "managed");
  EXPECT_NE(other, id);
  auto servers = catalog->list_servers();
  ASSERT_EQ(servers.size(), 2u);
  EXPECT_EQ(servers[0].name, "backup01.example.com");
  EXPECT_EQ(servers[0].role, "central");
  EXPECT_CATALOG_ERROR(catalog->ensure_server("backup03", "boss"), "invalid server role 'boss'");
  EXPECT_CATALOG_ERROR(catalog->ensure_server("a b", "managed"), "invalid server name");
}

}  // namespace
}  // namespace sbx::catalog
