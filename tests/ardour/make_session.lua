-- Makes the test session: a stereo track "Mix" with one region of SECONDS seconds at 48 kHz.
--   ardour7-lua make_session.lua SESSION_DIR NAME SECONDS REPORT
-- Ardour 7's Lua API has no headless "import file" (Editor:do_import is GUI-only), so the
-- region is recorded: the Dummy backend's inputs (silence here) feed the rec-armed track for
-- SECONDS seconds of engine time. The test then overwrites the take's two mono files under
-- <session>/interchange/<name>/audiofiles/ (reported below) with its own audio of the same
-- length, and later scripts load the session and see that audio in the region.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local A = dofile(here .. "common.lua")
local dir, name, seconds, report = arg[1], arg[2], tonumber(arg[3]), arg[4]

A.start_engine()
local s = create_session(dir, name, 48000)
assert(s, "create_session failed")
A.open_report(report)
A.report("rate", s:nominal_sample_rate())

local track = s:new_audio_track(2, 2, nil, 1, "Mix", ARDOUR.PresentationInfo.max_order,
  ARDOUR.TrackMode.Normal, true):front()
-- The track's inputs are connected to the backend's capture ports automatically.
track:rec_enable_control():set_value(1, PBD.GroupControlDisposition.NoGroup)
s:maybe_enable_record(false)
s:request_roll(ARDOUR.TransportRequestSource.TRS_UI)
while s:transport_sample() < seconds * 48000 do A.wait(0.05) end
s:request_stop(false, false, ARDOUR.TransportRequestSource.TRS_UI)
while s:transport_rolling() do A.wait(0.05) end
A.wait(0.5)  -- the butler closes the capture files
track:rec_enable_control():set_value(0, PBD.GroupControlDisposition.NoGroup)

-- Recording set the session range to the take; the region is the whole take, at 0.
local n = 0
for r in track:playlist():region_list():iter() do
  n = n + 1
  A.report("region_position", r:position():samples())
  A.report("region_start", r:start():samples())
  A.report("region_length", r:length():samples())
  A.report("region_channels", r:to_audioregion():n_channels())
end
A.report("regions", n)
A.report("session_start", s:current_start_sample())
A.report("session_end", s:current_end_sample())
s:save_state("", false, false, false, false, false)
A.close_report()
close_session()
