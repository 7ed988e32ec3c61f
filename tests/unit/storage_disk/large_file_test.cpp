// A dense file over 8 GiB (past ustar's size field: pax carries the size) round-trips, without ever
// holding it in memory: each 4 MiB chunk is zeros stamped with its index.
#include <chrono>
#include <cstring>

#include "disk_harness.hpp"

namespace sbx::disk_test {
namespace {

constexpr uint64_t kChunk = 4u << 20;
constexpr uint64_t kSize = (8ull << 30) + kChunk + 12345;

void stamp(std::string& chunk, uint64_t index) {
  std::memset(chunk.data(), 0, chunk.size());
  std::memcpy(chunk.data(), &index, sizeof index);
  std::memcpy(chunk.data() + chunk.size() - sizeof index, &index, sizeof index);
}

// Checks the data as it streams by instead of keeping it.
class CheckingSink {
 public:
  CheckingSink() {
    sink_.struct_size = sizeof sink_;
    sink_.ctx = this;
    sink_.on_entry = [](void* c, const sbx_entry* e) {
      static_cast<CheckingSink*>(c)->size = e->size;
      return SBX_OK;
    };
    sink_.on_data = [](void* c, sbx_bytes d) { return static_cast<CheckingSink*>(c)->on_data(d); };
    sink_.on_entry_end = [](void* c) {
      static_cast<CheckingSink*>(c)->ended = true;
      return SBX_OK;
    };
    sink_.on_entry_error = [](void* c, size_t, sbx_status, sbx_str m) {
      static_cast<CheckingSink*>(c)->error.assign(m.data, m.len);
      return SBX_OK;
    };
  }
  const sbx_entry_sink* get() const { return &sink_; }

  uint64_t size = 0;
  uint64_t received = 0;
  uint64_t mismatches = 0;
  bool ended = false;
  std::string error;

 private:
  sbx_status on_data(sbx_bytes d) {
    for (size_t i = 0; i < d.len;) {
      // Compare against the expected chunk a run at a time.
      uint64_t at = received + i;
      uint64_t index = at / kChunk;
      uint64_t chunk_len = std::min(kChunk, kSize - index * kChunk);
      if (expected_index_ != index || expected_.size() != chunk_len) {
        expected_.assign(chunk_len, '\0');
        stamp(expected_, index);
        expected_index_ = index;
      }
      size_t in_chunk = static_cast<size_t>(at - index * kChunk);
      size_t n = std::min<size_t>(d.len - i, chunk_len - in_chunk);
      if (std::memcmp(d.data + i, expected_.data() + in_chunk, n) != 0) ++mismatches;
      i += n;
    }
    received += d.len;
    return SBX_OK;
  }

  sbx_entry_sink sink_{};
  std::string expected_;
  uint64_t expected_index_ = UINT64_MAX;
};

class DiskLargeFile : public DiskTest {};

TEST_F(DiskLargeFile, DenseFileOverEightGibibytes) {
  Device dev = open_device(config());
  Item before = file_item("before", "small file before");
  Item big = file_item("big.bin", "");
  big.entry.size = kSize;
  Item after = file_item("after", "small file after");

  auto start = std::chrono::steady_clock::now();
  sbx_storage_writer* w = nullptr;
  ASSERT_EQ(vt_->begin_set(dev.get(), str("large"), &w), SBX_OK);
  std::vector<Locator> locators{write_item(w, before)};
  ASSERT_EQ(vt_->write_entry(w, &big.entry.as_c()), SBX_OK) << FakeHost::last_error();
  std::string chunk;
  for (uint64_t at = 0, index = 0; at < kSize; at += chunk.size(), ++index) {
    chunk.resize(std::min(kChunk, kSize - at));
    stamp(chunk, index);
    ASSERT_EQ(vt_->write_data(w, sdk::make_bytes(chunk)), SBX_OK) << FakeHost::last_error();
  }
  Locator big_locator(SBX_LOCATOR_MAX);
  size_t len = 0;
  ASSERT_EQ(vt_->end_entry(w, big_locator.data(), &len), SBX_OK) << FakeHost::last_error();
  big_locator.resize(len);
  locators.push_back(big_locator);
  locators.push_back(write_item(w, after));
  ASSERT_EQ(vt_->commit_set(w, nullptr), SBX_OK) << FakeHost::last_error();
  double write_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  start = std::chrono::steady_clock::now();
  sbx_storage_reader* r = nullptr;
  ASSERT_EQ(vt_->open_set(dev.get(), str("large"), &r), SBX_OK);
  CheckingSink sink;
  sbx_bytes view{big_locator.data(), big_locator.size()};
  EXPECT_EQ(vt_->read_entries(r, &view, 1, sink.get()), SBX_OK);
  vt_->close_reader(r);
  double read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(sink.error.empty()) << sink.error;
  EXPECT_TRUE(sink.ended);
  EXPECT_EQ(sink.size, kSize);
  EXPECT_EQ(sink.received, kSize);
  EXPECT_EQ(sink.mismatches, 0u);

  // The small entry after the big one is found directly, not by reading 8 GiB.
  auto got = read(dev, "large", {locators[2], locators[0]});
  ASSERT_EQ(got.size(), 2u);
  expect_entry(after, got[0]);
  expect_entry(before, got[1]);
  std::cout << "8 GiB dense file: written in " << write_s << " s, read in " << read_s << " s\n";
}

}  // namespace
}  // namespace sbx::disk_test
