//! A synthesized demo mix for trying the mastering chain without a file.
//!
//! [`demo_mix`] renders 120 BPM drums (kick, snare, hats), a bass line and
//! chord pads. It is deliberately in need of mastering: dull (little energy
//! above ~4 kHz) and quiet (about -24 LUFS integrated). Kick and bass are
//! centred; pads and hats are slightly wide. The output is deterministic.

use std::f64::consts::PI;

/// Tempo of the demo in beats per minute.
const BPM: f64 = 120.0;
/// RMS level (per channel, full scale = 1.0) the mix is normalised to. With
/// this mix's spectrum it measures about -24 LUFS.
const TARGET_RMS_DB: f64 = -23.6;
/// Bass root per bar (Hz): A1, F1, C2, G1.
const ROOTS: [f64; 4] = [55.0, 43.654, 65.406, 48.999];
/// Pad chords per bar as semitone offsets above the root, two octaves up.
const CHORDS: [[f64; 3]; 4] = [
    [0.0, 3.0, 7.0],
    [0.0, 4.0, 7.0],
    [0.0, 4.0, 7.0],
    [0.0, 4.0, 7.0],
];

/// Deterministic noise (xorshift64*), so the demo is the same on every run.
struct Noise(u64);

impl Noise {
    /// Uniform in [-1, 1).
    fn next(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// One-pole low-pass filter.
struct OnePole {
    a: f64,
    z: f64,
}

impl OnePole {
    fn new(cutoff_hz: f64, rate: f64) -> Self {
        OnePole {
            a: 1.0 - (-2.0 * PI * cutoff_hz / rate).exp(),
            z: 0.0,
        }
    }

    fn lp(&mut self, x: f64) -> f64 {
        self.z += self.a * (x - self.z);
        self.z
    }
}

/// Two one-pole low-passes in series (12 dB/octave).
fn lp2(f: &mut [OnePole; 2], x: f64) -> f64 {
    let y = f[0].lp(x);
    f[1].lp(y)
}

/// Renders `seconds` of the demo mix at `sample_rate` as `[left, right]`.
///
/// Callers use 8–12 seconds; any positive length works (non-positive or
/// non-finite lengths give empty channels).
pub fn demo_mix(sample_rate: u32, seconds: f32) -> [Vec<f32>; 2] {
    let rate = sample_rate.max(1) as f64;
    let n = if seconds.is_finite() && seconds > 0.0 {
        (seconds as f64 * rate).round() as usize
    } else {
        0
    };
    let beat = 60.0 / BPM;
    let bar = 4.0 * beat;
    let mut left = vec![0.0f64; n];
    let mut right = vec![0.0f64; n];

    let mut noise_snare = Noise(0x5EED_0001);
    let mut noise_hat_l = Noise(0x5EED_0002);
    let mut noise_hat_r = Noise(0x5EED_0003);
    // Snare and hat noise are darkened: this is a dull mix.
    let mut snare_lp = [OnePole::new(1_500.0, rate), OnePole::new(1_500.0, rate)];
    let mut hat_lp_l = [OnePole::new(2_500.0, rate), OnePole::new(2_500.0, rate)];
    let mut hat_lp_r = [OnePole::new(2_500.0, rate), OnePole::new(2_500.0, rate)];
    let mut hat_hp_l = OnePole::new(1_500.0, rate);
    let mut hat_hp_r = OnePole::new(1_500.0, rate);
    let mut bass_lp = [OnePole::new(300.0, rate), OnePole::new(300.0, rate)];
    let mut pad_lp_l = [OnePole::new(1_200.0, rate), OnePole::new(1_200.0, rate)];
    let mut pad_lp_r = [OnePole::new(1_200.0, rate), OnePole::new(1_200.0, rate)];
    let mut bass_phase = 0.0f64;

    for i in 0..n {
        let t = i as f64 / rate;
        let tb = t % beat; // time since the last beat
        let beat_idx = (t / beat) as usize;
        let bar_idx = (t / bar) as usize % ROOTS.len();
        let t8 = t % (beat / 2.0); // time since the last eighth note

        // Kick: pitch sweep 110 -> 45 Hz, on every beat. Centre.
        let kick_phase = 2.0 * PI * (45.0 * tb + 65.0 / 30.0 * (1.0 - (-tb * 30.0).exp()));
        let kick = 0.9 * kick_phase.sin() * (-tb * 7.0).exp();

        // Snare: beats 2 and 4, 190 Hz body plus dark noise. Centre.
        let snare_noise = lp2(&mut snare_lp, noise_snare.next());
        let snare = if beat_idx % 2 == 1 {
            let env = (-tb * 18.0).exp();
            env * (0.35 * (2.0 * PI * 190.0 * tb).sin() + 0.5 * snare_noise)
        } else {
            0.0
        };

        // Hats: eighth notes, band-limited noise, quiet, slightly wide.
        let hat_env = 0.05 * (-t8 * 60.0).exp();
        let hl = {
            let x = noise_hat_l.next();
            let hp = x - hat_hp_l.lp(x);
            lp2(&mut hat_lp_l, hp)
        };
        let hr = {
            let x = noise_hat_r.next();
            let hp = x - hat_hp_r.lp(x);
            lp2(&mut hat_lp_r, hp)
        };
        let hat_l = hat_env * (0.8 * hl + 0.2 * hr);
        let hat_r = hat_env * (0.8 * hr + 0.2 * hl);

        // Bass: root note in eighths, sine plus a little 2nd/3rd harmonic,
        // low-passed. Centre.
        let f = ROOTS[bar_idx];
        bass_phase = (bass_phase + 2.0 * PI * f / rate) % (2.0 * PI);
        let raw =
            bass_phase.sin() + 0.3 * (2.0 * bass_phase).sin() + 0.15 * (3.0 * bass_phase).sin();
        let bass_env = 1.0 - 0.5 * (t8 / (beat / 2.0));
        let bass = 0.5 * bass_env * lp2(&mut bass_lp, raw);

        // Pads: chord two octaves above the root, detuned differently per
        // side for width, slow swell each bar.
        let tbar = t % bar;
        let swell = (tbar / 0.6).min(1.0) * (1.0 - 0.3 * tbar / bar);
        let mut pl = 0.0;
        let mut pr = 0.0;
        for semis in CHORDS[bar_idx] {
            let fp = 4.0 * f * 2f64.powf(semis / 12.0);
            pl += (2.0 * PI * fp * 1.003 * t).sin() + 0.2 * (4.0 * PI * fp * 1.003 * t).sin();
            pr += (2.0 * PI * fp * 0.997 * t).sin() + 0.2 * (4.0 * PI * fp * 0.997 * t).sin();
        }
        let pad_l = 0.12 * swell * lp2(&mut pad_lp_l, pl);
        let pad_r = 0.12 * swell * lp2(&mut pad_lp_r, pr);

        let centre = kick + snare + bass;
        left[i] = centre + hat_l + pad_l;
        right[i] = centre + hat_r + pad_r;
    }

    // Normalise to the target RMS, so the level does not depend on length.
    let ms = left.iter().chain(&right).map(|x| x * x).sum::<f64>() / (2 * n).max(1) as f64;
    let gain = if ms > 0.0 {
        10f64.powf(TARGET_RMS_DB / 20.0) / ms.sqrt()
    } else {
        0.0
    };
    [
        left.iter().map(|x| (x * gain) as f32).collect(),
        right.iter().map(|x| (x * gain) as f32).collect(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RBJ biquad (high- or low-pass, Q = 1/sqrt 2).
    struct Biquad {
        b: [f64; 3],
        a: [f64; 2],
        z: [f64; 2],
    }

    impl Biquad {
        fn new(high: bool, f: f64, rate: f64) -> Self {
            let w = 2.0 * PI * f / rate;
            let alpha = w.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
            let c = w.cos();
            let a0 = 1.0 + alpha;
            let b = if high {
                [(1.0 + c) / 2.0, -(1.0 + c), (1.0 + c) / 2.0]
            } else {
                [(1.0 - c) / 2.0, 1.0 - c, (1.0 - c) / 2.0]
            };
            Biquad {
                b: [b[0] / a0, b[1] / a0, b[2] / a0],
                a: [-2.0 * c / a0, (1.0 - alpha) / a0],
                z: [0.0; 2],
            }
        }

        fn run(&mut self, x: f64) -> f64 {
            let y = self.b[0] * x + self.z[0];
            self.z[0] = self.b[1] * x - self.a[0] * y + self.z[1];
            self.z[1] = self.b[2] * x - self.a[1] * y;
            y
        }
    }

    /// Energy of `x` through a cascade of 4 high-passes at `lo` and 4
    /// low-passes at `hi` (either may be absent): 48 dB/octave skirts.
    fn band_energy(x: &[f32], rate: f64, lo: Option<f64>, hi: Option<f64>) -> f64 {
        let mut filters: Vec<Biquad> = Vec::new();
        for _ in 0..4 {
            if let Some(f) = lo {
                filters.push(Biquad::new(true, f, rate));
            }
            if let Some(f) = hi {
                filters.push(Biquad::new(false, f, rate));
            }
        }
        x.iter()
            .map(|&s| {
                let y = filters.iter_mut().fold(s as f64, |v, f| f.run(v));
                y * y
            })
            .sum()
    }

    fn lufs(mix: &[Vec<f32>; 2], rate: u32) -> f64 {
        let mut m = ebur128::EbuR128::new(2, rate, ebur128::Mode::I).unwrap();
        m.add_frames_planar_f32(&[&mix[0], &mix[1]]).unwrap();
        m.loudness_global().unwrap()
    }

    #[test]
    fn demo_is_quiet_around_minus_24_lufs() {
        for rate in [44_100, 48_000] {
            let mix = demo_mix(rate, 10.0);
            assert_eq!(mix[0].len(), 10 * rate as usize);
            assert_eq!(mix[1].len(), mix[0].len());
            let l = lufs(&mix, rate);
            assert!((-26.0..=-22.0).contains(&l), "{rate} Hz: {l} LUFS");
            let peak = mix.iter().flatten().fold(0.0f32, |p, s| p.max(s.abs()));
            assert!(peak < 1.0, "peak {peak}");
        }
    }

    #[test]
    fn demo_is_dull_above_4_khz() {
        let rate = 48_000;
        let mix = demo_mix(rate, 10.0);
        for ch in &mix {
            let mids = band_energy(ch, rate as f64, Some(100.0), Some(1_000.0));
            let highs = band_energy(ch, rate as f64, Some(4_000.0), None);
            let db = 10.0 * (highs / mids).log10();
            assert!(db <= -25.0, "highs only {db:.1} dB below 100-1000 Hz");
            // ...but not empty: there is something for a mastering EQ to lift.
            assert!(db > -80.0, "no high end at all ({db:.1} dB)");
        }
    }

    #[test]
    fn demo_is_deterministic_and_length_follows_seconds() {
        let a = demo_mix(44_100, 8.0);
        let b = demo_mix(44_100, 8.0);
        assert_eq!(a, b);
        assert_eq!(a[0].len(), 352_800);
        assert_eq!(demo_mix(48_000, 12.0)[0].len(), 576_000);
        assert!(demo_mix(48_000, 0.0)[0].is_empty());
    }

    #[test]
    fn demo_is_stereo_with_a_centred_low_end() {
        let rate = 48_000;
        let mix = demo_mix(rate, 10.0);
        let side: Vec<f32> = mix[0].iter().zip(&mix[1]).map(|(l, r)| l - r).collect();
        let mid: Vec<f32> = mix[0].iter().zip(&mix[1]).map(|(l, r)| l + r).collect();
        // Width exists (pads, hats)...
        let side_all = band_energy(&side, rate as f64, None, None);
        let mid_all = band_energy(&mid, rate as f64, None, None);
        let width_db = 10.0 * (side_all / mid_all).log10();
        assert!(
            (-30.0..-6.0).contains(&width_db),
            "side/mid {width_db:.1} dB"
        );
        // ...but below 120 Hz (kick, bass) the mix is essentially mono.
        let side_low = band_energy(&side, rate as f64, None, Some(120.0));
        let mid_low = band_energy(&mid, rate as f64, None, Some(120.0));
        let low_db = 10.0 * (side_low / mid_low).log10();
        assert!(low_db < -40.0, "low side/mid {low_db:.1} dB");
    }
}
