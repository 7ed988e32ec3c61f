// Sparse files: holes cost nothing to write or read, extents come back, bad sparse maps are refused.
#include <chrono>

#include "disk_harness.hpp"

namespace sbx::disk_test {
namespace {

class DiskSparse : public DiskTest {};

Item sparse_item(std::string path, uint64_t size, std::vector<sbx_extent> extents, uint64_t seed = 9) {
  uint64_t data = 0;
  for (const sbx_extent& x : extents) data += x.length;
  Item item = file_item(std::move(path), testkit::pattern_string(seed, static_cast<size_t>(data)));
  item.entry.size = size;
  item.entry.extents = std::move(extents);
  return item;
}

TEST_F(DiskSparse, NineGibibyteFileWithThreeSmallExtentsIsQuick) {
  Device dev = open_device(config());
  std::vector<Item> items{
      sparse_item("huge.img", 9ull << 30, {{0, 4096}, {4ull << 30, 65536}, {(9ull << 30) - 512, 512}})};
  auto start = std::chrono::steady_clock::now();
  auto locators = write_set(dev, "huge", items);
  auto got = read(dev, "huge", locators);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(got.size(), 1u);
  expect_entry(items[0], got[0]);
  // Pushing 9 GiB of zeros through compression would take many seconds; skipping the holes takes
  // milliseconds. The bound is loose so a loaded machine cannot fail it.
  EXPECT_LT(seconds, 3.0) << "holes were not skipped";
  std::cout << "9 GiB sparse file written and read back in " << seconds << " s\n";
}

TEST_F(DiskSparse, HolesEverywhere) {
  Device dev = open_device(config({{"frame_bytes", 4096}}));
  std::vector<Item> items{
      sparse_item("leading hole", 1u << 20, {{(1u << 20) - 4096, 4096}}),
      sparse_item("trailing hole", 1u << 20, {{0, 8192}}),
      sparse_item("all hole", 1ull << 40, {{1ull << 40, 0}}),
      sparse_item("all data", 12288, {{0, 12288}}),
      sparse_item("unaligned", 100000, {{10, 3}, {700, 1}, {5000, 100}, {99990, 10}}),
      sparse_item("touching", 65536, {{0, 512}, {512, 512}, {1024, 0}, {4096, 1000}}),
      sparse_item("empty sparse", 0, {{0, 0}}),
  };
  std::vector<sbx_extent> many;
  for (uint64_t i = 0; i < 3000; ++i) many.push_back({i * 4096, 512});
  items.push_back(sparse_item("many extents", 3000 * 4096, many));
  auto locators = write_set(dev, "holes", items, 3000);
  auto got = read(dev, "holes", locators);
  ASSERT_EQ(got.size(), items.size());
  for (size_t i = 0; i < items.size(); ++i) expect_entry(items[i], got[i]);
  // Regions that do not end the file are stretched with zeros to whole tar blocks (GNU tar needs that).
  ASSERT_EQ(got[4].entry.extents.size(), 4u);
  EXPECT_EQ(got[4].entry.extents[0].offset, 10u);
  EXPECT_EQ(got[4].entry.extents[0].length, 502u);  // to the block boundary at 512
  EXPECT_EQ(got[4].entry.extents[1].offset, 700u);
  EXPECT_EQ(got[4].entry.extents[1].length, 324u);  // to 1024
  EXPECT_EQ(got[4].entry.extents[3].offset, 99990u);
  EXPECT_EQ(got[4].entry.extents[3].length, 10u);  // ends the file: kept as is
  ASSERT_EQ(got[5].entry.extents.size(), 2u);
  EXPECT_EQ(got[5].entry.extents[0].length, 1024u);  // touching extents merged
}

TEST_F(DiskSparse, BadSparseMapsAreRefusedAndTheWriterGoesOn) {
  Device dev = open_device(config());
  sbx_storage_writer* w = nullptr;
  ASSERT_EQ(vt_->begin_set(dev.get(), str("bad"), &w), SBX_OK);
  const std::vector<std::pair<std::vector<sbx_extent>, std::string>> bad = {
      {{{4096, 100}, {0, 100}}, "precedes"},
      {{{0, 5000}, {4096, 100}}, "overlaps"},
      {{{0, 100}, {10000, 1}}, "runs past the file size"},
      {{{UINT64_MAX - 5, 10}}, "runs past the file size"},
  };
  for (const auto& [extents, why] : bad) {
    Item item = sparse_item("bad", 10000, extents);
    FakeHost::clear_error();
    EXPECT_EQ(vt_->write_entry(w, &item.entry.as_c()), SBX_ERR_INVALID_ARGUMENT);
    EXPECT_NE(FakeHost::last_error().find(why), std::string::npos) << FakeHost::last_error();
  }
  sdk::Entry null_extents = file_item("null", "").entry;
  sbx_entry c = null_extents.as_c();
  c.extent_count = 2;
  c.extents = nullptr;
  EXPECT_EQ(vt_->write_entry(w, &c), SBX_ERR_INVALID_ARGUMENT);

  Item good = sparse_item("good", 10000, {{0, 100}});
  Locator locator = write_item(w, good);
  ASSERT_EQ(vt_->commit_set(w, nullptr), SBX_OK) << FakeHost::last_error();
  auto got = read(dev, "bad", {locator});
  ASSERT_EQ(got.size(), 1u);
  expect_entry(good, got[0]);
}

TEST_F(DiskSparse, DataForHolesIsRefused) {
  Device dev = open_device(config());
  sbx_storage_writer* w = nullptr;
  ASSERT_EQ(vt_->begin_set(dev.get(), str("overfed"), &w), SBX_OK);
  Item item = sparse_item("overfed", 1u << 20, {{0, 10}});
  ASSERT_EQ(vt_->write_entry(w, &item.entry.as_c()), SBX_OK);
  // The whole logical file instead of the extents' 10 bytes.
  std::string logical(1u << 20, 'x');
  EXPECT_EQ(vt_->write_data(w, sdk::make_bytes(logical)), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(FakeHost::last_error().find("more data than its 10 bytes"), std::string::npos)
      << FakeHost::last_error();
  vt_->abort_set(w);
  EXPECT_TRUE(list_sets(dev).empty());
}

}  // namespace
}  // namespace sbx::disk_test
