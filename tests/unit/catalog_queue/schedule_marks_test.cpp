#include "catalog_test_util.hpp"

using namespace sbx::catalog;
using namespace sbx::catalog::testing;

TEST(CatalogScheduleMarks, MarksPersistPerDefinitionAndScheduleAndGoWithTheDefinition) {
  TempDir dir;
  {
    auto c = Catalog::open(dir.path() / "catalog.db", Catalog::Mode::create);
    EXPECT_FALSE(c->schedule_mark("web", "daily 22:00"));
    c->set_schedule_mark("web", "daily 22:00", 100);
    c->set_schedule_mark("web", "hourly", 200);
    c->set_schedule_mark("db", "daily 22:00", 300);
    c->set_schedule_mark("web", "daily 22:00", 150);
  }
  auto c = Catalog::open(dir.path() / "catalog.db", Catalog::Mode::open_existing);
  EXPECT_EQ(c->schedule_mark("web", "daily 22:00"), 150);
  EXPECT_EQ(c->schedule_mark("web", "hourly"), 200);
  c->remove_schedule_marks("web");
  EXPECT_FALSE(c->schedule_mark("web", "daily 22:00"));
  EXPECT_FALSE(c->schedule_mark("web", "hourly"));
  EXPECT_EQ(c->schedule_mark("db", "daily 22:00"), 300);
}
