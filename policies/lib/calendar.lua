-- lib.calendar: UTC calendar arithmetic for policies (the sandbox has no os.date).
--
-- Times are whole seconds since 1970-01-01T00:00:00Z, as in set.started and ctx.now. The proleptic
-- Gregorian calendar is used for every year, and weeks are ISO 8601 weeks: they start on Monday, and
-- week 1 of a year is the week holding its first Thursday (so 2021-01-03 belongs to 2020-W53).
--
--   lib.calendar.date(t)         -> year, month, day              e.g. 2026, 11, 20
--   lib.calendar.iso_week(t)     -> iso_year, week                e.g. 2026, 47
--   lib.calendar.weekday(t)      -> 1 (Monday) .. 7 (Sunday)
--   lib.calendar.day_key(t)      -> "2026-11-20"
--   lib.calendar.week_key(t)     -> "2026-W47"
--   lib.calendar.month_key(t)    -> "2026-11"
--   lib.calendar.year_key(t)     -> "2026"
--   lib.calendar.iso8601(t)      -> "2026-11-20T13:45:00Z"
--   lib.calendar.timestamp(y, m, d [, hour, min, sec]) -> t

local M = {}

local SECONDS_PER_DAY = 86400

local function whole_seconds(t, what)
  local s = math.tointeger(t)
  if s == nil then
    error(string.format("calendar: %s must be whole seconds since 1970, got %s", what or "time", tostring(t)), 3)
  end
  return s
end

-- Days since 1970-01-01 to year, month, day (Howard Hinnant's civil_from_days; // floors in Lua).
local function civil_from_days(z)
  z = z + 719468
  local era = z // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local day = doy - (153 * mp + 2) // 5 + 1
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400
  if month <= 2 then year = year + 1 end
  return year, month, day
end

local function days_from_civil(year, month, day)
  if month <= 2 then year = year - 1 end
  local era = year // 400
  local yoe = year - era * 400
  local doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

function M.date(t)
  return civil_from_days(whole_seconds(t) // SECONDS_PER_DAY)
end

function M.weekday(t)
  -- 1970-01-01 was a Thursday.
  return (whole_seconds(t) // SECONDS_PER_DAY + 3) % 7 + 1
end

function M.iso_week(t)
  local days = whole_seconds(t) // SECONDS_PER_DAY
  local thursday = days - (days + 3) % 7 + 3 -- the Thursday of the same Monday-to-Sunday week
  local iso_year = civil_from_days(thursday)
  return iso_year, (thursday - days_from_civil(iso_year, 1, 1)) // 7 + 1
end

function M.day_key(t)
  return string.format("%04d-%02d-%02d", M.date(t))
end

function M.week_key(t)
  return string.format("%04d-W%02d", M.iso_week(t))
end

function M.month_key(t)
  local year, month = M.date(t)
  return string.format("%04d-%02d", year, month)
end

function M.year_key(t)
  return string.format("%04d", (M.date(t)))
end

function M.iso8601(t)
  local s = whole_seconds(t)
  local year, month, day = civil_from_days(s // SECONDS_PER_DAY)
  local in_day = s % SECONDS_PER_DAY
  return string.format("%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day, in_day // 3600, in_day % 3600 // 60,
    in_day % 60)
end

function M.timestamp(year, month, day, hour, min, sec)
  year = whole_seconds(year, "year")
  month = whole_seconds(month, "month")
  day = whole_seconds(day, "day")
  if month < 1 or month > 12 then error("calendar: month must be 1..12, got " .. month, 2) end
  if day < 1 or day > 31 then error("calendar: day must be 1..31, got " .. day, 2) end
  return days_from_civil(year, month, day) * SECONDS_PER_DAY + (hour or 0) * 3600 + (min or 0) * 60 + (sec or 0)
end

return M
