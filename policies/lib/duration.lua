-- lib.duration: the durations of backup definitions ("45s", "90m", "4h", "1d", "2w", "1h30m") in seconds,
-- for policies that compute delays, e.g. a stage's `after`.
--
-- A duration is whole numbers with units w (7 days), d (24 hours), h, m and s; each unit at most once,
-- largest first, so every duration has one spelling ("1h30m", not "30m1h" or "90m" twice). A number is
-- already seconds and is returned as it is when it is whole and not negative.
--
--   lib.duration.seconds("4h")      -> 14400
--   lib.duration.seconds("1h30m")   -> 5400
--   lib.duration.seconds(600)       -> 600
--   lib.duration.format(5400)       -> "1h30m"      (the inverse; 0 -> "0s")
--
-- Malformed input raises an error naming the text and what is wrong, so a policy that passes one on fails
-- (and the engine plans no copies) instead of guessing.

local M = {}

local UNITS = {
  { name = "w", seconds = 7 * 86400 },
  { name = "d", seconds = 86400 },
  { name = "h", seconds = 3600 },
  { name = "m", seconds = 60 },
  { name = "s", seconds = 1 },
}

local UNIT_INDEX = {}
for i, unit in ipairs(UNITS) do UNIT_INDEX[unit.name] = i end

-- Beyond this a duration is not a delay anyone means; it also keeps the sums exact integers.
local MAX_SECONDS = 100 * 366 * 86400

function M.seconds(value)
  if type(value) == "number" then
    local whole = math.tointeger(value)
    if whole == nil or whole < 0 then
      error(string.format("duration: %s is not a whole, non-negative number of seconds", tostring(value)), 2)
    end
    return whole
  end
  if type(value) ~= "string" then
    error(string.format("duration: expected a string such as \"4h\" or a number of seconds, got %s", type(value)), 2)
  end
  if value == "" then error("duration: \"\" is empty; write e.g. \"4h\" or \"1h30m\"", 2) end
  local total, next_unit, pos = 0, 1, 1
  while pos <= #value do
    local digits, unit, rest = value:match("^(%d+)(%a?)()", pos)
    if digits == nil then
      error(string.format("duration %q: expected a number at %q", value, value:sub(pos)), 2)
    end
    if unit == "" then
      error(string.format("duration %q: number %s has no unit (w, d, h, m or s)", value, digits), 2)
    end
    local index = UNIT_INDEX[unit]
    if index == nil then
      error(string.format("duration %q: unknown unit %q (use w, d, h, m or s)", value, unit), 2)
    end
    if index < next_unit then
      error(string.format("duration %q: units must each appear once, largest first (e.g. 1h30m)", value), 2)
    end
    next_unit = index + 1
    if #digits > 12 then error(string.format("duration %q is too long", value), 2) end
    total = total + math.tointeger(tonumber(digits)) * UNITS[index].seconds
    if total > MAX_SECONDS then error(string.format("duration %q is too long", value), 2) end
    pos = rest
  end
  return total
end

function M.format(seconds)
  local whole = math.tointeger(seconds)
  if whole == nil or whole < 0 then
    error(string.format("duration.format: expected whole, non-negative seconds, got %s", tostring(seconds)), 2)
  end
  if whole == 0 then return "0s" end
  local parts = {}
  for _, unit in ipairs(UNITS) do
    local count = whole // unit.seconds
    if count > 0 then
      parts[#parts + 1] = count .. unit.name
      whole = whole - count * unit.seconds
    end
  end
  return table.concat(parts)
end

return M
