-- Tests of lib.gfs (run with `strongbox policy test DIR`).

local DAY = 86400
local NOV20 = lib.calendar.timestamp(2026, 11, 20)

-- n sets, one a day at 01:00 UTC, the last on 2026-11-20; ids 1..n oldest first
local function daily(n)
  local sets = {}
  for i = 1, n do sets[i] = { id = i, started = NOV20 - (n - i) * DAY + 3600 } end
  return sets
end

local function kept_ids(decisions)
  local ids = {}
  for id, d in pairs(decisions) do
    if d.keep then ids[#ids + 1] = id end
  end
  table.sort(ids)
  return ids
end

function test_keep_last()
  local d = lib.gfs.select(daily(5), { keep_last = 2 })
  expect_eq(kept_ids(d), { 4, 5 })
  expect_eq(d[5].reasons, { "last 1" })
  expect_eq(d[3], { keep = false, reasons = { "matched no keep rule" } })
end

function test_daily_keeps_the_newest_set_of_each_day()
  local sets = daily(3)
  sets[4] = { id = 4, started = sets[3].started + 3600 } -- a second set on 2026-11-20
  local d = lib.gfs.select(sets, { keep_daily = 2 })
  expect_eq(kept_ids(d), { 2, 4 })
  expect_eq(d[4].reasons, { "daily 2026-11-20" })
  expect_eq(d[2].reasons, { "daily 2026-11-19" })
end

function test_days_without_sets_do_not_count()
  local sets = { { id = 1, started = NOV20 - 30 * DAY }, { id = 2, started = NOV20 - 10 * DAY }, { id = 3, started = NOV20 } }
  expect_eq(kept_ids(lib.gfs.select(sets, { keep_daily = 2 })), { 2, 3 })
end

function test_ties_in_time_go_to_the_higher_id()
  local sets = { { id = 8, started = NOV20 }, { id = 9, started = NOV20 } }
  expect_eq(kept_ids(lib.gfs.select(sets, { keep_last = 1 })), { 9 })
end

function test_weekly_monthly_yearly_reasons()
  local d = lib.gfs.select(daily(400), { keep_weekly = 2, keep_monthly = 2, keep_yearly = 2 })
  expect_eq(kept_ids(d), { 76, 380, 395, 400 })
  expect_eq(d[400].reasons, { "weekly 2026-W47", "monthly 2026-11", "yearly 2026" })
  expect_eq(d[395].reasons, { "weekly 2026-W46" })
  expect_eq(d[380].reasons, { "monthly 2026-10" })
  expect_eq(d[76].reasons, { "yearly 2025" })
end

function test_keep_within_is_measured_from_the_newest_set()
  local d = lib.gfs.select(daily(10), { keep_within = 36 * 3600 })
  expect_eq(kept_ids(d), { 9, 10 })
  expect_eq(d[9].reasons, { "within 36h" })
end

function test_unlimited_counts()
  expect_eq(#kept_ids(lib.gfs.select(daily(40), { keep_daily = -1 })), 40)
end

function test_bad_rules_are_errors()
  expect_error(function() lib.gfs.select(daily(2), { keep_dayly = 1 }) end, "unknown rule 'keep_dayly'")
  expect_error(function() lib.gfs.select(daily(2), {}) end, "no keep rule given")
  expect_error(function() lib.gfs.select(daily(2), { keep_daily = 0 }) end, "no keep rule given")
  expect_error(function() lib.gfs.select(daily(2), { keep_last = -5 }) end, "keep_last must be a whole number")
  expect_error(function() lib.gfs.select({ { id = 1 } }, { keep_last = 1 }) end, "set 1 has no integer started time")
end

function test_empty_series()
  expect_eq(lib.gfs.select({}, { keep_last = 1 }), {})
end
