// Shared by the dedup device tests: the disk tests' harness (dlopen, vtable calls, read recorder) pointed at
// sbx_storage_dedup.so, plus the ABI 1.1 calls a dedup device adds.
#pragma once

#define SBX_HARNESS_PLUGIN_FILE "sbx_storage_dedup.so"
#include <random>

#include "../storage_disk/disk_harness.hpp"

namespace sbx::dedup_test {

using namespace sbx::disk_test;

inline std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

struct Damage {
  std::string set, locator, path, problem;
};

class DedupTest : public DiskTest {
 protected:
  // Small chunks and packs, so small test data spans many of both.
  std::string small_config(const std::string& dir, nlohmann::json extra = nlohmann::json::object()) const {
    nlohmann::json c = {{"path", dir}, {"chunk_avg_kib", 4}, {"pack_mib", 1}};
    c.update(extra);
    return c.dump();
  }
  std::string dir(const std::string& name) const { return (temp_.path() / name).string(); }
  // The pack and manifest files of the store at store_dir(), sorted.
  std::vector<std::filesystem::path> store_files() {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(store_dir()))
      if (e.is_regular_file() && (e.path().extension() == ".pack" || e.path().extension() == ".manifest"))
        files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
  }
  void flip(const std::filesystem::path& file, uint64_t at) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(std::streamoff(at));
    char c = 0;
    f.read(&c, 1);
    c = char(c ^ 0x20);
    f.seekp(std::streamoff(at));
    f.write(&c, 1);
  }
  std::string key_file(const std::string& name = "key", char fill = 'a') {
    auto path = temp_.path() / name;
    std::ofstream(path) << std::string(64, fill) << "\n";
    return path.string();
  }

  sbx_dedup_info info(const Device& d) {
    sbx_dedup_info out{};
    out.struct_size = sizeof out;
    EXPECT_EQ(vt_->dedup_info(d.get(), &out), SBX_OK) << FakeHost::last_error();
    return out;
  }

  sbx_set_stats commit(sbx_storage_writer* w) {
    sbx_set_stats stats{};
    stats.struct_size = sizeof stats;
    EXPECT_EQ(vt_->commit_set(w, &stats), SBX_OK) << FakeHost::last_error();
    return stats;
  }

  sbx_storage_writer* begin(const Device& d, const std::string& name) {
    sbx_storage_writer* w = nullptr;
    EXPECT_EQ(vt_->begin_set(d.get(), str(name), &w), SBX_OK) << FakeHost::last_error();
    return w;
  }

  sbx_status link(sbx_storage_writer* w, const Locator& source, Locator* out = nullptr) {
    Locator locator(SBX_LOCATOR_MAX);
    size_t len = 0;
    sbx_status s = vt_->link_entry(w, {source.data(), source.size()}, locator.data(), &len);
    locator.resize(len);
    if (out) *out = locator;
    return s;
  }

  sbx_gc_stats gc(const Device& d, const std::vector<std::string>& live, bool dry_run = false,
                  sbx_status expect = SBX_OK) {
    std::vector<sbx_str> names;
    for (const auto& n : live) names.push_back(str(n));
    sbx_gc_stats stats{};
    stats.struct_size = sizeof stats;
    EXPECT_EQ(vt_->collect_garbage(d.get(), names.data(), names.size(), dry_run ? 1 : 0, &stats), expect)
        << FakeHost::last_error();
    return stats;
  }

  std::vector<Damage> verify(const Device& d, uint32_t percent = 100, sbx_verify_stats* stats_out = nullptr,
                             uint64_t seed = 1) {
    std::vector<Damage> found;
    sbx_verify_options options{};
    options.struct_size = sizeof options;
    options.read_data_percent = percent;
    options.seed = seed;
    sbx_verify_stats stats{};
    stats.struct_size = sizeof stats;
    sbx_status s = vt_->verify_device(
        d.get(), &options,
        [](void* ctx, sbx_str set, sbx_bytes locator, sbx_str path, sbx_str problem) {
          static_cast<std::vector<Damage>*>(ctx)->push_back(
              {std::string(sdk::view(set)), std::string(sdk::view(locator)), std::string(sdk::view(path)),
               std::string(sdk::view(problem))});
        },
        &found, &stats);
    EXPECT_EQ(s, SBX_OK) << FakeHost::last_error();
    EXPECT_EQ(stats.problems, found.size());
    if (stats_out) *stats_out = stats;
    return found;
  }

  std::vector<std::string> set_chunks(const Device& d, const std::string& set) {
    std::vector<std::string> ids;
    sbx_status s = vt_->set_chunks(
        d.get(), str(set),
        [](void* ctx, sbx_bytes id, uint64_t) {
          static_cast<std::vector<std::string>*>(ctx)->emplace_back(sdk::view(id));
        },
        &ids);
    EXPECT_EQ(s, SBX_OK) << FakeHost::last_error();
    return ids;
  }

  static sbx_status take_bytes(void* ctx, sbx_bytes data) {
    static_cast<std::string*>(ctx)->assign(sdk::view(data));
    return SBX_OK;
  }
  std::string read_chunk(const Device& d, const std::string& id, sbx_status expect = SBX_OK) {
    std::string out;
    EXPECT_EQ(vt_->read_chunk(d.get(), sdk::make_bytes(id), take_bytes, &out), expect)
        << FakeHost::last_error();
    return out;
  }
  std::string read_manifest(const Device& d, const std::string& set) {
    std::string out;
    EXPECT_EQ(vt_->read_manifest(d.get(), str(set), take_bytes, &out), SBX_OK) << FakeHost::last_error();
    return out;
  }

  // Sends `set` from one device to another of its domain as a duplication does; returns the chunks sent.
  size_t send_set(const Device& from, const Device& to, const std::string& set,
                  size_t stop_after = SIZE_MAX) {
    auto ids = set_chunks(from, set);
    sbx_storage_receiver* r = nullptr;
    EXPECT_EQ(vt_->begin_receive(to.get(), &r), SBX_OK) << FakeHost::last_error();
    if (!r) return 0;
    std::vector<sbx_bytes> views;
    for (const auto& id : ids) views.push_back(sdk::make_bytes(id));
    std::vector<uint8_t> missing(ids.size(), 9);
    EXPECT_EQ(vt_->missing_chunks(r, views.data(), views.size(), missing.data()), SBX_OK)
        << FakeHost::last_error();
    size_t sent = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_LE(missing[i], 1);
      if (!missing[i]) continue;
      if (sent == stop_after) break;
      std::string stored = read_chunk(from, ids[i]);
      EXPECT_EQ(vt_->receive_chunk(r, views[i], sdk::make_bytes(stored)), SBX_OK) << FakeHost::last_error();
      ++sent;
    }
    EXPECT_EQ(vt_->flush_received(r), SBX_OK) << FakeHost::last_error();
    if (stop_after == SIZE_MAX) {
      std::string manifest = read_manifest(from, set);
      EXPECT_EQ(vt_->receive_set(r, str(set), sdk::make_bytes(manifest)), SBX_OK) << FakeHost::last_error();
    }
    vt_->close_receiver(r);
    return sent;
  }

  // One pack holding a kept file and a dropped one (set "both"), the kept file linked into set "keeper": gc
  // after deleting "both" finds the pack partly dead.
  struct PartlyDeadPack {
    Item keep;
    Locator linked;  // the kept file's locator in "keeper"
  };
  PartlyDeadPack write_partly_dead_pack(const Device& d, uint32_t seed) {
    PartlyDeadPack made{file_item("keep", random_bytes(500000, seed)), {}};
    sbx_storage_writer* w = begin(d, "both");
    Locator kept = write_item(w, made.keep);
    write_item(w, file_item("drop", random_bytes(1500000, seed + 1)));
    commit(w);
    w = begin(d, "keeper");
    EXPECT_EQ(link(w, kept, &made.linked), SBX_OK) << FakeHost::last_error();
    commit(w);
    return made;
  }

  // A little tree: a few files of random data, a directory and a symlink.
  std::vector<Item> tree(uint32_t seed, size_t file_bytes = 200000) {
    return {other_item(SBX_ENTRY_DIRECTORY, "d"),
            file_item("d/a", random_bytes(file_bytes, seed)),
            file_item("d/b", random_bytes(file_bytes / 3, seed + 1)),
            file_item("d/empty", ""),
            other_item(SBX_ENTRY_SYMLINK, "d/link", "a", 0777),
            file_item("c", random_bytes(5000, seed + 2))};
  }

  void expect_reads_back(const Device& d, const std::string& set, const std::vector<Locator>& locators,
                         const std::vector<Item>& items) {
    auto outcomes = read(d, set, locators);
    ASSERT_EQ(outcomes.size(), items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      EXPECT_FALSE(outcomes[i].error) << items[i].entry.path << ": " << outcomes[i].error_message;
      EXPECT_EQ(outcomes[i].entry.path, items[i].entry.path);
      EXPECT_EQ(outcomes[i].data, items[i].data) << items[i].entry.path;
    }
  }
};

}  // namespace sbx::dedup_test
