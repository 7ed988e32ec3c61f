-- lib.gfs: grandfather-father-son retention with the keep rules of `restic forget`.
--
--   local decisions = lib.gfs.select(sets, rules)
--
-- sets is a list of tables with an integer `id` and an integer `started` time (seconds since 1970, UTC),
-- such as the series a retention policy receives. rules is a table of any of:
--
--   keep_last    = n   the n newest sets
--   keep_within  = s   every set started at most s seconds before the newest set
--   keep_daily   = n   the newest set of each of the n newest days that have a set
--   keep_weekly  = n   the same per ISO week (Monday to Sunday; 2021-01-03 is in 2020-W53)
--   keep_monthly = n   the same per calendar month
--   keep_yearly  = n   the same per calendar year
--
-- A count of -1 means "no limit". Days, weeks, months and years are UTC calendar periods of each set's
-- `started` time. A period without a set uses up nothing: keep_daily = 7 keeps the last 7 days that have
-- a backup, however far back they reach (as restic does). Ties in time are broken by the higher id.
--
-- The result is keyed by set id: { [id] = { keep = true|false, reasons = { ... } } }, the shape expire()
-- returns. Reasons name every rule that kept a set: "last 1", "within 7d", "daily 2026-11-20",
-- "weekly 2026-W47", "monthly 2026-11", "yearly 2026"; a set no rule keeps gets "matched no keep rule".

local M = {}

local PERIOD_RULES = {
  { rule = "keep_daily", label = "daily", key = function(t) return lib.calendar.day_key(t) end },
  { rule = "keep_weekly", label = "weekly", key = function(t) return lib.calendar.week_key(t) end },
  { rule = "keep_monthly", label = "monthly", key = function(t) return lib.calendar.month_key(t) end },
  { rule = "keep_yearly", label = "yearly", key = function(t) return lib.calendar.year_key(t) end },
}

local KNOWN_RULES = { keep_last = true, keep_within = true }
for _, period in ipairs(PERIOD_RULES) do KNOWN_RULES[period.rule] = true end

-- "7d", "36h", "90m" or "45s": the largest unit that divides the duration.
local function duration_text(seconds)
  for _, unit in ipairs({ { 86400, "d" }, { 3600, "h" }, { 60, "m" } }) do
    if seconds >= unit[1] and seconds % unit[1] == 0 then return (seconds // unit[1]) .. unit[2] end
  end
  return seconds .. "s"
end

local function check_rules(rules)
  if type(rules) ~= "table" then error("gfs: rules must be a table such as { keep_daily = 7 }", 3) end
  local any = false
  for name, value in pairs(rules) do
    if not KNOWN_RULES[name] then
      error("gfs: unknown rule '" .. tostring(name) .. "' (known: keep_last, keep_within, keep_daily, "
        .. "keep_weekly, keep_monthly, keep_yearly)", 3)
    end
    local count = math.tointeger(value)
    if name == "keep_within" then
      if count == nil or count < 0 then
        error("gfs: keep_within must be a whole number of seconds >= 0, got " .. tostring(value), 3)
      end
    elseif count == nil or count < -1 then
      error("gfs: " .. name .. " must be a whole number >= 0, or -1 for no limit, got " .. tostring(value), 3)
    end
    any = any or count ~= 0
  end
  -- An empty rule set would expire everything; that is never what an admin meant.
  if not any then error("gfs: no keep rule given; refusing to expire every set", 3) end
end

local function check_sets(sets)
  if type(sets) ~= "table" then error("gfs: sets must be a list of sets", 3) end
  for i, set in ipairs(sets) do
    if math.tointeger(set.id) == nil then error("gfs: set #" .. i .. " has no integer id", 3) end
    if math.tointeger(set.started) == nil then
      error("gfs: set " .. set.id .. " has no integer started time", 3)
    end
  end
end

function M.select(sets, rules)
  check_rules(rules)
  check_sets(sets)

  local newest_first = {}
  for i, set in ipairs(sets) do newest_first[i] = set end
  table.sort(newest_first, function(a, b)
    if a.started ~= b.started then return a.started > b.started end
    return a.id > b.id
  end)

  local decisions = {}
  for _, set in ipairs(newest_first) do decisions[set.id] = { keep = false, reasons = {} } end
  local function keep(set, reason)
    local decision = decisions[set.id]
    decision.keep = true
    decision.reasons[#decision.reasons + 1] = reason
  end

  local last = rules.keep_last
  if last ~= nil and last ~= 0 then
    for i, set in ipairs(newest_first) do
      if last ~= -1 and i > last then break end
      keep(set, "last " .. i)
    end
  end

  local within = rules.keep_within
  if within ~= nil and #newest_first > 0 then
    local newest = newest_first[1].started
    for _, set in ipairs(newest_first) do
      if newest - set.started > within then break end
      keep(set, "within " .. duration_text(within))
    end
  end

  for _, period in ipairs(PERIOD_RULES) do
    local remaining = rules[period.rule]
    if remaining ~= nil and remaining ~= 0 then
      local previous_key
      for _, set in ipairs(newest_first) do
        local key = period.key(set.started)
        if key ~= previous_key then
          -- The newest set of a period comes first; it is the one that stands for the period.
          keep(set, period.label .. " " .. key)
          previous_key = key
          if remaining ~= -1 then
            remaining = remaining - 1
            if remaining == 0 then break end
          end
        end
      end
    end
  end

  for _, decision in pairs(decisions) do
    if not decision.keep then decision.reasons[1] = "matched no keep rule" end
  end
  return decisions
end

return M
