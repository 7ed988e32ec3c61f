// Shared by the disk device tests: loads the built plugin with dlopen (as the host does), opens devices,
// writes and reads sets through the C vtable only, and compares what came back.
#pragma once

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <strongbox/sdk/entry.hpp>
#include <strongbox/sdk/testkit/fake_host.hpp>
#include <strongbox/sdk/testkit/read_recorder.hpp>
#include <strongbox/sdk/testkit/support.hpp>
#include <utility>
#include <vector>

namespace sbx::disk_test {

using testkit::FakeHost;
using testkit::TempDir;
using Locator = std::vector<uint8_t>;

// Other storage plugins' tests reuse this harness by defining SBX_HARNESS_PLUGIN_FILE.
#ifndef SBX_HARNESS_PLUGIN_FILE
#define SBX_HARNESS_PLUGIN_FILE "sbx_storage_disk.so"
#endif
inline std::string plugin_path() {
  return std::string(SBX_BUILD_DIR) + "/lib/strongbox/plugins/" SBX_HARNESS_PLUGIN_FILE;
}

// Loaded once per test process and kept: no object of the plugin may outlive its library.
inline const testkit::LoadedPlugin& plugin() {
  static testkit::LoadedPlugin loaded = testkit::load_plugin_file(plugin_path());
  return loaded;
}

inline sbx_str str(const std::string& s) {
  return {s.data(), s.size()};
}

// An open device, closed on destruction.
class Device {
 public:
  Device() = default;
  Device(const sbx_storage_vtable* vt, sbx_storage_device* dev) : vt_(vt), dev_(dev) {}
  Device(Device&& o) noexcept : vt_(o.vt_), dev_(std::exchange(o.dev_, nullptr)) {}
  Device& operator=(Device&& o) noexcept {
    if (this != &o) {
      reset();
      vt_ = o.vt_;
      dev_ = std::exchange(o.dev_, nullptr);
    }
    return *this;
  }
  ~Device() { reset(); }
  void reset() {
    if (dev_) vt_->close(dev_);
    dev_ = nullptr;
  }
  sbx_storage_device* get() const { return dev_; }
  explicit operator bool() const { return dev_ != nullptr; }

