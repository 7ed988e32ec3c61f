// Hard links: the first path of an inode in walk order carries the data, later paths are HARDLINK entries
// naming it, and a restore links them to one inode again.
#include <sys/stat.h>

#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

TEST(AgentFilesHardLinks, LaterPathsBecomeLinksToTheFirst) {
  TempDir tmp("agent-files-hardlinks");
  fs::path src = tmp / "src";
  fs::create_directories(src / "a");
  fs::create_directories(src / "b");
  write_file(src / "a/original", "shared content\n");
  fs::create_hard_link(src / "a/original", src / "b/second");
  fs::create_hard_link(src / "a/original", src / "c-third");
  write_file(src / "single", "alone");

  Agent agent;
  RecordingSink sink;
  ASSERT_EQ(backup(agent, job_for({src.string()}), sink).status, SBX_OK);
  EXPECT_TRUE(sink.protocol_errors.empty()) << joined(sink.protocol_errors);

  const Recorded* first = sink.find(entry_path(src / "a/original"));
  const Recorded* second = sink.find(entry_path(src / "b/second"));
  const Recorded* third = sink.find(entry_path(src / "c-third"));
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->entry.type, SBX_ENTRY_FILE);
  EXPECT_EQ(first->entry.nlink, 3u);
  EXPECT_EQ(first->data, "shared content\n");
  for (const Recorded* link : {second, third}) {
    EXPECT_EQ(link->entry.type, SBX_ENTRY_HARDLINK);
    EXPECT_EQ(link->entry.link_target, first->entry.path);
    EXPECT_EQ(link->entry.size, 0u);
    EXPECT_TRUE(link->data.empty());
  }

  auto before = snapshot(src);
  fs::path target = tmp / "restored";
  restore_all(agent, sink.entries, target.string());
  fs::path back = target / src.relative_path();
  EXPECT_EQ(joined(differences(before, snapshot(back))), "");
  struct stat a, b, c;
  ASSERT_EQ(::lstat((back / "a/original").c_str(), &a), 0);
  ASSERT_EQ(::lstat((back / "b/second").c_str(), &b), 0);
  ASSERT_EQ(::lstat((back / "c-third").c_str(), &c), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_ino, c.st_ino);
  EXPECT_EQ(a.st_nlink, 3u);
}

TEST(AgentFilesHardLinks, LinksAcrossSourcesShareOneGroup) {
  TempDir tmp("agent-files-hardlinks-sources");
  fs::create_directories(tmp / "one");
  fs::create_directories(tmp / "two");
  write_file(tmp / "one/file", "data");
  fs::create_hard_link(tmp / "one/file", tmp / "two/file");
  Agent agent;
  RecordingSink sink;
  ASSERT_EQ(backup(agent, job_for({(tmp / "two").string(), (tmp / "one").string()}), sink).status, SBX_OK);
  // Sources are walked in byte order, so "one" comes first whatever order the job lists them in.
  const Recorded* one = sink.find(entry_path(tmp / "one/file"));
  const Recorded* two = sink.find(entry_path(tmp / "two/file"));
  ASSERT_TRUE(one && two);
  EXPECT_EQ(one->entry.type, SBX_ENTRY_FILE);
  EXPECT_EQ(two->entry.type, SBX_ENTRY_HARDLINK);
  EXPECT_EQ(two->entry.link_target, one->entry.path);
}

TEST(AgentFilesHardLinks, AnUnchangedFirstPathStillAnchorsLaterLinks) {
  TempDir tmp("agent-files-hardlinks-skip");
  fs::path src = tmp / "src";
  fs::create_directories(src);
  write_file(src / "a", "data");
  fs::create_hard_link(src / "a", src / "b");
  Agent agent;
  RecordingSink sink;
  std::string skipped = entry_path(src / "a");
  sink.on_check = [&](const Entry& e) { return e.path == skipped ? SBX_SKIP : SBX_OK; };
  ASSERT_EQ(backup(agent, job_for({src.string()}), sink).status, SBX_OK);
  EXPECT_EQ(sink.find(skipped), nullptr);
  const Recorded* b = sink.find(entry_path(src / "b"));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->entry.type, SBX_ENTRY_HARDLINK);
  EXPECT_EQ(b->entry.link_target, skipped);
}

}  // namespace
