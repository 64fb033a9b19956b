-- Test 3: a .vstpreset written by `auralis learn` (the plugin's state with held targets,
-- Analysis = Hold), loaded in Ardour on a fresh plugin, then exported.
--   ardour7-lua load_preset.lua SESSION_DIR NAME OUT_DIR PRESET_UUID LABEL REPORT
-- The test puts LABEL.vstpreset under $HOME/.vst3/presets/Auralis/Auralis/ before this runs:
-- Ardour lists a VST3 plugin's presets from there when the instance is created.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local A = dofile(here .. "common.lua")
local dir, name, out, preset, label, report = arg[1], arg[2], arg[3], arg[4], arg[5], arg[6]

A.start_engine()
local s = load_session(dir, name)
assert(s, "load_session failed")
A.open_report(report)
local route, _ = A.track_and_region(s)
local proc, plug = A.add_auralis(s, route)
local P = A.params(plug)
A.report("fresh_analysis", A.get(proc, P["Analysis"]))
local rec = plug:preset_by_label(label)
assert(rec, "preset " .. label .. " not listed")
A.report("uri", rec.uri)
A.report("load_preset", plug:load_preset(rec))
A.wait(1)
A.report("loaded_analysis", A.get(proc, P["Analysis"]))
A.export(s, preset, out, "preset")
A.close_report()
close_session()
