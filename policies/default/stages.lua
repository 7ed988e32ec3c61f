-- Default staging policy: which copies to make of a completed backup set, where and when.
--
-- What it does
--   It returns the stages of the set's backup definition unchanged, so each definition's "stages" list is
--   the copy graph. A manual backup (no definition) or a definition without stages gets no copies. This is
--   also what the engine does when a policy folder has no stages.lua at all; edit this file when copies
--   should depend on something a definition cannot say (the set's size, its level, which devices are
--   online, ...). stages_test.lua holds the tests: run `strongbox policy check` and `strongbox policy test`
--   after a change.
--
-- The contract
--   stages(set, ctx) receives
--     set  the completed backup set: { id, level = "full"|"incremental"|"differential", series, sources,
--          definition (its name, "" for a manual backup), device, started_ns, completed_ns, bytes,
--          file_count, tenant (nil for the site's own) }
--     ctx  { now (seconds since 1970, UTC, fixed for the whole evaluation), now_ns, now_iso,
--            tenant (nil for the site's own policies),
--            definition (the definition's spec, nil for a manual backup; its stages are ctx.definition.stages),
--            devices = { [name] = { type =, online = } }, pools = { [name] = { type =, members = {...} } } }
--   Both are read-only. It returns a list of stages, each
--     { name = "disk2",                unique in the list
--       to = "disk2" | "pool:tapes",   a device or pool of the site
--       after = 14400 | "4h",          delay after the set completed: seconds, or a duration (lib.duration);
--                                      optional, 0 .. 366 days
--       window = "22:00-06:00",        optional daily window the copy must start in ("00:00-24:00": any time)
--       from = "disk2",                optional: copy that earlier stage's copy instead of the original set
--       retention = { days = 30 } | { until_copied = true } }
--                                      how long this copy is kept; until_copied keeps it until every stage
--                                      copying from it is done (expire-after-copy)
--   {} means no copies. The engine checks every stage; one invalid stage, or any failure of this script,
--   plans no copies at all and raises an alert. Available: the Lua base functions, string, table, math
--   (without random), utf8, and lib.<name> for every policies/lib/<name>.lua; print() writes to the log.

function stages(set, ctx)
  if ctx.definition == nil or ctx.definition.stages == nil then return {} end
  return ctx.definition.stages
end
