-- Helpers shared by the Ardour test scripts (loaded with dofile from each of them).
--
-- The scripts run under `ardour7-lua` (Ardour's headless Lua session host). Python
-- (test_ardour.py) passes positional arguments in `arg`, and reads back a small key=value report
-- that each script writes and closes *before* close_session(): ardour7-lua may abort while
-- exiting after close_session(), so its exit code says nothing; the report's last line "done=1"
-- and the exported files do.

local M = {}

-- The Dummy backend: no JACK, no sound card, no X11. Its "driver" is a speed: "10x Speed"
-- runs the engine (and so recording, and the realtime process calls between exports) ten times
-- faster than the wall clock. Exports are freewheeling offline renders either way.
function M.start_engine()
  ARDOUR.config():set_hide_dummy_backend(false)
  local backend = AudioEngine:set_backend("None (Dummy)", "", "")
  assert(not backend:isnil(), "no Dummy backend")
  backend:set_driver(os.getenv("AURALIS_ARDOUR_DRIVER") or "10x Speed")
end

-- Wall-clock wait with the engine running; Ardour hands parameter values set from Lua to the
-- plugin in its next process call, so give it a moment before exporting or saving state.
function M.wait(seconds)
  ARDOUR.LuaAPI.usleep(math.floor(seconds * 1000000))
end

local report_file = nil

function M.open_report(path)
  report_file = assert(io.open(path, "w"))
end

function M.report(key, value)
  report_file:write(key .. "=" .. tostring(value) .. "\n")
  report_file:flush()
end

function M.close_report()
  M.report("done", 1)
  report_file:close()
end

-- The one track of the test session and its one region; region fades off (Ardour gives every
-- region 64-sample fades by default, which would touch the first and last samples).
function M.track_and_region(s)
  local route = s:route_by_name("Mix")
  assert(not route:isnil(), "no track named Mix")
  local track = route:to_track()
  local region = nil
  for r in track:playlist():region_list():iter() do region = r end
  assert(region, "no region on the track")
  local ar = region:to_audioregion()
  ar:set_fade_in_active(false)
  ar:set_fade_out_active(false)
  return route, region
end

-- A fresh Auralis VST3 as the first processor of `route`. Ardour finds it through the scanner's
-- cache in $HOME/.cache/ardour7/vst (the test runs ardour-vst3-scanner first).
function M.add_auralis(s, route)
  local proc = ARDOUR.LuaAPI.new_plugin(s, "Auralis", ARDOUR.PluginType.VST3, "")
  assert(not proc:isnil(), "Auralis VST3 not found (scanner cache?)")
  assert(route:add_processor_by_index(proc, 0, nil, true) == 0, "add_processor_by_index failed")
  return proc, proc:to_insert():plugin(0)
end

-- Parameter indices by label ("Output Gain", "Analysis", ...).
function M.params(plug)
  local idx = {}
  for i = 0, plug:parameter_count() - 1 do
    if plug:parameter_is_input(i) then idx[plug:parameter_label(i)] = i end
  end
  return idx
end

-- The descriptor's range of a parameter: values set from Lua are in this range (plain units for
-- gains; our menus appear as 0..N-1; percentages as 0..1).
function M.range(proc, i)
  local _, _, pd = ARDOUR.LuaAPI.plugin_automation(proc, i)
  return pd.lower, pd.upper
end

function M.set(proc, i, value)
  assert(ARDOUR.LuaAPI.set_processor_param(proc, i, value), "set_processor_param failed")
end

function M.get(proc, i)
  return (ARDOUR.LuaAPI.get_processor_param(proc, i))
end

-- Exports the session range (set by the recording to the region) through the ExportPreset
-- whose UUID the test wrote into $HOME/.config/ardour7/export/. The file name is
-- <folder>/<name>.wav: the preset enables only the "timespan" field of the file name, and
-- SimpleExport names the timespan after set_name (called before set_preset here). A new
-- SimpleExport for every export: a second run_export() on the same object writes an empty file
-- (a WAV header, no samples).
function M.export(s, preset_uuid, folder, name)
  local e = s:simple_export()
  e:set_name(name)
  assert(e:set_preset(preset_uuid), "export preset " .. preset_uuid .. " not found")
  e:set_folder(folder)
  assert(e:check_outputs(), "export has no outputs")
  assert(e:run_export(), "export " .. name .. " failed")
end

return M
