//! Three-band compressor: a [`Crossover3`] (LR4 splits with all-pass compensation, so the bands
//! sum flat) feeding one stereo-linked [`Compressor`] per band, the bands summed back with unity
//! gain. With no band compressing, the output is the input through the crossover's all pass:
//! flat magnitude, phase rotated around the two crossover frequencies. Zero latency.
//!
//! The three compressors' stages run band by band where they vectorise (detection, gain
//! computer, conversion to a linear gain), but their ballistics, a serial recurrence per band,
//! run in one loop ([`smooth_reductions`]) so the three overlap, and the gains are applied while
//! the bands are summed back: `y = g_low low + g_mid mid + g_high high`.

use crate::dsp::compressor::{smooth_reductions, weighted_sum3, Compressor, Detection};
use crate::dsp::crossover::Crossover3;
use crate::dsp::sanitize;

/// Number of bands.
pub const BANDS: usize = 3;

pub struct MultibandCompressor {
    crossover: Crossover3,
    compressors: [Compressor; BANDS],
    /// Band signals: `[band][channel][sample]`.
    buffers: [[Vec<f32>; 2]; BANDS],
    /// Per band: the wanted reduction, then the smoothed one, then the linear gain.
    gains: [Vec<f32>; BANDS],
}

impl MultibandCompressor {
    pub fn new(max_sample_rate: f32, max_block: usize, channels: usize) -> Self {
        Self {
            crossover: Crossover3::new(max_sample_rate, max_block, channels),
            compressors: std::array::from_fn(|_| {
                Compressor::new(max_sample_rate, max_block, channels)
            }),
            buffers: std::array::from_fn(|_| [vec![0.0; max_block], vec![0.0; max_block]]),
            gains: std::array::from_fn(|_| vec![1.0; max_block]),
        }
    }

    pub fn set_sample_rate(&mut self, sample_rate: f32) {
        self.crossover.set_sample_rate(sample_rate);
        for c in self.compressors.iter_mut() {
            c.set_sample_rate(sample_rate);
        }
    }

    /// The two crossover frequencies in Hz (low/mid and mid/high).
    pub fn set_crossover_hz(&mut self, low_mid_hz: f32, mid_high_hz: f32) {
        self.crossover.set_frequencies(low_mid_hz, mid_high_hz);
    }
    pub fn set_band_threshold_db(&mut self, band: usize, db: f32) {
        self.compressors[band].set_threshold_db(db);
    }
    pub fn set_band_ratio(&mut self, band: usize, ratio: f32) {
        self.compressors[band].set_ratio(ratio);
    }
    pub fn set_band_knee_db(&mut self, band: usize, db: f32) {
        self.compressors[band].set_knee_db(db);
    }
    pub fn set_band_attack_ms(&mut self, band: usize, ms: f32) {
        self.compressors[band].set_attack_ms(ms);
    }
    pub fn set_band_release_ms(&mut self, band: usize, ms: f32) {
        self.compressors[band].set_release_ms(ms);
    }
    pub fn set_band_makeup_db(&mut self, band: usize, db: f32) {
        self.compressors[band].set_makeup_db(db);
    }
    /// Averaging time of every band's RMS detector.
    pub fn set_rms_ms(&mut self, ms: f32) {
        for c in self.compressors.iter_mut() {
            c.set_rms_ms(ms);
        }
    }
    pub fn set_detection(&mut self, detection: Detection) {
        for c in self.compressors.iter_mut() {
            c.set_detection(detection);
        }
    }

    /// Current gain reduction of one band in dB (positive), for meters.
    pub fn band_gain_reduction_db(&self, band: usize) -> f32 {
        self.compressors[band].gain_reduction_db()
    }

    pub fn latency(&self) -> usize {
        0
    }

