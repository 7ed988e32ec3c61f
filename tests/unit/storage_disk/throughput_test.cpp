// Throughput of writing and restoring ~200 MB of real files (taken from /usr, held in memory so only the
// device is timed), printed next to `tar | zstd -1 -T2` on the same files. Prints figures; asserts only
// that the data came back. Label: slow.
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "disk_harness.hpp"

namespace sbx::disk_test {
namespace {

constexpr uint64_t kTargetBytes = 200ull << 20;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class DiskThroughput : public DiskTest {
 protected:
  // Regular files under /usr up to kTargetBytes, in directory order, as (path, content).
  std::vector<std::pair<std::string, std::string>> sample_files() {
    std::vector<std::pair<std::string, std::string>> files;
    uint64_t total = 0;
    for (const char* root : {"/usr/include", "/usr/share", "/usr/lib"}) {
      std::error_code ec;
      for (auto it = std::filesystem::recursive_directory_iterator(
               root, std::filesystem::directory_options::skip_permission_denied, ec);
           it != std::filesystem::recursive_directory_iterator() && total < kTargetBytes; it.increment(ec)) {
        if (ec) break;
        if (!it->is_regular_file(ec) || it->is_symlink(ec) || it->file_size(ec) > (16u << 20)) continue;
        std::string content = read_file(it->path().string());
        total += content.size();
        files.emplace_back(it->path().string(), std::move(content));
      }
    }
    return files;
  }
};

TEST_F(DiskThroughput, WriteAndRestoreTwoHundredMegabytes) {
  auto files = sample_files();
  uint64_t total = 0;
  std::vector<Item> items;
  for (auto& [path, content] : files) {
    total += content.size();
    Item item = file_item(path.substr(1), std::move(content));
    items.push_back(std::move(item));
  }
  ASSERT_GT(total, 20u << 20) << "too few files under /usr to measure anything";
  const double mb = static_cast<double>(total) / 1e6;

  Device dev = open_device(config());
  auto start = std::chrono::steady_clock::now();
  auto locators = write_set(dev, "bench", items, 1 << 20);
  double write_s = seconds_since(start);
  ASSERT_EQ(locators.size(), items.size());
  uint64_t stored = std::filesystem::file_size(store_dir() + "/sets/bench.tar.zst");

  start = std::chrono::steady_clock::now();
  auto got = read(dev, "bench", locators);
  double read_s = seconds_since(start);
  ASSERT_EQ(got.size(), items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    ASSERT_TRUE(got[i].ended) << got[i].error_message;
    ASSERT_TRUE(got[i].data == items[i].data) << items[i].entry.path;
  }

  // The reference: GNU tar and zstd on the same files (now in the page cache).
  const std::string list = (temp_.path() / "list").string();
  {
    std::ofstream out(list);
    for (const auto& [path, content] : files) out << path << "\n";
  }
  start = std::chrono::steady_clock::now();
  int rc = std::system(("tar -cf - -P -T '" + list + "' 2>/dev/null | zstd -q -1 -T2 > /dev/null").c_str());
  double reference_s = seconds_since(start);

  std::printf("disk device: %zu files, %.1f MB -> %.1f MB stored (%.2fx)\n", items.size(), mb,
              static_cast<double>(stored) / 1e6, static_cast<double>(total) / static_cast<double>(stored));
  std::printf("  write   %.2f s  %.0f MB/s\n", write_s, mb / write_s);
  std::printf("  restore %.2f s  %.0f MB/s\n", read_s, mb / read_s);
  if (rc == 0)
    std::printf("  reference tar | zstd -1 -T2: %.2f s  %.0f MB/s\n", reference_s, mb / reference_s);
}

}  // namespace
}  // namespace sbx::disk_test
