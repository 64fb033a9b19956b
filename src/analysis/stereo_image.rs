//! Stereo image: phase correlation and side/mid energy ratio.
//!
//! Correlation is the Pearson-style normalised cross-correlation of the channels about zero,
//! `r = E[LR] / sqrt(E[L^2] E[R^2])` (the goniometer "phase correlation" meter, IEC 60268-18),
//! with energies averaged by a one-pole over [`TAU_S`] seconds. Mid `M = (L+R)/2`, side
//! `S = (L-R)/2`; the side/mid ratio is `E[S^2] / E[M^2]` (0 for mono, 1 for independent
//! channels of equal level, large for anti-phase).

use super::one_pole;

/// Averaging time constant, seconds.
pub const TAU_S: f32 = 3.0;

/// Streaming stereo meter fed one hop at a time.
#[derive(Clone, Debug)]
pub struct StereoImage {
    a: f32,
    count: u32,
    /// Plain means over every active hop instead of the one-pole (see [`Self::set_whole_pass`]).
    whole_pass: bool,
    ll: f32,
    rr: f32,
    lr: f32,
}

impl StereoImage {
    /// A meter updated every `hop` samples at `sample_rate`.
    pub fn new(sample_rate: f32, hop: usize) -> Self {
        Self {
            a: one_pole(hop as f32 / sample_rate, TAU_S),
            count: 0,
            whole_pass: false,
            ll: 0.0,
            rr: 0.0,
            lr: 0.0,
        }
    }

    /// Adds one hop. A mono input (`right == left`) reads correlation 1. `active` gates the
    /// update so silence does not pull the averages.
    pub fn process(&mut self, left: &[f32], right: &[f32], active: bool) {
        if !active {
            return;
        }
        let ll = crate::dsp::lanes::dot(left, left);
        let rr = crate::dsp::lanes::dot(right, right);
        let lr = crate::dsp::lanes::dot(left, right);
        let n = left.len().max(1) as f32;
        self.count = self.count.saturating_add(1);
        let mean = 1.0 / self.count as f32;
        let a = if self.whole_pass {
            mean
        } else {
            self.a.max(mean)
        };
        self.ll += a * (ll / n - self.ll);
        self.rr += a * (rr / n - self.rr);
        self.lr += a * (lr / n - self.lr);
    }

    /// Averages over the whole pass (learning) instead of the last [`TAU_S`] seconds.
    pub fn set_whole_pass(&mut self, whole_pass: bool) {
        self.whole_pass = whole_pass;
    }

    /// Phase correlation -1..1 (1 when there is no signal yet).
    pub fn correlation(&self) -> f32 {
        let d = (self.ll * self.rr).sqrt();
        if d < 1.0e-12 {
            1.0
        } else {
            (self.lr / d).clamp(-1.0, 1.0)
        }
    }

    /// Side/mid energy ratio, `E[S^2]/E[M^2]` (0 = mono).
    pub fn side_mid_ratio(&self) -> f32 {
        let m = 0.25 * (self.ll + self.rr + 2.0 * self.lr);
        let s = 0.25 * (self.ll + self.rr - 2.0 * self.lr);
        if m < 1.0e-12 {
            if s < 1.0e-12 {
                0.0
            } else {
                100.0
            }
        } else {
            (s / m).min(100.0)
        }
    }

    /// Stereo width 0..1: side share of the total energy, `E[S^2] / (E[M^2] + E[S^2])`.
    pub fn width(&self) -> f32 {
        let r = self.side_mid_ratio();
        r / (1.0 + r)
    }

    /// Clears the averages.
    pub fn reset(&mut self) {
        self.count = 0;
        self.ll = 0.0;
        self.rr = 0.0;
        self.lr = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_signals::*;

    fn run(l: &[f32], r: &[f32]) -> StereoImage {
        let mut s = StereoImage::new(48_000.0, 512);
        for (a, b) in l.chunks(512).zip(r.chunks(512)) {
            s.process(a, b, true);
        }
        s
    }

    #[test]
    fn identical_channels_correlate_fully() {
        let x = pink(1, 48_000 * 5, 1.0);
        let s = run(&x, &x);
        assert!((s.correlation() - 1.0).abs() < 1.0e-4);
        assert!(s.side_mid_ratio() < 1.0e-4);
    }

    #[test]
    fn independent_noise_is_uncorrelated() {
        let s = run(&white(1, 48_000 * 5, 0.5), &white(2, 48_000 * 5, 0.5));
        assert!(s.correlation().abs() < 0.05, "{}", s.correlation());
        assert!((s.side_mid_ratio() - 1.0).abs() < 0.1);
    }

    #[test]
    fn inverted_channel_reads_minus_one() {
        let x = white(5, 48_000 * 2, 0.5);
        let y: Vec<f32> = x.iter().map(|v| -v).collect();
        assert!((run(&x, &y).correlation() + 1.0).abs() < 1.0e-4);
    }
}
