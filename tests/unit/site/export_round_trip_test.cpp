// export -> apply changes nothing, also into a fresh catalog with the same devices, and after a document
// written with non-canonical forms.
#include "site_test_util.hpp"

namespace sbx::site::testing {
namespace {

using ExportRoundTrip = SiteTest;

const Json kDocument = {
    {"devices", {{"disk1", {{"max_jobs", 3}}}, {"tape1", {{"enabled", false}}}}},
    {"pools", {{"fast", {{"type", "disk"}, {"devices", {"disk2", "disk1"}}}}, {"empty", {{"type", "tape"}}}}},
    {"definitions",
     {{"web",
       {{"sources", {"/srv/www/", "/etc//nginx"}},
        {"pool", "fast"},
        {"time_zone", "Europe/Berlin"},
        {"schedules",
         {{{"when", "daily 22:00"}, {"window", "120m"}}, {{"when", "0 3 * * 0"}, {"method", "full"}}}},
        {"stages", {{{"name", "tape"}, {"to", "tape1"}, {"after", "1440m"}, {"retention", {{"days", 365}}}}}},
        {"retries", {{"backoff", "300s"}}}}},
      {"check", {{"kind", "verify"}, {"all", true}, {"schedules", {{{"when", "monthly first sat"}}}}}}}}};

TEST_F(ExportRoundTrip, ExportIsCanonicalAndReappliesUnchanged) {
  apply_document(kDocument);
  Json exported = export_document(*catalog);
  EXPECT_EQ(exported["definitions"]["web"]["schedules"][0]["window"], "2h");
  EXPECT_EQ(exported["definitions"]["web"]["sources"], (Json{"/etc/nginx", "/srv/www"}));
  EXPECT_EQ(exported["pools"]["empty"], (Json{{"type", "tape"}, {"devices", Json::array()}}));
  EXPECT_EQ(exported["devices"]["vault"], (Json{{"enabled", true}, {"max_jobs", 1}}));

  const size_t audit_entries = catalog->list_audit(0).size();
  for (const auto& change : apply_document(exported)) {
    EXPECT_EQ(change.action, "unchanged") << change.kind << " " << change.name << ": " << change.detail;
  }
  // The original, non-canonical document also matches what it stored.
  for (const auto& change : apply_document(kDocument)) {
    EXPECT_EQ(change.action, "unchanged") << change.kind << " " << change.name << ": " << change.detail;
  }
  EXPECT_EQ(export_document(*catalog), exported);
  EXPECT_EQ(catalog->list_audit(0).size(), audit_entries);
}

TEST_F(ExportRoundTrip, ExportRebuildsTheSameSiteElsewhere) {
  apply_document(kDocument);
  Json exported = export_document(*catalog);

  TempDir other;
  auto copy = catalog::Catalog::open(other.path() / "catalog.db", catalog::Catalog::Mode::create);
  for (const auto& device : catalog->list_devices())
    copy->add_device(device.name, device.type, device.settings);
  apply(*copy, registry, policies, exported, false, false);
  EXPECT_EQ(export_document(*copy), exported);
}

TEST_F(ExportRoundTrip, EmptySiteExportsEmptySections) {
  Json exported = export_document(*catalog);
  EXPECT_TRUE(exported["definitions"].empty());
  EXPECT_TRUE(exported["pools"].empty());
  EXPECT_EQ(exported["devices"].size(), 5u);
  for (const auto& change : apply_document(exported)) EXPECT_EQ(change.action, "unchanged");
}

}  // namespace
}  // namespace sbx::site::testing