    pub fn reset(&mut self) {
        self.crossover.reset();
        for c in self.compressors.iter_mut() {
            c.reset();
        }
    }

    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        if sanitize::replace_non_finite(channels) {
            self.reset();
        }
        let len = channels.first().map_or(0, |c| c.len());
        let nch = channels.len().min(2);
        if nch == 0 {
            return;
        }
        {
            let [[a0, a1], [b0, b1], [c0, c1]] = &mut self.buffers;
            let mut bands: [[&mut [f32]; 2]; 3] = [
                [&mut a0[..len], &mut a1[..len]],
                [&mut b0[..len], &mut b1[..len]],
                [&mut c0[..len], &mut c1[..len]],
            ];
            let input: [&[f32]; 2] = match channels {
                [l, r, ..] => [l, r],
                [m] => [m, m],
                [] => return,
            };
            self.crossover.split(&input[..nch], &mut bands);
        }
        // Stages 1-2 per band (self-detected, as `Compressor::process`).
        let mut rest = [false; BANDS];
        for ((comp, band), (gains, rest)) in self
            .compressors
            .iter_mut()
            .zip(self.buffers.iter_mut())
            .zip(self.gains.iter_mut().zip(rest.iter_mut()))
        {
            let [l, r] = band;
            let mut chans: [&mut [f32]; 2] = [&mut l[..len], &mut r[..len]];
            // The check vectorises; the replacement runs only if needed (a band overflowing f32).
            if !sanitize::all_finite(&chans[..nch]) {
                sanitize::replace_non_finite(&mut chans[..nch]);
                comp.reset();
            }
            let [l, r] = chans;
            let detector: [&[f32]; 2] = [l, r];
            let idle = comp.wanted_reduction(&detector[..nch], &mut gains[..len]);
            // An idle block on an envelope at rest leaves the envelope exactly at 0 dB.
            *rest = idle && comp.is_at_rest();
        }
        // Stage 3 for the three bands together, then the bass hold and stage 4 per band.
        {
            let [c0, c1, c2] = &mut self.compressors;
            let [g0, g1, g2] = &mut self.gains;
            smooth_reductions(
                [c0, c1, c2],
                [&mut g0[..len], &mut g1[..len], &mut g2[..len]],
            );
        }
        for ((comp, gains), rest) in self
            .compressors
            .iter_mut()
            .zip(self.gains.iter_mut())
            .zip(rest)
        {
            comp.hold_reduction(&mut gains[..len]);
            if rest {
                gains[..len].fill(comp.makeup_gain());
            } else {
                comp.to_gain(&mut gains[..len]);
            }
        }
        // Apply the gains while summing the bands back.
        let [g0, g1, g2] = &self.gains;
        let (g0, g1, g2) = (&g0[..len], &g1[..len], &g2[..len]);
        for (ch, out) in channels.iter_mut().enumerate().take(nch) {
            let bands = [
                &self.buffers[0][ch][..len],
                &self.buffers[1][ch][..len],
                &self.buffers[2][ch][..len],
            ];
            weighted_sum3(&mut out[..len], bands, [g0, g1, g2]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::PI;

    const FS: f32 = 44_100.0;

    fn tone(f: f32, amp: f32, n: usize, offset: usize) -> impl Iterator<Item = f32> {
        (offset..offset + n).map(move |i| amp * (2.0 * PI * f * i as f32 / FS).sin())
    }

    /// Runs `seconds` of a two-tone stereo signal; returns the last second of the left channel.
    fn run(mb: &mut MultibandCompressor, f: [f32; 2], amp: [f32; 2], seconds: usize) -> Vec<f32> {
        let mut last = Vec::new();
        let blocks = seconds * 44_100 / 441;
        for b in 0..blocks {
            let mut l: Vec<f32> = tone(f[0], amp[0], 441, b * 441)
                .zip(tone(f[1], amp[1], 441, b * 441))
                .map(|(x, y)| x + y)
                .collect();
            let mut r = l.clone();
            mb.process(&mut [&mut l, &mut r]);
            if b >= blocks - 100 {
                last.extend_from_slice(&l);
            }
        }
        last
    }

    /// Amplitude of the `f` component of `x` (whole periods over one second).
    fn amplitude(x: &[f32], f: f32) -> f32 {
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (n, &v) in x.iter().enumerate() {
            let w = 2.0 * std::f64::consts::PI * f as f64 * n as f64 / FS as f64;
            re += v as f64 * w.cos();
            im += v as f64 * w.sin();
        }
        (2.0 * (re * re + im * im).sqrt() / x.len() as f64) as f32
    }

    #[test]
    fn idle_bands_pass_every_frequency_at_unity_gain() {
        let mut mb = MultibandCompressor::new(FS, 441, 2);
        mb.set_crossover_hz(150.0, 3_000.0);
        for b in 0..BANDS {
            mb.set_band_threshold_db(b, 0.0);
        }
        for f in [50.0, 150.0, 800.0, 3_000.0, 10_000.0] {
            let y = run(&mut mb, [f, 17.0], [0.25, 0.0], 2);
            let db = 20.0 * (amplitude(&y, f) / 0.25).log10();
            assert!(db.abs() < 0.02, "{f} Hz: {db} dB");
        }
        for b in 0..BANDS {
            assert_eq!(mb.band_gain_reduction_db(b), 0.0);
        }
    }

    #[test]
    fn a_loud_bass_is_compressed_in_its_band_only() {
        let mut mb = MultibandCompressor::new(FS, 441, 2);
        mb.set_crossover_hz(200.0, 4_000.0);
        for b in 0..BANDS {
            mb.set_band_threshold_db(b, -20.0);
            mb.set_band_ratio(b, 4.0);
            mb.set_band_knee_db(b, 0.0);
            mb.set_band_attack_ms(b, 5.0);
            mb.set_band_release_ms(b, 50.0);
        }
        mb.set_detection(Detection::Rms);
        // RMS over a whole 50 Hz period: a shorter average ripples, and the bass hold keeps the
        // top of that ripple.
        mb.set_rms_ms(50.0);
        // 50 Hz at -6 dBFS peak (RMS -9 dBFS: 11 dB over, 8.25 dB of reduction) and a quiet
        // 1 kHz tone far under the mid band's threshold.
        let y = run(&mut mb, [50.0, 1_000.0], [0.5, 0.02], 3);
        let low_gr = mb.band_gain_reduction_db(0);
        let expect = (20.0 * (0.5f32 / 2f32.sqrt()).log10() + 20.0) * 0.75;
        assert!(
            (low_gr - expect).abs() < 0.3,
            "low band {low_gr} vs {expect}"
        );
        assert!(mb.band_gain_reduction_db(1) < 0.01);
        assert!(mb.band_gain_reduction_db(2) < 0.01);
        let bass_db = 20.0 * (amplitude(&y, 50.0) / 0.5).log10();
        assert!((bass_db + low_gr).abs() < 0.3, "bass level {bass_db}");
        let mid_db = 20.0 * (amplitude(&y, 1_000.0) / 0.02).log10();
        assert!(mid_db.abs() < 0.05, "untouched tone moved {mid_db} dB");
    }

    #[test]
    fn each_band_compresses_a_tone_in_it_cleanly() {
        // The engine's splits and timing (controls::MULTIBAND_SPLITS_HZ, COMP_*), peak detection,
        // the dense-material ratio; a -6 dBFS tone in one band at a time, its band's threshold
        // set for about 6 dB of reduction. Harmonics over the settled last 2 of 4 s.
        let ratio = 1.2f32;
        for (band, f) in [(0, 50.0f32), (1, 200.0), (2, 3_000.0)] {
            let mut mb = MultibandCompressor::new(FS, 441, 2);
            mb.set_crossover_hz(120.0, 2_500.0);
            for b in 0..BANDS {
                let t = if b == band {
                    -6.0 - 6.0 / (1.0 - 1.0 / ratio)
                } else {
                    0.0
                };
                mb.set_band_threshold_db(b, t);
                mb.set_band_ratio(b, ratio);
                mb.set_band_knee_db(b, 6.0);
                mb.set_band_attack_ms(b, 20.0);
                mb.set_band_release_ms(b, 200.0);
            }
            let amp = 10f64.powf(-6.0 / 20.0);
            let tau = std::f64::consts::TAU;
            let x: Vec<f32> = (0..4 * FS as usize)
                .map(|j| (amp * (tau * f as f64 * j as f64 / FS as f64).sin()) as f32)
                .collect();
            let (mut l, mut r) = (x.clone(), x);
            for (bl, br) in l.chunks_mut(441).zip(r.chunks_mut(441)) {
                mb.process(&mut [bl, br]);
            }
            let gr = mb.band_gain_reduction_db(band);
            let thd = crate::dsp::tone_meter::harmonics_db(&l, FS, 2.0, f);
            println!("band {band}, {f} Hz: {gr:.2} dB reduction, harmonics {thd:.1} dB");
            assert!((4.5..7.0).contains(&gr), "band {band}: {gr} dB");
            assert!(thd < -70.0, "band {band}, {f} Hz: {thd:.1} dB");
        }
    }

    #[test]
    fn non_finite_input_recovers_within_a_block() {
        let mut mb = MultibandCompressor::new(FS, 64, 2);
        let mut l = vec![0.1f32; 64];
        let mut r = vec![0.1f32; 64];
        l[5] = f32::NAN;
        mb.process(&mut [&mut l, &mut r]);
        assert!(l.iter().chain(&r).all(|v| v.is_finite()));
        let mut l = vec![0.1f32; 64];
        let mut r = vec![0.1f32; 64];
        mb.process(&mut [&mut l, &mut r]);
        assert!(l.iter().chain(&r).all(|v| v.is_finite() && v.abs() < 1.0));
    }
}
