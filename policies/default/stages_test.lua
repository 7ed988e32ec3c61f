-- Tests of default/stages.lua (run with `strongbox policy test DIR`). The policy under test is loaded first,
-- so stages() is a global here; fixtures live in fixtures/. The engine's own checks of a plan (unique names,
-- known devices, windows, ...) are tested in the strongbox sources (tests/unit/policy_stages).

local function inputs(name)
  local data = fixture(name)
  return freeze(data.set), freeze(data.ctx)
end

function test_definition_stages_are_the_plan_golden()
  local set, ctx = inputs("d2d2t_nightly")
  expect_golden("d2d2t_nightly", stages(set, ctx))
end

function test_definition_stages_pass_through_unchanged()
  local set, ctx = inputs("d2d2t_nightly")
  local plan = stages(set, ctx)
  expect_eq(plan, ctx.definition.stages)
  expect_eq(#plan, 2)
  expect_eq(plan[2].from, "disk2", "the tape copy is made from the second disk")
end

function test_manual_backup_gets_no_copies()
  local data = fixture("d2d2t_nightly")
  data.set.definition = ""
  data.ctx.definition = nil
  expect_eq(stages(freeze(data.set), freeze(data.ctx)), {})
end

function test_definition_without_stages_gets_no_copies()
  local data = fixture("d2d2t_nightly")
  data.ctx.definition.stages = nil
  expect_eq(stages(freeze(data.set), freeze(data.ctx)), {})
end

function test_inputs_are_read_only()
  local set, ctx = inputs("d2d2t_nightly")
  expect_error(function() ctx.definition = {} end, "read-only")
  expect_error(function() ctx.definition.stages[1].after = 0 end, "read-only")
  expect_error(function() set.device = "disk2" end, "read-only")
end
