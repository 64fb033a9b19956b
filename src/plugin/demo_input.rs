//! A stand-in for music, for the standalone build only: nice-plug's dummy audio backend feeds
//! silence, so `AURALIS_DEMO_INPUT=1 auralis-standalone --backend dummy` replaces the input with
//! a looped few seconds of a chord, a bass line, a kick and noise, and the editor has something
//! to show (docs/screenshot.sh uses it).

use std::f32::consts::TAU;

/// The environment variable that switches the demo input on.
pub const ENV: &str = "AURALIS_DEMO_INPUT";

/// A loop of stereo music-like audio, generated once in `activate`.
pub struct DemoInput {
    left: Vec<f32>,
    right: Vec<f32>,
    position: usize,
}

impl DemoInput {
    /// The demo input if [`ENV`] is set.
    pub fn from_env(sample_rate: f32) -> Option<Self> {
        std::env::var_os(ENV).map(|_| Self::new(sample_rate))
    }

    pub fn new(sample_rate: f32) -> Self {
        let beat = (0.5 * sample_rate) as usize;
        let len = beat * 8;
        let mut left = vec![0.0; len];
        let mut right = vec![0.0; len];
        let mut seed = 0x1234_5678u32;
        let (mut pink_l, mut pink_r) = (0.0f32, 0.0f32);
        let chord = [220.0, 261.63, 329.63, 440.0];
        let bass = [55.0, 55.0, 65.41, 49.0];
        for i in 0..len {
            let t = i as f32 / sample_rate;
            let in_beat = (i % beat) as f32 / sample_rate;
            let bar = i / (beat * 2);
            let kick = (TAU * (50.0 + 90.0 * (-in_beat * 30.0).exp()) * in_beat).sin()
                * (-in_beat * 9.0).exp();
            let bass_f = bass[bar % bass.len()];
            let bass_note = 0.5 * (TAU * bass_f * t).sin() + 0.15 * (TAU * 2.0 * bass_f * t).sin();
            let pad: f32 = chord
                .iter()
                .enumerate()
                .map(|(k, &f)| {
                    let f = f * (1.0 + 0.002 * k as f32);
                    (TAU * f * t).sin()
                        + 0.3 * (TAU * 2.0 * f * t).sin()
                        + 0.1 * (TAU * 3.0 * f * t).sin()
                })
                .sum::<f32>()
                * 0.12;
            let mut noise = || {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            };
            let (nl, nr) = (noise(), noise());
            pink_l = 0.97 * pink_l + 0.03 * nl;
            pink_r = 0.97 * pink_r + 0.03 * nr;
            let hat = if (i % (beat / 2)) < (0.03 * sample_rate) as usize {
                0.08 * nl
            } else {
                0.0
            };
            // A snare on beats 2 and 4: a noise burst with a short body, the loudest peaks.
            let snare = if (i / beat) % 2 == 1 {
                let body = (TAU * 185.0 * in_beat).sin() * (-in_beat * 30.0).exp();
                (0.9 * nl + 0.5 * body) * (-in_beat * 22.0).exp()
            } else {
                0.0
            };
            let common = 0.45 * kick + 0.3 * bass_note + 0.55 * snare;
            left[i] = 0.7 * (common + 0.9 * pad + 0.4 * pink_l + hat);
            right[i] = 0.7 * (common + 0.7 * pad + 0.4 * pink_r + 0.6 * hat);
        }
        Self {
            left,
            right,
            position: 0,
        }
    }

    /// Overwrites `channels` with the next part of the loop (allocation-free).
    pub fn fill(&mut self, channels: &mut [&mut [f32]]) {
        let len = channels.iter().map(|c| c.len()).min().unwrap_or(0);
        for i in 0..len {
            let p = (self.position + i) % self.left.len();
            for (c, ch) in channels.iter_mut().enumerate() {
                ch[i] = if c == 0 { self.left[p] } else { self.right[p] };
            }
        }
        self.position = (self.position + len) % self.left.len();
    }
}
