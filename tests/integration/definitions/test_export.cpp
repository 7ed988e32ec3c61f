// export: the canonical document; export -> apply changes nothing; --output writes the same text to a file.
#include <sys/stat.h>

#include "definitions_util.hpp"

using namespace sbx::test;
using nlohmann::json;

TEST(CliExport, RoundTripChangesNothing) {
  DefinitionsSite s;
  ASSERT_EQ(s.run({"apply", sample_document().string()}).exit_code, 0);
  ASSERT_EQ(s.run({"pools", "add", "spare", "--type", "disk"}).exit_code, 0);
  ASSERT_EQ(s.run({"devices", "set", "offsite", "--disable"}).exit_code, 0);
  const std::string exported = s.exported();
  auto file = s.write("export.json", exported);
  auto r = s.run({"--json", "apply", file.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = r.json_lines();
  ASSERT_FALSE(lines.empty());
  for (size_t i = 0; i + 1 < lines.size(); ++i) EXPECT_EQ(lines[i]["action"], "unchanged") << lines[i].dump();
  EXPECT_EQ(lines.back()["added"], 0);
  EXPECT_EQ(lines.back()["changed"], 0);
  EXPECT_EQ(s.exported(), exported);
  json document = json::parse(exported);
  EXPECT_EQ(document["devices"]["offsite"]["enabled"], false);
  EXPECT_EQ(document["pools"]["spare"]["devices"], json::array());
}

TEST(CliExport, OutputFileMatchesStandardOutput) {
  DefinitionsSite s;
  ASSERT_EQ(s.run({"apply", sample_document().string()}).exit_code, 0);
  auto target = s.dir / "site.json";
  write_file(target, "old content that must be replaced whole");
  auto r = s.run({"export", "--output", target.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(target), s.exported());
  // No temporary file is left next to it.
  for (const auto& entry : std::filesystem::directory_iterator(s.dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }
  auto json_mode = s.run({"--json", "export"});
  EXPECT_EQ(json_mode.json_lines().size(), 1u);
  EXPECT_EQ(json_mode.json_lines().at(0), json::parse(s.exported()));
}

TEST(CliExport, UnwritableOutputFails) {
  DefinitionsSite s;
  auto r = s.run({"export", "--output", (s.dir / "missing-dir" / "x.json").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("missing-dir"), std::string::npos) << r.err;
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
}
