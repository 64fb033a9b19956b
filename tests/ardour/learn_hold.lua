-- Test 2: Learn -> Hold on a fresh plugin, and the learned state through an Ardour preset.
--   ardour7-lua learn_hold.lua SESSION_DIR NAME OUT_DIR PRESET_UUID REPORT
-- Exports, in order:
--   cold.wav         a fresh Auralis with Analysis = Learn: the plugin learns during this bounce
--   hold1.wav        Analysis = Hold (set with the engine running, then a second's wait)
--   hold2.wav        the same again
--   from_preset.wav  the plugin saved as a user preset ("learned"), removed, a fresh instance
--                    added and the preset loaded into it
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local A = dofile(here .. "common.lua")
local dir, name, out, preset, report = arg[1], arg[2], arg[3], arg[4], arg[5]

A.start_engine()
local s = load_session(dir, name)
assert(s, "load_session failed")
A.open_report(report)
local route, _ = A.track_and_region(s)

local proc, plug = A.add_auralis(s, route)
local P = A.params(plug)
local an = P["Analysis"]
assert(an, "no parameter labelled Analysis")
local lo, hi = A.range(proc, an)
A.report("analysis_lower", lo)
A.report("analysis_upper", hi)
A.report("analysis_default", A.get(proc, an))

A.set(proc, an, 1)  -- Learn
A.wait(1)
A.report("analysis_learn", A.get(proc, an))
A.export(s, preset, out, "cold")

A.set(proc, an, 2)  -- Hold
A.wait(1)
A.report("analysis_hold", A.get(proc, an))
A.export(s, preset, out, "hold1")
A.export(s, preset, out, "hold2")

-- Ardour writes user presets of VST3 plugins to
-- $HOME/.vst3/presets/<vendor>/<plugin>/<label>.vstpreset; the record's uri is
-- "VST3-S:<class id>:<label>".
local rec = plug:save_preset("learned")
A.report("saved_uri", rec.uri)
A.report("saved_valid", rec.valid)

-- A fresh instance in place of the first one, then the preset.
assert(route:remove_processor(proc, nil, true) == 0, "remove_processor failed")
proc, plug = nil, nil
collectgarbage()
A.wait(1)
local proc2, plug2 = A.add_auralis(s, route)
A.report("fresh_analysis", A.get(proc2, an))
local found = plug2:preset_by_label("learned")
assert(found, "preset 'learned' not listed for the fresh instance")
A.report("found_uri", found.uri)
A.report("load_preset", plug2:load_preset(found))
A.wait(1)
A.report("loaded_analysis", A.get(proc2, an))
A.export(s, preset, out, "from_preset")

A.close_report()
close_session()
