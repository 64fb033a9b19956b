//! Dynamics descriptors, averaged over time with one-pole averages (cumulative means until the
//! pole's own weight takes over, so short inputs are not biased toward zero).
//!
//! - Crest factor: `20 log10(peak) - 10 log10(mean square)` over blocks of about one second,
//!   averaged in dB (a sine reads 3.01 dB, uniform white noise 4.77 dB).
//! - Dynamic-range variation: standard deviation of the block crest factors, dB.
//! - Loudness variation: standard deviation of short-term loudness (BS.1770, 3 s) over active
//!   hops, LU (Skovenborg 2012 uses the same statistic for "loudness range"-like descriptors).
//! - Peak consistency: `exp(-sd / 6 dB)` of the block peak levels, 1 = every block peaks alike.
//! - Transient density: detected onsets per second of active signal.
//! - Silence ratio: share of hops whose mean square is below [`SILENCE_DB`].

use super::{one_pole, power_to_db};

/// Hop level below which a hop counts as silence, dBFS (mean square).
pub const SILENCE_DB: f32 = -60.0;
/// Time constant of the slow statistics, seconds.
pub const TAU_S: f32 = 20.0;

#[derive(Clone, Copy, Debug, Default)]
struct MeanVar {
    n: u32,
    mean: f32,
    var: f32,
}

impl MeanVar {
    fn add(&mut self, x: f32, a: f32) {
        self.n = self.n.saturating_add(1);
        let a = a.max(1.0 / self.n as f32);
        // Exponentially weighted mean and variance without cancellation (Finch 2009,
        // "Incremental calculation of weighted mean and variance"); a = 1/n gives the exact
        // population statistics.
        let d = x - self.mean;
        self.mean += a * d;
        self.var = (1.0 - a) * (self.var + a * d * d);
    }
    fn sd(&self) -> f32 {
        self.var.max(0.0).sqrt()
    }
}

/// Streaming dynamics meter fed one hop at a time.
#[derive(Clone, Debug)]
pub struct Dynamics {
    frame_rate: f32,
    hops_per_block: usize,
    hop_count: usize,
    block_peak: f32,
    block_ms: f32,
    block_active: usize,
    hop_a: f32,
    block_a: f32,
    /// Plain means over the whole pass instead of the one-poles (see [`Self::set_whole_pass`]).
    whole_pass: bool,
    crest: MeanVar,
    peaks: MeanVar,
    loudness: MeanVar,
    silence: MeanVar,
    onsets: MeanVar,
}

impl Dynamics {
    /// A meter updated `frame_rate` times per second.
    pub fn new(frame_rate: f32) -> Self {
        let hops_per_block = (frame_rate.round() as usize).max(1);
        Self {
            frame_rate,
            hops_per_block,
            hop_count: 0,
            block_peak: 0.0,
            block_ms: 0.0,
            block_active: 0,
            hop_a: one_pole(1.0 / frame_rate, TAU_S),
            block_a: one_pole(hops_per_block as f32 / frame_rate, TAU_S),
            whole_pass: false,
            crest: MeanVar::default(),
            peaks: MeanVar::default(),
            loudness: MeanVar::default(),
            silence: MeanVar::default(),
            onsets: MeanVar::default(),
        }
    }

