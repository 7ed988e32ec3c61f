// The admin's key opens the domain's keys; a wrong, missing or needless key is refused with a clear
// message; a store joins another's domain with domain_from.
#include "dedup_harness.hpp"

namespace sbx::dedup_test {
namespace {

class DedupKeys : public DedupTest {};

TEST_F(DedupKeys, WrongKeyIsRefusedAndTheStoreIsUntouched) {
  std::string good = key_file("good", 'a');
  std::string bad = key_file("bad", 'b');
  {
    Device d = open_device(small_config(store_dir(), {{"key_file", good}}));
    write_set(d, "s", tree(1));
  }
  Device d;
  EXPECT_EQ(try_open(small_config(store_dir(), {{"key_file", bad}}), &d), SBX_ERR_CRYPTO);
  EXPECT_NE(FakeHost::last_error().find("does not open the keys"), std::string::npos)
      << FakeHost::last_error();
  Device again = open_device(small_config(store_dir(), {{"key_file", good}}));
  EXPECT_EQ(list_sets(again), std::set<std::string>{"s"});
}

TEST_F(DedupKeys, EncryptedStoreWithoutAKeyIsRefused) {
  { Device d = open_device(small_config(store_dir(), {{"key_file", key_file()}})); }
  Device d;
  EXPECT_EQ(try_open(small_config(store_dir()), &d), SBX_ERR_CRYPTO);
  EXPECT_NE(FakeHost::last_error().find("--key-file"), std::string::npos) << FakeHost::last_error();
}

TEST_F(DedupKeys, UnencryptedStoreRefusesAKey) {
  { Device d = open_device(small_config(store_dir())); }
  Device d;
  EXPECT_EQ(try_open(small_config(store_dir(), {{"key_file", key_file()}}), &d), SBX_ERR_INVALID_ARGUMENT);
}

TEST_F(DedupKeys, DomainFromSharesTheDomainAndNewStoresDoNot) {
  std::string key = key_file();
  Device a = open_device(small_config(dir("a"), {{"key_file", key}}));
  Device b = open_device(small_config(dir("b"), {{"key_file", key}, {"domain_from", dir("a")}}));
  Device c = open_device(small_config(dir("c"), {{"key_file", key}}));
  auto ia = info(a), ib = info(b), ic = info(c);
  EXPECT_EQ(0, std::memcmp(ia.domain, ib.domain, sizeof ia.domain));
  EXPECT_NE(0, std::memcmp(ia.domain, ic.domain, sizeof ia.domain));
}

TEST_F(DedupKeys, HostileConfigsAreRefusedWithTheKeyNamed) {
  Device d;
  for (const char* bad :
       {R"({"path":"relative"})", R"({"path":"/tmp/x","chunk_avg_kib":3})",
        R"({"path":"/tmp/x","pack_mib":0})", R"({"path":"/tmp/x","colour":"red"})",
        R"({"path":"/tmp/x","seal_threads":-1})", R"({"path":"/tmp/x","seal_threads":65})",
        R"({"path":"/tmp/x","seal_threads":"two"})", R"({"path":"/tmp/x","read_threads":-1})",
        R"({"path":"/tmp/x","read_threads":99})", "[]", "{"}) {
    EXPECT_EQ(try_open(bad, &d), SBX_ERR_INVALID_ARGUMENT) << bad;
    EXPECT_NE(FakeHost::last_error().find("dedup device config"), std::string::npos)
        << FakeHost::last_error();
  }
}

TEST_F(DedupKeys, DamagedConfigFileIsReported) {
  { Device d = open_device(small_config(store_dir())); }
  std::ofstream(store_dir() + "/dedup.json") << "{\"format\":\"strongbox-dedup\",\"version\":3}";
  Device d;
  EXPECT_EQ(try_open(small_config(store_dir()), &d), SBX_ERR_CORRUPT);
  EXPECT_NE(FakeHost::last_error().find("dedup.json is damaged"), std::string::npos)
      << FakeHost::last_error();
}

// Version 1 stored one blob per entry; version 2 stores entry groups (records.hpp).
TEST_F(DedupKeys, AStoreOfAnOlderFormatIsRefusedWithItsVersionNamed) {
  {
    Device d = open_device(small_config(store_dir()));
    write_set(d, "s", tree(5));
  }
  const std::string config_path = store_dir() + "/dedup.json";
  nlohmann::json config = nlohmann::json::parse(std::ifstream(config_path));
  EXPECT_EQ(config.at("version"), 3);
  const auto before = std::filesystem::file_size(store_dir() + "/sets/s.manifest");
  // 1: a blob per entry record; 2: manifests that also listed every data chunk.
  for (int older : {1, 2}) {
    config["version"] = older;
    std::ofstream(config_path) << config.dump();
    Device d;
    EXPECT_EQ(try_open(small_config(store_dir()), &d), SBX_ERR_UNSUPPORTED);
    EXPECT_NE(FakeHost::last_error().find("has format version " + std::to_string(older) +
                                          "; this strongbox reads version 3"),
              std::string::npos)
        << FakeHost::last_error();
    EXPECT_EQ(std::filesystem::file_size(store_dir() + "/sets/s.manifest"), before);
  }
}

}  // namespace
}  // namespace sbx::dedup_test
