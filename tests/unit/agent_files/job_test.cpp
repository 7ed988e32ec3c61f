// The backup job: descriptor sanity, JSON validation, missing and relative sources, canonical source
// paths, nested and duplicate sources.
#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

TEST(AgentFilesJob, DescriptorIsSane) {
  const sbx_plugin_descriptor& d = plugin().descriptor();
  EXPECT_EQ(joined(sbx::testkit::descriptor_problems(d, SBX_KIND_AGENT)), "");
  EXPECT_STREQ(d.name, "files");
  EXPECT_EQ(d.capabilities, SBX_CAP_INCREMENTAL | SBX_CAP_FILE_BASED | SBX_CAP_RESTORE);
}

TEST(AgentFilesJob, ConfigMustBeAnObjectOrEmpty) {
  sbx_agent* agent = nullptr;
  EXPECT_EQ(vt().open(sbx::sdk::make_str(""), &agent), SBX_OK);
  vt().close(agent);
  EXPECT_EQ(vt().open(sbx::sdk::make_str("[1]"), &agent), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(vt().open(sbx::sdk::make_str("{"), &agent), SBX_ERR_INVALID_ARGUMENT);
}

TEST(AgentFilesJob, MalformedJobsAreRefusedBeforeAnyWalk) {
  TempDir tmp("agent-files-job-bad");
  const std::string src = tmp.path().string();
  Agent agent;
  const std::string dir = nlohmann::json(src).dump();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"sources":["relative/path"]})", "'relative/path' is not an absolute path"},
      {R"({"sources":[]})", "no \"sources\""},
      {R"({})", "no \"sources\""},
      {R"({"sources":[)" + dir + R"(],"level":"weekly"})", "'weekly'"},
      {R"({"sources":[)" + dir + R"(],"excludes":"*.tmp"})", "\"excludes\" must be an array"},
      {R"({"sources":[)" + dir + R"(],"one_file_system":"yes"})", "one_file_system"},
      {R"({"sources":[5]})", "must be a string"},
      {R"([])", "JSON object"},
  };
  for (const auto& [job, message] : cases) {
    RecordingSink sink;
    BackupResult result = backup(agent, nlohmann::json::parse(job), sink);
    EXPECT_EQ(result.status, SBX_ERR_INVALID_ARGUMENT) << job;
    EXPECT_NE(result.error.find(message), std::string::npos) << job << " -> " << result.error;
    EXPECT_TRUE(sink.checked.empty());
  }
  RecordingSink sink;
  sbx_backup_sink c_sink = sink.c_sink();
  c_sink.on_warning = nullptr;
  std::string job = job_for({src}).dump();
  EXPECT_EQ(vt().backup(agent.get(), sbx::sdk::make_str(job), &c_sink), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(vt().backup(agent.get(), sbx::sdk::make_str("{not json"), &c_sink), SBX_ERR_INVALID_ARGUMENT);
}

TEST(AgentFilesJob, MissingSourceIsAWarningAndTheOthersAreBackedUp) {
  TempDir tmp("agent-files-job-missing");
  write_file(tmp / "present", "here");
  Agent agent;
  RecordingSink sink;
  BackupResult result = backup(
      agent, job_for({(tmp / "absent").string(), (tmp / "gone/deeper").string(), (tmp / "present").string()}),
      sink);
  EXPECT_EQ(result.status, SBX_OK) << result.error;
  std::set<std::pair<std::string, std::string>> warnings;
  for (const Warning& w : sink.warnings) warnings.insert({w.path, w.message});
  std::set<std::pair<std::string, std::string>> want = {
      {entry_path(tmp / "absent"), "source does not exist"},
      {entry_path(tmp / "gone/deeper"), "source does not exist"}};
  EXPECT_EQ(warnings, want) << sink.warnings_text();
  ASSERT_NE(sink.find(entry_path(tmp / "present")), nullptr);
}

TEST(AgentFilesJob, SourcePathsAreCanonicalButTheLastComponentIsNotFollowed) {
  TempDir tmp("agent-files-job-canonical");
  fs::create_directories(tmp / "real/dir");
  write_file(tmp / "real/dir/file", "x");
  fs::create_directory_symlink(tmp / "real", tmp / "alias");
  fs::create_directory_symlink(tmp / "real/dir", tmp / "dir-link");
  Agent agent;

  RecordingSink via_alias;
  ASSERT_EQ(backup(agent, job_for({(tmp / "alias/dir/").string()}), via_alias).status, SBX_OK);
  EXPECT_NE(via_alias.find(entry_path(tmp / "real/dir/file")), nullptr)
      << "a symlink in the source's parents is resolved";

  RecordingSink dotted;
  ASSERT_EQ(backup(agent, job_for({(tmp / "real/dir/../dir/.").string()}), dotted).status, SBX_OK);
  EXPECT_NE(dotted.find(entry_path(tmp / "real/dir/file")), nullptr);

  RecordingSink link_source;
  ASSERT_EQ(backup(agent, job_for({(tmp / "dir-link").string()}), link_source).status, SBX_OK);
  ASSERT_EQ(link_source.entries.size(), 1u) << "a symlink source is stored as the symlink, not followed";
  EXPECT_EQ(link_source.entries[0].entry.type, SBX_ENTRY_SYMLINK);
}

TEST(AgentFilesJob, NestedAndDuplicateSourcesAreWalkedOnce) {
  TempDir tmp("agent-files-job-nested");
  fs::create_directories(tmp / "top/excluded/kept");
  write_file(tmp / "top/excluded/kept/file", "x");
  write_file(tmp / "top/other", "y");
  Agent agent;
  RecordingSink sink;
  nlohmann::json job =
      job_for({(tmp / "top").string(), (tmp / "top").string() + "/", (tmp / "top/excluded/kept").string()},
              {"excluded"});
  ASSERT_EQ(backup(agent, job, sink).status, SBX_OK);
  std::map<std::string, int> seen;
  for (const Entry& e : sink.checked) ++seen[e.path];
  for (const auto& [path, count] : seen) EXPECT_EQ(count, 1) << printable(path);
  EXPECT_EQ(seen.count(entry_path(tmp / "top/excluded")), 0u);
  EXPECT_EQ(seen.count(entry_path(tmp / "top/excluded/kept/file")), 1u)
      << "a source named on its own survives an exclude of its parent";
  EXPECT_EQ(seen.count(entry_path(tmp / "top/other")), 1u);
}

}  // namespace
