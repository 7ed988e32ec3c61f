// An unencrypted set is a plain .tar.zst: `zstd -d | tar x` alone (GNU tar) restores it, with names,
// modes, mtimes, links, xattrs and sparse files.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>

#include "disk_harness.hpp"

namespace sbx::disk_test {
namespace {

class DiskGnuTar : public DiskTest {
 protected:
  void SetUp() override {
    DiskTest::SetUp();
    if (std::system("command -v zstd >/dev/null 2>&1 && tar --version 2>/dev/null | grep -q 'GNU tar'") != 0)
      GTEST_SKIP() << "zstd and GNU tar are needed";
  }

  Item owned(Item item) {
    item.entry.uid = getuid();
    item.entry.gid = getgid();
    if (passwd* pw = getpwuid(getuid())) item.entry.user_name = pw->pw_name;
    if (group* gr = getgrgid(getgid())) item.entry.group_name = gr->gr_name;
    return item;
  }

  // True when the file system of the temp dir keeps user.* xattrs (tmpfs before Linux 6.6 does not).
  bool user_xattrs_supported() {
    std::string probe = (temp_.path() / "xattr-probe").string();
    write_file(probe, "");
    return ::setxattr(probe.c_str(), "user.probe", "1", 1, 0) == 0;
  }
};

std::string lread_link(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? std::string("<unreadable>") : std::string(buf, static_cast<size_t>(n));
}

std::string get_xattr(const std::string& path, const std::string& name) {
  char buf[65536];
  ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), buf, sizeof buf);
  return n < 0 ? std::string("<missing>") : std::string(buf, static_cast<size_t>(n));
}

// The logical content of a sparse item: zeros with the extents' data laid in.
std::string logical_content(const Item& item) {
  std::string content(item.entry.size, '\0');
  size_t at = 0;
  for (const sbx_extent& x : item.entry.extents) {
    content.replace(x.offset, x.length, item.data.substr(at, x.length));
    at += x.length;
  }
  return content;
}

