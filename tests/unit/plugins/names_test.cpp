// Readable names of statuses, capabilities and kinds, as `plugins list` and error messages show them.
#include <gmock/gmock.h>

#include <set>

#include "strongbox/plugins.hpp"

namespace sbx::plugins {
namespace {

using ::testing::ElementsAre;

TEST(PluginsNames, EveryStatusHasItsOwnReadableName) {
  const sbx_status all[] = {SBX_OK,
                            SBX_SKIP,
                            SBX_END,
                            SBX_TIMEOUT,
                            SBX_ERR_INVALID_ARGUMENT,
                            SBX_ERR_IO,
                            SBX_ERR_NOT_FOUND,
                            SBX_ERR_CORRUPT,
                            SBX_ERR_UNSUPPORTED,
                            SBX_ERR_NO_SPACE,
                            SBX_ERR_PERMISSION,
                            SBX_ERR_CANCELLED,
                            SBX_ERR_CRYPTO,
                            SBX_ERR_CLOSED,
                            SBX_ERR_OFFLINE,
                            SBX_ERR_INTERNAL};
  std::set<std::string> seen;
  for (const sbx_status status : all) {
    const std::string name = status_name(status);
    EXPECT_EQ(name.find("SBX_"), std::string::npos) << name;
    EXPECT_TRUE(seen.insert(name).second) << "duplicate name " << name;
  }
  EXPECT_EQ(status_name(SBX_ERR_IO), "I/O error");
  EXPECT_EQ(status_name(SBX_ERR_NOT_FOUND), "not found");
  EXPECT_EQ(status_name(static_cast<sbx_status>(-42)), "unknown status -42");
}

TEST(PluginsNames, CapabilitiesInBitOrder) {
  EXPECT_TRUE(capability_names(0).empty());
  EXPECT_THAT(capability_names(SBX_CAP_LISTEN | SBX_CAP_DEDUP | SBX_CAP_RANDOM_ACCESS),
              ElementsAre("dedup", "random-access", "listen"));
  EXPECT_THAT(capability_names((UINT64_C(1) << 12) - 1),
              ElementsAre("dedup", "random-access", "removable", "append-only", "shareable", "offhost",
                          "incremental", "encryption", "file-based", "restore", "delete", "listen"));
  EXPECT_THAT(capability_names(SBX_CAP_DELETE | (UINT64_C(1) << 63)), ElementsAre("delete", "bit-63"));
}

TEST(PluginsNames, Kinds) {
  EXPECT_EQ(kind_name(SBX_KIND_STORAGE), "storage");
  EXPECT_EQ(kind_name(SBX_KIND_AGENT), "agent");
  EXPECT_EQ(kind_name(SBX_KIND_TRANSPORT), "transport");
  EXPECT_EQ(kind_name(SBX_KIND_TAPE), "tape");
  EXPECT_EQ(kind_name(9), "unknown kind 9");
}

TEST(PluginsNames, PluginErrorKeepsStatusAndMessage) {
  const PluginError error(SBX_ERR_CRYPTO, "disk: open device: wrong key");
  EXPECT_EQ(error.status(), SBX_ERR_CRYPTO);
  EXPECT_STREQ(error.what(), "disk: open device: wrong key");
}

TEST(PluginsNames, PluginInfoAsJson) {
  PluginInfo info;
  info.name = "disk";
  info.version = "1.0.0";
  info.kind = "storage";
  info.file = "/usr/lib/strongbox/plugins/disk.so";
  info.description = "tar+zstd sets";
  info.abi_major = 1;
  info.min_host_minor = 0;
  info.capabilities = SBX_CAP_RANDOM_ACCESS | SBX_CAP_DELETE;
  EXPECT_EQ(to_json(info),
            nlohmann::json::parse(R"({"name":"disk","version":"1.0.0","kind":"storage","abi":"1.0",
      "capabilities":["random-access","delete"],"file":"/usr/lib/strongbox/plugins/disk.so",
      "description":"tar+zstd sets"})"));
}

}  // namespace
}  // namespace sbx::plugins
