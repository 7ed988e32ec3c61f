// Files that change under the agent: a file that shrinks or grows while read still sends exactly the
// announced length with a warning; a file or directory swapped for a symlink mid-walk never leads the
// agent outside the tree; a vanished file is a warning.
#include <unistd.h>

#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

class AgentFilesChanging : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_ / "src";
    outside_ = tmp_ / "outside";
    fs::create_directories(src_ / "d");
    fs::create_directories(outside_);
    write_file(outside_ / "secret-outside", "must never be read");
    write_file(src_ / "d/inner-file", "inner");
  }
  bool any_entry_mentions(const RecordingSink& sink, const std::string& needle) const {
    for (const Entry& e : sink.checked)
      if (e.path.find(needle) != std::string::npos) return true;
    return false;
  }

  TempDir tmp_{"agent-files-changing"};
  fs::path src_, outside_;
  Agent agent_;
};

TEST_F(AgentFilesChanging, ShrinkingFileIsPaddedWithZeros) {
  const std::string content = sbx::testkit::pattern_string(5, 3 << 20);
  write_file(src_ / "shrinks", content);
  RecordingSink sink;
  const std::string path = entry_path(src_ / "shrinks");
  sink.after_entry = [&](const Entry& e) {
    if (e.path == path) {
      ASSERT_EQ(::truncate((src_ / "shrinks").c_str(), 1000), 0);
    }
  };
  ASSERT_EQ(backup(agent_, job_for({src_.string()}), sink).status, SBX_OK);
  EXPECT_TRUE(sink.protocol_errors.empty()) << joined(sink.protocol_errors);
  const Recorded* r = sink.find(path);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->data.size(), content.size());
  EXPECT_EQ(r->data.substr(0, 1000), content.substr(0, 1000));
  EXPECT_EQ(r->data.find_first_not_of('\0', 1000), std::string::npos);
  ASSERT_EQ(sink.warnings.size(), 1u) << sink.warnings_text();
  EXPECT_EQ(sink.warnings[0].path, path);
  EXPECT_NE(sink.warnings[0].message.find("changed while being read"), std::string::npos);
}

TEST_F(AgentFilesChanging, GrowingFileStopsAtTheAnnouncedLength) {
  write_file(src_ / "grows", "0123456789");
  RecordingSink sink;
  const std::string path = entry_path(src_ / "grows");
  sink.after_entry = [&](const Entry& e) {
    if (e.path != path) return;
    int fd = ::open((src_ / "grows").c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "more", 4), 4);
    ::close(fd);
  };
  ASSERT_EQ(backup(agent_, job_for({src_.string()}), sink).status, SBX_OK);
  const Recorded* r = sink.find(path);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->entry.size, 10u);
  EXPECT_EQ(r->data, "0123456789");
  ASSERT_EQ(sink.warnings.size(), 1u) << sink.warnings_text();
  EXPECT_NE(sink.warnings[0].message.find("changed while being read"), std::string::npos);
}

TEST_F(AgentFilesChanging, FileSwappedForASymlinkIsNotFollowed) {
  write_file(src_ / "victim", "original");
  RecordingSink sink;
  const std::string path = entry_path(src_ / "victim");
  sink.on_check = [&](const Entry& e) {
    if (e.path == path) {
      fs::rename(src_ / "victim", tmp_ / "victim-moved");
      fs::create_symlink(outside_ / "secret-outside", src_ / "victim");
    }
    return SBX_OK;
  };
  ASSERT_EQ(backup(agent_, job_for({src_.string()}), sink).status, SBX_OK);
  EXPECT_EQ(sink.find(path), nullptr);
  for (const Recorded& r : sink.entries) EXPECT_EQ(r.data.find("must never be read"), std::string::npos);
  ASSERT_EQ(sink.warnings.size(), 1u) << sink.warnings_text();
  EXPECT_EQ(sink.warnings[0].path, path);
  EXPECT_NE(sink.warnings[0].message.find("replaced"), std::string::npos) << sink.warnings[0].message;
}

TEST_F(AgentFilesChanging, DirectorySwappedForASymlinkIsWalkedThroughItsOpenFd) {
  RecordingSink sink;
  const std::string dir = entry_path(src_ / "d");
  sink.on_check = [&](const Entry& e) {
    if (e.path == dir) {
      fs::rename(src_ / "d", tmp_ / "d-moved");
      fs::create_directory_symlink(outside_, src_ / "d");
    }
    return SBX_OK;
  };
  ASSERT_EQ(backup(agent_, job_for({src_.string()}), sink).status, SBX_OK);
  EXPECT_FALSE(any_entry_mentions(sink, "secret-outside")) << "the walk left the tree";
  const Recorded* inner = sink.find(entry_path(src_ / "d/inner-file"));
  ASSERT_NE(inner, nullptr) << "the directory that was opened is the one walked";
  EXPECT_EQ(inner->data, "inner");
}

TEST_F(AgentFilesChanging, VanishedFileIsAWarning) {
  write_file(src_ / "vanishes", "soon gone");
  RecordingSink sink;
  const std::string path = entry_path(src_ / "vanishes");
  sink.on_check = [&](const Entry& e) {
    if (e.path == path) fs::remove(src_ / "vanishes");
    return SBX_OK;
  };
  ASSERT_EQ(backup(agent_, job_for({src_.string()}), sink).status, SBX_OK);
  EXPECT_EQ(sink.find(path), nullptr);
  ASSERT_EQ(sink.warnings.size(), 1u) << sink.warnings_text();
  EXPECT_NE(sink.warnings[0].message.find("vanished"), std::string::npos) << sink.warnings[0].message;
}

}  // namespace
