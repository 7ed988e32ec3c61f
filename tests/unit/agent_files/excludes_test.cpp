// Excludes: name patterns match at any depth, '/' patterns match absolute paths one component per '*',
// a trailing '/' limits a pattern to directories, excluded directories are not descended, source roots
// are never excluded, and a pattern that can never match is an error.
#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

class AgentFilesExcludes : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_ / "src";
    fs::create_directories(src_ / "home/ann/.cache/deep");
    fs::create_directories(src_ / "home/ann/x/.cache");
    fs::create_directories(src_ / "proj/node_modules/pkg");
    fs::create_directories(src_ / "proj/build");
    write_file(src_ / "home/ann/.cache/deep/blob", "cached");
    write_file(src_ / "home/ann/x/.cache/kept", "kept");
    write_file(src_ / "home/ann/notes.txt", "notes");
    write_file(src_ / "home/ann/scratch.tmp", "tmp");
    write_file(src_ / "proj/a.tmp", "tmp");
    write_file(src_ / "proj/node_modules/pkg/index.js", "js");
    write_file(src_ / "proj/build/out", "o");
    write_file(src_ / "proj/build.txt", "file named like the dir pattern");
    write_file(src_ / "proj/main.c", "int main(){}");
  }

  RecordingSink run(const std::vector<std::string>& excludes, sbx_status want = SBX_OK) {
    RecordingSink sink;
    BackupResult result = backup(agent_, job_for({src_.string()}, excludes), sink);
    EXPECT_EQ(result.status, want) << result.error;
    return sink;
  }
  std::string path_of(const std::string& rel) const { return entry_path(rel.empty() ? src_ : src_ / rel); }
  bool sent(const RecordingSink& sink, const std::string& rel) const {
    return sink.find(path_of(rel)) != nullptr;
  }
  bool checked(const RecordingSink& sink, const std::string& rel) const {
    return sink.was_checked(path_of(rel));
  }

  TempDir tmp_{"agent-files-excludes"};
  fs::path src_;
  Agent agent_;
};

TEST_F(AgentFilesExcludes, NamePatternsMatchAtAnyDepth) {
  RecordingSink sink = run({"*.tmp", "node_modules"});
  EXPECT_FALSE(sent(sink, "home/ann/scratch.tmp"));
  EXPECT_FALSE(sent(sink, "proj/a.tmp"));
  EXPECT_FALSE(sent(sink, "proj/node_modules"));
  // Excluded directories are not descended: their contents are not even checked.
  EXPECT_FALSE(checked(sink, "proj/node_modules/pkg/index.js"));
  EXPECT_TRUE(sent(sink, "home/ann/notes.txt"));
  EXPECT_TRUE(sent(sink, "proj/main.c"));
}

TEST_F(AgentFilesExcludes, SlashPatternsMatchTheAbsolutePathOneComponentPerStar) {
  RecordingSink sink = run({(src_ / "home/*/.cache").string()});
  EXPECT_FALSE(sent(sink, "home/ann/.cache"));
  EXPECT_FALSE(checked(sink, "home/ann/.cache/deep/blob"));
  EXPECT_TRUE(sent(sink, "home/ann/x/.cache/kept")) << "'*' must not cross '/'";
  EXPECT_TRUE(sent(sink, "home/ann/notes.txt"));
}

TEST_F(AgentFilesExcludes, TrailingSlashMeansDirectoriesOnly) {
  RecordingSink sink = run({"build/", "build.txt/"});
  EXPECT_FALSE(sent(sink, "proj/build"));
  EXPECT_FALSE(sent(sink, "proj/build/out"));
  EXPECT_TRUE(sent(sink, "proj/build.txt"));
}

TEST_F(AgentFilesExcludes, LeadingDotsAreNotSpecial) {
  RecordingSink sink = run({"*cache"});
  EXPECT_FALSE(sent(sink, "home/ann/.cache"));
  EXPECT_FALSE(sent(sink, "home/ann/x/.cache"));
}

TEST_F(AgentFilesExcludes, SourceRootIsNeverExcluded) {
  RecordingSink sink = run({"src"});
  EXPECT_TRUE(sent(sink, ""));
  EXPECT_TRUE(sent(sink, "proj/main.c"));
}

TEST_F(AgentFilesExcludes, PatternsThatCanNeverMatchAreRefused) {
  for (std::string bad : {"home/*/.cache", "", "/"}) {
    RecordingSink sink = run({bad}, SBX_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(sink.checked.empty()) << "nothing may be walked with a bad job";
  }
  BackupResult result;
  RecordingSink sink;
  result = backup(agent_, job_for({src_.string()}, {"home/*/.cache"}), sink);
  EXPECT_NE(result.error.find("home/*/.cache"), std::string::npos) << result.error;
}

}  // namespace
