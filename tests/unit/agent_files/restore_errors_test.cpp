// Restore input errors: data that does not match what the entry announced, bad extents, bad targets and
// calls out of order are refused with a message naming the file, and no incomplete file is left behind.
#include <sys/stat.h>

#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

TEST(AgentFilesRestoreErrors, TooLittleDataFailsAtEntryEndAndLeavesNoFile) {
  TempDir tmp("agent-files-restore-short");
  Agent agent;
  Restore restore(agent, tmp.path().string());
  EXPECT_EQ(restore.put(regular_file_entry("short", 10), "12345"), SBX_ERR_CORRUPT);
  EXPECT_NE(restore.last_error.find("'short'"), std::string::npos) << restore.last_error;
  EXPECT_NE(restore.last_error.find("announced 10 bytes"), std::string::npos) << restore.last_error;
  EXPECT_EQ(restore.put(regular_file_entry("next", 2), "ok"), SBX_OK) << restore.last_error;
  EXPECT_EQ(restore.finish(), SBX_OK);
  EXPECT_FALSE(fs::exists(tmp / "short"));
  EXPECT_EQ(read_file(tmp / "next"), "ok");
}

TEST(AgentFilesRestoreErrors, TooMuchDataFailsAtOnce) {
  TempDir tmp("agent-files-restore-long");
  Agent agent;
  Restore restore(agent, tmp.path().string());
  EXPECT_EQ(restore.put(regular_file_entry("long", 3), "123456"), SBX_ERR_CORRUPT);
  EXPECT_NE(restore.last_error.find("more data"), std::string::npos) << restore.last_error;
  // The host may still end the refused entry; that is not a second error.
  EXPECT_EQ(vt().restore_entry_end(restore.get()), SBX_OK);
  EXPECT_EQ(restore.finish(), SBX_OK);
  EXPECT_FALSE(fs::exists(tmp / "long"));
}

TEST(AgentFilesRestoreErrors, SparseExtentsOutsideTheFileAreCorrupt) {
  TempDir tmp("agent-files-restore-extents");
  Agent agent;
  Restore restore(agent, tmp.path().string());
  Entry past_end = regular_file_entry("past-end", 100);
  past_end.extents = {{90, 20}};
  EXPECT_EQ(restore.put(past_end, std::string(20, 'x')), SBX_ERR_CORRUPT);
  Entry overlap = regular_file_entry("overlap", 100);
  overlap.extents = {{0, 50}, {40, 10}};
  EXPECT_EQ(restore.put(overlap, std::string(60, 'x')), SBX_ERR_CORRUPT);
  Entry wraps = regular_file_entry("wraps", 100);
  wraps.extents = {{UINT64_MAX - 1, 4}};
  EXPECT_EQ(restore.put(wraps, "xxxx"), SBX_ERR_CORRUPT);
  EXPECT_EQ(restore.finish(), SBX_OK);
  EXPECT_FALSE(fs::exists(tmp / "past-end"));
}

TEST(AgentFilesRestoreErrors, DataSplitAcrossExtentsLandsAtTheirOffsets) {
  TempDir tmp("agent-files-restore-split");
  Agent agent;
  Restore restore(agent, tmp.path().string());
  Entry e = regular_file_entry("split", 1 << 20);
  e.extents = {{0, 3}, {4096, 5}, {65536, 0}, {1000000, 2}};
  ASSERT_EQ(restore.put(e, "abcdefghij", 4), SBX_OK) << restore.last_error;
  ASSERT_EQ(restore.finish(), SBX_OK);
  std::string content = read_file(tmp / "split");
  ASSERT_EQ(content.size(), 1u << 20);
  EXPECT_EQ(content.substr(0, 4), std::string("abc\0", 4));
  EXPECT_EQ(content.substr(4096, 5), "defgh");
  EXPECT_EQ(content.substr(1000000, 2), "ij");
  EXPECT_EQ(content.find_first_not_of('\0', 1000002), std::string::npos);
}

TEST(AgentFilesRestoreErrors, BadTargetsAreRefused) {
  Agent agent;
  sbx_agent_restore* restore = nullptr;
  for (std::string options : {"{\"target\":\"relative/dir\"}", "{}", "not json", "{\"target\":5}"}) {
    sbx::testkit::FakeHost::clear_error();
    EXPECT_EQ(vt().begin_restore(agent.get(), sbx::sdk::make_str(options), &restore),
              SBX_ERR_INVALID_ARGUMENT)
        << options;
    EXPECT_FALSE(sbx::testkit::FakeHost::last_error().empty());
  }
  TempDir tmp("agent-files-restore-target");
  write_file(tmp / "a-file", "x");
  std::string options = nlohmann::json({{"target", (tmp / "a-file").string()}}).dump();
  EXPECT_LT(vt().begin_restore(agent.get(), sbx::sdk::make_str(options), &restore), 0);
}

