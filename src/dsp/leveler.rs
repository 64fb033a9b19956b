//! Loudness leveler: glides the programme's gain toward a requested correction in dB.
//!
//! The analysis (elsewhere) asks for a correction in dB; this unit clamps it to
//! `[−max_cut, +max_boost]` and moves its gain there as a one-pole glide in dB
//! (time constant `smoothing_ms`, default 300 ms) whose speed is capped at `rate` dB per second
//! (default 3 dB/s) — a slew-rate-limited first-order smoother. It is updated every 32 samples:
//!
//! `Δ = clamp((target − current) · (1 − exp(−32 / (τ·fs))), −rate·32/fs, +rate·32/fs)`,
//!
//! and the gain within the 32 samples follows a straight line in dB (a constant per-sample
//! ratio, landing exactly on the period's end), so no sample moves by more than `rate / fs` dB.
//! The periods are counted in absolute samples, carried across calls, so the output does not
//! depend on how the audio is split into blocks. A one-pole
//! step never passes its target, so there is no overshoot; within 0.001 dB it snaps onto it, and a
//! 0 dB resting gain leaves the samples untouched (bit-exact).

use super::sanitize;

/// Decibels to a gain in double precision: the glide multiplies by a per-sample ratio, and in
/// double precision 32 products land on the period's end to far below a float's resolution.
fn db_to_gain_f64(db: f32) -> f64 {
    10f64.powf(db as f64 / 20.0)
}

/// Samples between two updates of the glide.
const CONTROL_PERIOD: usize = 32;
/// Distance in dB under which the gain snaps onto its target.
const SNAP_DB: f32 = 1.0e-3;

/// A slew-limited gain toward a loudness correction.
pub struct Leveler {
    /// Per-sample gains of the current control period.
    gains: [f32; CONTROL_PERIOD],
    max_sample_rate: f32,
    sample_rate: f32,
    correction_db: f32,
    max_boost_db: f32,
    max_cut_db: f32,
    rate_db_per_s: f32,
    smoothing_ms: f32,
    // Derived.
    target_db: f32,
    max_step_db: f32,
    pole: f32,
    dirty: bool,
    // State.
    /// The gain in dB at the last control-period boundary.
    current_db: f32,
    /// The gain now (linear), its per-sample ratio in this period, and where the period ends.
    gain: f64,
    ratio: f64,
    period_end_db: f32,
    /// Samples into the current control period.
    phase: usize,
}

impl Leveler {
    /// A leveler at 0 dB for up to `max_sample_rate` and blocks of `max_block` samples (the gain
    /// is common to all channels).
    pub fn new(max_sample_rate: f32, _max_block: usize, _channels: usize) -> Self {
        let mut l = Self {
            gains: [1.0; CONTROL_PERIOD],
            max_sample_rate,
            sample_rate: max_sample_rate,
            correction_db: 0.0,
            max_boost_db: 12.0,
            max_cut_db: 12.0,
            rate_db_per_s: 3.0,
            smoothing_ms: 300.0,
            target_db: 0.0,
            max_step_db: 0.0,
            pole: 0.0,
            dirty: true,
            current_db: 0.0,
            gain: 1.0,
            ratio: 1.0,
            period_end_db: 0.0,
            phase: 0,
        };
        l.recompute();
        l
    }

    /// Sets the sample rate (at most the one given to `new`).
    pub fn set_sample_rate(&mut self, fs: f32) {
        self.sample_rate = fs.clamp(1.0, self.max_sample_rate);
        self.dirty = true;
    }

    /// Sets the requested loudness correction in dB (positive boosts).
    pub fn set_correction_db(&mut self, db: f32) {
        if db.is_finite() {
            self.correction_db = db;
            self.dirty = true;
        }
    }

    /// Sets the largest speed of the gain in dB per second (at least 0.01).
    pub fn set_rate_db_per_s(&mut self, rate: f32) {
        if rate.is_finite() {
            self.rate_db_per_s = rate.max(0.01);
            self.dirty = true;
        }
    }

    /// Sets the largest boost in dB (0 or more).
    pub fn set_max_boost_db(&mut self, db: f32) {
        if db.is_finite() {
            self.max_boost_db = db.max(0.0);
            self.dirty = true;
        }
    }