TEST_F(DiskGnuTar, ZstdAndTarAloneRestoreTheSet) {
  const bool xattrs = user_xattrs_supported();
  Device dev = open_device(config({{"frame_bytes", 65536}}));

  std::vector<Item> items;
  items.push_back(owned(other_item(SBX_ENTRY_DIRECTORY, "t", "", 0750)));
  // Depth first, as agents walk: GNU tar sets a directory's mtime once extraction has left it.
  items.push_back(owned(other_item(SBX_ENTRY_DIRECTORY, "t/sub dir", "", 0700)));
  items.push_back(owned(file_item("t/sub dir/space name\nand newline", "newline\n", 0600)));
  items.push_back(owned(file_item("t/file.txt", testkit::pattern_string(1, 300000), 0640)));
  items.push_back(owned(file_item(std::string("t/invalid \xff\xfe utf8", 17), "raw bytes", 0644)));
  items.push_back(owned(file_item("t/ütf-8 ✓", "utf8", 0644)));
  items.push_back(owned(file_item("t/empty", "", 0444)));
  items.push_back(owned(file_item("t/" + std::string(150, 'p') + "/" + std::string(120, 'q'), "deep", 0644)));
  items.push_back(owned(other_item(SBX_ENTRY_DIRECTORY, "t/" + std::string(150, 'p'), "", 0755)));
  std::swap(items[7], items[8]);  // the directory before what it holds
  items.push_back(owned(other_item(SBX_ENTRY_SYMLINK, "t/link", "file.txt", 0777)));
  items.push_back(owned(other_item(SBX_ENTRY_HARDLINK, "t/hard", "t/file.txt", 0640)));
  items.push_back(owned(other_item(SBX_ENTRY_FIFO, "t/fifo", "", 0600)));
  Item with_xattrs = owned(file_item("t/xattrs", "has attributes", 0644));
  with_xattrs.entry.xattrs = {{"user.plain", "value"}, {"user.binary", std::string("\x00\x01\xff=\n", 5)}};
  items.push_back(with_xattrs);
  Item sparse = owned(file_item("t/sparse", testkit::pattern_string(2, 4096 + 5000 + 10), 0644));
  sparse.entry.size = 64u << 20;
  sparse.entry.extents = {{0, 4096}, {10u << 20, 5000}, {(64u << 20) - 10, 10}};
  items.push_back(sparse);
  Item huge = owned(file_item("t/huge sparse", testkit::pattern_string(3, 3 * 4096), 0644));
  huge.entry.size = 9ull << 30;  // past the 8 GiB of ustar's size field
  huge.entry.extents = {{1u << 20, 4096}, {5ull << 30, 4096}, {(9ull << 30) - 4096, 4096}};
  items.push_back(huge);
  for (Item& item : items)
    item.entry.mtime_ns = 1600000000123456789 + static_cast<int64_t>(item.entry.path.size());

  auto locators = write_set(dev, "plain", items);
  ASSERT_EQ(locators.size(), items.size());

  const std::string set_file = store_dir() + "/sets/plain.tar.zst";
  const std::string out = (temp_.path() / "out").string();
  const std::string log = (temp_.path() / "tar.log").string();
  ASSERT_EQ(::mkdir(out.c_str(), 0700), 0);
  const std::string command = "cd '" + out + "' && zstd -q -d < '" + set_file +
                              "' | tar -x -p --xattrs --xattrs-include='user.*' -f - 2> '" + log + "'";
  int rc = std::system(command.c_str());
  ASSERT_EQ(rc, 0) << command << "\n" << read_file(log);

  for (const Item& item : items) {
    const sdk::Entry& e = item.entry;
    const std::string path = out + "/" + e.path;
    SCOPED_TRACE(testkit::printable(e.path));
    struct stat st;
    ASSERT_EQ(::lstat(path.c_str(), &st), 0) << "missing after extraction";
    if (e.type != SBX_ENTRY_SYMLINK) {
      EXPECT_EQ(st.st_mode & 07777, e.mode);
    }
    EXPECT_EQ(st.st_uid, e.uid);
    EXPECT_EQ(st.st_gid, e.gid);
    switch (e.type) {
      case SBX_ENTRY_DIRECTORY:
        EXPECT_TRUE(S_ISDIR(st.st_mode));
        break;
      case SBX_ENTRY_SYMLINK:
        EXPECT_TRUE(S_ISLNK(st.st_mode));
        EXPECT_EQ(lread_link(path), e.link_target);
        break;
      case SBX_ENTRY_HARDLINK: {
        struct stat target;
        ASSERT_EQ(::lstat((out + "/" + e.link_target).c_str(), &target), 0);
        EXPECT_EQ(st.st_ino, target.st_ino) << "not a hard link of " << e.link_target;
        break;
      }
      case SBX_ENTRY_FIFO:
        EXPECT_TRUE(S_ISFIFO(st.st_mode));
        break;
      case SBX_ENTRY_FILE:
        ASSERT_TRUE(S_ISREG(st.st_mode));
        EXPECT_EQ(static_cast<uint64_t>(st.st_size), e.size);
        if (e.extents.empty()) {
          EXPECT_TRUE(read_file(path) == item.data) << "content differs";
        } else if (e.size <= (64u << 20)) {
          EXPECT_TRUE(read_file(path) == logical_content(item)) << "sparse content differs";
          EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, e.size / 2) << "holes were filled in";
        } else {
          // 9 GiB: check the extents and one spot in a hole instead of reading it all.
          int fd = ::open(path.c_str(), O_RDONLY);
          ASSERT_GE(fd, 0);
          size_t at = 0;
          for (const sbx_extent& x : e.extents) {
            std::string got(x.length, '\0');
            ASSERT_EQ(::pread(fd, got.data(), x.length, static_cast<off_t>(x.offset)),
                      static_cast<ssize_t>(x.length));
            EXPECT_TRUE(got == item.data.substr(at, x.length)) << "extent at " << x.offset;
            at += x.length;
          }
          char hole[16] = {1};
          ASSERT_EQ(::pread(fd, hole, sizeof hole, 3ll << 30), static_cast<ssize_t>(sizeof hole));
          EXPECT_EQ(std::string(hole, sizeof hole), std::string(sizeof hole, '\0'));
          ::close(fd);
          EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, uint64_t{64} << 20) << "holes were filled in";
        }
        break;
    }
    if (e.type != SBX_ENTRY_SYMLINK && e.type != SBX_ENTRY_HARDLINK && e.type != SBX_ENTRY_DIRECTORY) {
      int64_t mtime = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
      EXPECT_EQ(mtime, e.mtime_ns);
    }
    if (xattrs) {
      for (const sdk::Xattr& x : e.xattrs)
        EXPECT_EQ(testkit::printable(get_xattr(path, x.name)), testkit::printable(x.value));
    }
  }
  // Directories get their mtimes last, once their contents are in place.
  struct stat dir;
  ASSERT_EQ(::lstat((out + "/t/sub dir").c_str(), &dir), 0);
  EXPECT_EQ(int64_t{dir.st_mtim.tv_sec} * 1000000000 + dir.st_mtim.tv_nsec, items[1].entry.mtime_ns);
  if (!xattrs) std::cout << "note: this file system keeps no user.* xattrs; their restore was not checked\n";
}

TEST_F(DiskGnuTar, ListingNamesEveryEntryInOrder) {
  Device dev = open_device(config({{"frame_bytes", 4096}}));
  std::vector<Item> items;
  for (int i = 0; i < 200; ++i)
    items.push_back(file_item("f" + std::to_string(i), testkit::pattern_string(i, 3000)));
  write_set(dev, "listing", items);
  const std::string set_file = store_dir() + "/sets/listing.tar.zst";
  const std::string list = (temp_.path() / "list").string();
  ASSERT_EQ(std::system(("zstd -q -d < '" + set_file + "' | tar -t -f - > '" + list + "'").c_str()), 0);
  std::string expected;
  for (const Item& item : items) expected += item.entry.path + "\n";
  EXPECT_EQ(read_file(list), expected);
}

}  // namespace
}  // namespace sbx::disk_test
