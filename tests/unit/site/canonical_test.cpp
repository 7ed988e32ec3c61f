// The canonical form: defaults filled in, normalized values; validating it again gives it back unchanged, so
// `export` -> `apply` changes nothing.
#include "site_test_util.hpp"

namespace sbx::site::testing {
namespace {

using Canonical = SiteTest;

TEST_F(Canonical, MinimalSpecGetsEveryDefault) {
  EXPECT_EQ(validate(minimal()), (Json{{"kind", "backup"},
                                       {"agent", "files"},
                                       {"sources", {"/home"}},
                                       {"includes", Json::array()},
                                       {"excludes", Json::array()},
                                       {"device", "disk1"},
                                       {"schedules", Json::array()},
                                       {"retention", "default"},
                                       {"stages", Json::array()},
                                       {"encryption", "none"},
                                       {"expire_after_copy", false},
                                       {"priority", 50},
                                       {"retries", {{"attempts", 3}, {"backoff", "5m"}}}}));
}

TEST_F(Canonical, FullSpecIsAFixedPoint) {
  catalog->add_pool("fast", "disk");
  catalog->add_pool_member("fast", "vault");
  catalog->add_pool_member("fast", "vault2");
  Json spec = {
      {"sources", {"/srv/www/", "/etc"}},
      {"excludes", {"*.tmp"}},
      {"pool", "fast"},
      {"time_zone", "Europe/Berlin"},
      {"schedules",
       {{{"when", "daily 22:00"}, {"window", "180m"}},
        {{"when", "weekly sun 02:00"},
         {"method", "full"},
         {"exclude_dates", {"2026-12-27"}},
         {"catch_up", "none"},
         {"time_zone", "UTC"}}}},
      {"stages", {{{"name", "tape"}, {"to", "vault"}, {"after", "24h"}, {"retention", {{"days", 90}}}}}},
      {"encryption", "required"},
      {"priority", 80},
      {"retries", {{"attempts", 5}, {"backoff", "10m"}}},
      {"retention", "tenants/acme"}};
  Json canonical = validate(spec);
  EXPECT_EQ(canonical["sources"], (Json{"/etc", "/srv/www"}));
  EXPECT_EQ(canonical["schedules"][0], (Json{{"when", "daily 22:00"},
                                             {"method", "incremental"},
                                             {"window", "3h"},
                                             {"exclude_dates", Json::array()},
                                             {"catch_up", "last"}}));
  EXPECT_EQ(canonical["stages"][0]["after"], "1d");
  EXPECT_EQ(validate(canonical), canonical);
  // Keys come out sorted, so the stored text (and export) is stable.
  EXPECT_EQ(canonical.dump().find("{\"agent\":"), 0u);
}

TEST_F(Canonical, VerifyIsAFixedPoint) {
  Json canonical =
      validate({{"kind", "verify"}, {"all", true}, {"schedules", {{{"when", "monthly first sat"}}}}});
  EXPECT_EQ(
      canonical,
      (Json{{"kind", "verify"},
            {"all", true},
            {"priority", 50},
            {"retries", {{"attempts", 3}, {"backoff", "5m"}}},
            {"schedules",
             {{{"when", "monthly first sat"}, {"exclude_dates", Json::array()}, {"catch_up", "last"}}}}}));
  EXPECT_EQ(validate(canonical), canonical);
}

}  // namespace
}  // namespace sbx::site::testing
