// schedules: every field's bad cases are named by their path; equal schedules are refused (they would share
// the server's schedule mark).
#include "site_test_util.hpp"

namespace sbx::site::testing {
namespace {

using ValidateSchedules = SiteTest;

Json one(const Json& schedule) {
  return Json::array({schedule});
}

TEST_F(ValidateSchedules, BadWhenNamesTheScheduleAndTheProblem) {
  Json schedules = {{{"when", "daily 22:00"}}, {{"when", "daily 25:00"}}};
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "schedules", schedules)),
                          "definition 'web': schedules[1].when: hour 25 is out of range 0-23");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "schedules", one({{"when", "0 22 * *"}}))),
                          "schedules[0].when: ");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "schedules", one({{"when", "fortnightly"}}))),
                          "schedules[0].when: ");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "schedules", one({{"method", "full"}}))),
                          "schedules[0].when: is required");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "schedules", one({{"when", 22}}))),
                          "schedules[0].when: must be a string, not number");
}

TEST_F(ValidateSchedules, ShapeOfTheList) {
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "schedules", "daily 22:00")),
                          "schedules: must be a list, not string");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "schedules", {"daily 22:00"})),
                          "schedules[0]: must be a JSON object, not string");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "schedules", one({{"when", "daily 22:00"}, {"at", "x"}}))),
                          "schedules[0]: unknown key 'at' (known keys: when, method, window");
}

TEST_F(ValidateSchedules, Method) {
  auto canonical = validate(with(minimal(), "schedules", one({{"when", "daily 22:00"}})));
  EXPECT_EQ(canonical["schedules"][0]["method"], "incremental");
  for (const char* method : {"full", "incremental", "differential", "synthetic"}) {
    auto spec = validate(with(minimal(), "schedules", one({{"when", "daily 22:00"}, {"method", method}})));
    EXPECT_EQ(spec["schedules"][0]["method"], method);
  }
  EXPECT_DEFINITION_ERROR(
      validate(with(minimal(), "schedules", one({{"when", "daily 22:00"}, {"method", "snapshot"}}))),
      "schedules[0].method: 'snapshot' is not one of: full, incremental, differential, synthetic");
  EXPECT_DEFINITION_ERROR(validate({{"kind", "verify"},
                                    {"all", true},
                                    {"schedules", one({{"when", "daily 22:00"}, {"method", "full"}})}}),
                          "schedules[0].method: a verify schedule has no method");
}

TEST_F(ValidateSchedules, Window) {
  auto spec = validate(with(minimal(), "schedules", one({{"when", "daily 22:00"}, {"window", "120m"}})));
  EXPECT_EQ(spec["schedules"][0]["window"], "2h");
  EXPECT_DEFINITION_ERROR(
      validate(with(minimal(), "schedules", one({{"when", "daily 22:00"}, {"window", "0s"}}))),
      "schedules[0].window: must be longer than 0s");
  EXPECT_DEFINITION_ERROR(
      validate(with(minimal(), "schedules", one({{"when", "daily 22:00"}, {"window", "-2h"}}))),
      "schedules[0].window: must not be negative");
  EXPECT_DEFINITION_ERROR(
      validate(with(minimal(), "schedules", one({{"when", "daily 22:00"}, {"window", "2x"}}))),
      "schedules[0].window: unknown unit");
  EXPECT_DEFINITION_ERROR(
      validate(with(minimal(), "schedules", one({{"when", "daily 22:00"}, {"window", 2}}))),
      "schedules[0].window: must be a string, not number");
}

TEST_F(ValidateSchedules, TimeZones) {
  auto spec = validate(with(with(minimal(), "time_zone", "Europe/Berlin"), "schedules",
                            one({{"when", "daily 22:00"}, {"time_zone", "America/New_York"}})));
  EXPECT_EQ(spec["time_zone"], "Europe/Berlin");
  EXPECT_EQ(spec["schedules"][0]["time_zone"], "America/New_York");
  EXPECT_DEFINITION_ERROR(
      validate(with(minimal(), "schedules", one({{"when", "daily 22:00"}, {"time_zone", "Mars/Olympus"}}))),
      "schedules[0].time_zone: unknown time zone");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "time_zone", "Europe/Nowhere")),
                          "definition 'web': time_zone: unknown time zone");
}

TEST_F(ValidateSchedules, ExcludedDates) {
  auto spec = validate(
      with(minimal(), "schedules",
           one({{"when", "daily 22:00"}, {"exclude_dates", {"2026-12-25", "2026-12-30..2027-01-02"}}})));
  EXPECT_EQ(spec["schedules"][0]["exclude_dates"], (Json{"2026-12-25", "2026-12-30..2027-01-02"}));
  EXPECT_EQ(
      validate(with(minimal(), "schedules", one({{"when", "daily 22:00"}})))["schedules"][0]["exclude_dates"],
      Json::array());
  EXPECT_DEFINITION_ERROR(
      validate(with(minimal(), "schedules",
                    one({{"when", "daily 22:00"}, {"exclude_dates", {"2026-12-25", "xmas"}}}))),
      "schedules[0].exclude_dates[1]: excluded date \"xmas\" is not a date");
  EXPECT_DEFINITION_ERROR(
      validate(with(minimal(), "schedules",
                    one({{"when", "daily 22:00"}, {"exclude_dates", {"2027-01-02..2026-12-30"}}}))),
      "schedules[0].exclude_dates[0]: ");
}

TEST_F(ValidateSchedules, CatchUp) {
  EXPECT_EQ(
      validate(with(minimal(), "schedules", one({{"when", "daily 22:00"}})))["schedules"][0]["catch_up"],
      "last");
  EXPECT_DEFINITION_ERROR(
      validate(with(minimal(), "schedules", one({{"when", "daily 22:00"}, {"catch_up", "some"}}))),
      "schedules[0].catch_up: 'some' is not one of: last, all, none");
}

TEST_F(ValidateSchedules, EqualSchedulesRefused) {
  Json schedules = {{{"when", "daily 22:00"}},
                    {{"when", "weekly sun 02:00"}, {"method", "full"}},
                    {{"when", "daily 22:00"}, {"method", "incremental"}}};
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "schedules", schedules)),
                          "schedules[2]: is the same as schedules[0]");
  schedules[2]["method"] = "differential";
  EXPECT_NO_THROW(validate(with(minimal(), "schedules", schedules)));
}

}  // namespace
}  // namespace sbx::site::testing
