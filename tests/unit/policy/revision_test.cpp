// The revision: a content hash outside git, the commit (plus -dirty) inside a git work tree.
#include <cstdio>
#include <cstdlib>

#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

constexpr std::string_view kPolicy = "function expire(series, ctx) return {} end\n";

int git(const fs::path& dir, const std::string& args) {
  const std::string command =
      "git -C '" + dir.string() +
      "' -c user.name=test -c user.email=test@example.invalid -c commit.gpgsign=false " + args +
      " >/dev/null 2>&1";
  return std::system(command.c_str());
}

std::string git_head(const fs::path& dir) {
  const std::string command = "git -C '" + dir.string() + "' rev-parse HEAD";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {};
  std::string head;
  char buffer[128];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) head += buffer;
  EXPECT_EQ(pclose(pipe), 0);
  while (!head.empty() && head.back() == '\n') head.pop_back();
  return head;
}

TEST(PolicyRevision, ContentHashFollowsContent) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, kPolicy);
  const std::string first = policy_revision(dir);
  EXPECT_TRUE(first.starts_with("sha256:")) << first;
  EXPECT_EQ(first.size(), 7u + 64u);
  EXPECT_EQ(policy_revision(dir), first) << "stable while nothing changes";

  write_file(dir / "default" / "retention.lua", std::string(kPolicy) + "-- tweak\n");
  const std::string second = policy_revision(dir);
  EXPECT_NE(second, first);

  // Renaming a file changes the revision even though no content changed.
  fs::rename(dir / "lib" / "gfs.lua", dir / "lib" / "gfs2.lua");
  EXPECT_NE(policy_revision(dir), second);

  // Files that are not Lua do not count.
  fs::rename(dir / "lib" / "gfs2.lua", dir / "lib" / "gfs.lua");
  write_file(dir / "README.md", "notes\n");
  EXPECT_EQ(policy_revision(dir), second);
}

TEST(PolicyRevision, GitCommitInsideAWorkTree) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, kPolicy);
  ASSERT_EQ(git(dir, "init -q"), 0);
  ASSERT_EQ(git(dir, "add -A"), 0);
  ASSERT_EQ(git(dir, "commit -q -m initial"), 0);
  const std::string head = git_head(dir);
  ASSERT_EQ(head.size(), 40u);

  EXPECT_EQ(policy_revision(dir), head);
  auto engine = make_engine(dir);
  EXPECT_EQ(engine.revision(), head);
  EXPECT_EQ(engine.evaluate_expire("s", {full(1, kNov20_2026)}, kNov20_2026).revision, head);

  write_file(dir / "default" / "retention.lua", std::string(kPolicy) + "-- local edit\n");
  EXPECT_EQ(policy_revision(dir), head + "-dirty");
  write_file(dir / "default" / "retention.lua", kPolicy);
  EXPECT_EQ(policy_revision(dir), head);
  write_file(dir / "default" / "new.lua", "-- untracked\n");
  EXPECT_EQ(policy_revision(dir), head + "-dirty") << "an untracked policy file is a local change";
  fs::remove(dir / "default" / "new.lua");
  write_file(dir / "notes.txt", "untracked, but not a policy file\n");
  EXPECT_EQ(policy_revision(dir), head);
}

TEST(PolicyRevision, SubfolderOfAWorkTreeUsesTheCommit) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, kPolicy);
  const fs::path top = temp.path();
  ASSERT_EQ(git(top, "init -q"), 0);
  ASSERT_EQ(git(top, "add -A"), 0);
  ASSERT_EQ(git(top, "commit -q -m initial"), 0);
  EXPECT_EQ(policy_revision(dir), git_head(top));
}

TEST(PolicyRevision, UntrackedFolderInsideAWorkTreeUsesTheContentHash) {
  TempDir temp;
  const fs::path top = temp.path();
  write_file(top / "README", "repo\n");
  ASSERT_EQ(git(top, "init -q"), 0);
  ASSERT_EQ(git(top, "add -A"), 0);
  ASSERT_EQ(git(top, "commit -q -m initial"), 0);
  const fs::path dir = make_policy_dir(temp, kPolicy);  // created after the commit, never added
  EXPECT_TRUE(policy_revision(dir).starts_with("sha256:")) << policy_revision(dir);
}

TEST(PolicyRevision, GitWithoutCommitsFallsBackToTheContentHash) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, kPolicy);
  ASSERT_EQ(git(dir, "init -q"), 0);
  EXPECT_TRUE(policy_revision(dir).starts_with("sha256:"));
}

}  // namespace
}  // namespace sbx::policy::testing
