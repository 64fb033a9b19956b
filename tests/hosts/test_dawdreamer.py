"""Auralis.vst3 in DawDreamer (JUCE): latency and parameter automation over an offline render."""

import dawdreamer as daw
import numpy as np
import pytest

SR = 48_000
BLOCK = 512


def render(vst3_path, audio, automation=None, seconds=None):
    engine = daw.RenderEngine(SR, BLOCK)
    player = engine.make_playback_processor("source", audio)
    plugin = engine.make_plugin_processor("auralis", vst3_path)
    names = [p["name"] for p in plugin.get_parameters_description()]
    for name, curve in (automation or {}).items():
        assert plugin.set_automation(names.index(name), curve)
    engine.load_graph([(player, []), (plugin, ["source"])])
    engine.render(seconds or audio.shape[1] / SR)
    # The engine owns the loaded plugin: keep it alive as long as the plugin is asked anything.
    return engine.get_audio(), Loaded(engine, plugin)


class Loaded:
    """A rendered plugin together with the engine that keeps it loaded."""

    def __init__(self, engine, plugin):
        self.engine = engine
        self.plugin = plugin

    def get_latency_samples(self) -> int:
        return self.plugin.get_latency_samples()


def test_reported_latency_is_the_measured_delay(vst3_path):
    x = np.zeros((2, SR // 2), np.float32)
    x[:, 1000] = 0.5
    y, plugin = render(vst3_path, x)
    latency = plugin.get_latency_samples()
    assert latency > 0
    assert int(np.argmax(np.abs(y[0]))) - 1000 == latency
    assert y[0].max() == pytest.approx(0.5, abs=1e-6)


def test_output_follows_automated_output_gain(vst3_path):
    seconds = 4
    n = SR * seconds
    x = np.full((2, n), 0.5, np.float32)
    # Normalized automation: 0 dB for 1 s, a ramp to -24 dB over 2 s, then -24 dB.
    t = np.arange(n) / SR
    norm = np.clip(1.0 - (t - 1.0) / 2.0, 0.0, 1.0).astype(np.float32)
    y, plugin = render(vst3_path, x, {"Output Gain": norm})
    latency = plugin.get_latency_samples()
    wanted_db = -24.0 * (1.0 - norm)
    # Compare away from the ramp's corners, where the 20 ms glide lags the automation.
    for sec in [0.5, 1.5, 2.0, 2.5, 3.5]:
        i = int(sec * SR)
        got_db = 20 * np.log10(y[0, i + latency] / 0.5)
        assert got_db == pytest.approx(wanted_db[i], abs=0.25), sec
    assert np.all(np.isfinite(y))
    # Monotonic fall while the automation falls: the gain follows, it does not jump around.
    ramp = y[0, SR + latency + 2000 : 3 * SR + latency - 2000]
    assert np.all(np.diff(ramp) <= 1e-7)


def test_automated_intensity_crossfades_to_the_dry_signal(vst3_path):
    n = SR * 2
    rng = np.random.default_rng(3)
    # Quiet enough that +12 dB stays under the -1 dBTP ceiling: the limiter leaves it alone.
    x = (0.02 * rng.standard_normal((2, n))).astype(np.float32)
    norm_in_gain = np.full(n, 0.75, np.float32)  # input gain +12 dB
    intensity = np.where(np.arange(n) < SR, 1.0, 0.0).astype(np.float32)
    y, plugin = render(vst3_path, x, {"Input Gain": norm_in_gain, "Intensity": intensity})
    lat = plugin.get_latency_samples()
    first = y[:, lat + SR // 2 : lat + SR - 2000] / x[:, SR // 2 : SR - 2000]
    assert np.median(first) == pytest.approx(10 ** (12 / 20), rel=1e-3)
    second = y[:, lat + SR + 2000 :] - x[:, SR + 2000 : n - lat]
    assert np.max(np.abs(second)) < 1e-5
