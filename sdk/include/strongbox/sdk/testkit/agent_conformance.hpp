// strongbox SDK test kit: the conformance suite every file-system agent plugin must pass. Header-only,
// GoogleTest; links nlohmann_json (strongbox::testkit does).
//
// Mechanism: a value-parameterized fixture. Include this header in exactly ONE .cpp of a test binary (it
// defines the tests), link GTest::gtest_main and strongbox::testkit, and instantiate it with your plugin:
//
//   #include <strongbox/sdk/testkit/agent_conformance.hpp>
//   INSTANTIATE_TEST_SUITE_P(Files, AgentConformance, ::testing::Values(sbx::testkit::AgentTarget{
//       "/path/to/sbx_agent_files.so", [](const std::filesystem::path&) { return std::string("{}"); }}));
//
// Each test builds a small tree in a fresh temp directory (files, an empty file, directories, an empty
// directory, a symlink, a hard link, a name with a newline and invalid UTF-8, an xattr where the file
// system allows one), runs a full backup of it through the C vtable with a recording sink, and for agents
// with SBX_CAP_RESTORE restores what was recorded. Restore tests are skipped without SBX_CAP_RESTORE.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "../entry.hpp"
#include "fake_host.hpp"
#include "support.hpp"

namespace sbx::testkit {

struct AgentTarget {
  std::string plugin_path;
  // The config_json given to open; temp_dir is a fresh directory the suite removes afterwards.
  std::function<std::string(const std::filesystem::path& temp_dir)> config_json;
};

inline void PrintTo(const AgentTarget& target, std::ostream* os) {
  *os << target.plugin_path;
}

struct BackupRecord {
  sdk::Entry entry;
  std::string data;
  bool ended = false;
};

// An sbx_backup_sink that records what an agent sends and notes every breach of the sink protocol:
// check before on_entry for the same path, nothing sent for a path check skipped, data only inside an entry.
class BackupRecorder {
 public:
  BackupRecorder() {
    sink_.struct_size = sizeof(sbx_backup_sink);
    sink_.ctx = this;
    sink_.check = [](void* ctx, const sbx_entry* e) { return self(ctx)->on_check(*e); };
    sink_.on_entry = [](void* ctx, const sbx_entry* e) { return self(ctx)->on_entry(*e); };
    sink_.on_data = [](void* ctx, sbx_bytes d) { return self(ctx)->on_data(d); };
    sink_.on_entry_end = [](void* ctx) { return self(ctx)->on_entry_end(); };
    sink_.on_warning = [](void* ctx, sbx_bytes path, sbx_str message) {
      self(ctx)->warnings.emplace_back(std::string(sdk::view(path)), std::string(sdk::view(message)));
    };
  }
  BackupRecorder(const BackupRecorder&) = delete;
  BackupRecorder& operator=(const BackupRecorder&) = delete;

  const sbx_backup_sink* sink() const { return &sink_; }

  // check answers with decide(entry) (SBX_OK when unset).
  std::function<sbx_status(const sdk::Entry&)> decide;
  // on_entry returns `status` for the n-th entry (0-based), to test that a refusal stops the agent.
  void refuse_entry(size_t n, sbx_status status) {
    refuse_at_ = n;
    refusal_ = status;
  }

  std::vector<sdk::Entry> checked;
  std::vector<BackupRecord> sent;
  std::vector<std::pair<std::string, std::string>> warnings;
  std::vector<std::string> protocol_problems;
  size_t calls_after_refusal = 0;

  const BackupRecord* find(const std::string& path) const {
    for (const auto& r : sent)
      if (r.entry.path == path) return &r;
    return nullptr;
  }
  bool was_checked(const std::string& path) const {
    return std::any_of(checked.begin(), checked.end(), [&](const sdk::Entry& e) { return e.path == path; });
  }

 private:
  static BackupRecorder* self(void* ctx) { return static_cast<BackupRecorder*>(ctx); }

