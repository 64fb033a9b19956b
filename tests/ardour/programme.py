"""A deterministic, music-like stereo mix for the Ardour tests (float64, shape (n, 2), 48 kHz).

0.1 s of digital silence (Ardour fades the first ~85 ms of an export in; silence hides that), a
quiet intro (pad chord and hats, about 7 LU under the body) up to INTRO_END, then the body: a
four-chord progression of harmonic tones with envelopes, a bass line, a lead, kick, snare and hats
at 120 BPM. The body is scaled to BODY_LUFS (pyloudnorm, BS.1770), a mix that sits about 6 dB
under a finished master, and the intro to INTRO_LUFS. Same `n` in, same samples out.

`python programme.py OUT.wav [SECONDS]` writes it as 32-bit float WAV.
"""

import sys

import numpy as np
import pyloudnorm

SR = 48_000
LEAD_IN = 0.1
INTRO_END = 4.6
BODY_LUFS = -20.0
INTRO_LUFS = -27.0
BPM = 120.0
BEAT = 60.0 / BPM

# Chords (MIDI notes) of the progression, one per bar: Am, F, C, G.
CHORDS = [(57, 60, 64), (53, 57, 60), (48, 55, 60), (55, 59, 62)]
BASS = [45, 41, 48, 43]
LEAD = [76, 74, 72, 71, 72, 74, 76, 79, 77, 76, 74, 72, 71, 72, 74, 72]


def _hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def _tone(freq: float, dur: int, partials: int, rolloff: float, rng) -> np.ndarray:
    """A harmonic tone: `partials` harmonics falling by `rolloff` per harmonic, random phases."""
    t = np.arange(dur) / SR
    out = np.zeros(dur)
    for k in range(1, partials + 1):
        if freq * k > 18_000:
            break
        out += rolloff ** (k - 1) * np.sin(2 * np.pi * freq * k * t + rng.uniform(0, 2 * np.pi))
    return out


def _adsr(dur: int, attack: float, decay: float, sustain: float, release: float) -> np.ndarray:
    a, d, r = int(attack * SR), int(decay * SR), int(release * SR)
    env = np.full(dur, sustain)
    a = min(a, dur)
    env[:a] = np.linspace(0.0, 1.0, a, endpoint=False)
    d = min(d, dur - a)
    env[a:a + d] = np.linspace(1.0, sustain, d, endpoint=False)
    r = min(r, dur)
    env[dur - r:] *= np.linspace(1.0, 0.0, r)
    return env


def _add(buf: np.ndarray, start: int, sig: np.ndarray, pan: float) -> None:
    """Adds a mono `sig` at `start` with an equal-power pan (-1 left .. +1 right)."""
    end = min(len(buf), start + len(sig))
    if end <= start:
        return
    theta = (pan + 1) * np.pi / 4
    buf[start:end, 0] += np.cos(theta) * sig[: end - start]
    buf[start:end, 1] += np.sin(theta) * sig[: end - start]


def _kick(rng) -> np.ndarray:
    n = int(0.35 * SR)
    t = np.arange(n) / SR
    freq = 45 + 85 * np.exp(-t / 0.04)
    phase = 2 * np.pi * np.cumsum(freq) / SR
    click = rng.standard_normal(n) * np.exp(-t / 0.003) * 0.3
    return (np.sin(phase) * np.exp(-t / 0.18) + click)


def _snare(rng) -> np.ndarray:
    n = int(0.25 * SR)
    t = np.arange(n) / SR
    noise = rng.standard_normal(n)
    noise = np.diff(noise, prepend=0.0)  # brighter
    return 0.5 * noise * np.exp(-t / 0.06) + 0.6 * np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.04)


def _hat(rng, length: float = 0.06) -> np.ndarray:
    n = int(length * SR)
    t = np.arange(n) / SR
    noise = np.diff(np.diff(rng.standard_normal(n + 2)))  # a crude high-pass
    return noise * np.exp(-t / (length / 4))


def _loudness(x: np.ndarray) -> float:
    return pyloudnorm.Meter(SR).integrated_loudness(x)


def programme(n: int) -> np.ndarray:
    """The mix, `n` samples (at least 20 s), stereo, float64."""
    rng = np.random.default_rng(20240612)
    lead_in, intro_end = int(LEAD_IN * SR), int(INTRO_END * SR)
    intro = np.zeros((n, 2))
    body = np.zeros((n, 2))
    bar = int(4 * BEAT * SR)
    beat = int(BEAT * SR)

    # Intro: a soft pad on the first chord, swelling, and quiet closed hats on 8ths.
    for i, note in enumerate(CHORDS[0]):
        dur = intro_end - lead_in
        tone = _tone(_hz(note), dur, 6, 0.55, rng) * _adsr(dur, 1.5, 0.5, 0.8, 0.05)
        _add(intro, lead_in, tone, (-0.5, 0.0, 0.5)[i])
    for k in range(int((intro_end - lead_in) / (beat / 2))):
        _add(intro, lead_in + k * beat // 2, 0.15 * _hat(rng), 0.3)

    # Body: bars of chords (pad + plucked stabs), bass, lead, drums.
    bars = (n - intro_end) // bar + 1
    kick, snare = _kick(rng), _snare(rng)
    for b in range(bars):
        start = intro_end + b * bar
        chord, bass = CHORDS[b % 4], BASS[b % 4]
        for i, note in enumerate(chord):
            pad = _tone(_hz(note), bar, 8, 0.6, rng) * _adsr(bar, 0.08, 0.4, 0.6, 0.1)
            _add(body, start, 0.5 * pad, (-0.6, 0.1, 0.6)[i])
        for q in range(4):
            dur = beat
            b_env = _adsr(dur, 0.005, 0.15, 0.5, 0.05)
            _add(body, start + q * beat, 1.2 * _tone(_hz(bass), dur, 10, 0.7, rng) * b_env, 0.0)
            _add(body, start + q * beat, 1.5 * kick if q in (0, 2) else 1.2 * snare, 0.0 if q in (0, 2) else 0.1)
        for e in range(8):
            accent = 1.0 if e % 2 == 0 else 0.6
            _add(body, start + e * beat // 2, 0.25 * accent * _hat(rng), 0.35)
        for e in range(4):
            note = LEAD[(4 * b + e) % len(LEAD)]
            dur = beat
            lead = _tone(_hz(note), dur, 5, 0.45, rng) * _adsr(dur, 0.01, 0.2, 0.4, 0.1)
            vib = 1.0 + 0.1 * np.sin(2 * np.pi * 5.5 * np.arange(dur) / SR)
            _add(body, start + e * beat, 0.35 * lead * vib, -0.25 if b % 2 else 0.25)
    # A little decorrelated room noise under everything (stereo width, a noise floor).
    room = rng.standard_normal((n, 2)) * 0.001  # about -60 dBFS RMS
    body[:intro_end] = 0.0
    intro[intro_end:] = 0.0
    intro[:lead_in] = 0.0

    body *= 10 ** ((BODY_LUFS - _loudness(body[intro_end:])) / 20)
    intro *= 10 ** ((INTRO_LUFS - _loudness(intro[lead_in:intro_end])) / 20)
    mix = intro + body
    mix[lead_in:] += room[lead_in:]
    return mix


if __name__ == "__main__":
    import soundfile

    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 45.0
    x = programme(int(seconds * SR))
    soundfile.write(sys.argv[1], x.astype(np.float32), SR, subtype="FLOAT")
    m = pyloudnorm.Meter(SR)
    print(f"integrated {m.integrated_loudness(x):.2f} LUFS, peak {20 * np.log10(np.abs(x).max()):.2f} dBFS")
