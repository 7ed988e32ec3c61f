// strongbox SDK test kit: the conformance suite every storage-device plugin must pass. Header-only,
// GoogleTest.
//
// Mechanism: a value-parameterized fixture. Include this header in exactly ONE .cpp of a test binary (it
// defines the tests), link GTest::gtest_main and strongbox::testkit, and instantiate it with your plugin:
//
//   #include <strongbox/sdk/testkit/storage_conformance.hpp>
//   INSTANTIATE_TEST_SUITE_P(Disk, StorageConformance, ::testing::Values(sbx::testkit::StorageTarget{
//       "/path/to/sbx_storage_disk.so",
//       [](const std::filesystem::path& dir) { return R"({"path":")" + dir.string() + R"("})"; }}));
//
// config_json gets a fresh empty directory per test (removed afterwards) and returns the device settings;
// it is called again with the same directory when a test reopens the device, and must name the same store.
//
// Everything goes through the plugin's C vtable, loaded with dlopen and the fake host. What must survive a
// round trip: type, path, link_target, size, mode, uid, gid, user_name, group_name, mtime_ns, xattrs (any
// order), extents and the data. ctime, atime, device, inode and nlink are change-detection data the
// catalog keeps; a device need not store them. A device without SBX_CAP_RANDOM_ACCESS may be slow on
// out-of-order reads but must still be correct.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../entry.hpp"
#include "fake_host.hpp"
#include "read_recorder.hpp"
#include "support.hpp"

