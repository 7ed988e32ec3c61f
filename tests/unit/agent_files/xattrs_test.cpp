// Extended attributes: user.* attributes (binary and empty values) of files and directories travel with
// their entries and come back on restore, and so do POSIX ACLs (system.posix_acl_* xattrs).
#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

TEST(AgentFilesXattrs, UserAttributesRoundTrip) {
  TempDir tmp("agent-files-xattrs");
  if (!user_xattrs_supported(tmp.path())) GTEST_SKIP() << "the temp file system does not take user.* xattrs";
  fs::path src = tmp / "src";
  fs::create_directories(src / "dir");
  write_file(src / "file", "content");
  const std::string binary("\x00\x01\xff value", 9);
  ASSERT_EQ(::setxattr((src / "file").c_str(), "user.binary", binary.data(), binary.size(), 0), 0);
  ASSERT_EQ(::setxattr((src / "file").c_str(), "user.empty", "", 0, 0), 0);
  ASSERT_EQ(::setxattr((src / "dir").c_str(), "user.on_dir", "d", 1, 0), 0);

  Agent agent;
  RecordingSink sink;
  ASSERT_EQ(backup(agent, job_for({src.string()}), sink).status, SBX_OK);
  EXPECT_TRUE(sink.warnings.empty()) << sink.warnings_text();
  const Recorded* file = sink.find(entry_path(src / "file"));
  ASSERT_NE(file, nullptr);
  std::map<std::string, std::string> sent;
  for (const auto& x : file->entry.xattrs) sent[x.name] = x.value;
  EXPECT_EQ(sent["user.binary"], binary);
  EXPECT_TRUE(sent.count("user.empty"));
  // check() gets lstat metadata only: attributes are read once the host asked for the entry.
  for (const Entry& checked : sink.checked) EXPECT_TRUE(checked.xattrs.empty());

  auto before = snapshot(src);
  fs::path target = tmp / "restored";
  restore_all(agent, sink.entries, target.string());
  auto after = snapshot(target / src.relative_path());
  EXPECT_EQ(joined(differences(before, after)), "");
  EXPECT_EQ(after["file"].xattrs["user.binary"], binary);
  EXPECT_EQ(after["dir"].xattrs["user.on_dir"], "d");
}

TEST(AgentFilesXattrs, TrustedAttributesRoundTripAsRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "trusted.* needs CAP_SYS_ADMIN";
  TempDir tmp("agent-files-xattrs-trusted");
  fs::path src = tmp / "src";
  fs::create_directories(src);
  write_file(src / "file", "content");
  if (::setxattr((src / "file").c_str(), "trusted.sbx", "t", 1, 0) != 0)
    GTEST_SKIP() << "the temp file system does not take trusted.* xattrs";
  Agent agent;
  RecordingSink sink;
  ASSERT_EQ(backup(agent, job_for({src.string()}), sink).status, SBX_OK);
  fs::path target = tmp / "restored";
  restore_all(agent, sink.entries, target.string());
  EXPECT_EQ(xattrs_of(target / src.relative_path() / "file")["trusted.sbx"], "t");
}

// The on-disk form of a POSIX ACL xattr: version 2, then (tag, perm, id) entries. `x` adds search/execute
// permission (a directory's owner must keep it to walk in).
std::string posix_acl(uint32_t named_uid, bool x) {
  struct __attribute__((packed)) Item {
    uint16_t tag, perm;
    uint32_t id;
  };
  const uint32_t version = 2, none = 0xffffffff;
  const uint16_t exec = x ? 1 : 0;
  const Item items[] = {{0x01, uint16_t(6 | exec), none},
                        {0x02, uint16_t(4 | exec), named_uid},
                        {0x04, uint16_t(4 | exec), none},
                        {0x10, uint16_t(4 | exec), none},
                        {0x20, 0, none}};
  std::string out(reinterpret_cast<const char*>(&version), sizeof version);
  out.append(reinterpret_cast<const char*>(items), sizeof items);
  return out;
}

TEST(AgentFilesXattrs, PosixAclsRoundTrip) {
  TempDir tmp("agent-files-acls");
  fs::path src = tmp / "src";
  fs::create_directories(src / "dir");
  write_file(src / "file", "content", 0640);
  write_file(src / "dir/child", "made before the default ACL, so it has none", 0600);
  const std::string access = posix_acl(4321, false), dir_access = posix_acl(4321, true),
                    defaults = posix_acl(4322, false);
  if (::setxattr((src / "file").c_str(), "system.posix_acl_access", access.data(), access.size(), 0) != 0)
    GTEST_SKIP() << "the temp file system does not take POSIX ACLs";
  ASSERT_EQ(
      ::setxattr((src / "dir").c_str(), "system.posix_acl_default", defaults.data(), defaults.size(), 0), 0);
  ASSERT_EQ(
      ::setxattr((src / "dir").c_str(), "system.posix_acl_access", dir_access.data(), dir_access.size(), 0),
      0);

  Agent agent;
  RecordingSink sink;
  ASSERT_EQ(backup(agent, job_for({src.string()}), sink).status, SBX_OK);
  auto before = snapshot(src);
  fs::path target = tmp / "restored";
  restore_all(agent, sink.entries, target.string());
  auto after = snapshot(target / src.relative_path());
  EXPECT_EQ(joined(differences(before, after)), "");
  EXPECT_EQ(after["file"].xattrs["system.posix_acl_access"], access);
  EXPECT_EQ(after["dir"].xattrs["system.posix_acl_default"], defaults);
  EXPECT_EQ(after["dir"].xattrs["system.posix_acl_access"], dir_access);
  EXPECT_TRUE(after["dir/child"].xattrs.empty()) << "a restored child must not inherit the default ACL";
}

}  // namespace
