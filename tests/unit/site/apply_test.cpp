// apply: reports every item, changes only what differs, and changes nothing at all when anything is invalid.
#include "site_test_util.hpp"

namespace sbx::site::testing {
namespace {

using Apply = SiteTest;

Json document() {
  return {
      {"devices", {{"disk2", {{"max_jobs", 2}}}}},
      {"pools", {{"fast", {{"type", "disk"}, {"devices", {"disk1", "disk2"}}}}}},
      {"definitions",
       {{"web", {{"sources", {"/srv/www"}}, {"pool", "fast"}, {"schedules", {{{"when", "daily 22:00"}}}}}},
        {"db", {{"sources", {"/var/lib/db"}}, {"device", "disk1"}, {"priority", 90}}}}}};
}

TEST_F(Apply, FirstApplyAddsEverything) {
  auto changes = apply_document(document());
  EXPECT_EQ(summary(changes), "change device disk2\nadd pool fast\nadd definition db\nadd definition web\n");
  EXPECT_EQ(changes[0].detail, "max_jobs 1 -> 2");
  EXPECT_EQ(changes[1].detail, "type disk, members disk1,disk2");
  EXPECT_EQ(catalog->find_device("disk2")->max_jobs, 2);
  EXPECT_EQ(catalog->find_pool("fast")->members, (std::vector<std::string>{"disk1", "disk2"}));
  EXPECT_EQ(catalog->find_definition("web")->spec, validate(document()["definitions"]["web"]));
  EXPECT_EQ(catalog->find_definition("db")->spec["priority"], 90);
  auto audit = catalog->list_audit(1);
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "apply");
  EXPECT_EQ(audit[0].details["changes"].size(), 4u);
}

TEST_F(Apply, SecondApplyChangesNothing) {
  apply_document(document());
  auto before = catalog->find_definition("web");
  size_t audit_entries = catalog->list_audit(0).size();
  auto changes = apply_document(document());
  EXPECT_EQ(
      summary(changes),
      "unchanged device disk2\nunchanged pool fast\nunchanged definition db\nunchanged definition web\n");
  EXPECT_EQ(catalog->find_definition("web")->updated_ns, before->updated_ns);
  EXPECT_EQ(catalog->list_audit(0).size(), audit_entries);
}

TEST_F(Apply, ChangesAreDescribed) {
  apply_document(document());
  Json next = document();
  next["pools"]["fast"]["devices"] = {"disk2", "disk1"};
  next["definitions"]["db"]["priority"] = 10;
  next["definitions"]["db"]["excludes"] = {"*.log"};
  next["devices"]["disk2"] = {{"max_jobs", 2}, {"enabled", false}};
  auto changes = apply_document(next);
  EXPECT_EQ(summary(changes),
            "change device disk2\nchange pool fast\nchange definition db\nunchanged definition web\n");
  EXPECT_EQ(changes[0].detail, "enabled true -> false");
  EXPECT_EQ(changes[1].detail, "members disk1,disk2 -> disk2,disk1");
  EXPECT_EQ(changes[2].detail, "changed: excludes, priority");
  EXPECT_EQ(catalog->find_pool("fast")->members, (std::vector<std::string>{"disk2", "disk1"}));
  EXPECT_FALSE(catalog->find_device("disk2")->enabled);
}

TEST_F(Apply, PoolTypeChangeRebuildsThePool) {
  apply_document({{"pools", {{"p", {{"type", "disk"}, {"devices", {"disk1"}}}}}}});
  auto changes = apply_document({{"pools", {{"p", {{"type", "tape"}, {"devices", {"tape1"}}}}}}});
  EXPECT_EQ(changes[0].detail, "type disk -> tape, members disk1 -> tape1");
  EXPECT_EQ(catalog->find_pool("p")->type, "tape");
  EXPECT_EQ(catalog->find_pool("p")->members, std::vector<std::string>{"tape1"});
}

TEST_F(Apply, DryRunChangesNothing) {
  Json before = export_document(*catalog);
  auto changes = apply_document(document(), true);
  EXPECT_EQ(summary(changes), "change device disk2\nadd pool fast\nadd definition db\nadd definition web\n");
  EXPECT_EQ(export_document(*catalog), before);
  EXPECT_TRUE(catalog->list_audit(0).empty());
}

// Each document is valid except for one item; after applying it the catalog must be exactly as before.
TEST_F(Apply, AnyInvalidItemMeansNothingChanged) {
  apply_document(document());
  const Json before = export_document(*catalog);
  const size_t audit_entries = catalog->list_audit(0).size();
  struct Case {
    const char* what;
    std::function<void(Json&)> spoil;
    const char* error;
  };
  std::vector<Case> cases = {
      {"bad schedule", [](Json& d) { d["definitions"]["web"]["schedules"][0]["when"] = "daily 24:30"; },
       "definition 'web': schedules[0].when: "},
      {"unknown device in pool", [](Json& d) { d["pools"]["fast"]["devices"].push_back("disk9"); },
       "pool 'fast': devices[2]: no device named 'disk9'"},
      {"mixed pool", [](Json& d) { d["pools"]["fast"]["devices"].push_back("tape1"); },
       "pool 'fast': devices[2]: pool 'fast' holds disk devices; device 'tape1' is of type 'tape'"},
      {"device listed twice", [](Json& d) { d["pools"]["fast"]["devices"].push_back("disk1"); },
       "devices[2]: device 'disk1' is listed twice"},
      {"unknown device limits",
       [](Json& d) {
         d["devices"]["disk9"] = {{"max_jobs", 1}};
       },
       "device 'disk9': no such device"},
      {"bad max_jobs",
       [](Json& d) {
         d["devices"]["disk1"] = {{"max_jobs", 0}};
       },
       "device 'disk1': max_jobs: must be a whole number from 1 to 1024, not 0"},
      {"unknown device key",
       [](Json& d) {
         d["devices"]["disk1"] = {{"type", "disk"}};
       },
       "device 'disk1': unknown key 'type'"},
      {"unknown top-level key", [](Json& d) { d["policies"] = Json::object(); }, "unknown key 'policies'"},
      {"section of wrong type", [](Json& d) { d["pools"] = Json::array(); }, "pools: must be a JSON object"},
      {"definition aimed at a pool that is not there",
       [](Json& d) { d["definitions"]["web"]["pool"] = "slow"; },
       "definition 'web': pool: no pool named 'slow'"},
      {"bad definition name", [](Json& d) { d["definitions"]["bad name"] = d["definitions"]["db"]; },
       "invalid definition name 'bad name'"},
      {"new valid items next to a bad one",
       [](Json& d) {
         d["definitions"]["extra"] = {{"sources", {"/opt"}}, {"device", "disk2"}};
         d["pools"]["more"] = {{"type", "tape"}, {"devices", {"tape1"}}};
         d["definitions"]["db"]["priority"] = 1000;
       },
       "definition 'db': priority: "},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Json spoiled = document();
    spoiled["devices"]["disk2"]["enabled"] = false;  // a valid change that must not happen either
    c.spoil(spoiled);
    EXPECT_DEFINITION_ERROR(apply_document(spoiled), c.error);
    EXPECT_EQ(export_document(*catalog), before);
  }
  EXPECT_EQ(catalog->list_audit(0).size(), audit_entries);
  EXPECT_DEFINITION_ERROR(apply_document(Json::array()), "the document: must be a JSON object, not array");
}

TEST_F(Apply, PoolChangeMayNotBreakADefinitionTheDocumentLeavesAlone) {
  apply_document({{"pools", {{"safe", {{"type", "disk"}, {"devices", {"vault"}}}}}},
                  {"definitions",
                   {{"secret", {{"sources", {"/secret"}}, {"pool", "safe"}, {"encryption", "required"}}}}}});
  const Json before = export_document(*catalog);
  EXPECT_DEFINITION_ERROR(
      apply_document({{"pools", {{"safe", {{"type", "disk"}, {"devices", {"vault", "disk2"}}}}}}}),
      "definition 'secret': encryption: is \"required\", but device 'disk2' (in pool 'safe') has no "
      "key_file");
  EXPECT_EQ(export_document(*catalog), before);
  // Adding another encrypting device is fine.
  auto changes =
      apply_document({{"pools", {{"safe", {{"type", "disk"}, {"devices", {"vault", "vault2"}}}}}}});
  EXPECT_EQ(summary(changes), "change pool safe\n");
}

}  // namespace
}  // namespace sbx::site::testing
