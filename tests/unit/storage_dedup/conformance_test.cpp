// The SDK's storage conformance suite, run against the dedup device: plain, encrypted, with tiny chunks
// and packs so every test crosses chunk and pack boundaries, and with sealing and reading on the caller's
// thread.
#include <fstream>
#include <strongbox/sdk/testkit/storage_conformance.hpp>

namespace {

std::string plugin_path() {
  return std::string(SBX_BUILD_DIR) + "/lib/strongbox/plugins/sbx_storage_dedup.so";
}

std::string plain_config(const std::filesystem::path& dir) {
  return R"({"path":")" + (dir / "store").string() + R"("})";
}

std::string small_chunks_config(const std::filesystem::path& dir) {
  return R"({"path":")" + (dir / "store").string() + R"(","chunk_avg_kib":1,"pack_mib":1})";
}

// Sealed on the writer's thread and read on the host's, without the default seal and read threads: both
// paths must store and deliver the same.
std::string inline_config(const std::filesystem::path& dir) {
  return R"({"path":")" + (dir / "store").string() +
         R"(","chunk_avg_kib":1,"pack_mib":1,"seal_threads":0,"read_threads":0})";
}

std::string encrypted_config(const std::filesystem::path& dir) {
  std::filesystem::path key = dir / "key";
  if (!std::filesystem::exists(key))
    std::ofstream(key) << "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
  return R"({"path":")" + (dir / "store").string() + R"(","key_file":")" + key.string() +
         R"(","chunk_avg_kib":2})";
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Dedup, StorageConformance,
                         ::testing::Values(sbx::testkit::StorageTarget{plugin_path(), plain_config},
                                           sbx::testkit::StorageTarget{plugin_path(), small_chunks_config},
                                           sbx::testkit::StorageTarget{plugin_path(), inline_config},
                                           sbx::testkit::StorageTarget{plugin_path(), encrypted_config}));