    /// Sets the largest cut in dB, as a positive number (0 or more).
    pub fn set_max_cut_db(&mut self, db: f32) {
        if db.is_finite() {
            self.max_cut_db = db.abs();
            self.dirty = true;
        }
    }

    /// Sets the glide's time constant in ms (at least 1).
    pub fn set_smoothing_ms(&mut self, ms: f32) {
        if ms.is_finite() {
            self.smoothing_ms = ms.max(1.0);
            self.dirty = true;
        }
    }

    /// The gain in dB at the end of the last block.
    pub fn current_db(&self) -> f32 {
        self.current_db
    }

    /// The clamped correction the gain is heading for.
    pub fn target_db(&self) -> f32 {
        self.correction_db
            .clamp(-self.max_cut_db, self.max_boost_db)
    }

    /// No latency.
    pub fn latency(&self) -> usize {
        0
    }

    /// Jumps to the (clamped) target.
    pub fn reset(&mut self) {
        self.recompute();
        self.current_db = self.target_db;
        self.period_end_db = self.target_db;
        self.gain = db_to_gain_f64(self.target_db);
        self.ratio = 1.0;
        self.phase = 0;
    }

    fn recompute(&mut self) {
        self.target_db = self.target_db();
        let period = CONTROL_PERIOD as f32 / self.sample_rate;
        self.max_step_db = self.rate_db_per_s * period;
        self.pole = 1.0 - (-period / (self.smoothing_ms * 0.001)).exp();
        self.dirty = false;
    }

