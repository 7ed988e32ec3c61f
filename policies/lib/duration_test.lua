-- Tests of lib.duration (run with `strongbox policy test DIR`).

function test_units()
  expect_eq(lib.duration.seconds("45s"), 45)
  expect_eq(lib.duration.seconds("90m"), 5400)
  expect_eq(lib.duration.seconds("4h"), 14400)
  expect_eq(lib.duration.seconds("1d"), 86400)
  expect_eq(lib.duration.seconds("2w"), 14 * 86400)
  expect_eq(lib.duration.seconds("1w2d3h4m5s"), 7 * 86400 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5)
  expect_eq(lib.duration.seconds("0s"), 0)
end

function test_numbers_are_seconds()
  expect_eq(lib.duration.seconds(600), 600)
  expect_eq(math.type(lib.duration.seconds(3600.0)), "integer")
  expect_error(function() lib.duration.seconds(1.5) end, "not a whole, non-negative number")
  expect_error(function() lib.duration.seconds(-1) end, "not a whole, non-negative number")
  expect_error(function() lib.duration.seconds(0 / 0) end, "not a whole")
end

function test_malformed_text_is_refused()
  expect_error(function() lib.duration.seconds("") end, "is empty")
  expect_error(function() lib.duration.seconds("4") end, "has no unit")
  expect_error(function() lib.duration.seconds("h") end, "expected a number")
  expect_error(function() lib.duration.seconds("-4h") end, "expected a number")
  expect_error(function() lib.duration.seconds("4x") end, "unknown unit \"x\"")
  expect_error(function() lib.duration.seconds("30m1h") end, "largest first")
  expect_error(function() lib.duration.seconds("1h1h") end, "largest first")
  expect_error(function() lib.duration.seconds("4h ") end, "expected a number")
  expect_error(function() lib.duration.seconds("99999999999999w") end, "too long")
  expect_error(function() lib.duration.seconds({}) end, "got table")
end

function test_errors_point_at_the_caller()
  expect_error(function() lib.duration.seconds("4y") end, "duration_test.lua:")
end

function test_format_is_the_inverse()
  expect_eq(lib.duration.format(0), "0s")
  expect_eq(lib.duration.format(5400), "1h30m")
  expect_eq(lib.duration.format(8 * 86400 + 1), "1w1d1s")
  for _, text in ipairs({ "45s", "1h30m", "2w", "1w2d3h4m5s" }) do
    expect_eq(lib.duration.format(lib.duration.seconds(text)), text)
  end
  expect_error(function() lib.duration.format(-5) end, "non-negative")
end
