"""Auralis.vst3 in pedalboard (JUCE): parameters with units, gains, bypass and latency."""

import numpy as np
import pedalboard
import pytest

from conftest import db, programme, rms

SR = 48_000

# Every parameter as pedalboard names it (name + unit, snake_case) with its plain range.
EXPECTED = {
    "mode": None,
    "preset": None,
    "analysis": None,
    "hybrid_blend": (0.0, 100.0),
    "intensity": (0.0, 100.0),
    "preset_loudness": None,
    "target_loudness_lufs": (-30.0, -6.0),
    "input_gain_db": (-24.0, 24.0),
    "eq": None,
    "eq_amount": (0.0, 100.0),
    "tilt_db": (-6.0, 6.0),
    "dynamics": None,
    "dynamics_amount": (0.0, 100.0),
    "multiband": None,
    "stereo": None,
    "width": (0.0, 200.0),
    "mono_bass_hz": (0.0, 500.0),
    "match_tone": (0.0, 100.0),
    "match_loudness": (0.0, 100.0),
    "match_width": (0.0, 100.0),
    "match_dynamics": (0.0, 100.0),
    "leveler": None,
    "limiter": None,
    "ceiling_dbtp": (-6.0, 0.0),
    "release_ms": (1.0, 1000.0),
    "auto_release": None,
    "max_limiting_db": (0.0, 12.0),
    "output_gain_db": (-24.0, 0.0),
    "bypass": None,
}


@pytest.fixture()
def plugin(vst3_path):
    return pedalboard.load_plugin(vst3_path)


def test_parameters_are_listed_with_units_and_ranges(plugin):
    params = plugin.parameters
    assert list(params) == list(EXPECTED)
    for key, span in EXPECTED.items():
        if span is not None:
            assert (params[key].min_value, params[key].max_value) == pytest.approx(span), key
    assert params["ceiling_dbtp"].label.strip() == "dBTP"
    assert params["target_loudness_lufs"].label.strip() == "LUFS"
    assert params["release_ms"].label.strip() == "ms"
    assert params["intensity"].label.strip() == "%"


def test_default_settings_pass_audio_unchanged_and_aligned(plugin):
    # pedalboard compensates the latency the plugin reports, so the output lines up with the
    # input only if the reported latency is the true delay.
    x = programme(2, SR, SR)
    y = plugin(x, SR)
    assert y.shape == x.shape
    assert np.max(np.abs(y - x)) < 1e-6


@pytest.mark.parametrize("gain_db", [-24.0, -12.0, -3.5])
def test_output_gain_sets_the_level(plugin, gain_db):
    plugin.output_gain_db = gain_db
    x = programme(2, SR, SR)
    y = plugin(x, SR)
    tail = slice(SR // 2, None)  # after the 20 ms glide
    measured = db(rms(y[:, tail])) - db(rms(x[:, tail]))
    assert measured == pytest.approx(gain_db, abs=0.01)


def test_bypass_and_zero_intensity_return_the_dry_signal(plugin):
    x = programme(2, SR // 2, SR)
    # +3 dB keeps the test signal (peaks about 0.55) under the -1 dBTP ceiling.
    plugin.input_gain_db = 3.0
    wet = plugin(x, SR)
    settled = slice(SR // 10, None)
    assert db(rms(wet[:, settled])) - db(rms(x[:, settled])) == pytest.approx(3.0, abs=0.01)
    plugin.reset()
    plugin.intensity = 0.0
    dry = plugin(x, SR)
    assert np.max(np.abs(dry[:, SR // 10 :] - x[:, SR // 10 :])) < 1e-5
    plugin.reset()
    plugin.intensity = 100.0
    plugin.bypass = True
    bypassed = plugin(x, SR)
    assert np.max(np.abs(bypassed[:, SR // 10 :] - x[:, SR // 10 :])) < 1e-5


def test_mono_layout_processes_one_channel(plugin):
    plugin.output_gain_db = -6.0
    x = programme(1, SR // 2, SR)
    y = plugin(x, SR)
    assert y.shape == x.shape
    assert db(rms(y[:, SR // 4 :])) - db(rms(x[:, SR // 4 :])) == pytest.approx(-6.0, abs=0.02)
