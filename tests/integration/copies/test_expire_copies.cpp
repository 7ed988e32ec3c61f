// Copy retention through Site::expire_copies (the server calls it): an until_copied copy goes once every
// copy from it is done, a copy's own retention ends it, and neither ever takes the last readable
// instance of a set that a live set depends on, nor a set on legal hold.
#include <chrono>
#include <strongbox/service.hpp>
#include <thread>

#include "harness.hpp"

namespace fs = std::filesystem;
using namespace sbx::test;

namespace {

int64_t backup(const std::string& site, const fs::path& data, const std::string& level) {
  auto r = run_strongbox({"--site", site, "backup", data.string(), "--level", level, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto lines = r.json_lines();
  return lines.empty() ? 0 : lines[0].value("set_id", int64_t{0});
}

sbx::catalog::PlannedCopy stage(int64_t set_id, const std::string& name, const nlohmann::json& retention) {
  sbx::catalog::PlannedCopy copy;
  copy.set_id = set_id;
  copy.stage = name;
  copy.target = "disk2";
  copy.retention = retention;
  copy.revision = "test-revision";
  return copy;
}

sbx::catalog::JobQuery expire_jobs() {
  sbx::catalog::JobQuery query;
  query.kind = "expire";
  return query;
}

class CopiesExpire : public ::testing::Test {
 protected:
  TempDir dir;
  fs::path site_path = init_site(dir);
  std::string site = site_path.string();
  fs::path data = dir / "data";

  void SetUp() override {
    auto r = run_strongbox(
        {"--site", site, "devices", "add", "disk2", "--type", "disk", "--path", (dir / "disk2").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    write_file(data / "a.txt", "alpha");
    write_file(data / "dir" / "b.txt", "bravo");
  }
};

TEST_F(CopiesExpire, AnUntilCopiedCopyGoesOnceEveryCopyFromItIsDone) {
  int64_t full = backup(site, data, "full");
  write_file(data / "c.txt", "charlie");
  int64_t inc = backup(site, data, "incremental");
  const TreeState at_inc = snapshot(data);

  auto s = sbx::service::Site::open(site_path);
  auto& catalog = s->catalog();
  // disk1 -> disk2 ("fast", kept until copied on) -> back to disk1 ("vault", 30 days).
  int64_t fast = catalog.plan_copy(stage(full, "fast", {{"until_copied", true}}));
  auto vault_plan = stage(full, "vault", {{"days", 30}});
  vault_plan.after_stage = "fast";
  vault_plan.target = "disk1";
  int64_t vault = catalog.plan_copy(vault_plan);
  // Nothing is done yet: nothing expires and no job is recorded.
  auto none = s->expire_copies(sbx::service::now_ns());
  EXPECT_EQ(none.expired, 0u);
  EXPECT_TRUE(none.decisions.empty());
  EXPECT_TRUE(catalog.query_jobs(expire_jobs()).empty());

  sbx::service::DuplicateRequest request;
  request.set_id = full;
  request.device = "disk2";
  request.planned_copy_id = fast;
  auto fast_copy = s->duplicate(request, {});
  auto plans = catalog.planned_copies(full);
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_EQ(plans[0].state, "done");
  EXPECT_EQ(plans[0].copy_set_id, fast_copy.set_id);
  EXPECT_EQ(plans[0].job_id, fast_copy.job_id);
  EXPECT_EQ(s->expire_copies(sbx::service::now_ns()).expired, 0u) << "stage 'vault' has not copied it yet";

  request.set_id = fast_copy.set_id;
  request.device = "disk1";
  request.planned_copy_id = vault;
  s->duplicate(request, {});
  // The fast copy's job is done: it goes. The original follows the series policy (no expire_after_copy).
  auto result = s->expire_copies(sbx::service::now_ns());
  EXPECT_EQ(result.expired, 1u);
  ASSERT_EQ(result.decisions.size(), 1u);
  EXPECT_EQ(result.decisions[0].set_id, fast_copy.set_id);
  EXPECT_FALSE(result.decisions[0].keep);
  EXPECT_EQ(catalog.find_set(fast_copy.set_id)->state, "expired");
  EXPECT_EQ(catalog.find_set(full)->state, "complete");
  auto jobs = catalog.query_jobs(expire_jobs());
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, "succeeded");
  bool logged = false;
  for (const auto& line : catalog.job_log(jobs[0].id))
    logged = logged || line.message.find("set " + std::to_string(fast_copy.set_id) +
                                         ": expire: every copy from it is done") == 0;
  EXPECT_TRUE(logged);
  auto decisions = catalog.list_decisions(fast_copy.set_id);
  ASSERT_FALSE(decisions.empty());
  EXPECT_EQ(decisions.back().revision, "test-revision");

  // The original expires by hand: the incremental restores through the vault copy.
  catalog.expire_set(full);
  auto r =
      run_strongbox({"--site", site, "restore", "--set", std::to_string(inc), "--to", (dir / "r").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(diff_trees(at_inc, snapshot(dir / "r" / fs::relative(data, "/"))), "");
  EXPECT_EQ(s->expire_copies(sbx::service::now_ns()).expired, 0u);
}

TEST_F(CopiesExpire, CopyRetentionNeverTakesTheLastInstanceOfABase) {
  int64_t full = backup(site, data, "full");
  write_file(data / "c.txt", "charlie");
  int64_t inc = backup(site, data, "incremental");
  auto s = sbx::service::Site::open(site_path);
  auto& catalog = s->catalog();

  sbx::service::DuplicateRequest request;
  request.set_id = full;
  request.device = "disk2";
  request.retain_until_ns = sbx::service::now_ns() + 3'600'000'000'000;
  int64_t copy = s->duplicate(request, {}).set_id;
  EXPECT_EQ(catalog.find_set(copy)->retain_until_ns, request.retain_until_ns);
  // Not yet due.
  EXPECT_EQ(s->expire_copies(sbx::service::now_ns()).expired, 0u);

  catalog.expire_set(full);  // retention took the original; the copy is now the incremental's base
  const int64_t later = request.retain_until_ns + 1;
  auto kept = s->expire_copies(later);
  EXPECT_EQ(kept.expired, 0u);
  ASSERT_EQ(kept.decisions.size(), 1u);
  EXPECT_TRUE(kept.decisions[0].keep);
  EXPECT_NE(kept.decisions[0].reasons.back().find("is the last complete copy of set " + std::to_string(full)),
            std::string::npos)
      << kept.decisions[0].reasons.back();
  EXPECT_EQ(catalog.find_set(copy)->state, "complete");

  // Once the incremental is gone the copy's retention applies.
  catalog.expire_set(inc);
  catalog.set_legal_hold(copy, true);
  auto held = s->expire_copies(later);
  EXPECT_EQ(held.expired, 0u);
  EXPECT_NE(held.decisions.at(0).reasons.back().find("on legal hold"), std::string::npos);
  catalog.set_legal_hold(copy, false);
  auto gone = s->expire_copies(later);
  EXPECT_EQ(gone.expired, 1u);
  EXPECT_EQ(catalog.find_set(copy)->state, "expired");
  size_t stored = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "disk2" / "sets"))
    stored += entry.is_regular_file() ? 1 : 0;
  EXPECT_EQ(stored, 0u) << "the copy's data went with it";
}

TEST_F(CopiesExpire, AnOriginalWithoutExpireAfterCopyStays) {
  int64_t full = backup(site, data, "full");
  auto s = sbx::service::Site::open(site_path);
  auto& catalog = s->catalog();
  int64_t plan = catalog.plan_copy(stage(full, "offsite", {{"days", 7}}));
  sbx::service::DuplicateRequest request;
  request.set_id = full;
  request.device = "disk2";
  request.planned_copy_id = plan;
  s->duplicate(request, {});
  // A manual backup has no definition saying expire_after_copy: the series policy keeps deciding for it.
  EXPECT_EQ(s->expire_copies(sbx::service::now_ns()).expired, 0u);
  EXPECT_EQ(catalog.find_set(full)->state, "complete");
}

}  // namespace
