// tenants/<t>/ files replace the same-named default files for that tenant only.
#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

const std::vector<SetInfo> kSeries = {full(1, kNov20_2026 - kDay), full(2, kNov20_2026)};

TEST(PolicyTenant, OverrideAppliesToItsTenantOnly) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, R"(
function expire(series, ctx)
  return { [1] = { keep = false, reasons = { "default for " .. tostring(ctx.tenant) } } }
end
)");
  write_file(dir / "tenants" / "acme" / "retention.lua", R"(
function expire(series, ctx)
  return { [1] = { keep = true, reasons = { ctx.tenant .. " keeps everything" } } }
end
)");
  auto engine = make_engine(dir);
  ASSERT_FALSE(engine.last_error().has_value()) << *engine.last_error();

  const ExpireResult acme = engine.evaluate_expire("s", kSeries, kNov20_2026, "acme");
  EXPECT_EQ(acme.policy_file, "tenants/acme/retention.lua");
  EXPECT_EQ(decision_for(acme, 1).reasons, std::vector<std::string>{"acme keeps everything"});

  const ExpireResult globex = engine.evaluate_expire("s", kSeries, kNov20_2026, "globex");
  EXPECT_EQ(globex.policy_file, "default/retention.lua");
  EXPECT_EQ(decision_for(globex, 1).reasons, std::vector<std::string>{"default for globex"});

  const ExpireResult site = engine.evaluate_expire("s", kSeries, kNov20_2026);
  EXPECT_EQ(decision_for(site, 1).reasons, std::vector<std::string>{"default for nil"});
}

TEST(PolicyTenant, RepoListsTenants) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, "function expire() return {} end\n");
  write_file(dir / "tenants" / "acme" / "retention.lua", "function expire() return {} end\n");
  write_file(dir / "tenants" / "initech" / "notes.lua", "-- a tenant may override only some files\n");
  const auto repo = PolicyRepo::load(dir);
  EXPECT_EQ(repo->tenants(), (std::vector<std::string>{"acme", "initech"}));
  EXPECT_EQ(repo->policy("retention.lua", "initech")->relative_path, "default/retention.lua");
  EXPECT_EQ(repo->policy("retention.lua", "acme")->relative_path, "tenants/acme/retention.lua");
  EXPECT_EQ(repo->policy("staging.lua"), nullptr);
  EXPECT_EQ(repo->modules().count("gfs"), 1u);
  EXPECT_EQ(repo->modules().count("calendar"), 1u);
}

TEST(PolicyTenant, BrokenTenantOverrideFailsTheWholeLoad) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, "function expire() return {} end\n");
  write_file(dir / "tenants" / "acme" / "retention.lua", "function expire(\n");
  try {
    PolicyRepo::load(dir);
    ADD_FAILURE() << "load succeeded";
  } catch (const PolicyLoadError& e) {
    ASSERT_EQ(e.errors().size(), 1u);
    EXPECT_TRUE(e.errors()[0].starts_with("tenants/acme/retention.lua:2:")) << e.errors()[0];
  }
}

}  // namespace
}  // namespace sbx::policy::testing
