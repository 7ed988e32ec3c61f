// Entries of every type and every awkward field value come back exactly as written.
#include "disk_harness.hpp"

namespace sbx::disk_test {
namespace {

std::vector<Item> every_kind_of_entry() {
  std::vector<Item> items;
  items.push_back(other_item(SBX_ENTRY_DIRECTORY, "tree", "", 02755));
  items.back().entry.xattrs = {{"user.comment", "a directory"}};
  items.push_back(file_item("tree/hello.txt", "hello, world\n"));
  items.push_back(file_item("tree/empty", ""));
  items.push_back(file_item("tree/with space and\nnewline", "odd name\n", 0600));
  items.push_back(file_item(std::string("tree/bad utf8 \xff\xfe\x80", 17), "binary name", 0640));
  items.push_back(file_item("tree/ütf-8 ñame ✓", "valid UTF-8 name", 0640));
  items.push_back(
      file_item("tree/" + std::string(180, 'd') + "/" + std::string(200, 'f'), "long path", 0444));
  items.push_back(other_item(SBX_ENTRY_SYMLINK, "tree/link", "hello.txt", 0777));
  items.push_back(
      other_item(SBX_ENTRY_SYMLINK, "tree/long link", std::string(300, 'L') + "/\xff target", 0777));
  items.push_back(other_item(SBX_ENTRY_HARDLINK, "tree/hard", "tree/hello.txt", 0644));
  items.push_back(
      other_item(SBX_ENTRY_HARDLINK, "tree/hard to odd", std::string("tree/bad utf8 \xff\xfe\x80", 17)));
  items.push_back(other_item(SBX_ENTRY_FIFO, "tree/fifo", "", 0620));
  items.push_back(other_item(SBX_ENTRY_CHAR_DEVICE, "tree/null", "", 0666));
  items.back().entry.rdev = makedev(1, 3);
  items.push_back(other_item(SBX_ENTRY_BLOCK_DEVICE, "tree/disk", "", 0660));
  items.back().entry.rdev = makedev(259, 1048575);

  Item owners = file_item("tree/owners", "owned");
  owners.entry.uid = 4000000000u;  // past ustar's octal fields: pax only
  owners.entry.gid = 4000000001u;
  owners.entry.user_name = "jürgen with a rather long user name beyond 32";
  owners.entry.group_name = std::string("grp\xff", 4);
  items.push_back(owners);
  Item nameless = file_item("tree/nameless owner", "no names");
  nameless.entry.user_name.clear();
  nameless.entry.group_name.clear();
  nameless.entry.uid = 0;
  nameless.entry.gid = 0;
  items.push_back(nameless);

  Item times = file_item("tree/times", "timestamps");
  times.entry.mtime_ns = 1234567890987654321;
  times.entry.ctime_ns = 1234567891000000001;
  times.entry.atime_ns = 1600000000000000000;
  items.push_back(times);
  Item whole_seconds = file_item("tree/whole seconds", "x");
  whole_seconds.entry.mtime_ns = 1000000000ll * 1700000000;
  items.push_back(whole_seconds);
  Item old = file_item("tree/before 1970", "old");
  old.entry.mtime_ns = -86400ll * 1000000000ll - 250000000;  // 1969-12-30, fraction included
  items.push_back(old);
  Item far = file_item("tree/year 2255", "future");
  far.entry.mtime_ns = 9000000000ll * 1000000000ll + 1;  // near the end of int64 nanoseconds
  items.push_back(far);

  Item xattrs = file_item("tree/xattrs", "attributes");
  xattrs.entry.xattrs = {{"user.plain", "value"},
                         {"user.binary", std::string("\x00\x01\xff\xfe\n=%", 7)},
                         {"user.empty", ""},
                         {"user.with space", "s"},
                         {"user.equals=sign", "e"},
                         {"user.percent%41", "p"},
                         {"user.ünïcode", "u"},
                         {"security.selinux", "system_u:object_r:user_home_t:s0"},
                         {"trusted.big", std::string(5000, 'B')}};
  items.push_back(xattrs);

  Item sparse = file_item("tree/sparse.img", testkit::pattern_string(5, 4096 + 8192 + 10));
  sparse.entry.size = 50u << 20;
  sparse.entry.extents = {{0, 4096}, {1u << 20, 8192}, {(50u << 20) - 10, 10}};
  items.push_back(sparse);
  Item holes_at_ends = file_item("tree/holes at both ends", testkit::pattern_string(6, 300));
  holes_at_ends.entry.size = 1u << 20;
  holes_at_ends.entry.extents = {{4096, 100}, {4196, 200}, {8192, 0}};  // touching and empty extents
  items.push_back(holes_at_ends);
  Item all_hole = file_item("tree/all hole", "");
  all_hole.entry.size = 1u << 30;
  all_hole.entry.extents = {{1u << 30, 0}};
  items.push_back(all_hole);

  items.push_back(file_item("tree/big.bin", testkit::pattern_string(7, 3u << 20)));
  items.push_back(file_item("tree/zeros", std::string(2u << 20, '\0')));
  return items;
}

class DiskRoundTrip : public DiskTest {};

TEST_F(DiskRoundTrip, EveryEntryTypeComesBackExactly) {
  Device dev = open_device(config());
  auto items = every_kind_of_entry();
  auto locators = write_set(dev, "all", items, 7919);
  ASSERT_EQ(locators.size(), items.size());
  auto got = read(dev, "all", locators);
  ASSERT_EQ(got.size(), items.size());
  for (size_t i = 0; i < items.size(); ++i) expect_entry(items[i], got[i]);
}

TEST_F(DiskRoundTrip, ManySmallFilesAcrossManyFramesReadContiguously) {
  Device dev = open_device(config({{"frame_bytes", 4096}}));
  std::vector<Item> items;
  for (int i = 0; i < 600; ++i) {
    if (i % 50 == 0) items.push_back(other_item(SBX_ENTRY_DIRECTORY, "d" + std::to_string(i / 50)));
    Item f = file_item("d" + std::to_string(i / 50) + "/file " + std::to_string(i),
                       testkit::pattern_string(i, static_cast<size_t>((i * 7919) % 20000)));
    f.entry.mtime_ns += i;
    items.push_back(std::move(f));
  }
  auto locators = write_set(dev, "many", items, 1000);
  ASSERT_EQ(locators.size(), items.size());
  std::set<uint64_t> frames;
  for (const Locator& l : locators) frames.insert(decode_locator(l).frame_offset);
  EXPECT_GT(frames.size(), 100u) << "frame_bytes 4096 should give many frames";
  auto got = read(dev, "many", locators);
  ASSERT_EQ(got.size(), items.size());
  for (size_t i = 0; i < items.size(); ++i) expect_entry(items[i], got[i]);
}

TEST_F(DiskRoundTrip, OutOfOrderAndRepeatedLocators) {
  Device dev = open_device(config({{"frame_bytes", 4096}}));
  auto items = every_kind_of_entry();
  auto locators = write_set(dev, "shuffled", items);
  ASSERT_EQ(locators.size(), items.size());
  std::vector<size_t> order;
  for (size_t i = items.size(); i-- > 0;) order.push_back(i);
  order.insert(order.end(), {3, 3, 0, items.size() - 1, 1});
  std::vector<Locator> asked;
  for (size_t i : order) asked.push_back(locators[i]);
  auto got = read(dev, "shuffled", asked);
  ASSERT_EQ(got.size(), order.size());
  for (size_t k = 0; k < order.size(); ++k) expect_entry(items[order[k]], got[k]);
}

TEST_F(DiskRoundTrip, SkipAnswerGivesMetadataWithoutData) {
  Device dev = open_device(config());
  std::vector<Item> items = {file_item("a", testkit::pattern_string(1, 100000)), file_item("b", "second")};
  auto locators = write_set(dev, "skip", items);
  auto got = read(dev, "skip", locators, nullptr, /*skip_data=*/true);
  ASSERT_EQ(got.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(got[i].ended);
    EXPECT_EQ(got[i].entry.path, items[i].entry.path);
    EXPECT_EQ(got[i].entry.size, items[i].entry.size);
    EXPECT_TRUE(got[i].data.empty());
  }
}

TEST_F(DiskRoundTrip, CompressionLevelsAndReopenedDevice) {
  auto items = every_kind_of_entry();
  for (int level : {-5, 1, 12}) {
    SCOPED_TRACE("level " + std::to_string(level));
    std::string name = "level" + std::to_string(level + 10);
    std::vector<Locator> locators;
    {
      Device dev = open_device(config({{"compression_level", level}}));
      locators = write_set(dev, name, items);
    }
    Device again = open_device(config());
    auto got = read(again, name, locators);
    ASSERT_EQ(got.size(), items.size());
    for (size_t i = 0; i < items.size(); ++i) expect_entry(items[i], got[i]);
  }
}

}  // namespace
}  // namespace sbx::disk_test
