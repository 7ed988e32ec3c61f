// Round trip: a tree backed up through the plugin and restored elsewhere comes back byte for byte, with
// modes, nanosecond mtimes, symlinks, empty directories, FIFOs and odd names; the walk order is fixed.
#include <sys/stat.h>

#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

std::string pattern(size_t len, uint64_t seed) {
  return sbx::testkit::pattern_string(seed, len);
}

// A tree with one of everything the agent must keep; returns its root.
fs::path make_tree(const TempDir& tmp) {
  fs::path src = tmp / "src";
  fs::create_directories(src / "dir/nested/deeper");
  fs::create_directories(src / "empty");
  write_file(src / "empty-file", "");
  write_file(src / "small.txt", "hello\n", 0640);
  write_file(src / "dir/one-mib-plus", pattern((1 << 20) + 3, 1));
  write_file(src / "dir/nested/three-mib", pattern(3 << 20, 2), 0600);
  write_file(src / "dir/nested/deeper/exec", "#!/bin/sh\n", 0755);
  write_file(src / "with space", "space\n");
  write_file(src / "new\nline", "newline\n");
  write_file(src / std::string("bad\xff\xfe utf8"), "latin\n");
  write_file(src / "sticky-setgid", "x", 02750);
  fs::create_symlink("small.txt", src / "relative-link");
  fs::create_symlink("/nonexistent/dangling", src / "dangling-link");
  ::mkfifo((src / "fifo").c_str(), 0620);
  ::chmod((src / "fifo").c_str(), 0620);
  ::chmod((src / "empty").c_str(), 0710);
  // mtimes last, children before parents, so that creating entries does not move them again.
  int64_t t = 1600000000;
  set_mtime(src / "small.txt", t, 123456789);
  set_mtime(src / "relative-link", t + 1, 1);
  set_mtime(src / "dir/nested/deeper/exec", t + 2, 999999999);
  set_mtime(src / "dir/nested/deeper", t + 3, 5);
  set_mtime(src / "dir/nested", t + 4, 6);
  set_mtime(src / "dir", t + 5, 7);
  set_mtime(src / "empty", t + 6, 8);
  set_mtime(src, t + 7, 9);
  return src;
}

TEST(AgentFilesRoundTrip, TreeComesBackByteForByte) {
  TempDir tmp("agent-files-roundtrip");
  fs::path src = make_tree(tmp);
  auto before = snapshot(src);
  Agent agent;
  RecordingSink sink;
  BackupResult result = backup(agent, job_for({src.string()}), sink);
  ASSERT_EQ(result.status, SBX_OK) << result.error;
  EXPECT_TRUE(sink.warnings.empty()) << sink.warnings_text();
  EXPECT_TRUE(sink.protocol_errors.empty()) << joined(sink.protocol_errors);

  fs::path target = tmp / "restored";
  restore_all(agent, sink.entries, target.string());
  auto after = snapshot(target / src.relative_path());
  EXPECT_EQ(joined(differences(before, after)), "");
  EXPECT_EQ(snapshot(src).size(), before.size()) << "the backup changed the source";
}

