// Pools as the site sees them: validation of a pool spec, and removal refused while a definition uses it.
#include "site_test_util.hpp"

namespace sbx::site::testing {
namespace {

using SitePools = SiteTest;

TEST_F(SitePools, ValidatePool) {
  EXPECT_EQ(validate_pool("fast", {{"type", "disk"}, {"devices", {"disk2", "disk1"}}}, *catalog),
            (Json{{"type", "disk"}, {"devices", {"disk2", "disk1"}}}));
  EXPECT_EQ(validate_pool("fast", {{"type", "disk"}}, *catalog),
            (Json{{"type", "disk"}, {"devices", Json::array()}}));
  EXPECT_DEFINITION_ERROR(validate_pool("fast", {{"devices", {"disk1"}}}, *catalog),
                          "pool 'fast': type: is required");
  EXPECT_DEFINITION_ERROR(validate_pool("fast", {{"type", "di/sk"}}, *catalog),
                          "pool 'fast': type: invalid device type 'di/sk'");
  EXPECT_DEFINITION_ERROR(validate_pool("pool:x", {{"type", "disk"}}, *catalog),
                          "invalid pool name 'pool:x'");
  EXPECT_DEFINITION_ERROR(
      validate_pool("fast", {{"type", "disk"}, {"devices", {"disk1", "tape1"}}}, *catalog),
      "pool 'fast': devices[1]: pool 'fast' holds disk devices; device 'tape1' is of type 'tape'");
  EXPECT_DEFINITION_ERROR(validate_pool("fast", {{"type", "disk"}, {"devices", "disk1"}}, *catalog),
                          "pool 'fast': devices: must be a list of strings, not string");
  EXPECT_DEFINITION_ERROR(validate_pool("fast", {{"type", "disk"}, {"members", {"disk1"}}}, *catalog),
                          "pool 'fast': unknown key 'members' (known keys: type, devices)");
}

TEST_F(SitePools, RemoveRefusedWhileUsed) {
  catalog->add_pool("fast", "disk");
  catalog->add_pool_member("fast", "disk1");
  catalog->add_pool("archive", "tape");
  catalog->add_pool_member("archive", "tape1");
  Json pooled = minimal();
  pooled.erase("device");
  pooled["pool"] = "fast";
  catalog->put_definition("web", validate(pooled));
  Json staged = minimal();
  staged["stages"] = {{{"name", "t"}, {"to", "pool:archive"}, {"retention", {{"days", 1}}}}};
  catalog->put_definition("db", validate(staged, "db"));

  EXPECT_EQ(definitions_using_pool(*catalog, "fast"), std::vector<std::string>{"web"});
  EXPECT_EQ(definitions_using_pool(*catalog, "archive"), std::vector<std::string>{"db"});
  EXPECT_EQ(definitions_using_device(*catalog, "disk1"), std::vector<std::string>{"db"});
  EXPECT_DEFINITION_ERROR(remove_pool(*catalog, "fast"),
                          "pool 'fast' is a target of definition 'web'; change or remove it first");
  EXPECT_DEFINITION_ERROR(remove_pool(*catalog, "archive"), "pool 'archive' is a target of definition 'db'");
  EXPECT_DEFINITION_ERROR(remove_pool(*catalog, "nope"), "no pool named 'nope'");
  EXPECT_TRUE(catalog->find_pool("fast").has_value());
  catalog->remove_definition("web");
  remove_pool(*catalog, "fast");
  EXPECT_FALSE(catalog->find_pool("fast").has_value());
}

}  // namespace
}  // namespace sbx::site::testing
