// AES-256-GCM at rest: sets round-trip, a wrong or missing key is refused, nothing readable is stored,
// and frames cannot be moved to another set.
#include <sys/stat.h>

#include <filesystem>

#include "disk_harness.hpp"

namespace sbx::disk_test {
namespace {

constexpr const char* kHexKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

class DiskEncryption : public DiskTest {
 protected:
  std::string key_file(const std::string& name, const std::string& content) {
    std::string path = (temp_.path() / name).string();
    write_file(path, content);
    ::chmod(path.c_str(), 0600);
    return path;
  }
  std::string encrypted_config(const std::string& key_path, nlohmann::json extra = nlohmann::json::object()) {
    extra["key_file"] = key_path;
    return config(extra);
  }
  // A file whose content and name must not appear in an encrypted set.
  static Item secret() { return file_item("secret-plans-0451.txt", testkit::pattern_string(451, 65536)); }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_F(DiskEncryption, SetsRoundTripAndStoreNoPlaintext) {
  Device dev =
      open_device(encrypted_config(key_file("key", std::string(kHexKey) + "\n"), {{"frame_bytes", 16384}}));
  std::vector<Item> items{secret(), file_item("second", "more"),
                          other_item(SBX_ENTRY_SYMLINK, "l", "secret-plans")};
  items.push_back(file_item("big", testkit::pattern_string(3, 200000)));
  auto locators = write_set(dev, "enc", items);
  auto got = read(dev, "enc", locators);
  ASSERT_EQ(got.size(), items.size());
  for (size_t i = 0; i < items.size(); ++i) expect_entry(items[i], got[i]);

  const std::string sets = store_dir() + "/sets/";
  EXPECT_FALSE(std::filesystem::exists(sets + "enc.tar.zst"));
  const std::string stored = read_file(sets + "enc.tar.zst.enc");
  ASSERT_GT(stored.size(), 65536u);
  EXPECT_EQ(stored.substr(0, 8), "SBXDISK1");
  EXPECT_FALSE(contains(stored, "secret-plans")) << "a file name is stored in clear";
  const std::string data = items[0].data;
  for (size_t at = 0; at + 32 <= data.size(); at += 4096)
    ASSERT_FALSE(contains(stored, data.substr(at, 32))) << "file data at " << at << " is stored in clear";

  // The control: the same set without a key does hold both in clear (zstd stores random data raw).
  Device plain = open_device(config({{"path", (temp_.path() / "plain").string()}}));
  write_set(plain, "clear", items);
  const std::string clear = read_file((temp_.path() / "plain/sets/clear.tar.zst").string());
  EXPECT_TRUE(contains(clear, "secret-plans"));
  EXPECT_TRUE(contains(clear, data.substr(4096, 32)));
}

TEST_F(DiskEncryption, DeviceFileNamesTheKeyWithoutRevealingIt) {
  { Device dev = open_device(encrypted_config(key_file("key", kHexKey))); }
  nlohmann::json device = nlohmann::json::parse(read_file(store_dir() + "/device.json"));
  EXPECT_EQ(device["format"], "strongbox-disk");
  EXPECT_EQ(device["version"], 1);
  EXPECT_EQ(device["encrypted"], true);
  std::string id = device["key_id"];
  EXPECT_EQ(id.size(), 16u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  const std::string text = read_file(store_dir() + "/device.json");
  EXPECT_FALSE(contains(text, "00112233")) << "key material in device.json";
}

TEST_F(DiskEncryption, WrongKeyNoKeyAndStrayKeyAreRefused) {
  std::string right = key_file("right", kHexKey);
  std::string wrong = key_file("wrong", std::string(32, 'w'));
  { Device dev = open_device(encrypted_config(right)); }

  Device d;
  size_t errors_before = FakeHost::error_count();
  EXPECT_EQ(try_open(encrypted_config(wrong), &d), SBX_ERR_CRYPTO);
  EXPECT_TRUE(contains(FakeHost::last_error(), store_dir())) << FakeHost::last_error();
  EXPECT_TRUE(contains(FakeHost::last_error(), wrong)) << FakeHost::last_error();
  EXPECT_TRUE(contains(FakeHost::last_error(), "not this device's key")) << FakeHost::last_error();
  EXPECT_EQ(FakeHost::error_count() - errors_before, 1u);

  EXPECT_EQ(try_open(config(), &d), SBX_ERR_CRYPTO);
  EXPECT_TRUE(contains(FakeHost::last_error(), store_dir())) << FakeHost::last_error();
  EXPECT_TRUE(contains(FakeHost::last_error(), "key_file")) << FakeHost::last_error();

  std::string plain_dir = (temp_.path() / "plain").string();
  { Device p = open_device(config({{"path", plain_dir}})); }
  EXPECT_EQ(try_open(config({{"path", plain_dir}, {"key_file", right}}), &d), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(FakeHost::last_error(), "is not encrypted")) << FakeHost::last_error();
  EXPECT_FALSE(d);

  EXPECT_EQ(try_open(encrypted_config(right), &d), SBX_OK) << FakeHost::last_error();
}

TEST_F(DiskEncryption, KeyFileFormats) {
  std::string upper = kHexKey;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  const std::vector<std::string> good = {kHexKey, std::string(kHexKey) + "\n", upper, std::string(32, '\0'),
                                         std::string(31, 'r') + "\n"};
  for (size_t i = 0; i < good.size(); ++i) {
    SCOPED_TRACE("good key " + std::to_string(i));
    Device d;
    std::string dir = (temp_.path() / ("good" + std::to_string(i))).string();
    EXPECT_EQ(try_open(config({{"path", dir}, {"key_file", key_file("g" + std::to_string(i), good[i])}}), &d),
              SBX_OK)
        << FakeHost::last_error();
  }
  // Upper- and lower-case hex name the same key.
  {
    Device d;
    std::string dir = (temp_.path() / "good0").string();
    EXPECT_EQ(try_open(config({{"path", dir}, {"key_file", key_file("up", upper + "\n")}}), &d), SBX_OK)
        << FakeHost::last_error();
  }
  const std::vector<std::string> bad = {"",
                                        std::string(kHexKey).substr(0, 63),
                                        std::string(kHexKey) + "0",
                                        std::string(kHexKey) + "\r\n",
                                        std::string(kHexKey) + "\n\n",
                                        std::string(63, 'a') + "g",
                                        std::string(31, 'r'),
                                        std::string(33, 'r'),
                                        std::string(2000, 'a')};
  for (size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE("bad key " + std::to_string(i));
    Device d;
    std::string path = key_file("b" + std::to_string(i), bad[i]);
    EXPECT_EQ(try_open(encrypted_config(path), &d), SBX_ERR_INVALID_ARGUMENT);
    EXPECT_TRUE(contains(FakeHost::last_error(), path)) << FakeHost::last_error();
    EXPECT_FALSE(std::filesystem::exists(store_dir())) << "a refused config must not create the device";
  }
  Device d;
  std::string missing = (temp_.path() / "no-such-key").string();
  EXPECT_EQ(try_open(encrypted_config(missing), &d), SBX_ERR_NOT_FOUND);
  EXPECT_TRUE(contains(FakeHost::last_error(), missing)) << FakeHost::last_error();
}

TEST_F(DiskEncryption, FramesAreBoundToTheirSet) {
  Device dev = open_device(encrypted_config(key_file("key", kHexKey)));
  std::vector<Item> items{file_item("a", testkit::pattern_string(1, 5000)), file_item("b", "bee")};
  auto in_a = write_set(dev, "set-a", items);
  auto in_b = write_set(dev, "set-b", items);
  ASSERT_EQ(read(dev, "set-b", in_b).at(1).data, "bee");
  // set-a's file under set-b's name: same key and layout, but the AAD names set-a.
  std::filesystem::copy_file(store_dir() + "/sets/set-a.tar.zst.enc", store_dir() + "/sets/set-b.tar.zst.enc",
                             std::filesystem::copy_options::overwrite_existing);
  auto got = read(dev, "set-b", in_b);
  ASSERT_EQ(got.size(), 2u);
  for (const Outcome& o : got) {
    EXPECT_TRUE(o.error);
    EXPECT_EQ(o.error_status, SBX_ERR_CORRUPT);
    EXPECT_TRUE(contains(o.error_message, "authentication failed")) << o.error_message;
  }
}

}  // namespace
}  // namespace sbx::disk_test
