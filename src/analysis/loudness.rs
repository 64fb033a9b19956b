//! Loudness after ITU-R BS.1770-4 and EBU R 128 / Tech 3341 / Tech 3342: K-weighting, 400 ms
//! momentary and 3 s short-term windows, two-stage gated integrated loudness (-70 LUFS absolute,
//! -10 LU relative), loudness range (10th to 95th percentile of short-term loudness gated at
//! -70 LUFS and -20 LU). True peak comes from the limiter's own 4x polyphase interpolator
//! ([`Oversampler4x`]): the same measurement (BS.1770-4 Annex 2) at a quarter of `ebur128`'s
//! cost. The command-line tool's render measures its output with this meter too; its tests
//! measure with the `ebur128` crate alone, and the tests here hold this meter to it.
//!
//! The K-weighting is [`KWeighting`] (`ebur128`'s filter, rearranged to run twice as fast, see
//! there), which returns each 100 ms sub-block's energy directly; the gated integrated loudness
//! and the range are formed from those energies by [`Gating`] (fixed 0.1 LU histograms), so
//! memory is bounded however long the stream runs, neither adding frames nor querying
//! allocates, and no sample is summed twice.

use super::gating::{energy_to_lufs, Gating};

use crate::dsp::k_weighting::KWeighting;
use crate::dsp::oversampler::Oversampler4x;

/// Loudness below which a reading is treated as silence (the BS.1770 absolute gate).
pub const ABSOLUTE_GATE_LUFS: f32 = -70.0;

/// A snapshot of the loudness meter. Values are `-inf`-free: silence reads [`ABSOLUTE_GATE_LUFS`]
/// or lower, never NaN.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LoudnessReading {
    /// Momentary loudness (400 ms), LUFS.
    pub momentary: f32,
    /// Short-term loudness (3 s), LUFS.
    pub short_term: f32,
    /// Gated integrated loudness since the last reset, LUFS.
    pub integrated: f32,
    /// Loudness range since the last reset, LU.
    pub range: f32,
    /// Maximum true peak since the last reset over all channels, dBTP.
    pub true_peak: f32,
}

/// A BS.1770 meter fed planar blocks of any length.
///
/// Momentary and short-term loudness are formed from 100 ms K-weighted sub-block energies (the
/// gating-block step of BS.1770-4 / EBU Tech 3341): after every 100 ms of input the meter reads
/// the energy of that sub-block once and keeps the last 30, so momentary = mean of 4 and
/// short-term = mean of 30, exactly what a 400 ms / 3 s window ending on that boundary reads,
/// at a cost independent of how often they are queried. Integrated loudness and loudness range
/// are refreshed at the same boundaries. Readings therefore update every 100 ms.
pub struct LoudnessMeter {
    weighting: KWeighting,
    /// The K-weighted energy of the current 100 ms step so far (summed over channels).
    step_energy: f64,
    /// True peak: the limiter's own 4x polyphase interpolator (BS.1770-4 Annex 2 style), run
    /// here instead of `ebur128`'s, which cost a quarter of the whole analysis.
    oversampler: Oversampler4x,
    /// The interpolated peak envelope of the current 100 ms step.
    peak_envelope: Vec<f32>,
    /// The highest true peak since the last reset (linear).
    max_peak: f32,
    /// Only the highest true peak is wanted: stretches that cannot exceed it skip the
    /// interpolation, and [`Self::add`] returns a lower bound of a block's peak.
    max_peak_only: bool,
    channels: usize,
    step: usize,
    fill: usize,
    gating: Gating,
    cached: LoudnessReading,
}

#[cfg(test)]
fn finite_lufs(x: Result<f64, ebur128::Error>) -> f32 {
    match x {
        Ok(v) if v.is_finite() => (v as f32).max(-200.0),
        _ => -200.0,
    }
}

fn energy_lufs(e: f64) -> f32 {
    (energy_to_lufs(e) as f32).max(-200.0)
}

impl LoudnessMeter {
    /// A meter for `channels` (1 or 2; for 2 both are weighted 1.0 as BS.1770 left/right) at
    /// `sample_rate` Hz. Allocates everything here.
    pub fn new(sample_rate: u32, channels: usize) -> Self {
        let rate = sample_rate.max(8000);
        let channels = channels.clamp(1, crate::dsp::MAX_CHANNELS);
        let step = (rate as usize + 5) / 10;
        Self {
            weighting: KWeighting::new(rate as f64),
            step_energy: 0.0,
            oversampler: Oversampler4x::new(rate as f32, step, channels),
            peak_envelope: vec![0.0; step],
            max_peak: 0.0,
            max_peak_only: false,
            channels,
            step,
            fill: 0,
            gating: Gating::new(),
            cached: LoudnessReading {
                momentary: -200.0,
                short_term: -200.0,
                integrated: -200.0,
                range: 0.0,
                true_peak: -200.0,
            },
        }
    }

