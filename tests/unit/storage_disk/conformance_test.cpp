// The SDK's storage conformance suite, run against the disk device (plain and encrypted).
#include <fstream>
#include <strongbox/sdk/testkit/storage_conformance.hpp>

namespace {

std::string plugin_path() {
  return std::string(SBX_BUILD_DIR) + "/lib/strongbox/plugins/sbx_storage_disk.so";
}

std::string plain_config(const std::filesystem::path& dir) {
  return R"({"path":")" + (dir / "store").string() + R"("})";
}

// Small frames, so every test also crosses frame boundaries.
std::string small_frame_config(const std::filesystem::path& dir) {
  return R"({"path":")" + (dir / "store").string() + R"(","frame_bytes":4096})";
}

std::string encrypted_config(const std::filesystem::path& dir) {
  std::filesystem::path key = dir / "key";
  if (!std::filesystem::exists(key)) {
    std::ofstream(key) << "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
  }
  return R"({"path":")" + (dir / "store").string() + R"(","key_file":")" + key.string() +
         R"(","frame_bytes":8192})";
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Disk, StorageConformance,
                         ::testing::Values(sbx::testkit::StorageTarget{plugin_path(), plain_config},
                                           sbx::testkit::StorageTarget{plugin_path(), small_frame_config},
                                           sbx::testkit::StorageTarget{plugin_path(), encrypted_config}));
