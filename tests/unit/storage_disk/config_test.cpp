// Device settings: bad configs get one clear refusal naming what is wrong; the layout is made on first
// open and checked on every later one.
#include <sys/stat.h>

#include <filesystem>

#include "disk_harness.hpp"

namespace sbx::disk_test {
namespace {

class DiskConfig : public DiskTest {
 protected:
  // Expects `status`, exactly one set_error whose message contains `mentions`, and no device.
  void expect_refused(const std::string& config_json, sbx_status status, const std::string& mentions) {
    SCOPED_TRACE(config_json);
    Device d;
    size_t errors_before = FakeHost::error_count();
    EXPECT_EQ(try_open(config_json, &d), status) << FakeHost::last_error();
    EXPECT_FALSE(d);
    EXPECT_EQ(FakeHost::error_count() - errors_before, 1u) << "one message per failing call";
    EXPECT_NE(FakeHost::last_error().find(mentions), std::string::npos) << FakeHost::last_error();
  }
  std::string with(const std::string& key, nlohmann::json value) { return config({{key, value}}); }
};

TEST_F(DiskConfig, BadSettingsAreRefusedWithAReason) {
  expect_refused("", SBX_ERR_INVALID_ARGUMENT, "not valid JSON");
  expect_refused("{\"path\": ", SBX_ERR_INVALID_ARGUMENT, "not valid JSON");
  expect_refused("[]", SBX_ERR_INVALID_ARGUMENT, "wanted a JSON object");
  expect_refused("{}", SBX_ERR_INVALID_ARGUMENT, "\"path\" is required");
  expect_refused(R"({"path": "relative/dir"})", SBX_ERR_INVALID_ARGUMENT, "must be an absolute path");
  expect_refused(R"({"path": ""})", SBX_ERR_INVALID_ARGUMENT, "must be an absolute path");
  expect_refused(R"({"path": 7})", SBX_ERR_INVALID_ARGUMENT, "\"path\" must be a string");
  expect_refused(with("pathh", "/x"), SBX_ERR_INVALID_ARGUMENT, "unknown key \"pathh\"");
  expect_refused(with("compression_level", 20), SBX_ERR_INVALID_ARGUMENT,
                 "\"compression_level\" must be an integer");
  expect_refused(with("compression_level", -8), SBX_ERR_INVALID_ARGUMENT, "\"compression_level\"");
  expect_refused(with("compression_level", "3"), SBX_ERR_INVALID_ARGUMENT, "\"compression_level\"");
  expect_refused(with("compression_level", 1.5), SBX_ERR_INVALID_ARGUMENT, "\"compression_level\"");
  expect_refused(with("frame_bytes", 1023), SBX_ERR_INVALID_ARGUMENT,
                 "\"frame_bytes\" must be an integer from 1024");
  expect_refused(with("frame_bytes", (64 << 20) + 1), SBX_ERR_INVALID_ARGUMENT, "\"frame_bytes\"");
  expect_refused(with("frame_bytes", -1), SBX_ERR_INVALID_ARGUMENT, "\"frame_bytes\"");
  expect_refused(with("key_file", "key"), SBX_ERR_INVALID_ARGUMENT, "\"key_file\" must be an absolute path");
  expect_refused(with("key_file", true), SBX_ERR_INVALID_ARGUMENT, "\"key_file\" must be a string");
  EXPECT_FALSE(std::filesystem::exists(store_dir())) << "a refused config must not create the device";
}

TEST_F(DiskConfig, MissingParentIsNotCreated) {
  // A device under an unmounted mount point must not quietly fill the root file system.
  std::string dir = (temp_.path() / "not-mounted" / "store").string();
  expect_refused(config({{"path", dir}}), SBX_ERR_NOT_FOUND, "does not exist (is the file system mounted?)");
  EXPECT_FALSE(std::filesystem::exists(temp_.path() / "not-mounted"));
}

TEST_F(DiskConfig, PathThatIsAFileIsRefused) {
  write_file(store_dir(), "not a directory");
  expect_refused(config(), SBX_ERR_INVALID_ARGUMENT, "is not a directory");
}

TEST_F(DiskConfig, FirstOpenMakesTheLayout) {
  { Device d = open_device(config({{"compression_level", 3}, {"frame_bytes", 65536}})); }
  EXPECT_TRUE(std::filesystem::is_directory(store_dir() + "/sets"));
  nlohmann::json device = nlohmann::json::parse(read_file(store_dir() + "/device.json"));
  EXPECT_EQ(device["format"], "strongbox-disk");
  EXPECT_EQ(device["version"], 1);
  EXPECT_EQ(device["encrypted"], false);
  struct stat st;
  ASSERT_EQ(::stat(store_dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u) << "backup data must not be world-readable";
  // No temp file of the crash-safe write is left behind.
  std::set<std::string> names;
  for (const auto& f : std::filesystem::directory_iterator(store_dir())) names.insert(f.path().filename());
  EXPECT_EQ(names, (std::set<std::string>{"device.json", "sets"}));
  // Reopening with the trailing slash names the same device.
  Device again = open_device(config({{"path", store_dir() + "/"}}));
  EXPECT_TRUE(again);
}

TEST_F(DiskConfig, DeviceFileIsChecked) {
  { Device d = open_device(config()); }
  const std::string file = store_dir() + "/device.json";
  write_file(file, R"({"format":"strongbox-disk","version":2,"encrypted":false,"key_id":""})");
  expect_refused(config(), SBX_ERR_CORRUPT, "version 2");
  write_file(file, R"({"format":"something-else","version":1,"encrypted":false})");
  expect_refused(config(), SBX_ERR_CORRUPT, "does not describe a strongbox-disk device");
  write_file(file, "{ garbage");
  expect_refused(config(), SBX_ERR_CORRUPT, file);
  write_file(file, R"({"format":"strongbox-disk","version":1})");
  expect_refused(config(), SBX_ERR_CORRUPT, "\"encrypted\"");
  write_file(file, R"({"format":"strongbox-disk","version":1,"encrypted":true})");
  expect_refused(config(), SBX_ERR_CORRUPT, "key_id");
}

TEST_F(DiskConfig, OpenWithoutSetsDirectoryRecreatesIt) {
  { Device d = open_device(config()); }
  std::filesystem::remove(store_dir() + "/sets");
  Device d = open_device(config());
  EXPECT_TRUE(std::filesystem::is_directory(store_dir() + "/sets"));
}

}  // namespace
}  // namespace sbx::disk_test