  sbx_status on_check(const sbx_entry& c) {
    if (refused_) ++calls_after_refusal;
    sdk::Entry e = sdk::Entry::from(c);
    if (in_entry_) protocol_problems.push_back("check(" + printable(e.path) + ") inside an open entry");
    sbx_status answer = decide ? decide(e) : SBX_OK;
    answers_[e.path] = answer;
    checked.push_back(std::move(e));
    return answer;
  }
  sbx_status on_entry(const sbx_entry& c) {
    if (refused_) ++calls_after_refusal;
    BackupRecord r;
    r.entry = sdk::Entry::from(c);
    if (in_entry_)
      protocol_problems.push_back("on_entry(" + printable(r.entry.path) + ") before on_entry_end");
    auto it = answers_.find(r.entry.path);
    if (it == answers_.end())
      protocol_problems.push_back("on_entry(" + printable(r.entry.path) + ") without check first");
    else if (it->second != SBX_OK)
      protocol_problems.push_back("on_entry(" + printable(r.entry.path) + ") although check answered " +
                                  status_name(it->second));
    sent.push_back(std::move(r));
    in_entry_ = true;
    if (entries_seen_++ == refuse_at_) {
      refused_ = true;
      return refusal_;
    }
    return SBX_OK;
  }
  sbx_status on_data(sbx_bytes d) {
    if (refused_) ++calls_after_refusal;
    if (!in_entry_) {
      protocol_problems.push_back("on_data outside an entry");
      return SBX_OK;
    }
    sent.back().data.append(sdk::view(d));
    return SBX_OK;
  }
  sbx_status on_entry_end() {
    if (refused_) ++calls_after_refusal;
    if (!in_entry_) {
      protocol_problems.push_back("on_entry_end without on_entry");
      return SBX_OK;
    }
    sent.back().ended = true;
    in_entry_ = false;
    return SBX_OK;
  }

  sbx_backup_sink sink_{};
  std::map<std::string, sbx_status> answers_;
  bool in_entry_ = false;
  size_t entries_seen_ = 0;
  size_t refuse_at_ = SIZE_MAX;
  sbx_status refusal_ = SBX_OK;
  bool refused_ = false;
};

class AgentConformance : public ::testing::TestWithParam<AgentTarget> {
 protected:
  // The tree every test backs up, relative to src_.
  static constexpr const char* kHello = "hello.txt";
  static constexpr const char* kHard = "hard";
  static constexpr const char* kEmpty = "empty";
  static constexpr const char* kSub = "sub";
  static constexpr const char* kData = "sub/data.bin";
  static constexpr const char* kLink = "sub/link";
  static constexpr const char* kEmptyDir = "empty-dir";
  static std::string odd_name() { return std::string("odd \n name \xff", 12); }
  static constexpr int64_t kHelloMtimeNs = 1600000000123456789;

