// definitions add|list|show|remove from the command line.
#include <algorithm>

#include "definitions_util.hpp"

using namespace sbx::test;
using nlohmann::json;

TEST(CliDefinitions, AddListShowRemove) {
  DefinitionsSite s;
  auto add = s.run({"definitions", "add", "web", "--source", "/srv/www/", "--source", "/etc", "--exclude",
                    "*.tmp", "--schedule", "daily 22:00=incremental", "--schedule", "weekly sun 02:00=full",
                    "--window", "2h", "--time-zone", "Europe/Berlin", "--priority", "70"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(add.out.find("definition web added"), std::string::npos) << add.out;

  auto show = s.run({"definitions", "show", "web"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  json spec = json::parse(show.out);
  EXPECT_EQ(spec["sources"], (json{"/etc", "/srv/www"}));
  EXPECT_EQ(spec["device"], "disk1");
  EXPECT_EQ(spec["priority"], 70);
  EXPECT_EQ(spec["schedules"][1]["method"], "full");
  EXPECT_EQ(spec["schedules"][1]["window"], "2h");
  EXPECT_EQ(spec["retries"], (json{{"attempts", 3}, {"backoff", "5m"}}));

  ASSERT_EQ(s.run({"definitions", "add", "db", "--source", "/var/lib/db", "--device", "disk2"}).exit_code, 0);
  auto list = s.run({"--json", "definitions", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto lines = list.json_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["name"], "db");
  EXPECT_EQ(lines[1]["name"], "web");
  EXPECT_EQ(lines[1]["spec"], spec);

  auto remove = s.run({"definitions", "remove", "db"});
  EXPECT_EQ(remove.exit_code, 0) << remove.err;
  EXPECT_EQ(s.run({"--json", "definitions", "list"}).json_lines().size(), 1u);
  auto again = s.run({"definitions", "remove", "db"});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("no definition named 'db'"), std::string::npos) << again.err;
}

TEST(CliDefinitions, RelativeSourceOnTheCommandLineIsMadeAbsolute) {
  DefinitionsSite s;
  ASSERT_EQ(s.run({"definitions", "add", "rel", "--source", "some/dir/"}).exit_code, 0);
  auto show = s.run({"--json", "definitions", "show", "rel"});
  auto source = show.json_lines().at(0)["spec"]["sources"][0].get<std::string>();
  EXPECT_EQ(source.front(), '/');
  EXPECT_TRUE(source.ends_with("/some/dir")) << source;
}

TEST(CliDefinitions, SpecFileAndReplace) {
  DefinitionsSite s;
  auto file = s.write(
      "spec.json", R"({"kind": "verify", "device": "disk2", "schedules": [{"when": "weekly sat 12:00"}]})");
  ASSERT_EQ(s.run({"definitions", "add", "check", "--spec", file.string()}).exit_code, 0);
  auto exists = s.run({"definitions", "add", "check", "--spec", file.string()});
  EXPECT_EQ(exists.exit_code, 2);
  EXPECT_NE(exists.err.find("definition 'check' already exists"), std::string::npos) << exists.err;
  auto replaced = s.run({"--json", "definitions", "add", "check", "--replace", "--source", "/x"});
  ASSERT_EQ(replaced.exit_code, 0) << replaced.err;
  EXPECT_EQ(replaced.json_lines().at(0)["action"], "change");
  EXPECT_EQ(replaced.json_lines().at(0)["spec"]["kind"], "backup");
  auto both = s.run({"definitions", "add", "x", "--spec", file.string(), "--source", "/x"});
  EXPECT_EQ(both.exit_code, 2);
}

TEST(CliDefinitions, BadInputIsOneLineExitTwoAndChangesNothing) {
  DefinitionsSite s;
  ASSERT_EQ(s.run({"definitions", "add", "web", "--source", "/srv"}).exit_code, 0);
  const std::string before = s.exported();
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  std::vector<Case> cases = {
      {{"definitions", "add", "bad", "--source", "/x", "--schedule", "daily 25:00"},
       "definition 'bad': schedules[0].when: hour 25 is out of range 0-23"},
      {{"definitions", "add", "bad", "--source", "/x", "--schedule", "daily 22:00=sometimes"},
       "method 'sometimes' is not one of"},
      {{"definitions", "add", "bad", "--source", "/x", "--device", "nope"}, "device: no device named 'nope'"},
      {{"definitions", "add", "bad", "--source", "/x", "--pool", "nope"}, "pool: no pool named 'nope'"},
      {{"definitions", "add", "bad", "--source", "/x", "--agent", "nope"},
       "agent: no agent plugin named 'nope'"},
      {{"definitions", "add", "bad", "--source", "/x", "--encryption", "required"},
       "encryption: is \"required\", but device 'disk1' has no key_file"},
      {{"definitions", "add", "bad", "--source", "/x", "--retention", "tenants/none"},
       "retention: no policy directory"},
      {{"definitions", "add", "bad", "--source", "/x", "--priority", "101"},
       "priority: must be a whole number"},
      {{"definitions", "add", "bad", "--source", "/x", "--window", "2h"}, "--window applies to --schedule"},
      {{"definitions", "add", "bad name", "--source", "/x"}, "invalid definition name 'bad name'"},
      {{"definitions", "add", "bad"}, "needs --source"},
      {{"definitions", "show", "nope"}, "no definition named 'nope'"},
      {{"definitions", "add", "bad", "--spec", "/nonexistent.json"}, "/nonexistent.json: cannot open"},
  };
  for (const auto& c : cases) {
    auto r = s.run(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << r.err;
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  }
  EXPECT_EQ(s.exported(), before);
}

TEST(CliDefinitions, QuietAndAudit) {
  DefinitionsSite s;
  auto add = s.run({"--quiet", "definitions", "add", "web", "--source", "/srv"});
  EXPECT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(add.out, "");
  auto remove = s.run({"definitions", "remove", "web", "--quiet"});
  EXPECT_EQ(remove.exit_code, 0) << remove.err;
  EXPECT_EQ(remove.out, "");
}
