"""Shared fixtures for the tests that load the built Auralis.vst3 in JUCE-based hosts."""

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
VST3 = Path(os.environ.get("AURALIS_VST3", ROOT / "target" / "bundled" / "Auralis.vst3"))


@pytest.fixture(scope="session")
def vst3_path() -> str:
    if not VST3.exists():
        pytest.fail(f"{VST3} is missing: build it with `cargo xtask bundle auralis --release`")
    return str(VST3)


def programme(channels: int, samples: int, sample_rate: int) -> np.ndarray:
    """A deterministic stereo test signal: two sines and a little noise, float32 (ch, n)."""
    rng = np.random.default_rng(7)
    t = np.arange(samples) / sample_rate
    left = 0.4 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(samples)
    right = 0.3 * np.sin(2 * np.pi * 330 * t + 1.0) + 0.05 * rng.standard_normal(samples)
    return np.stack([left, right][:channels]).astype(np.float32)


def db(x: float) -> float:
    return 20.0 * np.log10(max(x, 1e-12))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
