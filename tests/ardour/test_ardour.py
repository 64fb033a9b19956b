"""Auralis.vst3 in Ardour 7, headless: automation, Learn -> Hold and presets through a real DAW.

Each test copies a recorded session (a stereo track "Mix" whose one region holds the programme
from programme.py), runs one Lua script under `ardour7-lua` with a private HOME (the bundle in
$HOME/.vst3, scanned by ardour-vst3-scanner, our ExportPreset in $HOME/.config/ardour7/export),
and checks the exported files with numpy and pyloudnorm (an independent BS.1770 meter).

Environment: AURALIS_VST3 (default target/bundled/Auralis.vst3), AURALIS_BIN (default
target/release/auralis), AURALIS_ARDOUR_MIX=FILE puts a real track (its first 45 s, 6 dB down)
in the region instead of the programme, for figures, AURALIS_ARDOUR_KEEP=DIR (new or empty) keeps every test's files there,
AURALIS_REQUIRE_ARDOUR=1 turns a missing Ardour into a failure instead of a skip (.ci/run sets it).
"""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile
from scipy import signal

from programme import SR, programme

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VST3 = Path(os.environ.get("AURALIS_VST3", ROOT / "target" / "bundled" / "Auralis.vst3"))
AURALIS = Path(os.environ.get("AURALIS_BIN", ROOT / "target" / "release" / "auralis"))
ARDOUR_LUA = shutil.which("ardour7-lua")
SCANNER = Path("/usr/lib/ardour7/ardour-vst3-scanner")
SECONDS = 45  # recorded length; the take ends a few blocks later
NAME = "mix"  # session name = its folder's name (Ardour names interchange/<folder>/ after it)
LUA_TIMEOUT = 300

# Our export format: Ardour's stock "BWAV 32float Export" with its own ID, as plain WAV (no bext
# chunk): 32-bit float, session rate, no dither, no normalisation, no silence trimming, and a preset naming it whose
# file name is only the timespan, which SimpleExport:set_name sets.
FORMAT_ID = "6a0f3c1e-5b7d-4e2a-9c44-a11a0a11a001"
PRESET_ID = "6a0f3c1e-5b7d-4e2a-9c44-a11a0a11a002"
EXPORT_FORMAT = f"""<?xml version="1.0" encoding="UTF-8"?>
<ExportFormatSpecification name="Auralis test WAV float" id="{FORMAT_ID}" with-cue="false" with-toc="false" with-mp4chaps="false" command="" analyse="false" soundcloud-upload="false">
  <Encoding id="F_WAV" type="T_Sndfile" extension="wav" name="WAV" has-sample-format="true" channel-limit="256"/>
  <SampleRate rate="1"/>
  <SRCQuality quality="SRC_SincBest"/>
  <EncodingOptions>
    <Option name="sample-format" value="SF_Float"/>
    <Option name="dithering" value="D_None"/>
    <Option name="tag-metadata" value="false"/>
    <Option name="tag-support" value="false"/>
    <Option name="broadcast-info" value="false"/>
  </EncodingOptions>
  <Processing>
    <Normalize enabled="false" loudness="no" dbfs="0" lufs="-23" dbtp="-1"/>
    <Silence>
      <Start>
        <Trim enabled="false"/>
        <Add enabled="false">
          <Duration format="Timecode" hours="0" minutes="0" seconds="0" frames="0"/>
        </Add>
      </Start>
      <End>
        <Trim enabled="false"/>
        <Add enabled="false">
          <Duration format="Timecode" hours="0" minutes="0" seconds="0" frames="0"/>
        </Add>
      </End>
    </Silence>
  </Processing>
</ExportFormatSpecification>
"""
EXPORT_PRESET = f"""<?xml version="1.0" encoding="UTF-8"?>
<ExportPreset id="{PRESET_ID}" name="Auralis test">
  <ExportFormat id="{FORMAT_ID}"/>
  <ExportFilename>
    <Folder relative="1" path="export"/>
    <Field name="label" enabled="0"/>
    <Field name="session" enabled="0"/>
    <Field name="snapshot" enabled="0"/>
    <Field name="timespan" enabled="1"/>
    <Field name="revision" enabled="0"/>
    <Field name="time" enabled="0" value="T_None"/>
    <Field name="date" enabled="0" value="D_None"/>
  </ExportFilename>
</ExportPreset>
"""