namespace sbx::testkit {

struct StorageTarget {
  std::string plugin_path;
  // The config_json given to open, for a store kept in temp_dir (fresh and empty, removed afterwards).
  std::function<std::string(const std::filesystem::path& temp_dir)> config_json;
};

inline void PrintTo(const StorageTarget& target, std::ostream* os) {
  *os << target.plugin_path;
}

// An entry to write and the data that goes with it, sent in the given chunk sizes (cycled).
struct StorageSample {
  sdk::Entry entry;
  std::string data;
  std::vector<size_t> chunks{65536};
};

// Entries of every type and the awkward cases: a newline and invalid UTF-8 in a name, long names, pax-only
// numbers, an empty file, multi-megabyte data in odd chunk sizes, binary xattrs.
inline std::vector<StorageSample> storage_samples() {
  auto base = [](uint32_t type, std::string path, uint32_t mode) {
    sdk::Entry e;
    e.type = type;
    e.path = std::move(path);
    e.mode = mode;
    e.uid = 1000;
    e.gid = 1000;
    e.user_name = "alice";
    e.group_name = "staff";
    e.mtime_ns = 1700000000123456789;
    return e;
  };
  std::vector<StorageSample> s;
  {
    StorageSample x{base(SBX_ENTRY_DIRECTORY, "conformance/tree", 02755), "", {}};
    x.entry.xattrs = {{"user.comment", "a directory"}};
    s.push_back(std::move(x));
  }
  {
    StorageSample x{base(SBX_ENTRY_FILE, "conformance/tree/hello.txt", 0644),
                    pattern_string(31, 300000),
                    {1, 4095, 0, 65536, 100000}};
    x.entry.size = x.data.size();
    x.entry.xattrs = {{"user.checksum", std::string("\x00\x01\xff\xfe binary", 11)}, {"user.empty", ""}};
    s.push_back(std::move(x));
  }
  {
    StorageSample x{base(SBX_ENTRY_FILE, "conformance/tree/empty", 0600), "", {}};
    s.push_back(std::move(x));
  }
  {
    StorageSample x{base(SBX_ENTRY_SYMLINK, "conformance/tree/link", 0777), "", {}};
    x.entry.link_target = "hello.txt";
    s.push_back(std::move(x));
  }
  {
    StorageSample x{base(SBX_ENTRY_HARDLINK, "conformance/tree/hard", 0644), "", {}};
    x.entry.link_target = "conformance/tree/hello.txt";
    s.push_back(std::move(x));
  }
  {
    StorageSample x{
        base(SBX_ENTRY_FILE, "conformance/tree/new\nline \xff\xfe name", 0640), "odd name\n", {3}};
    x.entry.size = x.data.size();
    s.push_back(std::move(x));
  }
  {
    StorageSample x{base(SBX_ENTRY_DIRECTORY, "conformance/tree/sub dir", 0700), "", {}};
    x.entry.mtime_ns = -86400ll * 1000000000ll;  // before 1970
    s.push_back(std::move(x));
  }
  {
    StorageSample x{base(SBX_ENTRY_FILE, "conformance/tree/sub dir/big.bin", 0644),
                    pattern_string(32, 3u << 20),
                    {1 << 20, 7, 333333}};
    x.entry.size = x.data.size();
    x.entry.uid = 4000000000u;  // beyond ustar's octal fields
    x.entry.gid = 4000000001u;
    x.entry.user_name = "";
    x.entry.group_name = "";
    s.push_back(std::move(x));
  }
  {
    std::string dir(200, 'd'), file(200, 'f');
    StorageSample x{base(SBX_ENTRY_FILE, "conformance/tree/" + dir + "/" + file, 0444), "x", {1}};
    x.entry.size = 1;
    s.push_back(std::move(x));
  }
  return s;
}

// Lines naming every field that did not survive the round trip; empty when the entry came back whole.
inline std::vector<std::string> entry_differences(const sdk::Entry& want, const sdk::Entry& got) {
  std::vector<std::string> d;
  auto num = [&](const char* field, auto w, auto g) {
    if (w != g)
      d.push_back(std::string(field) + ": wrote " + std::to_string(w) + ", read " + std::to_string(g));
  };
  auto bytes = [&](const char* field, const std::string& w, const std::string& g) {
    if (w != g)
      d.push_back(std::string(field) + ": wrote \"" + printable(w) + "\", read \"" + printable(g) + "\"");
  };
  num("type", want.type, got.type);
  bytes("path", want.path, got.path);
  bytes("link_target", want.link_target, got.link_target);
  num("size", want.size, got.size);
  num("mode", want.mode, got.mode);
  num("uid", want.uid, got.uid);
  num("gid", want.gid, got.gid);
  bytes("user_name", want.user_name, got.user_name);
  bytes("group_name", want.group_name, got.group_name);
  num("mtime_ns", want.mtime_ns, got.mtime_ns);
  auto sorted = [](std::vector<sdk::Xattr> x) {
    std::sort(x.begin(), x.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return x;
  };
  if (sorted(want.xattrs) != sorted(got.xattrs)) {
    std::string w, g;
    for (const auto& x : want.xattrs) w += printable(x.name) + "=" + printable(x.value) + " ";
    for (const auto& x : got.xattrs) g += printable(x.name) + "=" + printable(x.value) + " ";
    d.push_back("xattrs: wrote [" + w + "], read [" + g + "]");
  }
  bool same_extents = want.extents.size() == got.extents.size();
  for (size_t i = 0; same_extents && i < want.extents.size(); ++i)
    same_extents =
        want.extents[i].offset == got.extents[i].offset && want.extents[i].length == got.extents[i].length;
  if (!same_extents)
    d.push_back("extents: wrote " + std::to_string(want.extents.size()) + " extents, read " +
                std::to_string(got.extents.size()) + " or different offsets/lengths");
  return d;
}

class StorageConformance : public ::testing::TestWithParam<StorageTarget> {
 protected:
  using Locator = std::vector<uint8_t>;

  void SetUp() override {
    FakeHost::clear_error();
    try {
      plugin_.emplace(load_plugin_file(GetParam().plugin_path));
      vt_ = plugin_->storage();
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
    auto problems = descriptor_problems(plugin_->descriptor(), SBX_KIND_STORAGE);
    ASSERT_TRUE(problems.empty()) << plugin_->path() << ": " << problems.front();
    temp_.emplace("sbx-storage-conformance");
    ASSERT_NO_FATAL_FAILURE(open_device(/*create_if_missing=*/true));
  }

  void TearDown() override {
    close_device();
    plugin_.reset();
    temp_.reset();
  }

  // The first open of a test makes the store (open_or_create, when the plugin has it); a reopen finds it.
  void open_device(bool create_if_missing = false) {
    config_ = GetParam().config_json(temp_->path());
    FakeHost::clear_error();
    const bool create = create_if_missing && vt_->open_or_create;
    auto open = create ? vt_->open_or_create : vt_->open;
    sbx_status s = open({config_.data(), config_.size()}, &device_);
    ASSERT_EQ(s, SBX_OK) << (create ? "open_or_create(" : "open(") << config_ << "): " << status_name(s)
                         << ": " << FakeHost::last_error();
    ASSERT_NE(device_, nullptr);
  }
  void close_device() {
    if (device_) vt_->close(device_);
    device_ = nullptr;
  }

  bool has(uint64_t capability) const { return plugin_->descriptor().capabilities & capability; }

  static sbx_str str(const std::string& s) { return {s.data(), s.size()}; }

  // Writes samples into an open writer; collects one locator per entry. Fails the test on any refusal.
  void write_samples(sbx_storage_writer* w, const std::vector<StorageSample>& samples,
                     std::vector<Locator>* out) {
    for (const StorageSample& sample : samples) {
      SCOPED_TRACE("entry " + printable(sample.entry.path));
      sbx_status s = vt_->write_entry(w, &sample.entry.as_c());
      ASSERT_EQ(s, SBX_OK) << "write_entry: " << status_name(s) << ": " << FakeHost::last_error();
      size_t offset = 0;
      for (size_t turn = 0; offset < sample.data.size(); ++turn) {
        size_t n = std::min(sample.chunks[turn % sample.chunks.size()], sample.data.size() - offset);
        s = vt_->write_data(w, sdk::make_bytes(std::string_view(sample.data).substr(offset, n)));
        ASSERT_EQ(s, SBX_OK) << "write_data of " << n << " bytes at " << offset << ": " << status_name(s)
                             << ": " << FakeHost::last_error();
        offset += n;
      }
      Locator locator(SBX_LOCATOR_MAX, 0xA5);
      size_t len = SIZE_MAX;
      s = vt_->end_entry(w, locator.data(), &len);
      ASSERT_EQ(s, SBX_OK) << "end_entry: " << status_name(s) << ": " << FakeHost::last_error();
      ASSERT_GT(len, 0u) << "end_entry gave an empty locator";
      ASSERT_LE(len, static_cast<size_t>(SBX_LOCATOR_MAX)) << "end_entry gave a locator over SBX_LOCATOR_MAX";
      locator.resize(len);
      out->push_back(std::move(locator));
    }
  }

  // Writes and commits a set; returns its locators.
  std::vector<Locator> write_set(const std::string& name, const std::vector<StorageSample>& samples,
                                 sbx_set_stats* stats = nullptr) {
    std::vector<Locator> locators;
    sbx_storage_writer* w = nullptr;
    sbx_status s = vt_->begin_set(device_, str(name), &w);
    EXPECT_EQ(s, SBX_OK) << "begin_set(" << name << "): " << status_name(s) << ": " << FakeHost::last_error();
    if (s != SBX_OK) return locators;
    write_samples(w, samples, &locators);
    if (::testing::Test::HasFatalFailure()) {
      vt_->abort_set(w);
      return {};
    }
    sbx_set_stats local{};
    local.struct_size = sizeof local;
    s = vt_->commit_set(w, stats ? stats : &local);
    EXPECT_EQ(s, SBX_OK) << "commit_set(" << name << "): " << status_name(s) << ": "
                         << FakeHost::last_error();
    return locators;
  }

  // Opens `name`, reads `locators` in one read_entries call, closes the reader.
  sbx_status read(const std::string& name, const std::vector<Locator>& locators, ReadRecorder* recorder) {
    sbx_storage_reader* r = nullptr;
    FakeHost::clear_error();
    sbx_status s = vt_->open_set(device_, str(name), &r);
    EXPECT_EQ(s, SBX_OK) << "open_set(" << name << "): " << status_name(s) << ": " << FakeHost::last_error();
    if (s != SBX_OK) return s;
    std::vector<sbx_bytes> views;
    for (const Locator& l : locators) views.push_back({l.data(), l.size()});
    s = vt_->read_entries(r, views.data(), views.size(), recorder->sink());
    vt_->close_reader(r);
    return s;
  }

  // Checks that reading `order` (indexes into samples/locators) gives back exactly those entries, whole.
  void expect_reads_back(const std::string& set, const std::vector<StorageSample>& samples,
                         const std::vector<Locator>& locators, const std::vector<size_t>& order) {
    std::vector<Locator> asked;
    for (size_t i : order) asked.push_back(locators.at(i));
    ReadRecorder recorder;
    sbx_status s = read(set, asked, &recorder);
    EXPECT_EQ(s, SBX_OK) << "read_entries: " << status_name(s) << ": " << FakeHost::last_error();
    for (const std::string& p : recorder.protocol_problems) ADD_FAILURE() << "sink protocol: " << p;
    ASSERT_EQ(recorder.outcomes.size(), order.size())
        << "read_entries delivered a different number of entries";
    for (size_t k = 0; k < order.size(); ++k) {
      const StorageSample& want = samples[order[k]];
      const ReadOutcome& got = recorder.outcomes[k];
      SCOPED_TRACE("read position " + std::to_string(k) + ", entry " + printable(want.entry.path));
      ASSERT_FALSE(got.error) << "on_entry_error(" << status_name(got.error_status)
                              << "): " << got.error_message;
      EXPECT_TRUE(got.ended) << "no on_entry_end";
      for (const std::string& diff : entry_differences(want.entry, got.entry)) ADD_FAILURE() << diff;
      EXPECT_EQ(got.data.size(), want.data.size()) << "data length";
      EXPECT_TRUE(got.data == want.data) << "data differs from what was written";
    }
  }

  std::set<std::string> list_sets() {
    std::set<std::string> names;
    sbx_status s = vt_->list_sets(
        device_,
        [](void* ctx, sbx_str name) { static_cast<std::set<std::string>*>(ctx)->emplace(sdk::view(name)); },
        &names);
    EXPECT_EQ(s, SBX_OK) << "list_sets: " << status_name(s) << ": " << FakeHost::last_error();
    return names;
  }

  sbx_status try_open_set(const std::string& name) {
    sbx_storage_reader* r = nullptr;
    sbx_status s = vt_->open_set(device_, str(name), &r);
    if (s == SBX_OK) vt_->close_reader(r);
    return s;
  }

  std::optional<LoadedPlugin> plugin_;
  const sbx_storage_vtable* vt_ = nullptr;
  std::optional<TempDir> temp_;
  std::string config_;
  sbx_storage_device* device_ = nullptr;
};

TEST_P(StorageConformance, DescriptorIsSane) {
  const sbx_plugin_descriptor& d = plugin_->descriptor();
  EXPECT_EQ(d.abi_major, SBX_ABI_MAJOR);
  EXPECT_LE(d.min_host_minor, SBX_ABI_MINOR);
  EXPECT_EQ(d.kind, static_cast<uint32_t>(SBX_KIND_STORAGE));
  for (const std::string& problem : descriptor_problems(d, SBX_KIND_STORAGE)) ADD_FAILURE() << problem;
}

TEST_P(StorageConformance, OpenedDeviceIsOnline) {
  sbx_storage_info info{};
  info.struct_size = sizeof info;
  sbx_status s = vt_->info(device_, &info);
  ASSERT_EQ(s, SBX_OK) << status_name(s) << ": " << FakeHost::last_error();
  EXPECT_NE(info.online, 0u);
  if (info.total_bytes != 0) {
    EXPECT_LE(info.free_bytes, info.total_bytes);
  }
}

TEST_P(StorageConformance, OpenRefusesMalformedConfigWithAMessage) {
  sbx_storage_device* other = nullptr;
  FakeHost::clear_error();
  std::string bad = "{\"path\": ";
  sbx_status s = vt_->open(str(bad), &other);
  EXPECT_LT(s, 0) << status_name(s);
  EXPECT_FALSE(FakeHost::last_error().empty()) << "a refused config must say why through set_error";
  if (s == SBX_OK && other) vt_->close(other);
}

// Every file and directory under dir, so a test can tell that a call made nothing there.
inline std::set<std::string> tree_under(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& item : std::filesystem::recursive_directory_iterator(dir))
    names.insert(item.path().lexically_relative(dir).string());
  return names;
}

// An empty directory is what an unmounted drive's mount point looks like: open must report it offline and
// make nothing there, or the next backup lands on the wrong disk.
TEST_P(StorageConformance, OpenFindsNoStoreWhereNoneWasMadeAndMakesNone) {
  if (!vt_->open_or_create) GTEST_SKIP() << "an ABI 1.1 plugin's open makes its store";
  const std::filesystem::path mount_point = temp_->path() / "unmounted";
  std::filesystem::create_directory(mount_point);
  const std::string config = GetParam().config_json(mount_point);
  const std::set<std::string> before = tree_under(mount_point);
  sbx_storage_device* other = nullptr;
  FakeHost::clear_error();
  sbx_status s = vt_->open(str(config), &other);
  EXPECT_EQ(s, SBX_ERR_OFFLINE) << status_name(s);
  EXPECT_FALSE(FakeHost::last_error().empty()) << "an offline device must say why through set_error";
  if (s == SBX_OK && other) vt_->close(other);
  EXPECT_EQ(tree_under(mount_point), before) << "open made files where no store was";
}

TEST_P(StorageConformance, OpenOrCreateKeepsTheStoreThatIsThere) {
  if (!vt_->open_or_create) GTEST_SKIP() << "an ABI 1.1 plugin has no open_or_create";
  auto samples = storage_samples();
  auto locators = write_set("kept", samples);
  close_device();
  ASSERT_NO_FATAL_FAILURE(open_device(/*create_if_missing=*/true));
  EXPECT_EQ(list_sets().count("kept"), 1u);
  std::vector<size_t> order(samples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  expect_reads_back("kept", samples, locators, order);
}

TEST_P(StorageConformance, LocatorsAreNonEmptyBoundedAndDistinct) {
  auto samples = storage_samples();
  std::vector<Locator> locators = write_set("locators", samples);
  ASSERT_EQ(locators.size(), samples.size());
  std::set<Locator> distinct(locators.begin(), locators.end());
  EXPECT_EQ(distinct.size(), locators.size()) << "two entries share a locator";
}

TEST_P(StorageConformance, CommitReportsTheSet) {
  auto samples = storage_samples();
  sbx_set_stats stats{};
  stats.struct_size = sizeof stats;
  write_set("stats", samples, &stats);
  EXPECT_EQ(stats.entries, samples.size());
  EXPECT_GT(stats.stored_bytes, 0u);
}

TEST_P(StorageConformance, EveryEntryTypeRoundTripsInOrder) {
  auto samples = storage_samples();
  auto locators = write_set("all", samples);
  ASSERT_EQ(locators.size(), samples.size());
  std::vector<size_t> order(samples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  expect_reads_back("all", samples, locators, order);
}

TEST_P(StorageConformance, SingleEntriesReadBackAlone) {
  auto samples = storage_samples();
  auto locators = write_set("single", samples);
  ASSERT_EQ(locators.size(), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) expect_reads_back("single", samples, locators, {i});
}

TEST_P(StorageConformance, ReversedAndRepeatedOrderReadsBack) {
  auto samples = storage_samples();
  auto locators = write_set("reversed", samples);
  ASSERT_EQ(locators.size(), samples.size());
  std::vector<size_t> order;
  for (size_t i = samples.size(); i-- > 0;) order.push_back(i);
  expect_reads_back("reversed", samples, locators, order);
  expect_reads_back("reversed", samples, locators, {1, 1, 7, 1});
}

TEST_P(StorageConformance, SparseFileKeepsItsExtents) {
  StorageSample sparse;
  sparse.entry.type = SBX_ENTRY_FILE;
  sparse.entry.path = "conformance/sparse.img";
  sparse.entry.mode = 0644;
  sparse.entry.mtime_ns = 1700000000000000000;
  sparse.entry.size = 10u << 20;
  sparse.entry.extents = {{0, 4096}, {5u << 20, 8192}, {(10u << 20) - 100, 100}};
  sparse.data = pattern_string(33, 4096 + 8192 + 100);
  sparse.chunks = {5000};
  std::vector<StorageSample> samples{sparse};
  auto locators = write_set("sparse", samples);
  ASSERT_EQ(locators.size(), 1u);
  expect_reads_back("sparse", samples, locators, {0});
}

TEST_P(StorageConformance, EmptySetCommitsAndOpens) {
  write_set("empty", {});
  EXPECT_EQ(list_sets().count("empty"), 1u);
  EXPECT_EQ(try_open_set("empty"), SBX_OK) << FakeHost::last_error();
}

TEST_P(StorageConformance, NothingIsReadableBeforeCommit) {
  auto samples = storage_samples();
  sbx_storage_writer* w = nullptr;
  ASSERT_EQ(vt_->begin_set(device_, str("pending"), &w), SBX_OK) << FakeHost::last_error();
  std::vector<Locator> locators;
  write_samples(w, samples, &locators);
  if (HasFatalFailure()) {
    vt_->abort_set(w);
    return;
  }
  EXPECT_LT(try_open_set("pending"), 0) << "an uncommitted set could be opened";
  sbx_set_stats stats{};
  stats.struct_size = sizeof stats;
  ASSERT_EQ(vt_->commit_set(w, &stats), SBX_OK) << FakeHost::last_error();
  expect_reads_back("pending", samples, locators, {0, samples.size() - 1});
}

TEST_P(StorageConformance, AbortedSetIsNotReadableAndItsNameIsFree) {
  auto samples = storage_samples();
  sbx_storage_writer* w = nullptr;
  ASSERT_EQ(vt_->begin_set(device_, str("aborted"), &w), SBX_OK) << FakeHost::last_error();
  std::vector<Locator> locators;
  write_samples(w, samples, &locators);
  vt_->abort_set(w);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_LT(try_open_set("aborted"), 0) << "an aborted set could be opened";
  auto again = write_set("aborted", samples);
  ASSERT_EQ(again.size(), samples.size()) << "the name of an aborted set could not be written again";
  expect_reads_back("aborted", samples, again, {1});
}

TEST_P(StorageConformance, ListSetsNamesCommittedSets) {
  auto samples = storage_samples();
  samples.resize(3);
  write_set("alpha", samples);
  write_set("beta-2", samples);
  auto names = list_sets();
  EXPECT_EQ(names.count("alpha"), 1u);
  EXPECT_EQ(names.count("beta-2"), 1u);
}

TEST_P(StorageConformance, DeleteSetRemovesOnlyThatSet) {
  if (!has(SBX_CAP_DELETE)) GTEST_SKIP() << "plugin lacks SBX_CAP_DELETE";
  auto samples = storage_samples();
  samples.resize(3);
  write_set("doomed", samples);
  auto kept = write_set("kept", samples);
  FakeHost::clear_error();
  sbx_status s = vt_->delete_set(device_, str("doomed"));
  ASSERT_EQ(s, SBX_OK) << status_name(s) << ": " << FakeHost::last_error();
  EXPECT_LT(try_open_set("doomed"), 0) << "a deleted set could still be opened";
  auto names = list_sets();
  EXPECT_EQ(names.count("doomed"), 0u);
  EXPECT_EQ(names.count("kept"), 1u);
  expect_reads_back("kept", samples, kept, {0, 1, 2});
}

TEST_P(StorageConformance, OpenUnknownSetFailsWithAMessage) {
  sbx_storage_reader* r = nullptr;
  FakeHost::clear_error();
  sbx_status s = vt_->open_set(device_, str("no-such-set"), &r);
  EXPECT_LT(s, 0) << status_name(s);
  EXPECT_FALSE(FakeHost::last_error().empty()) << "open_set of an unknown set must say why through set_error";
  if (s == SBX_OK && r) vt_->close_reader(r);
}

TEST_P(StorageConformance, CommittedSetSurvivesReopen) {
  auto samples = storage_samples();
  auto locators = write_set("durable", samples);
  ASSERT_EQ(locators.size(), samples.size());
  close_device();
  ASSERT_NO_FATAL_FAILURE(open_device());
  EXPECT_EQ(list_sets().count("durable"), 1u);
  std::vector<size_t> order(samples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  expect_reads_back("durable", samples, locators, order);
}

TEST_P(StorageConformance, TwoSetsWrittenAtOnceStayApart) {
  auto samples = storage_samples();
  samples.resize(3);
  auto others = storage_samples();
  others.resize(3);
  for (auto& o : others) o.entry.path += ".other";
  others[1].data = pattern_string(77, others[1].data.size());
  sbx_storage_writer* a = nullptr;
  sbx_storage_writer* b = nullptr;
  ASSERT_EQ(vt_->begin_set(device_, str("first"), &a), SBX_OK) << FakeHost::last_error();
  ASSERT_EQ(vt_->begin_set(device_, str("second"), &b), SBX_OK) << FakeHost::last_error();
  std::vector<Locator> la, lb;
  for (size_t i = 0; i < 3 && !HasFatalFailure(); ++i) {
    write_samples(a, {samples[i]}, &la);
    write_samples(b, {others[i]}, &lb);
  }
  if (HasFatalFailure()) {
    vt_->abort_set(a);
    vt_->abort_set(b);
    return;
  }
  ASSERT_EQ(vt_->commit_set(b, nullptr), SBX_OK) << FakeHost::last_error();
  ASSERT_EQ(vt_->commit_set(a, nullptr), SBX_OK) << FakeHost::last_error();
  expect_reads_back("first", samples, la, {0, 1, 2});
  expect_reads_back("second", others, lb, {2, 1, 0});
}

TEST_P(StorageConformance, DataLengthMismatchIsRefusedNotPadded) {
  // Storing a file shorter or longer than its declared size would be a silently corrupt backup.
  sdk::Entry e;
  e.type = SBX_ENTRY_FILE;
  e.path = "conformance/short";
  e.mode = 0644;
  e.size = 10;
  Locator locator(SBX_LOCATOR_MAX);
  size_t len = 0;

  sbx_storage_writer* w = nullptr;
  ASSERT_EQ(vt_->begin_set(device_, str("short"), &w), SBX_OK) << FakeHost::last_error();
  ASSERT_EQ(vt_->write_entry(w, &e.as_c()), SBX_OK) << FakeHost::last_error();
  ASSERT_EQ(vt_->write_data(w, sdk::make_bytes("12345")), SBX_OK) << FakeHost::last_error();
  FakeHost::clear_error();
  EXPECT_LT(vt_->end_entry(w, locator.data(), &len), 0)
      << "5 of 10 declared bytes were accepted as a whole file";
  EXPECT_FALSE(FakeHost::last_error().empty());
  vt_->abort_set(w);

  w = nullptr;
  e.path = "conformance/long";
  e.size = 3;
  ASSERT_EQ(vt_->begin_set(device_, str("long"), &w), SBX_OK) << FakeHost::last_error();
  ASSERT_EQ(vt_->write_entry(w, &e.as_c()), SBX_OK) << FakeHost::last_error();
  sbx_status sent = vt_->write_data(w, sdk::make_bytes("12345"));
  sbx_status ended = sent == SBX_OK ? vt_->end_entry(w, locator.data(), &len) : sent;
  EXPECT_LT(ended, 0) << "5 bytes were accepted for a file of declared size 3";
  vt_->abort_set(w);
}

// Every locator gets exactly one outcome, in order: hostile locators an error each, never a crash.
TEST_P(StorageConformance, GarbageLocatorsAreReportedAndReadingGoesOn) {
  auto samples = storage_samples();
  auto locators = write_set("garbage", samples);
  ASSERT_EQ(locators.size(), samples.size());
  const Locator& good_first = locators[1];
  const Locator& good_last = locators[8];
  Locator truncated(locators[7].begin(), locators[7].begin() + (locators[7].size() + 1) / 2);
  Locator flipped = locators[7];
  for (auto& b : flipped) b ^= 0x5A;
  Locator random(64);
  fill_pattern(99, 0, random.data(), random.size());
  std::vector<Locator> asked{good_first, Locator{}, Locator(SBX_LOCATOR_MAX, 0xFF), random, truncated,
                             flipped,    good_last};
  ReadRecorder recorder;
  sbx_status s = read("garbage", asked, &recorder);
  (void)s;  // errors are per entry; the call's own status is the plugin's choice
  for (const std::string& p : recorder.protocol_problems) ADD_FAILURE() << "sink protocol: " << p;
  ASSERT_EQ(recorder.outcomes.size(), asked.size())
      << "each locator must give one entry or one on_entry_error";
  for (size_t i = 0; i < asked.size(); ++i) {
    const ReadOutcome& o = recorder.outcomes[i];
    if (o.error) {
      EXPECT_EQ(o.error_index, i) << "on_entry_error names the wrong locator index";
      EXPECT_FALSE(o.error_message.empty());
    }
  }
  // Locators that cannot be valid for any sane format must be errors; mangled real ones may by chance
  // name another entry, so for those only the one-outcome rule above applies.
  for (size_t i : {1, 2, 3}) EXPECT_TRUE(recorder.outcomes[i].error) << "locator " << i << " was accepted";
  ASSERT_FALSE(recorder.outcomes[0].error) << recorder.outcomes[0].error_message;
  ASSERT_FALSE(recorder.outcomes[6].error) << recorder.outcomes[6].error_message;
  EXPECT_TRUE(entry_differences(samples[1].entry, recorder.outcomes[0].entry).empty());
  EXPECT_TRUE(recorder.outcomes[0].data == samples[1].data);
  EXPECT_TRUE(entry_differences(samples[8].entry, recorder.outcomes[6].entry).empty());
  EXPECT_TRUE(recorder.outcomes[6].data == samples[8].data);
}

TEST_P(StorageConformance, SinkRefusalStopsReading) {
  auto samples = storage_samples();
  auto locators = write_set("refused", samples);
  ASSERT_EQ(locators.size(), samples.size());
  ReadRecorder recorder;
  recorder.refuse_entry(1, SBX_ERR_CANCELLED);
  sbx_status s = read("refused", locators, &recorder);
  EXPECT_EQ(s, SBX_ERR_CANCELLED) << "read_entries must return the sink's refusal, got " << status_name(s);
  EXPECT_EQ(recorder.outcomes.size(), 2u) << "entries were delivered after the sink refused";
  EXPECT_EQ(recorder.calls_after_refusal, 0u) << "the sink was called after it refused";
}

TEST_P(StorageConformance, SkipAnswerGivesMetadataWithoutData) {
  auto samples = storage_samples();
  auto locators = write_set("skipped", samples);
  ASSERT_EQ(locators.size(), samples.size());
  ReadRecorder recorder;
  recorder.skip_data = true;
  ASSERT_EQ(read("skipped", locators, &recorder), SBX_OK);
  for (const std::string& p : recorder.protocol_problems) ADD_FAILURE() << "sink protocol: " << p;
  ASSERT_EQ(recorder.outcomes.size(), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const ReadOutcome& o = recorder.outcomes[i];
    ASSERT_FALSE(o.error) << o.error_message;
    EXPECT_TRUE(o.ended) << "entry " << i << " got no on_entry_end";
    EXPECT_TRUE(entry_differences(samples[i].entry, o.entry).empty()) << "entry " << i;
    EXPECT_TRUE(o.data.empty()) << "entry " << i << " got data after SBX_SKIP";
  }
}

}  // namespace sbx::testkit

using sbx::testkit::StorageConformance;
