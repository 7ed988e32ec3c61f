// apply FILE: the sample document applies, a second apply changes nothing, --dry-run changes nothing,
// --prune removes what the file no longer lists.
#include "definitions_util.hpp"

using namespace sbx::test;
using nlohmann::json;

TEST(CliApply, SampleAppliesAndIsIdempotent) {
  DefinitionsSite s;
  auto first = s.run({"apply", sample_document().string()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("+ pool primary: type disk, members disk1,disk2\n"), std::string::npos)
      << first.out;
  EXPECT_NE(first.out.find("+ definition home: "), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("~ device disk1: max_jobs 1 -> 2\n"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("applied: 4 added, 2 changed, 0 removed, 1 unchanged"), std::string::npos)
      << first.out;

  const std::string after_first = s.exported();
  auto second = s.run({"--json", "apply", sample_document().string()});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto lines = second.json_lines();
  ASSERT_EQ(lines.size(), 8u) << second.out;
  for (size_t i = 0; i + 1 < lines.size(); ++i) EXPECT_EQ(lines[i]["action"], "unchanged") << lines[i].dump();
  EXPECT_EQ(lines.back()["type"], "apply_summary");
  EXPECT_EQ(lines.back()["unchanged"], 7);
  EXPECT_EQ(s.exported(), after_first);

  auto pools = s.run({"--json", "pools", "show", "primary"});
  EXPECT_EQ(pools.json_lines().at(0)["devices"], (json{"disk1", "disk2"}));
  EXPECT_EQ(pools.json_lines().at(0)["used_by"], (json{"home"}));
}

TEST(CliApply, DryRunChangesNothing) {
  DefinitionsSite s;
  const std::string before = s.exported();
  auto dry = s.run({"apply", "--dry-run", sample_document().string()});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("+ definition etc"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("dry run, nothing changed"), std::string::npos) << dry.out;
  EXPECT_EQ(s.exported(), before);
}

TEST(CliApply, PruneRemovesWhatTheFileNoLongerLists) {
  DefinitionsSite s;
  ASSERT_EQ(s.run({"apply", sample_document().string()}).exit_code, 0);
  ASSERT_EQ(s.run({"definitions", "add", "extra", "--source", "/opt"}).exit_code, 0);
  auto kept = s.run({"apply", sample_document().string()});
  EXPECT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_EQ(s.run({"--json", "definitions", "list"}).json_lines().size(), 4u);

  const std::string before = s.exported();
  auto dry = s.run({"apply", "--prune", "--dry-run", sample_document().string()});
  EXPECT_NE(dry.out.find("- definition extra\n"), std::string::npos) << dry.out;
  EXPECT_EQ(s.exported(), before);

  auto pruned = s.run({"apply", "--prune", sample_document().string()});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_NE(pruned.out.find("- definition extra\n"), std::string::npos) << pruned.out;
  EXPECT_EQ(s.run({"--json", "definitions", "list"}).json_lines().size(), 3u);
}

TEST(CliApply, ChangedFileShowsTheChange) {
  DefinitionsSite s;
  ASSERT_EQ(s.run({"apply", sample_document().string()}).exit_code, 0);
  json document = json::parse(read_file(sample_document()));
  document["pools"]["primary"]["devices"] = {"disk2", "disk1"};
  document["definitions"]["etc"]["priority"] = 20;
  auto file = s.write("changed.json", document.dump(2));
  auto r = s.run({"apply", file.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("~ pool primary: members disk1,disk2 -> disk2,disk1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("~ definition etc: changed: priority\n"), std::string::npos) << r.out;
}
