-- Test 1: automation of a continuous parameter reaches the plugin in an export; and two
-- Continuous-mode exports of the same input repeat.
--   ardour7-lua automation.lua SESSION_DIR NAME OUT_DIR PRESET_UUID REPORT
-- Exports, in order:
--   plain.wav   no plugin: must be the region's audio, sample for sample (checks the harness)
--   cont_a.wav  Auralis with its defaults (Analysis Continuous, Output Gain 0 dB)
--   cont_b.wav  the same again: README says offline bounces are deterministic
--   static.wav  Analysis = Hold (a fixed chain, so the next two differ only by the automation)
--   ramp.wav    Hold, Output Gain automated from 0 dB at the region's start to -12 dB at its
--               end (automation state Play)
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local A = dofile(here .. "common.lua")
local dir, name, out, preset, report = arg[1], arg[2], arg[3], arg[4], arg[5]

A.start_engine()
local s = load_session(dir, name)
assert(s, "load_session failed")
A.open_report(report)
local route, region = A.track_and_region(s)
local pos, len = region:position():samples(), region:length():samples()
A.report("region_position", pos)
A.report("region_length", len)

A.export(s, preset, out, "plain")

local proc, plug = A.add_auralis(s, route)
local P = A.params(plug)
local og, an = P["Output Gain"], P["Analysis"]
assert(og and an, "no parameter labelled Output Gain / Analysis")
local lo, hi = A.range(proc, og)
A.report("output_gain_lower", lo)
A.report("output_gain_upper", hi)
A.report("output_gain_default", A.get(proc, og))
A.report("analysis_default", A.get(proc, an))
A.report("latency", proc:signal_latency())
A.wait(1)
A.export(s, preset, out, "cont_a")
A.export(s, preset, out, "cont_b")

A.set(proc, an, 2)  -- Hold
A.wait(1)
A.report("analysis_hold", A.get(proc, an))
A.export(s, preset, out, "static")

-- plugin_automation gives the AutomationList, its ControlList and the descriptor. Points are in
-- the descriptor's (plain) units; add(when, value, with_guards=false, with_initial=true).
local al, cl, _ = ARDOUR.LuaAPI.plugin_automation(proc, og)
assert(not al:isnil(), "Output Gain is not automatable")
cl:add(Temporal.timepos_t(pos), 0.0, false, true)
cl:add(Temporal.timepos_t(pos + len), -12.0, false, true)
-- The state lives on the automation control (Off by default: the list would be ignored). The
-- Evoral.Parameter of a plugin parameter is (PluginAutomation, 0, parameter index).
local ac = proc:to_insert():to_automatable():automation_control(
  Evoral.Parameter(ARDOUR.AutomationType.PluginAutomation, 0, og), false)
assert(not ac:isnil(), "no automation control for Output Gain")
ac:set_automation_state(ARDOUR.AutoState.Play)
A.report("automation_points", cl:size())
A.report("automation_at_middle", cl:eval(Temporal.timepos_t(pos + len // 2)))
A.wait(1)
A.export(s, preset, out, "ramp")

A.close_report()
close_session()
