// pools add|list|show|add-device|remove-device|remove and devices set.
#include "definitions_util.hpp"

using namespace sbx::test;
using nlohmann::json;

TEST(CliPools, Lifecycle) {
  DefinitionsSite s;
  auto add =
      s.run({"--json", "pools", "add", "fast", "--type", "disk", "--device", "disk2", "--device", "disk1"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(add.json_lines().at(0)["devices"], (json{"disk2", "disk1"}));
  ASSERT_EQ(s.run({"pools", "add-device", "fast", "offsite"}).exit_code, 0);
  ASSERT_EQ(s.run({"pools", "remove-device", "fast", "disk2"}).exit_code, 0);
  auto show = s.run({"--json", "pools", "show", "fast"});
  EXPECT_EQ(show.json_lines().at(0)["devices"], (json{"disk1", "offsite"}));
  EXPECT_EQ(show.json_lines().at(0)["device_type"], "disk");

  ASSERT_EQ(s.run({"definitions", "add", "web", "--source", "/srv", "--pool", "fast"}).exit_code, 0);
  auto used = s.run({"pools", "remove", "fast"});
  EXPECT_EQ(used.exit_code, 2);
  EXPECT_NE(used.err.find("pool 'fast' is a target of definition 'web'"), std::string::npos) << used.err;
  auto device_in_pool = s.run({"devices", "remove", "offsite"});
  EXPECT_NE(device_in_pool.exit_code, 0);
  EXPECT_NE(device_in_pool.err.find("device 'offsite' is in pool 'fast'"), std::string::npos)
      << device_in_pool.err;

  ASSERT_EQ(s.run({"definitions", "remove", "web"}).exit_code, 0);
  ASSERT_EQ(s.run({"pools", "remove", "fast"}).exit_code, 0);
  EXPECT_TRUE(s.run({"--json", "pools", "list"}).json_lines().empty());
  EXPECT_EQ(s.run({"devices", "remove", "offsite"}).exit_code, 0);
}

TEST(CliPools, BadInputIsOneLineExitTwoAndChangesNothing) {
  DefinitionsSite s;
  ASSERT_EQ(s.run({"pools", "add", "fast", "--type", "disk", "--device", "disk1"}).exit_code, 0);
  const std::string before = s.exported();
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  std::vector<Case> cases = {
      {{"pools", "add", "fast", "--type", "disk"}, "pool 'fast' already exists"},
      {{"pools", "add", "tapes", "--type", "tape", "--device", "disk1"},
       "pool 'tapes': devices[0]: pool 'tapes' holds tape devices; device 'disk1' is of type 'disk'"},
      {{"pools", "add", "x", "--type", "disk", "--device", "nope"}, "devices[0]: no device named 'nope'"},
      {{"pools", "add", "x", "--type", "disk", "--device", "disk2", "--device", "disk2"}, "is listed twice"},
      {{"pools", "add", "bad:name", "--type", "disk"}, "invalid pool name 'bad:name'"},
      {{"pools", "add-device", "fast", "disk1"}, "device 'disk1' is already in pool 'fast'"},
      {{"pools", "add-device", "fast", "nope"}, "no device named 'nope'"},
      {{"pools", "add-device", "nope", "disk1"}, "no pool named 'nope'"},
      {{"pools", "remove-device", "fast", "disk2"}, "device 'disk2' is not in pool 'fast'"},
      {{"pools", "show", "nope"}, "no pool named 'nope'"},
      {{"pools", "remove", "nope"}, "no pool named 'nope'"},
      {{"devices", "set", "disk1"}, "needs --max-jobs N, --enable or --disable"},
      {{"devices", "set", "disk1", "--max-jobs", "0"},
       "max_jobs: must be a whole number from 1 to 1024, not 0"},
      {{"devices", "set", "nope", "--enable"}, "device 'nope': no such device"},
      {{"devices", "set", "disk1", "--enable", "--disable"}, "excludes"},
  };
  for (const auto& c : cases) {
    auto r = s.run(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << r.err;
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  }
  EXPECT_EQ(s.exported(), before);
}

TEST(CliPools, EncryptedDefinitionKeepsItsPoolEncrypting) {
  DefinitionsSite s;
  write_file(s.dir / "key", std::string(32, 'k'));
  ASSERT_EQ(s.run({"devices", "add", "vault", "--type", "disk", "--path", (s.dir / "vault").string(),
                   "--key-file", (s.dir / "key").string()})
                .exit_code,
            0);
  ASSERT_EQ(s.run({"pools", "add", "safe", "--type", "disk", "--device", "vault"}).exit_code, 0);
  ASSERT_EQ(s.run({"definitions", "add", "secret", "--source", "/secret", "--pool", "safe", "--encryption",
                   "required"})
                .exit_code,
            0);
  auto r = s.run({"pools", "add-device", "safe", "disk2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(
      r.err.find("definition 'secret': encryption: is \"required\", but device 'disk2' (in pool 'safe')"),
      std::string::npos)
      << r.err;
}

TEST(CliDevicesSet, LimitsAndServiceState) {
  DefinitionsSite s;
  auto r = s.run({"--json", "devices", "set", "disk2", "--max-jobs", "4", "--disable"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.json_lines().at(0)["max_jobs"], 4);
  EXPECT_EQ(r.json_lines().at(0)["enabled"], false);
  EXPECT_EQ(r.json_lines().at(0)["changed"], true);
  auto again = s.run({"--json", "devices", "set", "disk2", "--max-jobs", "4"});
  EXPECT_EQ(again.json_lines().at(0)["changed"], false);
  auto enable = s.run({"devices", "set", "disk2", "--enable"});
  EXPECT_NE(enable.out.find("device disk2: max_jobs 4, enabled"), std::string::npos) << enable.out;
}