# The 25 critical bands (Zwicker), edges in Hz; the last band runs to Nyquist.
BARK_EDGES = [0, 100, 200, 300, 400, 510, 630, 770, 920, 1080, 1270, 1480, 1720, 2000, 2320,
              2700, 3150, 3700, 4400, 5300, 6400, 7700, 9500, 12000, 15500, SR / 2]


# ---------------------------------------------------------------------------------------------
# Measurements


def read(path: Path) -> np.ndarray:
    x, sr = soundfile.read(str(path), dtype="float64", always_2d=True)
    assert sr == SR, f"{path.name}: {sr} Hz"
    assert x.shape[1] == 2, f"{path.name}: {x.shape[1]} channels"
    return x


def integrated(x: np.ndarray) -> float:
    return pyloudnorm.Meter(SR).integrated_loudness(x)


def short_term(x: np.ndarray, hop: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Short-term loudness (BS.1770, 3 s, ungated) of the windows [t, t + 3 s), t = 0, hop, ...

    pyloudnorm with a 3 s block measures exactly one block of a 3 s window: its K-weighted mean
    square, the -70 LUFS absolute gate aside (-inf for digital silence)."""
    meter = pyloudnorm.Meter(SR, block_size=3.0)
    w, h = 3 * SR, int(hop * SR)
    starts = np.arange(0, len(x) - w + 1, h)
    with np.errstate(divide="ignore"):
        values = np.array([meter.integrated_loudness(x[s:s + w]) for s in starts])
    return starts / SR, values


def bark_levels(x: np.ndarray) -> np.ndarray:
    """Long-term spectrum in the 25 Bark bands: dB of the summed power of both channels."""
    f, p = signal.welch(x, fs=SR, nperseg=8192, axis=0)
    p = p.sum(axis=1)
    bands = [p[(f >= lo) & (f < hi)].sum() for lo, hi in zip(BARK_EDGES[:-1], BARK_EDGES[1:])]
    return 10 * np.log10(np.maximum(bands, 1e-30))


def window_rms_db(x: np.ndarray, start: float, length: float) -> float:
    a, b = int(start * SR), int((start + length) * SR)
    return 10 * np.log10(np.mean(np.square(x[a:b])) + 1e-30)


# ---------------------------------------------------------------------------------------------
# Ardour


def require_ardour():
    missing = [str(p) for p in (ARDOUR_LUA, SCANNER) if p is None or not Path(p).exists()]
    if missing or ARDOUR_LUA is None:
        reason = "Ardour 7 is not installed (apt-get install ardour): ardour7-lua / scanner missing"
        if os.environ.get("AURALIS_REQUIRE_ARDOUR") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    if not (VST3 / "Contents" / "x86_64-linux" / "Auralis.so").exists():
        pytest.fail(f"{VST3} is missing: build it with `cargo xtask bundle auralis --release`")


def make_home(base: Path) -> Path:
    """A private HOME with the bundle in ~/.vst3 (scanned) and our export preset."""
    home = base / "home"
    export = home / ".config" / "ardour7" / "export"
    export.mkdir(parents=True)
    (export / "auralis-test.format").write_text(EXPORT_FORMAT)
    (export / "auralis-test.preset").write_text(EXPORT_PRESET)
    bundle = home / ".vst3" / "Auralis.vst3"
    shutil.copytree(VST3, bundle)
    # Ardour treats its scan cache as stale unless the module is older than the cache entry.
    past = time.time() - 10
    for p in [bundle, *bundle.rglob("*")]:
        os.utime(p, (past, past), follow_symlinks=False)
    env = ardour_env(home)
    env["LD_LIBRARY_PATH"] = "/usr/lib/ardour7"
    scan = subprocess.run([str(SCANNER), "-q", str(bundle)], env=env, capture_output=True,
                          text=True, timeout=120)
    cache = list((home / ".cache" / "ardour7" / "vst").glob("*.v3i"))
    assert scan.returncode == 0 and cache, f"VST3 scan failed: {scan.stdout}{scan.stderr}"
    return home


def ardour_env(home: Path) -> dict:
    env = dict(os.environ)
    env["HOME"] = str(home)
    env.pop("DISPLAY", None)
    # Ardour 7.3 picks AVX-512F mixing routines on CPUs that have them, and on this machine class
    # its exports then corrupt the heap: glibc aborts at random points ("munmap_chunk(): invalid
    # pointer", "double free or corruption") in about one run of three, first detected freeing a
    # PortExportChannel buffer, and close_session() aborts too. ARDOUR_FPU_FLAGS replaces what
    # PBD::FPU detects; 15 = flush-to-zero | denormals-are-zero | SSE | SSE2 (every x86-64 CPU).
    # Without it 2-5 runs of 8 of automation.lua crashed; with 95 (AVX + FMA, no AVX-512) 10 of
    # 10 and with 15 every run since went clean.
    env.setdefault("ARDOUR_FPU_FLAGS", "15")
    return env


def run_lua(script: str, args: list, home: Path, report: Path) -> dict:
    """Runs tests/ardour/SCRIPT under ardour7-lua and returns its key=value report.

    ardour7-lua may abort while exiting after close_session(), so the exit code is ignored; the
    report's closing "done=1" (written before close_session) says the script got through."""
    cmd = [ARDOUR_LUA, str(HERE / script), *map(str, args), str(report)]
    t0 = time.monotonic()
    run = subprocess.run(cmd, env=ardour_env(home), capture_output=True, text=True,
                         timeout=LUA_TIMEOUT, cwd=report.parent)
    values = {}
    if report.exists():
        for line in report.read_text().splitlines():
            key, _, value = line.partition("=")
            values[key] = value
    output = (run.stdout + run.stderr)[-4000:]
    assert values.get("done") == "1", f"{script} did not finish (rc {run.returncode}):\n{output}"
    print(f"[{script}: {time.monotonic() - t0:.1f} s]")
    return values


# ---------------------------------------------------------------------------------------------
# Fixtures


def real_mix(n: int) -> np.ndarray:
    """For figures on real music (never in CI): $AURALIS_ARDOUR_MIX, any file libsndfile
    reads, resampled to the session's rate, its first n samples turned down 6 dB (a mix under a
    finished master) after 0.1 s of silence, like the programme's lead-in."""
    x, rate = soundfile.read(os.environ["AURALIS_ARDOUR_MIX"], always_2d=True)
    x = x[:, :2] if x.shape[1] >= 2 else np.repeat(x, 2, axis=1)
    if rate != SR:
        g = np.gcd(int(rate), SR)
        x = signal.resample_poly(x, SR // g, int(rate) // g, axis=0)
    lead = int(0.1 * SR)
    out = np.zeros((n, 2))
    take = min(n - lead, len(x))
    out[lead:lead + take] = 0.5 * x[:take]
    return out


@pytest.fixture(scope="session")
def workdir():
    keep = os.environ.get("AURALIS_ARDOUR_KEEP")
    if keep:
        path = Path(keep)
        if path.exists() and any(path.iterdir()):
            pytest.fail(f"AURALIS_ARDOUR_KEEP={keep} is not empty")
        path.mkdir(parents=True, exist_ok=True)
        yield path
    else:
        with tempfile.TemporaryDirectory(prefix="auralis-ardour-") as d:
            yield Path(d)


@pytest.fixture(scope="session")
def recorded(workdir):
    """The session template: recorded once, its take overwritten with the programme.

    Returns (session folder, the mix as written into the region, mix.wav)."""
    require_ardour()
    base = workdir / "template"
    base.mkdir()
    home = make_home(base)
    session = base / NAME
    info = run_lua("make_session.lua", [session, NAME, SECONDS], home, base / "make_session.txt")
    n = int(info["region_length"])
    assert info["regions"] == "1" and info["region_position"] == "0" and info["region_start"] == "0"
    assert info["region_channels"] == "2" and n >= SECONDS * SR
    assert (info["session_start"], info["session_end"]) == ("0", str(n))
    files = sorted((session / "interchange" / NAME / "audiofiles").glob("*.wav"))
    left = [f for f in files if f.name.endswith("%L.wav")]
    right = [f for f in files if f.name.endswith("%R.wav")]
    assert len(files) == 2 and len(left) == 1 and len(right) == 1, files
    take = soundfile.info(str(left[0]))
    assert (take.frames, take.samplerate, take.subtype) == (n, SR, "FLOAT"), take
    mix = (real_mix(n) if os.environ.get("AURALIS_ARDOUR_MIX") else programme(n)).astype(np.float32)
    # Same length, rate and sample format as the take; Ardour reads them at the next load.
    soundfile.write(str(left[0]), mix[:, 0], SR, subtype="FLOAT")
    soundfile.write(str(right[0]), mix[:, 1], SR, subtype="FLOAT")
    mix_wav = base / "mix.wav"
    soundfile.write(str(mix_wav), mix, SR, subtype="FLOAT")
    return session, mix.astype(np.float64), mix_wav


@pytest.fixture(scope="session")
def master(recorded, workdir):
    """`auralis master` of the same audio (the two-pass offline master): the reference."""
    _, _, mix_wav = recorded
    if not AURALIS.exists():
        pytest.fail(f"{AURALIS} is missing: cargo build --release")
    out = workdir / "master.wav"
    run = subprocess.run([str(AURALIS), "master", str(mix_wav), "-o", str(out), "--format",
                          "wav32f", "--force"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return read(out)


def scenario(workdir, recorded, label, script, extra=(), before=None):
    """Copies the session into a fresh folder with a fresh HOME and runs one script there."""
    session, _, _ = recorded
    base = workdir / label
    base.mkdir()
    home = make_home(base)
    copy = base / NAME
    shutil.copytree(session, copy)
    out = base / "export"
    out.mkdir()
    if before:
        before(home)
    info = run_lua(script, [copy, NAME, out, PRESET_ID, *extra], home, base / f"{label}.txt")
    return info, out, home


# ---------------------------------------------------------------------------------------------
# Test 1: automation


@pytest.fixture(scope="module")
def automation(workdir, recorded):
    info, out, _ = scenario(workdir, recorded, "automation", "automation.lua")
    files = {n: read(out / f"{n}.wav") for n in ("plain", "cont_a", "cont_b", "static", "ramp")}
    return info, files


def test_plain_export_is_the_region(automation, recorded):
    """Harness check: without the plugin, Ardour's export is the audio we put in the region."""
    _, mix, _ = recorded
    _, files = automation
    plain = files["plain"]
    assert plain.shape == mix.shape
    diff = np.abs(plain - mix).max()
    print(f"plain export vs region audio: max |diff| {diff:.2e}")
    assert diff <= 1e-6


def test_output_gain_automation_is_followed(automation, recorded):
    """Output Gain automated 0 -> -12 dB over the export: ramp/static per 1 s window tracks it.

    Both bounces are made in Hold, so the chain is the same fixed one and the ramp bounce should
    be the static bounce times the automated gain g(t) (Output Gain is the trim after the
    limiter). Per 1 s window the expected level difference is therefore
    10 log10(sum(static^2 g^2) / sum(static^2)), which weights the ramp by where the music is
    loud. What may remain: the plugin's 20 ms glide lags the 0.27 dB/s ramp by 0.005 dB, and a
    value held per 1024-sample engine cycle is off by at most 0.006 dB; 0.05 dB leaves room for
    that and fails if automation is ignored (error up to 12 dB), scaled, offset or applied late
    by more than ~0.15 s."""
    info, files = automation
    _, mix, _ = recorded
    assert (float(info["output_gain_lower"]), float(info["output_gain_upper"])) == (-24.0, 0.0)
    assert float(info["output_gain_default"]) == 0.0
    assert (float(info["analysis_default"]), float(info["analysis_hold"])) == (0.0, 2.0)
    assert int(info["automation_points"]) == 2
    assert float(info["automation_at_middle"]) == pytest.approx(-6.0, abs=0.01)
    static, ramp = files["static"], files["ramp"]
    assert static.shape == ramp.shape == mix.shape
    print(f"mix {integrated(mix):.2f} LUFS; Continuous bounce {integrated(files['cont_a']):.2f}"
          f" LUFS; Hold (nothing learned) bounce {integrated(static):.2f} LUFS")
    n = len(mix)
    gain = 10 ** (-12.0 * np.arange(n) / n / 20)[:, None]
    errors = []
    for k in range(1, int(n / SR) - 1):
        got = window_rms_db(ramp, k, 1.0) - window_rms_db(static, k, 1.0)
        want = window_rms_db(static * gain, k, 1.0) - window_rms_db(static, k, 1.0)
        errors.append((got - want, k, got, want))
    worst = max(errors, key=lambda e: abs(e[0]))
    print("ramp - static per 1 s window (dB), every 4th: "
          + " ".join(f"{g:.2f}" for _, _, g, _ in errors[::4]))
    print(f"worst window {worst[1]} s: got {worst[2]:.3f} dB, want {worst[3]:.3f} dB")
    assert abs(worst[0]) <= 0.05


@pytest.mark.xfail(
    strict=True,
    reason="Ardour 7.3 renders VST3 exports with the running realtime activation (no kOffline): "
    "Continuous follows the music on its analysis thread, whose timing varies. Hold bounces do "
    "repeat (test_hold_bounces_are_identical); strict, so this fails once exports repeat.",
)
def test_offline_bounces_repeat(automation):
    """README: "Offline bounces are deterministic". Two Continuous-mode exports of the same
    input with the same settings, one after the other, must be the same samples.

    Seen with Ardour 7.3 here: the plugin's realtime analysis thread is the same one before and
    during an export, and a new one appears after it; so Ardour does not re-activate a VST3
    plugin (with kOffline) for the render, only afterwards (realtime again)."""
    _, files = automation
    a, b = files["cont_a"], files["cont_b"]
    diff = np.abs(a - b).max(axis=1)
    first = np.argmax(diff > 1e-6) / SR if (diff > 1e-6).any() else None
    per_s = [window_rms_db(b, k, 1.0) - window_rms_db(a, k, 1.0) for k in range(1, len(a) // SR)]
    print(f"cont_a vs cont_b: max |diff| {diff.max():.2e}, first differing sample at {first} s, "
          f"worst 1 s level difference {max(per_s, key=abs):+.3f} dB")
    assert diff.max() <= 1e-6


# ---------------------------------------------------------------------------------------------
# Test 2: Learn -> Hold


@pytest.fixture(scope="module")
def learn_hold(workdir, recorded):
    info, out, home = scenario(workdir, recorded, "learn_hold", "learn_hold.lua")
    files = {n: read(out / f"{n}.wav") for n in ("cold", "hold1", "hold2", "from_preset")}
    preset = home / ".vst3" / "presets" / "Auralis" / "Auralis" / "learned.vstpreset"
    return info, files, preset


def windows_vs(x: np.ndarray, ref: np.ndarray, hop: float = 1.0):
    t, a = short_term(x, hop)
    _, b = short_term(ref, hop)
    return t, a, b


def test_learn_hold_parameter_is_a_three_way_menu(learn_hold):
    info, _, _ = learn_hold
    assert (float(info["analysis_lower"]), float(info["analysis_upper"])) == (0.0, 2.0)
    assert float(info["analysis_default"]) == 0.0  # Continuous
    assert (float(info["analysis_learn"]), float(info["analysis_hold"])) == (1.0, 2.0)


def test_hold_bounces_are_identical(learn_hold):
    _, files, _ = learn_hold
    diff = np.abs(files["hold1"] - files["hold2"]).max()
    print(f"hold1 vs hold2: max |diff| {diff:.2e}")
    assert diff <= 1e-6


def test_hold_bounce_matches_the_offline_master_integrated(learn_hold, master, recorded):
    _, files, _ = learn_hold
    _, mix, _ = recorded
    m, h1, h2, cold = (integrated(x) for x in (master, files["hold1"], files["hold2"], files["cold"]))
    print(f"integrated LUFS: mix {integrated(mix):.2f}, master {m:.2f}, cold (Learn) {cold:.2f}, "
          f"hold1 {h1:.2f}, hold2 {h2:.2f}; hold1 - master {h1 - m:+.2f} LU")
    assert abs(h1 - m) <= 0.5


def test_hold_bounce_matches_the_offline_master_short_term(learn_hold, master):
    """Every 3 s window (hop 1 s) from 3 s on within 1 LU of the master's same window."""
    _, files, _ = learn_hold
    t, h, m = windows_vs(files["hold1"], master)
    sel = t >= 3.0
    d = h[sel] - m[sel]
    k = int(np.argmax(np.abs(d)))
    print(f"hold1 - master short-term, windows from 3 s: worst {d[k]:+.2f} LU at {t[sel][k]:.0f} s"
          f" (hold1 {h[sel][k]:.2f}, master {m[sel][k]:.2f}); mean {d.mean():+.2f} LU")
    assert np.abs(d).max() <= 1.0


def test_cold_learn_bounce_is_close_from_6_s(learn_hold, master):
    """The bounce made while learning: every 3 s window from 6 s on within 3 LU of the master."""
    _, files, _ = learn_hold
    t3, c3, m3 = windows_vs(files["cold"], master, hop=3.0)
    print("first five 3 s windows, cold (Learn) vs master (LUFS): "
          + ", ".join(f"{t:.0f}-{t + 3:.0f} s {c:.2f} vs {m:.2f}"
                      for t, c, m in zip(t3[:5], c3[:5], m3[:5])))
    t, c, m = windows_vs(files["cold"], master)
    sel = t >= 6.0
    d = c[sel] - m[sel]
    k = int(np.argmax(np.abs(d)))
    print(f"cold - master short-term, windows from 6 s: worst {d[k]:+.2f} LU at {t[sel][k]:.0f} s")
    assert np.abs(d).max() <= 3.0


def test_ardour_preset_restores_the_learned_hold(learn_hold):
    """The learned plugin saved as an Ardour preset and loaded into a fresh instance bounces the
    same samples as the instance that learned (held targets travel in the preset)."""
    info, files, preset = learn_hold
    assert preset.exists(), preset
    assert info["saved_uri"] == info["found_uri"] == \
        "VST3-S:417572616C69734D6173746572467831:learned"
    assert info["load_preset"] == "true"
    assert float(info["fresh_analysis"]) == 0.0 and float(info["loaded_analysis"]) == 2.0
    diff = np.abs(files["from_preset"] - files["hold1"]).max()
    print(f"from_preset vs hold1: max |diff| {diff:.2e}")
    assert diff <= 1e-6


# ---------------------------------------------------------------------------------------------
# Test 3: a preset from `auralis learn`


def has_learn() -> bool:
    if not AURALIS.exists():
        return False
    run = subprocess.run([str(AURALIS), "learn", "--help"], capture_output=True, text=True,
                         timeout=60)
    return run.returncode == 0


@pytest.fixture(scope="module")
def learned_preset(workdir, recorded):
    if not has_learn():
        pytest.skip(f"`{AURALIS} learn` is not available yet (`auralis learn --help` fails): "
                    "it writes the .vstpreset this test loads")
    _, _, mix_wav = recorded
    label = "auralis-learned"
    made = workdir / f"{label}.vstpreset"
    run = subprocess.run([str(AURALIS), "learn", str(mix_wav), "-o", str(made)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and made.exists(), run.stdout + run.stderr
    assert made.read_bytes()[:4] == b"VST3"

    def install(home: Path):
        folder = home / ".vst3" / "presets" / "Auralis" / "Auralis"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(made, folder / made.name)

    info, out, _ = scenario(workdir, recorded, "learn_preset", "load_preset.lua", [label],
                            before=install)
    return info, read(out / "preset.wav")


def test_learned_preset_loads_in_ardour(learned_preset):
    info, _ = learned_preset
    assert info["uri"] == "VST3-S:417572616C69734D6173746572467831:auralis-learned"
    assert info["load_preset"] == "true"
    assert float(info["fresh_analysis"]) == 0.0 and float(info["loaded_analysis"]) == 2.0


def test_learned_preset_bounce_matches_the_master_loudness(learned_preset, master):
    _, bounce = learned_preset
    b, m = integrated(bounce), integrated(master)
    print(f"integrated LUFS: preset bounce {b:.2f}, master {m:.2f} ({b - m:+.2f} LU)")
    assert abs(b - m) <= 0.5


def test_learned_preset_bounce_matches_the_master_eq(learned_preset, master):
    """Long-term spectrum per Bark band within 0.5 dB of the master's, after taking out the
    broadband level difference (which the loudness test bounds): the EQ the preset holds is the
    one `auralis master` applies. Bands more than 60 dB under the loudest are not compared
    (the programme has next to nothing there)."""
    _, bounce = learned_preset
    b, m = bark_levels(bounce), bark_levels(master)
    offset = 10 * np.log10(np.sum(10 ** (b / 10)) / np.sum(10 ** (m / 10)))
    d = b - m - offset
    used = m > m.max() - 60
    print(f"broadband offset {offset:+.2f} dB; per band (bounce - master - offset, dB): "
          + " ".join(f"{x:+.2f}" if u else "(n/a)" for x, u in zip(d, used)))
    assert np.abs(d[used]).max() <= 0.5
