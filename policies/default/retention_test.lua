-- Tests of default/retention.lua (run with `strongbox policy test DIR`). The policy under test is loaded
-- first, so expire() and KEEP are globals here; fixtures live in fixtures/.

local DAY = 86400

local function kept_ids(decisions)
  local ids = {}
  for id, d in pairs(decisions) do
    if d.keep then ids[#ids + 1] = id end
  end
  table.sort(ids)
  return ids
end

local function ctx_at(now)
  return freeze({ now = now, now_iso = lib.calendar.iso8601(now), series = "test" })
end

function test_ten_weeks_of_chains_golden()
  local series = fixture("ten_weekly_chains")
  local decisions = expire(freeze(series), ctx_at(series[#series].started + 3600))
  expect_golden("ten_weekly_chains", decisions)
end

function test_two_oldest_chains_expire()
  local series = fixture("ten_weekly_chains")
  local decisions = expire(series, ctx_at(series[#series].started))
  local expected = {}
  for id = 15, #series do expected[#expected + 1] = id end
  -- The fulls of 2026-09-13 (set 1) and 2026-09-20 (set 8) are older than the 7 daily fulls and not the
  -- newest of September, which 2026-09-27 (set 15) is.
  expect_eq(kept_ids(decisions), expected)
  expect_eq(decisions[8].reasons, { "matched no keep rule" })
  expect_eq(decisions[4].reasons, { "builds on expiring full 1" }, "the differential")
  expect_eq(decisions[15].reasons, { "monthly 2026-09" })
end

function test_incrementals_follow_their_full()
  local series = fixture("ten_weekly_chains")
  local by_id = {}
  for _, set in ipairs(series) do by_id[set.id] = set end
  local decisions = expire(series, ctx_at(series[#series].started))
  for _, set in ipairs(series) do
    if set.level ~= "full" then
      local full = set
      while full.level ~= "full" do full = by_id[full.base] end
      expect_eq(decisions[set.id].keep, decisions[full.id].keep, "set " .. set.id)
    end
  end
end

function test_daily_fulls_for_400_days()
  local series = {}
  local last = lib.calendar.timestamp(2026, 11, 20, 1)
  for i = 1, 400 do
    series[i] = { id = i, level = "full", started = last - (400 - i) * DAY, completed = last - (400 - i) * DAY + 600 }
  end
  local decisions = expire(freeze(series), ctx_at(last))
  -- 7 days, 2 more ISO weeks, 11 more months back to 2025-12 (also the newest of 2025)
  expect_eq(#kept_ids(decisions), 20)
  expect_eq(decisions[400].reasons, { "last 1", "daily 2026-11-20", "weekly 2026-W47", "monthly 2026-11", "yearly 2026" })
  expect_eq(decisions[1].keep, false)
end

function test_incremental_without_its_full_is_kept()
  local series = {
    { id = 5, level = "incremental", base = 4, started = 1000 },
    { id = 6, level = "full", started = 2000 },
  }
  local decisions = expire(series, ctx_at(3000))
  expect_eq(decisions[5], { keep = true, reasons = { "its full backup is not in the series" } })
  expect_eq(decisions[6].keep, true)
end

function test_broken_base_loop_is_kept()
  local series = {
    { id = 1, level = "incremental", base = 2, started = 1000 },
    { id = 2, level = "incremental", base = 1, started = 2000 },
  }
  expect_eq(kept_ids(expire(series, ctx_at(3000))), { 1, 2 })
end

function test_empty_series()
  expect_eq(expire({}, ctx_at(0)), {})
end
