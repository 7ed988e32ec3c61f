// Sparse files: only data extents travel, holes (inside and trailing) stay holes after a restore, an
// all-hole file stays marked sparse, a dense file with zero runs stays dense, and 64-bit sizes work.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB, kGiB = 1024 * kMiB;

void write_at(const fs::path& p, uint64_t offset, std::string_view data) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(data.size()));
  ::close(fd);
}

void set_size(const fs::path& p, uint64_t size) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
  ::fsync(fd);  // so the file system reports the extents it really has
  ::close(fd);
}

bool holes_supported(const fs::path& dir) {
  fs::path probe = dir / ".hole-probe";
  set_size(probe, 16 * kMiB);
  struct stat st;
  ::stat(probe.c_str(), &st);
  fs::remove(probe);
  return st.st_blocks * 512 < 16 * static_cast<off_t>(kMiB);
}

uint64_t data_length(const Entry& e) {
  return e.data_length();
}

TEST(AgentFilesSparse, HolesStayHoles) {
  TempDir tmp("agent-files-sparse");
  if (!holes_supported(tmp.path())) GTEST_SKIP() << "the temp file system has no holes";
  fs::path src = tmp / "src";
  fs::create_directories(src);
  const std::string head = sbx::testkit::pattern_string(1, 4 * kKiB);
  const std::string middle = sbx::testkit::pattern_string(2, 8 * kKiB);
  write_at(src / "holes", 0, head);
  write_at(src / "holes", 1 * kMiB, middle);
  set_size(src / "holes", 3 * kMiB);  // trailing hole
  set_size(src / "all-hole", 10 * kMiB);
  write_file(src / "dense-zeros", std::string(2 * kMiB, '\0'));

  Agent agent;
  RecordingSink sink;
  ASSERT_EQ(backup(agent, job_for({src.string()}), sink).status, SBX_OK);
  EXPECT_TRUE(sink.protocol_errors.empty()) << joined(sink.protocol_errors);

  const Recorded* holes = sink.find(entry_path(src / "holes"));
  ASSERT_NE(holes, nullptr);
  EXPECT_EQ(holes->entry.size, 3 * kMiB);
  ASSERT_EQ(holes->entry.extents.size(), 2u);
  EXPECT_EQ(holes->entry.extents[0].offset, 0u);
  EXPECT_EQ(holes->entry.extents[0].length, 4 * kKiB);
  EXPECT_EQ(holes->entry.extents[1].offset, 1 * kMiB);
  EXPECT_EQ(holes->entry.extents[1].length, 8 * kKiB);
  EXPECT_EQ(holes->data, head + middle);

  const Recorded* empty = sink.find(entry_path(src / "all-hole"));
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->entry.size, 10 * kMiB);
  ASSERT_EQ(empty->entry.extents.size(), 1u) << "an all-hole file must still be marked sparse";
  EXPECT_EQ(empty->entry.extents[0].offset, 10 * kMiB);
  EXPECT_EQ(empty->entry.extents[0].length, 0u);
  EXPECT_TRUE(empty->data.empty());

  const Recorded* dense = sink.find(entry_path(src / "dense-zeros"));
  ASSERT_NE(dense, nullptr);
  EXPECT_TRUE(dense->entry.extents.empty());
  EXPECT_EQ(dense->data.size(), 2 * kMiB);

  auto before = snapshot(src);
  fs::path target = tmp / "restored";
  restore_all(agent, sink.entries, target.string());
  auto after = snapshot(target / src.relative_path());
  EXPECT_EQ(joined(differences(before, after, {.owners = true, .blocks = true})), "");
  EXPECT_EQ(read_file(target / src.relative_path() / "holes").substr(1 * kMiB, 8 * kKiB), middle);
}

TEST(AgentFilesSparse, NineGiBFileWithAFewBlocks) {
  TempDir tmp("agent-files-sparse-9g");
  if (!holes_supported(tmp.path())) GTEST_SKIP() << "the temp file system has no holes";
  fs::path src = tmp / "src";
  fs::create_directories(src);
  fs::path huge = src / "nine-gib";
  const uint64_t size = 9 * kGiB;
  const std::string a = sbx::testkit::pattern_string(11, 4 * kKiB);
  const std::string b = sbx::testkit::pattern_string(12, 12 * kKiB);
  const std::string c = "the very end";
  write_at(huge, 0, a);
  write_at(huge, 4 * kGiB + 12 * kKiB, b);  // beyond 32-bit offsets
  write_at(huge, size - c.size(), c);       // beyond the 8 GiB ustar limit
  set_size(huge, size);

  Agent agent;
  RecordingSink sink;
  ASSERT_EQ(backup(agent, job_for({src.string()}), sink).status, SBX_OK);
  EXPECT_TRUE(sink.protocol_errors.empty()) << joined(sink.protocol_errors);
  const Recorded* entry = sink.find(entry_path(huge));
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->entry.size, size);
  ASSERT_EQ(entry->entry.extents.size(), 3u);
  EXPECT_EQ(entry->entry.extents[1].offset, 4 * kGiB + 12 * kKiB);
  EXPECT_EQ(entry->entry.extents[2].offset + entry->entry.extents[2].length, size);
  EXPECT_EQ(entry->data.size(), data_length(entry->entry));
  EXPECT_LT(entry->data.size(), 64 * kKiB);

  auto before = snapshot(src);
  fs::path target = tmp / "restored";
  restore_all(agent, sink.entries, target.string());
  fs::path back = target / src.relative_path() / "nine-gib";
  EXPECT_EQ(
      joined(differences(before, snapshot(target / src.relative_path()), {.owners = true, .blocks = true})),
      "");
  struct stat st;
  ASSERT_EQ(::stat(back.c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), size);
  EXPECT_LT(st.st_blocks * 512, 1 * static_cast<off_t>(kMiB));
  int fd = ::open(back.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::string tail(c.size(), '\0');
  ASSERT_EQ(::pread(fd, tail.data(), tail.size(), static_cast<off_t>(size - c.size())),
            static_cast<ssize_t>(c.size()));
  ::close(fd);
  EXPECT_EQ(tail, c);
}

}  // namespace
