// The descriptor, info, list_sets, delete_set, set names, and misuse of a writer or of entries.
#include <filesystem>

#include "disk_harness.hpp"

namespace sbx::disk_test {
namespace {

class DiskHousekeeping : public DiskTest {};

TEST_F(DiskHousekeeping, Descriptor) {
  const sbx_plugin_descriptor& d = plugin().descriptor();
  EXPECT_STREQ(d.name, "disk");
  EXPECT_EQ(d.kind, static_cast<uint32_t>(SBX_KIND_STORAGE));
  EXPECT_EQ(d.capabilities, SBX_CAP_RANDOM_ACCESS | SBX_CAP_DELETE | SBX_CAP_ENCRYPTION);
  for (const std::string& problem : testkit::descriptor_problems(d, SBX_KIND_STORAGE))
    ADD_FAILURE() << problem;
}

TEST_F(DiskHousekeeping, InfoReportsSpaceAndUse) {
  Device dev = open_device(config());
  auto info = [&] {
    sbx_storage_info i{};
    i.struct_size = sizeof i;
    EXPECT_EQ(vt_->info(dev.get(), &i), SBX_OK) << FakeHost::last_error();
    return i;
  };
  sbx_storage_info empty = info();
  EXPECT_EQ(empty.online, 1u);
  EXPECT_GT(empty.total_bytes, 0u);
  EXPECT_LE(empty.free_bytes, empty.total_bytes);
  EXPECT_EQ(empty.used_bytes, 0u);

  write_set(dev, "one", {file_item("a", testkit::pattern_string(1, 100000))});
  sbx_storage_writer* w = nullptr;
  ASSERT_EQ(vt_->begin_set(dev.get(), str("pending"), &w), SBX_OK);
  write_item(w, file_item("b", testkit::pattern_string(2, 50000)));
  uint64_t files = 0;
  for (const auto& f : std::filesystem::directory_iterator(store_dir() + "/sets")) files += f.file_size();
  EXPECT_EQ(info().used_bytes, files) << "used = every set file, unfinished ones included";
  vt_->abort_set(w);

  // The medium goes away: info still answers, offline.
  std::filesystem::rename(store_dir(), store_dir() + ".gone");
  sbx_storage_info gone = info();
  EXPECT_EQ(gone.online, 0u);
  std::filesystem::rename(store_dir() + ".gone", store_dir());
  EXPECT_EQ(info().online, 1u);
}

TEST_F(DiskHousekeeping, ListAndDelete) {
  Device dev = open_device(config());
  const std::string odd = "set with spaces, ünïcode & \xff bytes";
  for (const std::string& name : {std::string("alpha"), std::string("beta.2"), odd})
    write_set(dev, name, {file_item("f", name)});
  sbx_storage_writer* w = nullptr;
  ASSERT_EQ(vt_->begin_set(dev.get(), str("unfinished"), &w), SBX_OK);
  write_file(store_dir() + "/sets/notes.txt", "not a set");
  write_file(store_dir() + "/sets/.hidden", "not a set either");
  EXPECT_EQ(list_sets(dev), (std::set<std::string>{"alpha", "beta.2", odd, "unfinished"}));
  vt_->abort_set(w);

  EXPECT_EQ(vt_->delete_set(dev.get(), str(odd)), SBX_OK) << FakeHost::last_error();
  EXPECT_EQ(list_sets(dev), (std::set<std::string>{"alpha", "beta.2"}));
  FakeHost::clear_error();
  EXPECT_EQ(vt_->delete_set(dev.get(), str(odd)), SBX_ERR_NOT_FOUND);
  EXPECT_NE(FakeHost::last_error().find("not found"), std::string::npos) << FakeHost::last_error();
  EXPECT_TRUE(std::filesystem::exists(store_dir() + "/sets/notes.txt"));
}

TEST_F(DiskHousekeeping, SetNamesAreChecked) {
  Device dev = open_device(config());
  const std::vector<std::string> bad = {
      "", "a/b", "/abs", ".hidden", "..", std::string(201, 'n'), std::string("nul\0byte", 8)};
  for (const std::string& name : bad) {
    SCOPED_TRACE(testkit::printable(name));
    sbx_storage_writer* w = nullptr;
    sbx_storage_reader* r = nullptr;
    FakeHost::clear_error();
    EXPECT_EQ(vt_->begin_set(dev.get(), str(name), &w), SBX_ERR_INVALID_ARGUMENT);
    EXPECT_NE(FakeHost::last_error().find("set name"), std::string::npos) << FakeHost::last_error();
    EXPECT_EQ(vt_->open_set(dev.get(), str(name), &r), SBX_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(vt_->delete_set(dev.get(), str(name)), SBX_ERR_INVALID_ARGUMENT);
  }
  EXPECT_TRUE(std::filesystem::is_empty(store_dir() + "/sets"));
  const std::string longest(200, 'n');
  auto locators = write_set(dev, longest, {file_item("f", "x")});
  EXPECT_EQ(read(dev, longest, locators).at(0).data, "x");
}

TEST_F(DiskHousekeeping, BadEntriesAreRefusedAndTheWriterGoesOn) {
  Device dev = open_device(config());
  sbx_storage_writer* w = nullptr;
  ASSERT_EQ(vt_->begin_set(dev.get(), str("strict"), &w), SBX_OK);
  auto refuse = [&](const sbx_entry& e, const std::string& why) {
    FakeHost::clear_error();
    EXPECT_EQ(vt_->write_entry(w, &e), SBX_ERR_INVALID_ARGUMENT) << why;
    EXPECT_NE(FakeHost::last_error().find(why), std::string::npos) << FakeHost::last_error();
  };
  Item nul = file_item(std::string("a\0b", 3), "");
  refuse(nul.entry.as_c(), "path contains a NUL byte");
  Item empty = file_item("", "");
  refuse(empty.entry.as_c(), "path is empty");
  Item type = file_item("t", "");
  type.entry.type = 99;
  refuse(type.entry.as_c(), "unknown entry type 99");
  Item link = other_item(SBX_ENTRY_SYMLINK, "l", "");
  refuse(link.entry.as_c(), "symlink target is empty");
  Item hard = other_item(SBX_ENTRY_HARDLINK, "h", "");
  refuse(hard.entry.as_c(), "hard link target is empty");
  Item xattr = file_item("x", "");
  xattr.entry.xattrs = {{std::string("user.\0", 6), "v"}};
  refuse(xattr.entry.as_c(), "xattr name contains a NUL byte");
  Item unnamed = file_item("x", "");
  unnamed.entry.xattrs = {{"", "v"}};
  refuse(unnamed.entry.as_c(), "empty name");
  Item small_item = file_item("s", "");
  sbx_entry small = small_item.entry.as_c();
  small.struct_size = 16;
  refuse(small, "struct_size 16");

  Item good = file_item("good", "still fine");
  Locator l = write_item(w, good);
  ASSERT_EQ(vt_->commit_set(w, nullptr), SBX_OK) << FakeHost::last_error();
  auto got = read(dev, "strict", {l});
  ASSERT_EQ(got.size(), 1u);
  expect_entry(good, got[0]);
}

TEST_F(DiskHousekeeping, MisusedWriterFailsAndStaysFailed) {
  Device dev = open_device(config());
  sbx_storage_writer* w = nullptr;
  ASSERT_EQ(vt_->begin_set(dev.get(), str("misuse"), &w), SBX_OK);
  FakeHost::clear_error();
  EXPECT_EQ(vt_->write_data(w, sdk::make_bytes("orphan")), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(FakeHost::last_error().find("outside an entry"), std::string::npos) << FakeHost::last_error();
  Item item = file_item("f", "abc");
  FakeHost::clear_error();
  EXPECT_EQ(vt_->write_entry(w, &item.entry.as_c()), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(FakeHost::last_error().find("after an earlier failure"), std::string::npos)
      << FakeHost::last_error();
  EXPECT_LT(vt_->commit_set(w, nullptr), 0);
  EXPECT_TRUE(std::filesystem::is_empty(store_dir() + "/sets"));

  ASSERT_EQ(vt_->begin_set(dev.get(), str("nested"), &w), SBX_OK);
  ASSERT_EQ(vt_->write_entry(w, &item.entry.as_c()), SBX_OK);
  FakeHost::clear_error();
  EXPECT_EQ(vt_->write_entry(w, &item.entry.as_c()), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(FakeHost::last_error().find("before end_entry"), std::string::npos) << FakeHost::last_error();
  vt_->abort_set(w);
  EXPECT_TRUE(std::filesystem::is_empty(store_dir() + "/sets"));
}

TEST_F(DiskHousekeeping, IncompleteSinkIsRefused) {
  Device dev = open_device(config());
  auto locators = write_set(dev, "s", {file_item("f", "x")});
  sbx_storage_reader* r = nullptr;
  ASSERT_EQ(vt_->open_set(dev.get(), str("s"), &r), SBX_OK);
  Recorder recorder;
  sbx_entry_sink sink = *recorder.sink();
  sink.on_entry_error = nullptr;
  sbx_bytes view{locators[0].data(), locators[0].size()};
  EXPECT_EQ(vt_->read_entries(r, &view, 1, &sink), SBX_ERR_INVALID_ARGUMENT);
  vt_->close_reader(r);
}

}  // namespace
}  // namespace sbx::disk_test