    /// A meter that keeps only the highest true peak (see [`Self::add`]), at a fraction of the
    /// interpolation's cost on programme material.
    pub fn max_peak_only(mut self) -> Self {
        self.max_peak_only = true;
        self
    }

    /// Adds a block of planar samples (all channels of equal length, at least `channels` of
    /// them). Returns the block's true peak (linear, max over channels); with
    /// [`Self::max_peak_only`], a lower bound of it that is exact when it is a new maximum.
    pub fn add(&mut self, channels: &[&[f32]]) -> f32 {
        self.add_above(channels, 0.0)
    }

    /// [`Self::add`] for a caller that needs a block's true peak only where it reaches `floor`
    /// (linear): stretches whose reach cannot attain it skip the interpolation. The return is
    /// the block's exact true peak when that is at least `floor`, and otherwise a lower bound of
    /// it (so the maximum of a floor that was itself attained and the returns stays exact).
    /// Loudness and the meter's own maximum true peak are exact either way. On a
    /// [`Self::max_peak_only`] meter the floor is the maximum so far.
    pub fn add_above(&mut self, channels: &[&[f32]], floor: f32) -> f32 {
        if channels.len() < self.channels {
            return 0.0;
        }
        let len = channels[..self.channels]
            .iter()
            .map(|c| c.len())
            .min()
            .unwrap_or(0);
        let mut pos = 0;
        let mut peak = 0.0f64;
        while pos < len {
            let k = (self.step - self.fill).min(len - pos);
            let sub: [&[f32]; crate::dsp::MAX_CHANNELS] =
                std::array::from_fn(|c| channels.get(c).map_or(&[][..], |ch| &ch[pos..pos + k]));
            self.step_energy += self.weighting.energy(&sub[..self.channels], k);
            let envelope = &mut self.peak_envelope[..k];
            // A skipped stretch stays under the maximum so far, which was attained: the
            // meter's own maximum remains exact whatever the floor.
            let skip_below = if self.max_peak_only {
                self.max_peak
            } else {
                floor.min(self.max_peak)
            };
            self.oversampler
                .peak_envelope(&sub[..self.channels], envelope, skip_below);
            let block_peak = envelope.iter().fold(0.0f32, |a, &x| a.max(x));
            peak = peak.max(block_peak as f64);
            self.max_peak = self.max_peak.max(block_peak);
            self.fill += k;
            pos += k;
            if self.fill == self.step {
                self.fill = 0;
                self.on_step();
            }
        }
        peak as f32
    }

    fn on_step(&mut self) {
        self.gating.push(self.step_energy / self.step as f64);
        self.step_energy = 0.0;
        self.cached.momentary = energy_lufs(self.gating.mean_of_last(4));
        self.cached.short_term = energy_lufs(self.gating.mean_of_last(30));
        self.cached.integrated = (self.gating.integrated() as f32).max(-200.0);
        self.cached.range = self.gating.range() as f32;
    }

    /// Momentary loudness (400 ms), LUFS.
    pub fn momentary(&self) -> f32 {
        self.cached.momentary
    }

    /// Short-term loudness (3 s), LUFS.
    pub fn short_term(&self) -> f32 {
        self.cached.short_term
    }

    /// Gated integrated loudness, LUFS (-200 until a block passes the gates).
    pub fn integrated(&self) -> f32 {
        self.cached.integrated
    }

    /// Loudness range, LU.
    pub fn range(&self) -> f32 {
        self.cached.range
    }

    /// Maximum true peak since the last reset, dBTP.
    pub fn true_peak_db(&self) -> f32 {
        crate::dsp::gain_to_db(self.max_peak)
    }

    /// All readings at once.
    pub fn reading(&self) -> LoudnessReading {
        LoudnessReading {
            true_peak: self.true_peak_db(),
            ..self.cached
        }
    }