    /// Adds one hop: its sample peak (linear, max over channels), mean square (mean over
    /// channels), the current short-term loudness (LUFS; `None` while the 3 s window is not yet
    /// full), whether the hop is active (above the quiet gate) and whether an onset was detected.
    pub fn process(
        &mut self,
        peak: f32,
        mean_square: f32,
        short_term: Option<f32>,
        active: bool,
        onset: bool,
    ) {
        // A coefficient of 0 makes every statistic a plain mean (see `MeanVar::add`).
        let (hop_a, block_a) = if self.whole_pass {
            (0.0, 0.0)
        } else {
            (self.hop_a, self.block_a)
        };
        let silent = power_to_db(mean_square) < SILENCE_DB;
        self.silence.add(if silent { 1.0 } else { 0.0 }, hop_a);
        if active {
            if let Some(st) = short_term {
                self.loudness.add(st, hop_a);
            }
            self.onsets
                .add(if onset { self.frame_rate } else { 0.0 }, hop_a);
            self.block_active += 1;
        }
        self.block_peak = self.block_peak.max(peak);
        self.block_ms += mean_square;
        self.hop_count += 1;
        if self.hop_count == self.hops_per_block {
            let ms = self.block_ms / self.hops_per_block as f32;
            // A block counts when most of it was active and it holds signal.
            if 2 * self.block_active > self.hops_per_block && ms > 1.0e-12 && self.block_peak > 0.0
            {
                let peak_db = crate::dsp::gain_to_db(self.block_peak);
                self.crest.add(peak_db - power_to_db(ms), block_a);
                self.peaks.add(peak_db, block_a);
            }
            self.hop_count = 0;
            self.block_peak = 0.0;
            self.block_ms = 0.0;
            self.block_active = 0;
        }
    }

    /// Averages over the whole pass (learning) instead of the last [`TAU_S`] seconds or so.
    pub fn set_whole_pass(&mut self, whole_pass: bool) {
        self.whole_pass = whole_pass;
    }

    /// Mean crest factor, dB (0 before the first active block).
    pub fn crest_db(&self) -> f32 {
        self.crest.mean
    }
    /// Standard deviation of the block crest factors, dB.
    pub fn dynamic_range_variation_db(&self) -> f32 {
        self.crest.sd()
    }
    /// Standard deviation of short-term loudness, LU.
    pub fn loudness_variation_lu(&self) -> f32 {
        self.loudness.sd()
    }
    /// Peak consistency 0..1.
    pub fn peak_consistency(&self) -> f32 {
        if self.peaks.n == 0 {
            0.0
        } else {
            (-self.peaks.sd() / 6.0).exp()
        }
    }
    /// Onsets per second of active signal.
    pub fn transient_density(&self) -> f32 {
        self.onsets.mean
    }
    /// Share of silent hops, 0..1.
    pub fn silence_ratio(&self) -> f32 {
        self.silence.mean
    }
    /// Number of active one-second blocks seen.
    pub fn blocks(&self) -> u32 {
        self.crest.n
    }

    /// Clears all state.
    pub fn reset(&mut self) {
        *self = Self::new(self.frame_rate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_signals::*;

    fn run(x: &[f32], st: impl Fn(usize) -> f32) -> Dynamics {
        let mut d = Dynamics::new(48_000.0 / 512.0);
        for (i, h) in x.chunks_exact(512).enumerate() {
            let peak = h.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let ms = h.iter().map(|v| v * v).sum::<f32>() / 512.0;
            d.process(peak, ms, Some(st(i)), true, false);
        }
        d
    }

    #[test]
    fn crest_of_sine_and_noise() {
        let d = run(&sine(48_000, 997.0, -6.0, 10.0), |_| -9.0);
        assert!((d.crest_db() - 3.01).abs() < 0.1, "{}", d.crest_db());
        assert!(d.loudness_variation_lu() < 1.0e-3);
        assert!(d.peak_consistency() > 0.99);
        let w = run(&white(1, 48_000 * 10, 0.9), |_| -9.0);
        assert!((w.crest_db() - 4.77).abs() < 0.3, "{}", w.crest_db());
    }

    #[test]
    fn alternating_loudness_shows_variation_and_silence_counts() {
        let mut x = sine(48_000, 997.0, -6.0, 5.0);
        x.extend(vec![0.0; 48_000 * 5]);
        let d = run(&x, |i| if i % 200 < 100 { -10.0 } else { -20.0 });
        assert!(
            (d.loudness_variation_lu() - 5.0).abs() < 0.5,
            "{}",
            d.loudness_variation_lu()
        );
        assert!(
            (d.silence_ratio() - 0.5).abs() < 0.05,
            "{}",
            d.silence_ratio()
        );
    }
}