 private:
  const sbx_storage_vtable* vt_ = nullptr;
  sbx_storage_device* dev_ = nullptr;
};

// An entry to write and its data (for a sparse file: the concatenation of its extents).
struct Item {
  sdk::Entry entry;
  std::string data;
};

inline Item file_item(std::string path, std::string data, uint32_t mode = 0644) {
  Item item;
  item.entry.type = SBX_ENTRY_FILE;
  item.entry.path = std::move(path);
  item.entry.mode = mode;
  item.entry.uid = 1000;
  item.entry.gid = 1000;
  item.entry.user_name = "alice";
  item.entry.group_name = "staff";
  item.entry.mtime_ns = 1700000000123456789;
  item.entry.size = data.size();
  item.data = std::move(data);
  return item;
}

inline Item other_item(uint32_t type, std::string path, std::string link_target = "", uint32_t mode = 0755) {
  Item item = file_item(std::move(path), "", mode);
  item.entry.type = type;
  item.entry.link_target = std::move(link_target);
  return item;
}

// What read_entries gave for one locator.
// What a read delivered for each locator, recorded by the SDK test kit's sink.
using Outcome = sbx::testkit::ReadOutcome;
using Recorder = sbx::testkit::ReadRecorder;

class DiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FakeHost::clear_error();
    ASSERT_NO_THROW(vt_ = plugin().storage());
  }

  std::string store_dir() const { return (temp_.path() / "store").string(); }
  std::string config(nlohmann::json extra = nlohmann::json::object()) const {
    nlohmann::json c = {{"path", store_dir()}};
    c.update(extra);
    return c.dump();
  }

  // As `devices add` does: makes the store when none is there. Reopens find it either way.
  sbx_status try_open(const std::string& config_json, Device* out) {
    FakeHost::clear_error();
    sbx_storage_device* dev = nullptr;
    sbx_status s = vt_->open_or_create(str(config_json), &dev);
    if (s == SBX_OK) *out = Device(vt_, dev);
    return s;
  }
  Device open_device(const std::string& config_json) {
    Device d;
    sbx_status s = try_open(config_json, &d);
    EXPECT_EQ(s, SBX_OK) << config_json << ": " << testkit::status_name(s) << ": " << FakeHost::last_error();
    return d;
  }

  // Writes one entry into an open writer; returns its locator (empty on failure, which is recorded).
  Locator write_item(sbx_storage_writer* w, const Item& item, size_t chunk = 65536) {
    sbx_status s = vt_->write_entry(w, &item.entry.as_c());
    if (s != SBX_OK) {
      ADD_FAILURE() << "write_entry " << testkit::printable(item.entry.path) << ": "
                    << testkit::status_name(s) << ": " << FakeHost::last_error();
      return {};
    }
    for (size_t at = 0; at < item.data.size(); at += chunk) {
      s = vt_->write_data(w, sdk::make_bytes(std::string_view(item.data).substr(at, chunk)));
      if (s != SBX_OK) {
        ADD_FAILURE() << "write_data: " << testkit::status_name(s) << ": " << FakeHost::last_error();
        return {};
      }
    }
    Locator locator(SBX_LOCATOR_MAX);
    size_t len = 0;
    s = vt_->end_entry(w, locator.data(), &len);
    if (s != SBX_OK) {
      ADD_FAILURE() << "end_entry: " << testkit::status_name(s) << ": " << FakeHost::last_error();
      return {};
    }
    locator.resize(len);
    return locator;
  }

  std::vector<Locator> write_set(const Device& dev, const std::string& name, const std::vector<Item>& items,
                                 size_t chunk = 65536) {
    std::vector<Locator> locators;
    sbx_storage_writer* w = nullptr;
    sbx_status s = vt_->begin_set(dev.get(), str(name), &w);
    if (s != SBX_OK) {
      ADD_FAILURE() << "begin_set " << name << ": " << testkit::status_name(s) << ": "
                    << FakeHost::last_error();
      return locators;
    }
    for (const Item& item : items) locators.push_back(write_item(w, item, chunk));
    sbx_set_stats stats{};
    stats.struct_size = sizeof stats;
    s = vt_->commit_set(w, &stats);
    EXPECT_EQ(s, SBX_OK) << "commit_set " << name << ": " << FakeHost::last_error();
    EXPECT_EQ(stats.entries, items.size());
    return locators;
  }

  // Reads the locators in one read_entries call.
  std::vector<Outcome> read(const Device& dev, const std::string& name, const std::vector<Locator>& locators,
                            sbx_status* status = nullptr, bool skip_data = false) {
    Recorder recorder;
    recorder.skip_data = skip_data;
    sbx_storage_reader* r = nullptr;
    sbx_status s = vt_->open_set(dev.get(), str(name), &r);
    EXPECT_EQ(s, SBX_OK) << "open_set " << name << ": " << FakeHost::last_error();
    if (s != SBX_OK) return {};
    std::vector<sbx_bytes> views;
    for (const Locator& l : locators) views.push_back({l.data(), l.size()});
    s = vt_->read_entries(r, views.data(), views.size(), recorder.sink());
    vt_->close_reader(r);
    if (status)
      *status = s;
    else
      EXPECT_EQ(s, SBX_OK) << "read_entries: " << FakeHost::last_error();
    for (const std::string& p : recorder.protocol_problems) ADD_FAILURE() << "sink protocol: " << p;
    EXPECT_EQ(recorder.outcomes.size(), locators.size()) << "one outcome per locator";
    return std::move(recorder.outcomes);
  }

  std::set<std::string> list_sets(const Device& dev) {
    std::set<std::string> names;
    sbx_status s = vt_->list_sets(
        dev.get(), [](void* c, sbx_str n) { static_cast<std::set<std::string>*>(c)->emplace(sdk::view(n)); },
        &names);
    EXPECT_EQ(s, SBX_OK) << FakeHost::last_error();
    return names;
  }

  const sbx_storage_vtable* vt_ = nullptr;
  TempDir temp_{"sbx-disk-test"};
};

// The extents the disk device gives back for the ones it was given: empty ones dropped, touching ones
// merged, each that does not end the file stretched to a multiple of 512 bytes (GNU tar needs that), and
// none at all when one extent covers the whole file (libarchive stores that as a dense file).
inline std::vector<sbx_extent> expected_extents(const sdk::Entry& e) {
  std::vector<sbx_extent> host;
  for (const sbx_extent& x : e.extents) {
    if (x.length == 0) continue;
    if (!host.empty() && host.back().offset + host.back().length == x.offset)
      host.back().length += x.length;
    else
      host.push_back(x);
  }
  auto stretched_end = [&](const sbx_extent& x) {
    uint64_t end = x.offset + x.length;
    return std::min<uint64_t>((end + 511) / 512 * 512, e.size);
  };
  std::vector<sbx_extent> out;
  for (const sbx_extent& x : host) {
    if (!out.empty()) {
      uint64_t end = stretched_end(out.back());
      if (end >= x.offset) {
        out.back().length = std::max(end, x.offset + x.length) - out.back().offset;
        continue;
      }
      out.back().length = end - out.back().offset;
    }
    out.push_back(x);
  }
  if (!out.empty()) out.back().length = stretched_end(out.back()) - out.back().offset;
  if (out.empty()) out.push_back({e.size, 0});
  if (out.size() == 1 && out[0].offset == 0 && out[0].length >= e.size) out.clear();  // all data: dense
  return out;
}

