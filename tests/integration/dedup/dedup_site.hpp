// A site with dedup devices, driven through the strongbox binary as an admin would; shared by the dedup
// end-to-end tests.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include "harness.hpp"

namespace sbx::test {

namespace fs = std::filesystem;

inline std::string random_text(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = char(rng());
  return out;
}

class DedupSite {
 public:
  DedupSite() : site_(init_site(dir_)) {
    key_ = (dir_ / "admin.key").string();
    write_file(key_, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
    ::chmod(key_.c_str(), 0600);
  }

  const TempDir& dir() const { return dir_; }
  const fs::path& site() const { return site_; }
  const std::string& key() const { return key_; }

  RunResult run(std::vector<std::string> args, const std::vector<std::string>& env = {}) const {
    args.insert(args.begin(), {"--site", site_.string()});
    return run_strongbox(args, env);
  }
  nlohmann::json run_json(std::vector<std::string> args, int expect_exit = 0) const {
    args.insert(args.begin(), "--json");
    auto r = run(args);
    EXPECT_EQ(r.exit_code, expect_exit) << r.err;
    auto lines = r.json_lines();
    EXPECT_FALSE(lines.empty()) << r.out << r.err;
    return lines.empty() ? nlohmann::json::object() : lines.back();
  }

  // A dedup device in dir/NAME, encrypted with the admin key; `domain_of` joins that device's domain.
  void add_dedup(const std::string& name, const std::string& domain_of = "",
                 const std::vector<std::string>& settings = {}) const {
    std::vector<std::string> args = {
        "devices", "add", name, "--type", "dedup", "--path", (dir_ / name).string(), "--key-file", key_};
    if (!domain_of.empty()) {
      args.push_back("--set");
      args.push_back("domain_from=" + (dir_ / domain_of).string());
    }
    for (const auto& s : settings) {
      args.push_back("--set");
      args.push_back(s);
    }
    auto r = run(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // A second site in dir/other-site with a device AS at the path of this site's device `device`: two sites
  // sharing a store, or this one after its catalog was rebuilt.
  fs::path other_site_sharing(const std::string& device, const std::string& as) const {
    fs::path other = dir_ / "other-site";
    EXPECT_EQ(run_strongbox({"init", other.string()}).exit_code, 0);
    auto add = run_strongbox({"--site", other.string(), "devices", "add", as, "--type", "dedup", "--path",
                              (dir_ / device).string(), "--key-file", key_});
    EXPECT_EQ(add.exit_code, 0) << add.err;
    return other;
  }

  // The device's index is a cache of its pack trailers; this loses it.
  void lose_index(const std::string& device) const {
    for (const char* file : {"index.db", "index.db-wal", "index.db-shm"}) fs::remove(dir_ / device / file);
  }

  int64_t backup(const fs::path& data, const std::string& device, const std::string& level = "full") const {
    auto j = run_json({"backup", data.string(), "--device", device, "--level", level});
    return j.value("set_id", int64_t(0));
  }

  // Restores a set and returns the restored copy of `data`.
  TreeState restored(int64_t set_id, const fs::path& data, const std::string& tag) const {
    fs::path out = dir_ / ("restore-" + tag);
    auto r = run({"restore", "--set", std::to_string(set_id), "--to", out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return snapshot(out / data.relative_path());
  }

  // Starts strongbox itself (no shell or test process around it), so a kill lands on the process doing the
  // work. Output goes to /dev/null; reap it with waitpid.
  pid_t spawn(std::vector<std::string> args) const {
    args.insert(args.begin(), {strongbox_binary().string(), "--site", site_.string(), "--quiet"});
    pid_t pid = fork();
    if (pid == 0) {
      int null = ::open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    return pid;
  }

  // A retention policy that expires all it may: the engine still keeps the newest chain of each series.
  void expire_everything_possible() const {
    write_file(
        site_ / "policies" / "default" / "retention.lua",
        "function expire(series, ctx)\n"
        "  local out = {}\n"
        "  for _, s in ipairs(series) do out[s.id] = {keep = false, reasons = {'test expires all'}} end\n"
        "  return out\n"
        "end\n");
  }

 private:
  TempDir dir_;
  fs::path site_;
  std::string key_;
};

}  // namespace sbx::test