    /// Applies the gain in place.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        if !sanitize::all_finite(channels) {
            sanitize::replace_non_finite(channels);
            self.reset();
        }
        if self.dirty {
            self.recompute();
        }
        let len = channels.iter().map(|c| c.len()).min().unwrap_or(0);
        let mut start = 0;
        while start < len {
            if self.phase == 0 {
                self.begin_period();
            }
            // The control periods are counted across calls: the gain at every sample is the
            // same however the audio is split into blocks.
            let m = (len - start).min(CONTROL_PERIOD - self.phase);
            let end = start + m;
            if self.ratio == 1.0 {
                if self.gain != 1.0 {
                    let g = self.gain as f32;
                    for ch in channels.iter_mut() {
                        for x in ch[start..end].iter_mut() {
                            *x *= g;
                        }
                    }
                }
            } else {
                let gains = &mut self.gains[..m];
                let mut g = self.gain;
                for (k, slot) in gains.iter_mut().enumerate() {
                    g = if self.phase + k + 1 == CONTROL_PERIOD {
                        // Land exactly on the period's end, so rounding never accumulates.
                        db_to_gain_f64(self.period_end_db)
                    } else {
                        g * self.ratio
                    };
                    *slot = g as f32;
                }
                self.gain = g;
                for ch in channels.iter_mut() {
                    for (x, &g) in ch[start..end].iter_mut().zip(gains.iter()) {
                        *x *= g;
                    }
                }
            }
            self.phase = (self.phase + m) % CONTROL_PERIOD;
            if self.phase == 0 {
                self.current_db = self.period_end_db;
            }
            start = end;
        }
    }

    /// Decides where the gain is at the end of the control period that starts now, and the
    /// per-sample ratio (a straight line in dB) that takes it there.
    fn begin_period(&mut self) {
        let err = self.target_db - self.current_db;
        let next = if err == 0.0 {
            self.current_db
        } else {
            let lim = self.max_step_db;
            let step = (err * self.pole).clamp(-lim, lim);
            if (err - step).abs() < SNAP_DB && err.abs() <= lim {
                self.target_db
            } else {
                self.current_db + step
            }
        };
        self.period_end_db = next;
        self.ratio = if next == self.current_db {
            1.0
        } else {
            db_to_gain_f64((next - self.current_db) / CONTROL_PERIOD as f32)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::gain_to_db;

    /// Runs DC through the leveler for `secs` seconds in odd blocks; returns the gain in dB per sample.
    fn run(l: &mut Leveler, fs: f32, secs: f32) -> Vec<f32> {
        let n = (fs * secs) as usize;
        let mut out = Vec::with_capacity(n);
        let mut left = n;
        while left > 0 {
            let m = left.min(300);
            let mut a = vec![1.0f32; m];
            let mut b = vec![1.0f32; m];
            l.process(&mut [&mut a, &mut b]);
            assert_eq!(a, b);
            out.extend(a.iter().map(|&x| gain_to_db(x)));
            left -= m;
        }
        out
    }

    #[test]
    fn rate_limit_holds_while_far_from_target() {
        let fs = 48_000.0;
        let mut l = Leveler::new(fs, 512, 2);
        l.set_rate_db_per_s(6.0);
        l.set_max_boost_db(20.0);
        l.set_correction_db(15.0);
        let db = run(&mut l, fs, 1.0);
        // No sample moves by more than 6 dB/s / fs (plus float rounding).
        let max_step = db.windows(2).map(|w| w[1] - w[0]).fold(0.0, f32::max);
        assert!(max_step <= 6.0 / fs * 1.02, "{max_step}");
        // Far from the target the cap binds: after 1 s the gain has risen 6 dB, within 1 %.
        let last = *db.last().unwrap();
        assert!((last - 6.0).abs() < 0.06, "{last}");
    }

    #[test]
    fn reaches_target_without_overshoot() {
        let fs = 44_100.0;
        let mut l = Leveler::new(fs, 256, 1);
        l.set_rate_db_per_s(10.0);
        l.set_smoothing_ms(200.0);
        l.set_correction_db(-4.0);
        let db = run(&mut l, fs, 4.0);
        // Monotonic, never past −4 dB (allowing float rounding), and exactly there at the end.
        assert!(db.windows(2).all(|w| w[1] <= w[0] + 1e-5));
        assert!(db.iter().all(|&d| d >= -4.0 - 1e-4), "overshoot");
        assert_eq!(l.current_db(), -4.0);
        // A one-pole with τ = 200 ms capped at 10 dB/s: 2 dB left after about
        // 0.2 s (capped stretch) + 0.2·ln 2 s, so it is within 0.1 dB by 1.2 s but not by 0.4 s.
        let at = |s: f32| db[(s * fs) as usize];
        assert!(at(1.2) < -3.9, "{}", at(1.2));
        assert!(at(0.4) > -3.5, "{}", at(0.4));
    }

    #[test]
    fn corrections_are_clamped() {
        let fs = 48_000.0;
        let mut l = Leveler::new(fs, 512, 1);
        l.set_max_boost_db(6.0);
        l.set_max_cut_db(3.0);
        l.set_correction_db(30.0);
        assert_eq!(l.target_db(), 6.0);
        l.reset();
        assert_eq!(l.current_db(), 6.0);
        l.set_correction_db(-30.0);
        l.set_rate_db_per_s(100.0);
        l.set_smoothing_ms(10.0);
        run(&mut l, fs, 1.0);
        assert_eq!(l.current_db(), -3.0);
    }

    #[test]
    fn resting_at_zero_is_bit_exact_and_non_finite_is_silenced() {
        let mut l = Leveler::new(48_000.0, 64, 1);
        let mut a: Vec<f32> = (0..64).map(|i| (i as f32 * 0.3).sin()).collect();
        let orig = a.clone();
        l.process(&mut [&mut a]);
        assert_eq!(a, orig);
        a[5] = f32::NAN;
        l.process(&mut [&mut a]);
        assert_eq!(a[5], 0.0);
        assert!(a.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn the_glide_does_not_depend_on_the_block_split() {
        let fs = 44_100.0;
        let render = |blocks: &[usize]| {
            let mut l = Leveler::new(fs, 512, 1);
            l.set_correction_db(7.5);
            let mut out = Vec::new();
            // 400 stretches of 100 samples, each cut into `blocks`.
            for stretch in 0..400 {
                if stretch == 150 {
                    l.set_correction_db(-2.0);
                }
                for &n in blocks {
                    let mut x = vec![0.5f32; n];
                    l.process(&mut [&mut x]);
                    out.extend(x);
                }
            }
            out
        };
        let a = render(&[100]);
        let b = render(&[1, 7, 92]);
        // Both change their request after 15,000 samples, so they must agree sample for sample.
        assert_eq!(a.len(), b.len());
        assert_eq!(a.iter().zip(&b).position(|(x, y)| x != y), None);
        // And the gain did glide up, then down.
        assert!(a[14_999] > 0.5 * 1.05 && *a.last().unwrap() < 0.5);
    }
}