TEST(AgentFilesRoundTrip, EntriesCarryLstatMetadata) {
  TempDir tmp("agent-files-meta");
  fs::path src = make_tree(tmp);
  Agent agent;
  RecordingSink sink;
  ASSERT_EQ(backup(agent, job_for({src.string()}), sink).status, SBX_OK);

  const Recorded* small = sink.find(entry_path(src / "small.txt"));
  ASSERT_NE(small, nullptr);
  struct stat st;
  ASSERT_EQ(::lstat((src / "small.txt").c_str(), &st), 0);
  EXPECT_EQ(small->entry.type, SBX_ENTRY_FILE);
  EXPECT_EQ(small->entry.size, 6u);
  EXPECT_EQ(small->entry.mode, 0640u);
  EXPECT_EQ(small->entry.mtime_ns, 1600000000LL * 1000000000 + 123456789);
  EXPECT_EQ(small->entry.inode, st.st_ino);
  EXPECT_EQ(small->entry.device, st.st_dev);
  EXPECT_EQ(small->entry.uid, st.st_uid);
  EXPECT_EQ(small->entry.nlink, 1u);
  EXPECT_TRUE(small->entry.extents.empty());
  EXPECT_EQ(small->data, "hello\n");
  if (::geteuid() == 0) {
    EXPECT_EQ(small->entry.user_name, "root");
  }

  const Recorded* link = sink.find(entry_path(src / "relative-link"));
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->entry.type, SBX_ENTRY_SYMLINK);
  EXPECT_EQ(link->entry.link_target, "small.txt");
  EXPECT_EQ(link->entry.size, 0u);
  EXPECT_TRUE(link->data.empty());

  const Recorded* fifo = sink.find(entry_path(src / "fifo"));
  ASSERT_NE(fifo, nullptr);
  EXPECT_EQ(fifo->entry.type, SBX_ENTRY_FIFO);
  EXPECT_EQ(fifo->entry.mode, 0620u);

  const Recorded* odd = sink.find(entry_path(src / std::string("bad\xff\xfe utf8")));
  ASSERT_NE(odd, nullptr) << "raw name bytes must pass untouched";
  EXPECT_NE(sink.find(entry_path(src / "new\nline")), nullptr);
}

TEST(AgentFilesRoundTrip, WalkIsDepthFirstInByteOrderWithTheRootFirst) {
  TempDir tmp("agent-files-order");
  fs::path src = make_tree(tmp);
  Agent agent;
  RecordingSink first;
  ASSERT_EQ(backup(agent, job_for({src.string()}), first).status, SBX_OK);
  ASSERT_FALSE(first.entries.empty());
  EXPECT_EQ(first.entries.front().entry.path, entry_path(src));
  EXPECT_EQ(first.entries.front().entry.type, SBX_ENTRY_DIRECTORY);

  std::vector<std::string> paths;
  for (const Recorded& r : first.entries) paths.push_back(r.entry.path);
  // Depth-first with byte-sorted siblings is exactly byte order of the paths with '/' sorting first.
  std::vector<std::string> expected = paths;
  auto key = [](std::string p) {
    std::replace(p.begin(), p.end(), '/', '\0');
    return p;
  };
  std::sort(expected.begin(), expected.end(),
            [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
  EXPECT_EQ(paths, expected);

  RecordingSink second;
  ASSERT_EQ(backup(agent, job_for({src.string()}), second).status, SBX_OK);
  std::vector<std::string> again;
  for (const Recorded& r : second.entries) again.push_back(r.entry.path);
  EXPECT_EQ(paths, again);
}

TEST(AgentFilesRoundTrip, DataArrivesInBlocksOfAtMostFourMiB) {
  TempDir tmp("agent-files-blocks");
  fs::path src = tmp / "src";
  fs::create_directories(src);
  write_file(src / "big", pattern((9 << 20) + 17, 3));
  Agent agent;
  RecordingSink sink;
  ASSERT_EQ(backup(agent, job_for({src.string()}), sink).status, SBX_OK);
  EXPECT_TRUE(sink.protocol_errors.empty()) << joined(sink.protocol_errors);
  const Recorded* big = sink.find(entry_path(src / "big"));
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(big->data, pattern((9 << 20) + 17, 3));
}

TEST(AgentFilesRoundTrip, SingleFileSourceIsBackedUpAlone) {
  TempDir tmp("agent-files-single");
  write_file(tmp / "only", "just me");
  write_file(tmp / "other", "not me");
  Agent agent;
  RecordingSink sink;
  ASSERT_EQ(backup(agent, job_for({(tmp / "only").string()}), sink).status, SBX_OK);
  ASSERT_EQ(sink.entries.size(), 1u);
  EXPECT_EQ(sink.entries[0].entry.path, entry_path(tmp / "only"));
  EXPECT_EQ(sink.entries[0].data, "just me");
}

}  // namespace
