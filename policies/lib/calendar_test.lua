-- Tests of lib.calendar (run with `strongbox policy test DIR`).

local cal = lib.calendar

function test_epoch_and_days_before_it()
  expect_eq({ cal.date(0) }, { 1970, 1, 1 })
  expect_eq({ cal.date(-1) }, { 1969, 12, 31 })
  expect_eq(cal.iso8601(-86400), "1969-12-31T00:00:00Z")
end

function test_leap_years()
  expect_eq(cal.day_key(cal.timestamp(2024, 2, 29)), "2024-02-29")
  expect_eq(cal.day_key(cal.timestamp(2024, 2, 29) + 86400), "2024-03-01")
  expect_eq(cal.day_key(cal.timestamp(2100, 2, 28) + 86400), "2100-03-01", "2100 is not a leap year")
  expect_eq(cal.day_key(cal.timestamp(2000, 2, 28) + 86400), "2000-02-29", "2000 is a leap year")
end

function test_keys_and_iso8601()
  local t = cal.timestamp(2026, 11, 20, 13, 45, 7)
  expect_eq(t, 1795182307)
  expect_eq(cal.iso8601(t), "2026-11-20T13:45:07Z")
  expect_eq(cal.day_key(t), "2026-11-20")
  expect_eq(cal.week_key(t), "2026-W47")
  expect_eq(cal.month_key(t), "2026-11")
  expect_eq(cal.year_key(t), "2026")
  expect_eq(cal.weekday(t), 5, "a Friday")
  expect_eq(cal.weekday(0), 4, "1970-01-01 was a Thursday")
end

function test_iso_weeks_at_year_ends()
  expect_eq({ cal.iso_week(cal.timestamp(2021, 1, 3)) }, { 2020, 53 })
  expect_eq({ cal.iso_week(cal.timestamp(2021, 1, 4)) }, { 2021, 1 })
  expect_eq({ cal.iso_week(cal.timestamp(2024, 12, 30)) }, { 2025, 1 })
  expect_eq({ cal.iso_week(cal.timestamp(2026, 1, 1)) }, { 2026, 1 })
  expect_eq({ cal.iso_week(cal.timestamp(2027, 1, 3)) }, { 2026, 53 })
end

function test_timestamp_inverts_date()
  for day = -3000, 3000, 7 do
    local t = day * 86400 * 13
    local y, m, d = cal.date(t)
    expect_eq(cal.timestamp(y, m, d), t - t % 86400, "day " .. day)
  end
end

function test_rejects_fractional_times()
  expect_error(function() cal.date(1.5) end, "whole seconds")
  expect_error(function() cal.timestamp(2026, 13, 1) end, "month must be 1..12")
end