  void SetUp() override {
    FakeHost::clear_error();
    try {
      plugin_.emplace(load_plugin_file(GetParam().plugin_path));
      vt_ = plugin_->agent();
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
    auto problems = descriptor_problems(plugin_->descriptor(), SBX_KIND_AGENT);
    ASSERT_TRUE(problems.empty()) << plugin_->path() << ": " << problems.front();
    temp_.emplace("sbx-agent-conformance");
    // Canonical, so entry paths can be predicted even when $TMPDIR goes through a symlink.
    std::filesystem::path base = std::filesystem::canonical(temp_->path());
    src_ = base / "src";
    ASSERT_NO_FATAL_FAILURE(make_tree());
    std::string config = GetParam().config_json(temp_->path());
    sbx_status s = vt_->open({config.data(), config.size()}, &agent_);
    ASSERT_EQ(s, SBX_OK) << "open(" << config << "): " << status_name(s) << ": " << FakeHost::last_error();
  }

  void TearDown() override {
    if (agent_) vt_->close(agent_);
    agent_ = nullptr;
    plugin_.reset();
    temp_.reset();
  }

  bool has(uint64_t capability) const { return plugin_->descriptor().capabilities & capability; }

  static void write_file(const std::filesystem::path& path, const std::string& content, mode_t mode) {
    std::ofstream out(path, std::ios::binary);
    out << content;
    out.close();
    ASSERT_TRUE(out) << "cannot write " << path;
    ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
  }
  static std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  void make_tree() {
    namespace fs = std::filesystem;
    ASSERT_TRUE(fs::create_directory(src_));
    ASSERT_EQ(::chmod(src_.c_str(), 0755), 0);
    ASSERT_NO_FATAL_FAILURE(write_file(src_ / kHello, "hello, strongbox\n", 0644));
    ASSERT_NO_FATAL_FAILURE(write_file(src_ / kEmpty, "", 0600));
    ASSERT_TRUE(fs::create_directory(src_ / kSub));
    ASSERT_EQ(::chmod((src_ / kSub).c_str(), 0750), 0);
    ASSERT_NO_FATAL_FAILURE(write_file(src_ / kData, data_content(), 0640));
    fs::create_symlink("../hello.txt", src_ / kLink);
    fs::create_hard_link(src_ / kHello, src_ / kHard);
    ASSERT_NO_FATAL_FAILURE(write_file(src_ / odd_name(), "odd\n", 0644));
    ASSERT_TRUE(fs::create_directory(src_ / kEmptyDir));
    ASSERT_EQ(::chmod((src_ / kEmptyDir).c_str(), 0700), 0);
    std::string value("v\0bin", 5);
    xattrs_ = ::setxattr((src_ / kHello).c_str(), "user.sbx", value.data(), value.size(), 0) == 0;
    struct timespec times[2] = {{1600000000, 0}, {kHelloMtimeNs / 1000000000, kHelloMtimeNs % 1000000000}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (src_ / kHello).c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  }
  static std::string data_content() { return pattern_string(41, 200000); }

  // The entry path an agent must give a file of the tree: its absolute path without the leading '/'.
  std::string entry_path(const std::string& relative) const {
    std::string abs = (relative.empty() ? src_ : src_ / relative).string();
    return abs.substr(1);
  }

  std::string job(const std::vector<std::filesystem::path>& sources) const {
    nlohmann::json j;
    j["sources"] = nlohmann::json::array();
    for (const auto& s : sources) j["sources"].push_back(s.string());
    j["excludes"] = nlohmann::json::array();
    j["level"] = "full";
    return j.dump();
  }

  sbx_status backup(BackupRecorder* recorder, std::optional<std::string> job_json = std::nullopt) {
    std::string j = job_json ? *job_json : job({src_});
    FakeHost::clear_error();
    return vt_->backup(agent_, {j.data(), j.size()}, recorder->sink());
  }

  // Restores records into target in catalog path order with hard links after their targets, as the host
  // does. Calls for an entry stop at its first refusal; the next entry is still offered.
  sbx_status restore(const std::vector<BackupRecord>& records, const std::filesystem::path& target) {
    std::vector<const BackupRecord*> order;
    for (const auto& r : records) order.push_back(&r);
    std::stable_sort(order.begin(), order.end(), [](const BackupRecord* a, const BackupRecord* b) {
      bool al = a->entry.type == SBX_ENTRY_HARDLINK, bl = b->entry.type == SBX_ENTRY_HARDLINK;
      if (al != bl) return bl;
      return a->entry.path < b->entry.path;
    });
    std::string options = nlohmann::json{{"target", target.string()}}.dump();
    sbx_agent_restore* r = nullptr;
    FakeHost::clear_error();
    sbx_status s = vt_->begin_restore(agent_, {options.data(), options.size()}, &r);
    if (s != SBX_OK) return s;
    sbx_status first_failure = SBX_OK;
    auto note = [&](sbx_status st) {
      if (st < 0 && first_failure == SBX_OK) first_failure = st;
      return st;
    };
    for (const BackupRecord* rec : order) {
      if (note(vt_->restore_entry(r, &rec->entry.as_c())) < 0) continue;
      bool ok = true;
      for (size_t off = 0; ok && off < rec->data.size(); off += 65536) {
        std::string_view chunk = std::string_view(rec->data).substr(off, 65536);
        ok = note(vt_->restore_data(r, sdk::make_bytes(chunk))) >= 0;
      }
      if (ok) note(vt_->restore_entry_end(r));
    }
    note(vt_->finish_restore(r));
    return first_failure;
  }

  std::optional<LoadedPlugin> plugin_;
  const sbx_agent_vtable* vt_ = nullptr;
  std::optional<TempDir> temp_;
  std::filesystem::path src_;
  bool xattrs_ = false;
  sbx_agent* agent_ = nullptr;
};

#define SBX_TESTKIT_NEED_RESTORE() \
  if (!has(SBX_CAP_RESTORE)) GTEST_SKIP() << "plugin lacks SBX_CAP_RESTORE"

TEST_P(AgentConformance, DescriptorIsSane) {
  const sbx_plugin_descriptor& d = plugin_->descriptor();
  EXPECT_EQ(d.abi_major, SBX_ABI_MAJOR);
  EXPECT_LE(d.min_host_minor, SBX_ABI_MINOR);
  EXPECT_EQ(d.kind, static_cast<uint32_t>(SBX_KIND_AGENT));
  for (const std::string& problem : descriptor_problems(d, SBX_KIND_AGENT)) ADD_FAILURE() << problem;
}

TEST_P(AgentConformance, BackupSendsEveryEntryUnderItsAbsolutePathWithoutLeadingSlash) {
  BackupRecorder rec;
  sbx_status s = backup(&rec);
  ASSERT_EQ(s, SBX_OK) << status_name(s) << ": " << FakeHost::last_error();
  for (const auto& p : rec.protocol_problems) ADD_FAILURE() << "sink protocol: " << p;
  for (const auto& [path, message] : rec.warnings)
    ADD_FAILURE() << "warning for " << printable(path) << ": " << message;

  const std::string root = entry_path("");
  for (const auto& r : rec.sent) {
    const std::string& p = r.entry.path;
    EXPECT_FALSE(p.empty());
    EXPECT_FALSE(!p.empty() && p.front() == '/') << "entry path starts with '/': " << printable(p);
    bool inside = p == root || p.rfind(root + "/", 0) == 0;
    bool ancestor = root.rfind(p + "/", 0) == 0;
    EXPECT_TRUE(inside || ancestor) << "entry outside the source: " << printable(p);
    EXPECT_TRUE(r.ended) << "no on_entry_end for " << printable(p);
    EXPECT_TRUE(rec.was_checked(p)) << printable(p);
  }

  auto expect_entry = [&](const std::string& rel, uint32_t type, uint32_t mode) -> const BackupRecord* {
    const BackupRecord* r = rec.find(entry_path(rel));
    EXPECT_NE(r, nullptr) << "no entry for " << printable(entry_path(rel));
    if (!r) return nullptr;
    EXPECT_EQ(r->entry.type, type) << printable(rel);
    EXPECT_EQ(r->entry.mode, mode) << printable(rel) << ": mode";
    return r;
  };
  expect_entry("", SBX_ENTRY_DIRECTORY, 0755);
  expect_entry(kSub, SBX_ENTRY_DIRECTORY, 0750);
  expect_entry(kEmptyDir, SBX_ENTRY_DIRECTORY, 0700);
  if (const BackupRecord* r = expect_entry(kEmpty, SBX_ENTRY_FILE, 0600)) {
    EXPECT_EQ(r->entry.size, 0u);
    EXPECT_EQ(r->data, "");
  }
  if (const BackupRecord* r = expect_entry(kData, SBX_ENTRY_FILE, 0640)) {
    EXPECT_EQ(r->entry.size, data_content().size());
    EXPECT_TRUE(r->data == data_content()) << "data of " << kData << " differs";
  }
  if (const BackupRecord* r = expect_entry(odd_name(), SBX_ENTRY_FILE, 0644)) {
    EXPECT_EQ(r->data, "odd\n");
  }
  if (const BackupRecord* r = rec.find(entry_path(kLink))) {
    EXPECT_EQ(r->entry.type, static_cast<uint32_t>(SBX_ENTRY_SYMLINK));
    EXPECT_EQ(r->entry.link_target, "../hello.txt");
    EXPECT_EQ(r->data, "");
  } else {
    ADD_FAILURE() << "no entry for the symlink " << entry_path(kLink);
  }

  // hello.txt and hard share an inode: one is sent as the file, the other as a hard link naming it.
  const BackupRecord* hello = rec.find(entry_path(kHello));
  const BackupRecord* hard = rec.find(entry_path(kHard));
  ASSERT_NE(hello, nullptr);
  ASSERT_NE(hard, nullptr);
  const BackupRecord* file = hello->entry.type == SBX_ENTRY_FILE ? hello : hard;
  const BackupRecord* link = file == hello ? hard : hello;
  EXPECT_EQ(file->entry.type, static_cast<uint32_t>(SBX_ENTRY_FILE));
  EXPECT_EQ(link->entry.type, static_cast<uint32_t>(SBX_ENTRY_HARDLINK));
  EXPECT_EQ(link->entry.link_target, file->entry.path) << "a hard link must name the path sent with the data";
  EXPECT_EQ(link->data, "");
  EXPECT_EQ(file->data, "hello, strongbox\n");
  EXPECT_EQ(file->entry.size, 17u);
  EXPECT_EQ(file->entry.mode, 0644u);
  EXPECT_EQ(file->entry.mtime_ns, kHelloMtimeNs) << "mtime must keep its nanoseconds";
  if (xattrs_) {
    bool found = false;
    for (const auto& x : file->entry.xattrs)
      found = found || (x.name == "user.sbx" && x.value == std::string("v\0bin", 5));
    EXPECT_TRUE(found) << "xattr user.sbx missing from " << printable(file->entry.path);
  }
}

TEST_P(AgentConformance, SkipFromCheckSendsNothingForThatEntry) {
  BackupRecorder rec;
  const std::string skipped = entry_path(kData);
  rec.decide = [&](const sdk::Entry& e) { return e.path == skipped ? SBX_SKIP : SBX_OK; };
  ASSERT_EQ(backup(&rec), SBX_OK) << FakeHost::last_error();
  for (const auto& p : rec.protocol_problems) ADD_FAILURE() << "sink protocol: " << p;
  EXPECT_TRUE(rec.was_checked(skipped))
      << "check must still see an unchanged entry: it tells the host it exists";
  EXPECT_EQ(rec.find(skipped), nullptr) << "an entry check skipped was sent anyway";
  EXPECT_NE(rec.find(entry_path(kEmpty)), nullptr) << "skipping one entry must not skip others";
}

TEST_P(AgentConformance, SkippingEverythingSendsNothingButChecksEverything) {
  BackupRecorder rec;
  rec.decide = [](const sdk::Entry&) { return SBX_SKIP; };
  ASSERT_EQ(backup(&rec), SBX_OK) << FakeHost::last_error();
  for (const auto& p : rec.protocol_problems) ADD_FAILURE() << "sink protocol: " << p;
  EXPECT_TRUE(rec.sent.empty()) << rec.sent.size() << " entries sent although every check answered SBX_SKIP";
  for (std::string rel : {std::string(kHello), std::string(kHard), std::string(kEmpty), std::string(kData),
                          std::string(kLink), std::string(kEmptyDir), odd_name()})
    EXPECT_TRUE(rec.was_checked(entry_path(rel))) << "never checked: " << printable(rel);
}

TEST_P(AgentConformance, SinkRefusalStopsTheBackup) {
  BackupRecorder rec;
  rec.refuse_entry(0, SBX_ERR_CANCELLED);
  sbx_status s = backup(&rec);
  EXPECT_EQ(s, SBX_ERR_CANCELLED) << "backup must return the sink's refusal, got " << status_name(s);
  EXPECT_EQ(rec.calls_after_refusal, 0u) << "the agent went on after the sink refused";
}

TEST_P(AgentConformance, MissingSourceIsReportedWithoutCrashing) {
  BackupRecorder rec;
  std::filesystem::path missing = std::filesystem::canonical(temp_->path()) / "no-such-dir";
  sbx_status s = backup(&rec, job({missing}));
  bool reported = (s < 0 && !FakeHost::last_error().empty()) || !rec.warnings.empty();
  EXPECT_TRUE(reported) << "a missing source gave " << status_name(s)
                        << " with no warning and no error message";
  for (const auto& r : rec.sent)
    EXPECT_NE(r.entry.path.rfind(missing.string().substr(1), 0), 0u) << "an entry for a missing source";
}

TEST_P(AgentConformance, MalformedJobIsRefusedWithAMessage) {
  BackupRecorder rec;
  sbx_status s = backup(&rec, std::string("{\"sources\": "));
  EXPECT_LT(s, 0) << status_name(s);
  EXPECT_FALSE(FakeHost::last_error().empty());
  EXPECT_TRUE(rec.sent.empty());
}

TEST_P(AgentConformance, RestoreOfTheBackupReproducesTheTree) {
  SBX_TESTKIT_NEED_RESTORE();
  namespace fs = std::filesystem;
  BackupRecorder rec;
  ASSERT_EQ(backup(&rec), SBX_OK) << FakeHost::last_error();
  fs::path target = fs::canonical(temp_->path()) / "restore";
  ASSERT_TRUE(fs::create_directory(target));
  sbx_status s = restore(rec.sent, target);
  ASSERT_EQ(s, SBX_OK) << status_name(s) << ": " << FakeHost::last_error();

  fs::path out = target / entry_path("");
  EXPECT_EQ(read_file(out / kHello), "hello, strongbox\n");
  EXPECT_EQ(read_file(out / kHard), "hello, strongbox\n");
  EXPECT_EQ(read_file(out / kData), data_content());
  EXPECT_EQ(read_file(out / odd_name()), "odd\n");
  EXPECT_TRUE(fs::is_regular_file(out / kEmpty));
  EXPECT_EQ(fs::file_size(out / kEmpty), 0u);
  EXPECT_TRUE(fs::is_directory(out / kEmptyDir));
  EXPECT_TRUE(fs::is_symlink(out / kLink));
  if (fs::is_symlink(out / kLink)) {
    EXPECT_EQ(fs::read_symlink(out / kLink), "../hello.txt");
  }

  struct stat hello {
  }, hard{}, data{}, sub{};
  ASSERT_EQ(::lstat((out / kHello).c_str(), &hello), 0);
  ASSERT_EQ(::lstat((out / kHard).c_str(), &hard), 0);
  EXPECT_EQ(hello.st_ino, hard.st_ino) << "the hard link was restored as a separate file";
  EXPECT_EQ(hello.st_mode & 07777, 0644u);
  EXPECT_EQ(int64_t(hello.st_mtim.tv_sec) * 1000000000 + hello.st_mtim.tv_nsec, kHelloMtimeNs);
  ASSERT_EQ(::lstat((out / kData).c_str(), &data), 0);
  EXPECT_EQ(data.st_mode & 07777, 0640u);
  ASSERT_EQ(::lstat((out / kSub).c_str(), &sub), 0);
  EXPECT_EQ(sub.st_mode & 07777, 0750u) << "directory modes are applied by finish_restore";
  if (xattrs_) {
    char value[16];
    ssize_t n = ::lgetxattr((out / kHello).c_str(), "user.sbx", value, sizeof value);
    EXPECT_EQ(std::string(value, n > 0 ? size_t(n) : 0), std::string("v\0bin", 5))
        << "xattr user.sbx not restored";
  }
}

// A crafted set must not write outside the restore target: not through "..", absolute paths, a symlink
// restored earlier, or a hard link to a file outside.
TEST_P(AgentConformance, RestoreNeverWritesOutsideTheTarget) {
  SBX_TESTKIT_NEED_RESTORE();
  namespace fs = std::filesystem;
  fs::path base = fs::canonical(temp_->path()) / "hostile";
  fs::path target = base / "target";
  fs::path outside = base / "outside";
  fs::path victim = base / "victim";
  ASSERT_TRUE(fs::create_directories(target));
  ASSERT_TRUE(fs::create_directories(outside));
  ASSERT_NO_FATAL_FAILURE(write_file(victim, "do not touch\n", 0644));

  auto file = [](std::string path, std::string data) {
    BackupRecord r;
    r.entry.type = SBX_ENTRY_FILE;
    r.entry.path = std::move(path);
    r.entry.mode = 0644;
    r.entry.size = data.size();
    r.data = std::move(data);
    return r;
  };
  auto link = [](uint32_t type, std::string path, std::string to) {
    BackupRecord r;
    r.entry.type = type;
    r.entry.path = std::move(path);
    r.entry.link_target = std::move(to);
    r.entry.mode = 0777;
    return r;
  };
  // Absolute paths point into this test's own directory, so a failing agent damages nothing else.
  std::vector<BackupRecord> hostile{
      file("../escape-dotdot", "x"),
      file("a/../../escape-middle", "x"),
      file((base / "escape-absolute").string(), "x"),
      link(SBX_ENTRY_SYMLINK, "link-out", "../outside"),
      file("link-out/through-relative-symlink", "x"),
      link(SBX_ENTRY_SYMLINK, "link-abs", outside.string()),
      file("link-abs/through-absolute-symlink", "x"),
      link(SBX_ENTRY_HARDLINK, "hard-out", "../victim"),
      link(SBX_ENTRY_HARDLINK, "hard-abs", victim.string().substr(1)),
  };
  // Statuses are the agent's choice (refuse, warn, or skip); only the file system's state is judged.
  restore(hostile, target);

  for (const char* name : {"escape-dotdot", "escape-middle", "escape-absolute"})
    EXPECT_FALSE(fs::exists(fs::symlink_status(base / name))) << name << " was written outside the target";
  EXPECT_FALSE(fs::exists(fs::symlink_status(outside / "through-relative-symlink")))
      << "a file was written through a restored symlink";
  EXPECT_FALSE(fs::exists(fs::symlink_status(outside / "through-absolute-symlink")))
      << "a file was written through a restored symlink";
  struct stat st {};
  ASSERT_EQ(::stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u) << "a hard link to a file outside the target was made";
  EXPECT_EQ(read_file(victim), "do not touch\n");
  EXPECT_TRUE(fs::is_empty(outside)) << "something was written into a directory outside the target";
}

#undef SBX_TESTKIT_NEED_RESTORE

}  // namespace sbx::testkit

using sbx::testkit::AgentConformance;
