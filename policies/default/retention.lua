-- Default retention policy: which backup sets of a series to expire.
--
-- How it decides
--   * Only full backups are judged, on a grandfather-father-son schedule (lib.gfs, the keep rules of
--     `restic forget`): the 3 newest fulls, and the newest full of each of the last 7 days, 4 ISO weeks,
--     12 months and 3 years that have one. Periods are UTC calendar periods of a set's start time.
--   * An incremental or differential follows the full it is built on: kept while that full is kept,
--     expired with it. One whose full is not in the series is kept.
--   * Afterwards the engine applies rules no policy can override: it never expires a set on legal hold,
--     the newest full and every set after it (the last recovery chain), or a set a kept set depends on.
--     If this script fails in any way, nothing is expired and an alert is raised.
--
-- To change retention, edit KEEP below, then run `strongbox policy check` and `strongbox policy test`
-- (retention_test.lua holds the tests).
--
-- The contract
--   expire(series, ctx) receives
--     series  the sets of one backup series, oldest first, each
--             { id, level = "full"|"incremental"|"differential", base = id of the set it builds on (nil
--               for a full), started, completed (seconds since 1970, UTC), started_iso, completed_iso,
--               files, bytes, legal_hold }
--     ctx     { now (seconds since 1970, fixed for the whole evaluation), now_iso, series (its name),
--               tenant (nil for the site's own policies) }
--   Both are read-only. It returns a table keyed by set id:
--     { [id] = { keep = true|false, reasons = { "why", ... } }, ... }
--   A set left out is kept ("policy gave no decision"); any other shape fails the evaluation.
--   Available: the Lua base functions, string, table, math (without random), utf8, and lib.<name> for
--   every policies/lib/<name>.lua; print() writes to the strongbox log.

KEEP = {
  keep_last = 3,
  keep_daily = 7,
  keep_weekly = 4,
  keep_monthly = 12,
  keep_yearly = 3,
}

-- For every set id, the full it is built on (following base links), or false when the chain leaves the
-- series or loops. Each set is resolved once, so long incremental chains stay cheap.
local function full_of_each(series)
  local by_id, full_of = {}, {}
  for _, set in ipairs(series) do by_id[set.id] = set end
  for _, set in ipairs(series) do
    local path, on_path, current, full = {}, {}, set, false
    while current ~= nil do
      if full_of[current.id] ~= nil then full = full_of[current.id] break end
      if current.level == "full" then full = current break end
      if on_path[current.id] then break end -- a loop of base links leads to no full
      on_path[current.id] = true
      path[#path + 1] = current.id
      current = current.base and by_id[current.base]
    end
    for _, id in ipairs(path) do full_of[id] = full end
    if set.level == "full" then full_of[set.id] = set end
  end
  return full_of
end

function expire(series, ctx)
  local fulls = {}
  for _, set in ipairs(series) do
    if set.level == "full" then fulls[#fulls + 1] = set end
  end

  local decisions = {}
  if #fulls > 0 then decisions = lib.gfs.select(fulls, KEEP) end

  local full_of = full_of_each(series)
  for _, set in ipairs(series) do
    if set.level ~= "full" then
      local full = full_of[set.id]
      if not full then
        decisions[set.id] = { keep = true, reasons = { "its full backup is not in the series" } }
      elseif decisions[full.id].keep then
        decisions[set.id] = { keep = true, reasons = { "builds on kept full " .. full.id } }
      else
        decisions[set.id] = { keep = false, reasons = { "builds on expiring full " .. full.id } }
      end
    end
  end
  return decisions
end