    /// Clears all history (integrated, range and peaks restart).
    pub fn reset(&mut self) {
        self.weighting.reset();
        self.step_energy = 0.0;
        self.oversampler.reset();
        self.max_peak = 0.0;
        self.fill = 0;
        self.gating.reset();
        self.cached = LoudnessReading {
            momentary: -200.0,
            short_term: -200.0,
            integrated: -200.0,
            range: 0.0,
            true_peak: -200.0,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_signals::*;
    use ebur128::{EbuR128, Mode};

    fn measure(l: &[f32], r: &[f32]) -> LoudnessReading {
        let mut m = LoudnessMeter::new(48_000, 2);
        for (a, b) in l.chunks(512).zip(r.chunks(512)) {
            m.add(&[a, b]);
        }
        m.reading()
    }

    /// EBU Tech 3341 test 1/2: stereo 1 kHz sine at -23 / -33 dBFS per channel reads -23 / -33.
    #[test]
    fn tech3341_sine_reads_its_level() {
        for level in [-23.0f32, -33.0] {
            let s = sine(48_000, 1000.0, level, 20.0);
            let r = measure(&s, &s);
            assert!(
                (r.integrated - level).abs() < 0.1,
                "{level}: {}",
                r.integrated
            );
            assert!(
                (r.short_term - level).abs() < 0.1,
                "{level}: {}",
                r.short_term
            );
            assert!(
                (r.momentary - level).abs() < 0.1,
                "{level}: {}",
                r.momentary
            );
            assert!((r.true_peak - level).abs() < 0.2, "{}", r.true_peak);
        }
    }

    /// EBU Tech 3342 case 1 style: 20 s at -20 then 20 s at -30 (1 kHz) gives LRA 10 LU.
    #[test]
    fn tech3342_two_levels_give_range_of_ten() {
        let mut s = sine(48_000, 1000.0, -20.0, 20.0);
        s.extend(sine(48_000, 1000.0, -30.0, 20.0));
        let r = measure(&s, &s);
        assert!((r.range - 10.0).abs() < 1.0, "LRA {}", r.range);
    }

    /// The cached 100 ms sub-block readings agree with ebur128's own windows.
    #[test]
    fn sub_block_readings_match_ebur128_windows() {
        let x = crate::analysis::test_signals::pink(5, 48_000 * 7 + 2400, 0.5);
        let mut m = LoudnessMeter::new(48_000, 1);
        m.add(&[&x[..48_000 * 7]]);
        let mut reference = EbuR128::new(1, 48_000, Mode::M | Mode::S).unwrap();
        reference
            .add_frames_planar_f32(&[&x[..48_000 * 7]])
            .unwrap();
        let direct = |w| finite_lufs(reference.loudness_window(w));
        assert!((m.momentary() - direct(400)).abs() < 1.0e-3);
        assert!((m.short_term() - direct(3000)).abs() < 1.0e-3);
    }

    /// With a floor, each block's return is its exact true peak where that reaches the floor
    /// and a lower bound otherwise; the meter's maximum and loudness are unaffected.
    #[test]
    fn a_floor_skips_only_what_cannot_reach_it() {
        // Pink noise whose level swings by 20 dB every 0.25 s (many stretches far under the
        // peak), then a sine whose level rises slowly (each hop just above the last).
        let n = 48_000 * 4;
        let base = pink(11, n, 0.5);
        let mut x: Vec<f32> = base
            .iter()
            .enumerate()
            .map(|(i, &v)| if (i / 12_000) % 2 == 0 { v } else { 0.1 * v })
            .collect();
        x.extend((0..n).map(|i| {
            let t = i as f32 / 48_000.0;
            (0.1 + 0.2 * t) * (std::f32::consts::TAU * 3_001.0 * t).sin()
        }));
        let mut exact = LoudnessMeter::new(48_000, 1);
        let mut floored = LoudnessMeter::new(48_000, 1);
        let mut block_max = 0.0f32;
        let (mut exact_hits, mut bounds) = (0, 0);
        for (k, hop) in x.chunks(512).enumerate() {
            if k % 40 == 0 {
                block_max = 0.0;
            }
            let want = exact.add(&[hop]);
            let got = floored.add_above(&[hop], block_max);
            if want >= block_max {
                assert_eq!(got, want, "hop {k}");
                exact_hits += 1;
            } else {
                assert!(got <= want, "hop {k}: {got} > {want}");
                bounds += (got < want) as usize;
            }
            block_max = block_max.max(got);
        }
        assert!(exact_hits > 0 && bounds > 0, "{exact_hits} {bounds}");
        assert_eq!(floored.true_peak_db(), exact.true_peak_db());
        assert_eq!(floored.integrated(), exact.integrated());
    }

    #[test]
    fn silence_reads_floor_not_nan() {
        let z = vec![0.0f32; 48_000];
        let r = measure(&z, &z);
        assert!(r.integrated <= -70.0 && r.momentary <= -70.0);
        assert!(r.range.is_finite());
    }
}
