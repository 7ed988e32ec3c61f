// apply with hostile files: each is refused with one line on stderr and exit 2, and the catalog is untouched
// (the export before and after is the same).
#include "definitions_util.hpp"

using namespace sbx::test;
using nlohmann::json;

TEST(CliHostileFiles, RefusedWithOneLineAndNothingChanged) {
  DefinitionsSite s;
  ASSERT_EQ(s.run({"apply", sample_document().string()}).exit_code, 0);
  const std::string before = s.exported();
  const json sample = json::parse(read_file(sample_document()));
  auto spoiled = [&](const std::function<void(json&)>& change) {
    json document = sample;
    document["devices"]["disk1"]["max_jobs"] = 7;  // a valid change that must not happen either
    change(document);
    return document.dump(2);
  };
  struct Case {
    std::string name;
    std::string content;
    std::string error;
  };
  std::vector<Case> cases = {
      {"not-json.json", "definitions:\n  web: {}\n", ": line 1, column 1: syntax error"},
      {"truncated.json", sample.dump(2).substr(0, 200), ": line "},
      {"empty.json", "", ": line 1, column 1: "},
      {"binary.json",
       std::string("\x7f"
                   "ELF\x02\x01\x01\0\0\0",
                   10),
       ": line 1, column 1: "},
      {"array.json", "[]", "the document: must be a JSON object, not array"},
      {"wrong-type.json", spoiled([](json& d) { d["definitions"]["home"]["priority"] = "high"; }),
       "definition 'home': priority: must be a whole number from 0 to 100, not string"},
      {"wrong-section.json", spoiled([](json& d) { d["definitions"] = json::array(); }),
       "definitions: must be a JSON object"},
      {"unknown-key.json", spoiled([](json& d) { d["definitions"]["home"]["schedule"] = "daily 22:00"; }),
       "definition 'home': unknown key 'schedule'"},
      {"unknown-top-key.json", spoiled([](json& d) { d["servers"] = json::object(); }),
       "unknown key 'servers'"},
      {"unknown-device.json", spoiled([](json& d) { d["definitions"]["etc"]["device"] = "disk9"; }),
       "definition 'etc': device: no device named 'disk9'"},
      // Only the disk storage plugin ships, so a pool of another type is what mixes types here.
      {"mixed-pool.json", spoiled([](json& d) {
         d["pools"]["primary"] = {{"type", "tape"}, {"devices", {"disk1", "disk2"}}};
       }),
       "pool 'primary': devices[0]: pool 'primary' holds tape devices; device 'disk1' is of type 'disk'"},
      {"relative-source.json", spoiled([](json& d) { d["definitions"]["etc"]["sources"] = {"etc"}; }),
       "definition 'etc': sources[0]: 'etc' is not an absolute path"},
      {"bad-schedule.json",
       spoiled([](json& d) { d["definitions"]["home"]["schedules"][2]["when"] = "monthly fifth sat 03:00"; }),
       "definition 'home': schedules[2].when: "},
      {"bad-stage.json", spoiled([](json& d) { d["definitions"]["home"]["stages"][0]["from"] = "later"; }),
       "stages[0].from: no earlier stage named 'later'"},
      {"duplicate-key.json", R"({"definitions": {"a": {"sources": ["/a"]}, "a": {"sources": ["/b"]}}})",
       "key 'a' appears twice in 'definitions'"},
      {"control-chars.json", R"({"definitions": {"we\u001b[2Jb": {"sources": ["/a"]}}})",
       "invalid definition name 'we\\x1b[2Jb'"},
  };
  for (const auto& c : cases) {
    auto file = s.write(c.name, c.content);
    for (bool dry_run : {false, true}) {
      std::vector<std::string> args = {"apply", file.string()};
      if (dry_run) args.push_back("--dry-run");
      auto r = s.run(args);
      EXPECT_EQ(r.exit_code, 2) << c.name << ": " << r.err;
      EXPECT_NE(r.err.find(c.error), std::string::npos) << c.name << ": " << r.err;
      EXPECT_NE(r.err.find(file.string()), std::string::npos) << c.name << ": " << r.err;
      EXPECT_EQ(count_lines(r.err), 1u) << c.name << ": " << r.err;
      EXPECT_EQ(r.out, "") << c.name;
    }
    EXPECT_EQ(s.exported(), before) << c.name;
  }
  auto missing = s.run({"apply", (s.dir / "missing.json").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("missing.json: cannot open: No such file or directory"), std::string::npos)
      << missing.err;
  auto directory = s.run({"apply", s.dir.path().string()});
  EXPECT_EQ(directory.exit_code, 2);
  EXPECT_EQ(s.exported(), before);
}