// The data that goes with expected_extents: the given data, with zeros where a region was stretched.
inline std::string expected_data(const sdk::Entry& e, const std::string& data) {
  if (e.type != SBX_ENTRY_FILE || e.extents.empty()) return data;
  const std::vector<sbx_extent> regions = expected_extents(e);
  if (regions.empty()) return data;  // stored dense: the data is the whole file
  std::vector<size_t> starts;        // where each given extent's bytes begin in `data`
  size_t total = 0;
  for (const sbx_extent& x : e.extents) {
    starts.push_back(total);
    total += x.length;
  }
  std::string out;
  size_t first = 0;  // both lists are sorted: skip given extents that end before the region
  for (const sbx_extent& region : regions) {
    std::string bytes(region.length, '\0');
    while (first < e.extents.size() && e.extents[first].offset + e.extents[first].length <= region.offset)
      ++first;
    for (size_t i = first; i < e.extents.size() && e.extents[i].offset < region.offset + region.length; ++i) {
      const sbx_extent& x = e.extents[i];
      uint64_t lo = std::max(x.offset, region.offset),
               hi = std::min(x.offset + x.length, region.offset + region.length);
      if (lo < hi) bytes.replace(lo - region.offset, hi - lo, data, starts[i] + (lo - x.offset), hi - lo);
    }
    out += bytes;
  }
  return out;
}

// What the disk device gives back for an entry it was given: device/inode/nlink are not kept.
inline sdk::Entry expected_back(sdk::Entry e) {
  e.device = 0;
  e.inode = 0;
  e.nlink = 0;
  if (e.type == SBX_ENTRY_FILE && !e.extents.empty()) e.extents = expected_extents(e);
  std::sort(e.xattrs.begin(), e.xattrs.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return e;
}

// Every field the disk device keeps, compared; one failure line per difference.
inline void expect_entry(const Item& want_item, const Outcome& got) {
  SCOPED_TRACE("entry " + testkit::printable(want_item.entry.path));
  ASSERT_FALSE(got.error) << testkit::status_name(got.error_status) << ": " << got.error_message;
  ASSERT_TRUE(got.ended);
  const sdk::Entry want = expected_back(want_item.entry);
  const sdk::Entry& e = got.entry;
  EXPECT_EQ(e.type, want.type);
  EXPECT_EQ(testkit::printable(e.path), testkit::printable(want.path));
  EXPECT_EQ(testkit::printable(e.link_target), testkit::printable(want.link_target));
  EXPECT_EQ(e.size, want.size);
  EXPECT_EQ(e.mode, want.mode);
  EXPECT_EQ(e.uid, want.uid);
  EXPECT_EQ(e.gid, want.gid);
  EXPECT_EQ(testkit::printable(e.user_name), testkit::printable(want.user_name));
  EXPECT_EQ(testkit::printable(e.group_name), testkit::printable(want.group_name));
  EXPECT_EQ(e.mtime_ns, want.mtime_ns);
  EXPECT_EQ(e.ctime_ns, want.ctime_ns);
  EXPECT_EQ(e.atime_ns, want.atime_ns);
  EXPECT_EQ(e.rdev, want.rdev);
  EXPECT_EQ(e.device, 0u);
  EXPECT_EQ(e.inode, 0u);
  EXPECT_EQ(e.nlink, 0u);
  ASSERT_EQ(e.xattrs.size(), want.xattrs.size());
  for (size_t i = 0; i < want.xattrs.size(); ++i) {
    EXPECT_EQ(testkit::printable(e.xattrs[i].name), testkit::printable(want.xattrs[i].name));
    EXPECT_EQ(testkit::printable(e.xattrs[i].value), testkit::printable(want.xattrs[i].value));
  }
  ASSERT_EQ(e.extents.size(), want.extents.size());
  for (size_t i = 0; i < want.extents.size(); ++i) {
    EXPECT_EQ(e.extents[i].offset, want.extents[i].offset) << "extent " << i;
    EXPECT_EQ(e.extents[i].length, want.extents[i].length) << "extent " << i;
  }
  const std::string want_data = expected_data(want_item.entry, want_item.data);
  EXPECT_EQ(got.data.size(), want_data.size());
  EXPECT_TRUE(got.data == want_data) << "data differs";
}

// Version-1 locators, as the plugin's locator.hpp lays them out: white-box tests use this to find frames.
struct DecodedLocator {
  uint64_t frame_offset = 0;
  uint64_t frame_index = 0;
  uint32_t offset_in_frame = 0;
};
inline DecodedLocator decode_locator(const Locator& l) {
  auto u = [&](size_t at, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(l.at(at + i)) << (8 * i);
    return v;
  };
  return {u(1, 8), u(9, 8), static_cast<uint32_t>(u(17, 4))};
}
inline Locator encode_locator(const DecodedLocator& d, const std::string& set_name) {
  Locator l(25);
  l[0] = 1;
  auto put = [&](size_t at, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) l[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  put(1, d.frame_offset, 8);
  put(9, d.frame_index, 8);
  put(17, d.offset_in_frame, 4);
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < 21; ++i) h = (h ^ l[i]) * 16777619u;
  for (char c : set_name) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  put(21, h, 4);
  return l;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  std::string content(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  return content;
}
inline void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

// Bytes this process has read through read-family syscalls so far (/proc/self/io rchar).
inline uint64_t bytes_read_by_process() {
  std::ifstream io("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (io >> key >> value)
    if (key == "rchar:") return value;
  return 0;
}

}  // namespace sbx::disk_test
