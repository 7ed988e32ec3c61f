// strongbox alerts list|ack|clear: the round trip an admin makes, in text and --json, and refusals that leave
// every alert as it was.
#include <strongbox/catalog.hpp>

#include "harness.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace sbx::test;

namespace {

class CliAlerts : public ::testing::Test {
 protected:
  void SetUp() override {
    site = init_site(dir);
    auto catalog =
        sbx::catalog::Catalog::open(site / "catalog.db", sbx::catalog::Catalog::Mode::open_existing);
    full = catalog->raise_alert("warning", "device", "device disk1 is 93% full", "device:disk1:full");
    failed = catalog->raise_alert("error", "backup", "backup job 7 failed: device disk1 is offline");
  }

  RunResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--site", site.string()});
    return run_strongbox(args);
  }

  std::map<int64_t, json> listed(bool all) {
    auto r = all ? run({"alerts", "list", "--all", "--json"}) : run({"alerts", "list", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<int64_t, json> by_id;
    for (const auto& line : r.json_lines()) by_id[line["id"].get<int64_t>()] = line;
    return by_id;
  }

  TempDir dir;
  fs::path site;
  int64_t full = 0, failed = 0;
};

TEST_F(CliAlerts, ListAcknowledgeClearRoundTrip) {
  auto active = listed(false);
  ASSERT_EQ(active.size(), 2u);
  EXPECT_EQ(active[full]["type"], "alert");
  EXPECT_EQ(active[full]["severity"], "warning");
  EXPECT_EQ(active[full]["source"], "device");
  EXPECT_EQ(active[full]["subject"], "device:disk1:full");
  EXPECT_EQ(active[full]["message"], "device disk1 is 93% full");
  EXPECT_EQ(active[full]["state"], "active");
  EXPECT_EQ(active[failed]["severity"], "error");

  auto text = run({"alerts", "list"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(text.out.starts_with(
      "ID  TIME                  SEVERITY  SOURCE  SUBJECT            STATE   MESSAGE\n"))
      << text.out;
  EXPECT_NE(text.out.find("backup job 7 failed: device disk1 is offline\n"), std::string::npos) << text.out;

  auto ack = run({"alerts", "ack", std::to_string(full)});
  ASSERT_EQ(ack.exit_code, 0) << ack.err;
  EXPECT_EQ(ack.out, "alert " + std::to_string(full) + " acknowledged\n");
  active = listed(false);
  EXPECT_EQ(active[full]["state"], "acknowledged");  // acknowledged alerts stay active
  EXPECT_EQ(active[failed]["state"], "active");

  auto clear = run({"--json", "alerts", "clear", std::to_string(full), std::to_string(failed)});
  ASSERT_EQ(clear.exit_code, 0) << clear.err;
  ASSERT_EQ(clear.json_lines().size(), 2u);
  EXPECT_EQ(clear.json_lines()[0], json({{"type", "alert_cleared"}, {"id", full}}));
  EXPECT_TRUE(listed(false).empty());
  auto none = run({"alerts", "list"});
  EXPECT_EQ(none.out, "no active alerts\n");
  auto all = listed(true);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[full]["state"], "cleared");
  EXPECT_EQ(all[full]["acknowledged"], true);
  EXPECT_EQ(all[failed]["state"], "cleared");
  EXPECT_EQ(all[failed]["acknowledged"], false);

  // The condition came back: a new alert on the same subject.
  auto catalog = sbx::catalog::Catalog::open(site / "catalog.db", sbx::catalog::Catalog::Mode::open_existing);
  EXPECT_NE(catalog->raise_alert("warning", "device", "device disk1 is 95% full", "device:disk1:full"), full);
  EXPECT_EQ(listed(false).size(), 1u);
}

TEST_F(CliAlerts, UnknownOrMalformedIdsChangeNothing) {
  auto unknown = run({"alerts", "ack", std::to_string(full), "999"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err, "strongbox: no alert with id 999\n");
  EXPECT_EQ(listed(false)[full]["state"], "active");  // the valid id in the same call was not acknowledged

  auto malformed = run({"alerts", "clear", "1; rm -rf /"});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_EQ(malformed.err, "strongbox: '1; rm -rf /' is not a valid alert id\n");
  auto zero = run({"alerts", "clear", "0"});
  EXPECT_EQ(zero.exit_code, 2);
  auto missing = run({"alerts", "ack"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(listed(false).size(), 2u);
}

}  // namespace