TEST(AgentFilesRestoreErrors, MissingTargetIsCreated) {
  TempDir tmp("agent-files-restore-create");
  Agent agent;
  fs::path target = tmp / "does/not/exist/yet";
  Restore restore(agent, target.string());
  ASSERT_EQ(restore.begin_status(), SBX_OK) << sbx::testkit::FakeHost::last_error();
  EXPECT_EQ(restore.put(regular_file_entry("f", 1), "x"), SBX_OK);
  EXPECT_EQ(restore.finish(), SBX_OK);
  EXPECT_EQ(read_file(target / "f"), "x");
}

TEST(AgentFilesRestoreErrors, CallsOutOfOrderAreRefused) {
  TempDir tmp("agent-files-restore-order");
  Agent agent;
  Restore restore(agent, tmp.path().string());
  EXPECT_EQ(vt().restore_data(restore.get(), sbx::sdk::make_bytes("x")), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(vt().restore_entry_end(restore.get()), SBX_ERR_INVALID_ARGUMENT);
  Entry open = regular_file_entry("left-open", 4);
  ASSERT_EQ(vt().restore_entry(restore.get(), &open.as_c()), SBX_OK);
  ASSERT_EQ(vt().restore_data(restore.get(), sbx::sdk::make_bytes("ab")), SBX_OK);
  sbx::testkit::FakeHost::clear_error();
  EXPECT_EQ(restore.finish(), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(restore.last_error.find("left-open"), std::string::npos) << restore.last_error;
  EXPECT_FALSE(fs::exists(tmp / "left-open"));
}

TEST(AgentFilesRestoreErrors, AnEntryLeftOpenIsRemovedWhenTheNextArrives) {
  TempDir tmp("agent-files-restore-left-open");
  Agent agent;
  Restore restore(agent, tmp.path().string());
  Entry open = regular_file_entry("unfinished", 4);
  ASSERT_EQ(vt().restore_entry(restore.get(), &open.as_c()), SBX_OK);
  ASSERT_EQ(vt().restore_data(restore.get(), sbx::sdk::make_bytes("ab")), SBX_OK);
  Entry next = regular_file_entry("next", 1);
  sbx::testkit::FakeHost::clear_error();
  EXPECT_EQ(vt().restore_entry(restore.get(), &next.as_c()), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(sbx::testkit::FakeHost::last_error().find("'unfinished'"), std::string::npos);
  EXPECT_EQ(restore.put(regular_file_entry("after", 1), "z"), SBX_OK) << restore.last_error;
  EXPECT_EQ(restore.finish(), SBX_OK);
  EXPECT_FALSE(fs::exists(tmp / "unfinished"));
  EXPECT_EQ(read_file(tmp / "after"), "z");
}

TEST(AgentFilesRestoreErrors, MalformedEntryStructsAreRefused) {
  TempDir tmp("agent-files-restore-malformed");
  Agent agent;
  Restore restore(agent, tmp.path().string());
  Entry good = regular_file_entry("f", 0);
  sbx_entry small = good.as_c();
  small.struct_size = sizeof(sbx_entry) - 8;
  EXPECT_EQ(vt().restore_entry(restore.get(), &small), SBX_ERR_INVALID_ARGUMENT);
  sbx_entry dangling = good.as_c();
  dangling.extents = nullptr;
  dangling.extent_count = 3;
  EXPECT_EQ(vt().restore_entry(restore.get(), &dangling), SBX_ERR_INVALID_ARGUMENT);
  sbx_entry null_path = good.as_c();
  null_path.path = {nullptr, 5};
  EXPECT_EQ(vt().restore_entry(restore.get(), &null_path), SBX_ERR_INVALID_ARGUMENT);
  Entry unknown = regular_file_entry("u", 0);
  unknown.type = 99;
  EXPECT_EQ(restore.put(unknown, ""), SBX_ERR_CORRUPT);
  EXPECT_EQ(restore.finish(), SBX_OK);
  EXPECT_FALSE(fs::exists(tmp / "f"));
}

TEST(AgentFilesRestoreErrors, AbortLeavesNoIncompleteFile) {
  TempDir tmp("agent-files-restore-abort");
  Agent agent;
  sbx_agent_restore* restore = nullptr;
  std::string options = nlohmann::json({{"target", tmp.path().string()}}).dump();
  ASSERT_EQ(vt().begin_restore(agent.get(), sbx::sdk::make_str(options), &restore), SBX_OK);
  Entry open = regular_file_entry("partial", 4);
  ASSERT_EQ(vt().restore_entry(restore, &open.as_c()), SBX_OK);
  ASSERT_EQ(vt().restore_data(restore, sbx::sdk::make_bytes("ab")), SBX_OK);
  vt().abort_restore(restore);
  EXPECT_FALSE(fs::exists(tmp / "partial"));
}

}  // namespace
