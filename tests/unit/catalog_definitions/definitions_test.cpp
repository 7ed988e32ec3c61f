// Backup definitions: stored as given, replaced only when the spec differs, removed with their schedule
// marks.
#include <gtest/gtest.h>

#include "catalog_test_util.hpp"

namespace sbx::catalog {
namespace {

using testing::CatalogTest;
using Json = nlohmann::json;

using CatalogDefinitions = CatalogTest;

const Json kSpec = {{"sources", {"/home"}}, {"device", "disk1"}, {"priority", 50}};

TEST_F(CatalogDefinitions, PutFindAndList) {
  EXPECT_TRUE(catalog->put_definition("web", kSpec));
  EXPECT_TRUE(catalog->put_definition("db", {{"sources", {"/var/lib/db"}}}));
  auto web = catalog->find_definition("web");
  ASSERT_TRUE(web.has_value());
  EXPECT_EQ(web->name, "web");
  EXPECT_EQ(web->spec, kSpec);
  EXPECT_GT(web->created_ns, 0);
  EXPECT_EQ(web->updated_ns, web->created_ns);
  EXPECT_FALSE(catalog->find_definition("nope").has_value());
  auto all = catalog->list_definitions();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "db");
  EXPECT_EQ(all[1].name, "web");
}

TEST_F(CatalogDefinitions, EqualSpecChangesNothing) {
  ASSERT_TRUE(catalog->put_definition("web", kSpec));
  auto before = catalog->find_definition("web");
  EXPECT_FALSE(catalog->put_definition("web", kSpec));
  auto after = catalog->find_definition("web");
  EXPECT_EQ(after->updated_ns, before->updated_ns);
  EXPECT_EQ(after->id, before->id);
}

TEST_F(CatalogDefinitions, DifferentSpecReplacesAndKeepsIdentity) {
  ASSERT_TRUE(catalog->put_definition("web", kSpec));
  auto before = catalog->find_definition("web");
  Json changed = kSpec;
  changed["priority"] = 90;
  EXPECT_TRUE(catalog->put_definition("web", changed));
  auto after = catalog->find_definition("web");
  EXPECT_EQ(after->spec, changed);
  EXPECT_EQ(after->id, before->id);
  EXPECT_EQ(after->created_ns, before->created_ns);
  EXPECT_GE(after->updated_ns, before->updated_ns);
  // A number that prints differently is still a different spec ("90" is not 90).
  changed["priority"] = "90";
  EXPECT_TRUE(catalog->put_definition("web", changed));
  EXPECT_EQ(catalog->find_definition("web")->spec["priority"], "90");
}

TEST_F(CatalogDefinitions, HostileNamesAndSpecsRefused) {
  for (const std::string& name : {std::string(), std::string("a b"), std::string("a/b"), std::string(".x"),
                                  std::string("x\n"), std::string("\xff"), std::string(65, 'd')}) {
    EXPECT_CATALOG_ERROR(catalog->put_definition(name, kSpec), "invalid definition name");
  }
  EXPECT_CATALOG_ERROR(catalog->put_definition("web", Json::array()), "must be a JSON object, not array");
  EXPECT_CATALOG_ERROR(catalog->put_definition("web", "text"), "must be a JSON object, not string");
  EXPECT_CATALOG_ERROR(catalog->put_definition("web", {{"sources", {"/srv/\xff"}}}), "not valid UTF-8");
  EXPECT_TRUE(catalog->list_definitions().empty());
}

TEST_F(CatalogDefinitions, RemoveTakesTheScheduleMarksAlong) {
  catalog->put_definition("web", kSpec);
  catalog->put_definition("db", kSpec);
  catalog->set_schedule_mark("web", "daily 22:00", 1000);
  catalog->set_schedule_mark("db", "daily 22:00", 2000);
  catalog->remove_definition("web");
  EXPECT_FALSE(catalog->find_definition("web").has_value());
  EXPECT_FALSE(catalog->schedule_mark("web", "daily 22:00").has_value());
  EXPECT_EQ(catalog->schedule_mark("db", "daily 22:00"), 2000);
  EXPECT_CATALOG_ERROR(catalog->remove_definition("web"), "no definition named 'web'");
}

TEST_F(CatalogDefinitions, SpecRoundTripsExactly) {
  Json spec = {{"sources", {"/home/\xc3\xa9t\xc3\xa9", "/srv"}},
               {"schedules", Json::array({{{"when", "daily 22:00"}, {"method", "full"}}})},
               {"retries", {{"attempts", 3}, {"backoff", "5m"}}},
               {"nested", {{"empty", Json::object()}, {"list", Json::array()}, {"null", nullptr}}}};
  catalog->put_definition("web", spec);
  auto reopened = Catalog::open(file, Catalog::Mode::open_existing);
  EXPECT_EQ(reopened->find_definition("web")->spec, spec);
}

}  // namespace
}  // namespace sbx::catalog
