//! A gain in dB that glides to its target along a straight line in dB (input trim, output gain).
//!
//! When the target changes, the gain moves from where it is to the new target in exactly
//! `glide_ms` (default 30 ms) at a constant rate in dB per sample, so the largest per-sample step
//! is `|Δ dB| / (glide · fs)`. A line in dB is a geometric sequence in linear gain,
//! `g[i + 1] = g[i] · 10^(step / 20)`; it is rendered by that recurrence in f64, re-anchored on the
//! exact `10^(dB / 20)` every 32 samples so rounding never accumulates. At rest the gain is a constant,
//! and a 0 dB gain leaves the samples untouched (bit-exact).

use super::{db_to_gain, sanitize};

/// Samples between two exact dB-to-gain conversions of a ramp.
const RAMP_CHUNK: usize = 32;

/// Fills `gains` with the linear gains of a straight line in dB: sample `i` gets
/// `db0 + (db1 - db0) * (i + 1) / gains.len()`, so the last sample is exactly at `db1`.
pub fn fill_db_ramp(gains: &mut [f32], db0: f32, db1: f32) {
    let n = gains.len();
    if n == 0 {
        return;
    }
    if db0 == db1 {
        gains.fill(db_to_gain(db1));
        return;
    }
    // In f64: for slow glides the per-sample ratio is within a few f32 ulps of 1.
    let per = (db1 as f64 - db0 as f64) / n as f64;
    let ratio = 10.0f64.powf(per * 0.05);
    let mut start = 0;
    let mut g = 10.0f64.powf(db0 as f64 * 0.05);
    while start < n {
        let end = (start + RAMP_CHUNK).min(n);
        for x in gains[start..end].iter_mut() {
            g *= ratio;
            *x = g as f32;
        }
        // Re-anchor on the exact value so rounding never accumulates past one chunk.
        g = 10.0f64.powf((db0 as f64 + per * end as f64) * 0.05);
        start = end;
    }
    gains[n - 1] = db_to_gain(db1);
}

/// A gain in dB with a linear-in-dB glide to its target.
pub struct SmoothedGain {
    gains: Vec<f32>,
    max_block: usize,
    max_sample_rate: f32,
    sample_rate: f32,
    glide_ms: f32,
    target_db: f32,
    current_db: f32,
    step_db: f32,
    remaining: usize,
    dirty: bool,
}

impl SmoothedGain {
    /// A 0 dB gain for up to `max_sample_rate` and blocks of `max_block` samples. The gain is the
    /// same on every channel, so `channels` only documents intent.
    pub fn new(max_sample_rate: f32, max_block: usize, _channels: usize) -> Self {
        Self {
            gains: vec![1.0; max_block.max(1)],
            max_block: max_block.max(1),
            max_sample_rate,
            sample_rate: max_sample_rate,
            glide_ms: 30.0,
            target_db: 0.0,
            current_db: 0.0,
            step_db: 0.0,
            remaining: 0,
            dirty: false,
        }
    }

    /// Sets the sample rate (at most the one given to `new`).
    pub fn set_sample_rate(&mut self, fs: f32) {
        self.sample_rate = fs.clamp(1.0, self.max_sample_rate);
        self.dirty = true;
    }

    /// Sets the target gain in dB.
    pub fn set_gain_db(&mut self, db: f32) {
        if db.is_finite() && db != self.target_db {
            self.target_db = db;
            self.dirty = true;
        }
    }

    /// Sets how long a move to a new target takes, in ms (at least one sample).
    pub fn set_glide_ms(&mut self, ms: f32) {
        if ms.is_finite() {
            self.glide_ms = ms.max(0.0);
            self.dirty = true;
        }
    }

    /// The gain in dB reached at the end of the last block.
    pub fn current_db(&self) -> f32 {
        self.current_db
    }

    /// The target gain in dB.
    pub fn target_db(&self) -> f32 {
        self.target_db
    }

    /// No latency.
    pub fn latency(&self) -> usize {
        0
    }

    /// Jumps to the target at once.
    pub fn reset(&mut self) {
        self.current_db = self.target_db;
        self.remaining = 0;
        self.step_db = 0.0;
        self.dirty = false;
    }

    fn recompute(&mut self) {
        self.dirty = false;
        let delta = self.target_db - self.current_db;
        if delta == 0.0 {
            self.remaining = 0;
            return;
        }
        let n = ((self.glide_ms * 0.001 * self.sample_rate).round() as usize).max(1);
        self.remaining = n;
        self.step_db = delta / n as f32;
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
            let n = (len - start).min(self.max_block);
            let ramp = n.min(self.remaining);
            if ramp > 0 {
                let end_db = if ramp == self.remaining {
                    self.target_db
                } else {
                    self.current_db + self.step_db * ramp as f32
                };
                fill_db_ramp(&mut self.gains[..ramp], self.current_db, end_db);
                self.current_db = end_db;
                self.remaining -= ramp;
            }
            let g = db_to_gain(self.current_db);
            self.gains[ramp..n].fill(g);
            let unity = ramp == 0 && self.current_db == 0.0;
            if !unity {
                for ch in channels.iter_mut() {
                    for (x, &g) in ch[start..start + n].iter_mut().zip(&self.gains[..n]) {
                        *x *= g;
                    }
                }
            }
            start += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::gain_to_db;

    fn run_dc(g: &mut SmoothedGain, n: usize, block: usize) -> Vec<f32> {
        let mut out = Vec::new();
        let mut left = n;
        while left > 0 {
            let m = left.min(block);
            let mut a = vec![1.0f32; m];
            let mut b = vec![1.0f32; m];
            g.process(&mut [&mut a, &mut b]);
            assert_eq!(a, b);
            out.extend_from_slice(&a);
            left -= m;
        }
        out
    }

    #[test]
    fn reaches_target_in_glide_time_with_bounded_steps() {
        let fs = 48_000.0;
        let mut g = SmoothedGain::new(fs, 256, 2);
        g.set_sample_rate(fs);
        g.set_glide_ms(20.0);
        g.set_gain_db(-24.0);
        let out = run_dc(&mut g, 4800, 77);
        let glide = 960; // 20 ms at 48 kHz
                         // Exactly at the target from sample `glide - 1` on, not before.
        assert!((gain_to_db(out[glide - 1]) + 24.0).abs() < 1e-4);
        assert!(gain_to_db(out[glide - 2]) > -24.0 + 0.02);
        assert!(out[glide..].iter().all(|&x| x == out[glide - 1]));
        // The per-sample step is the line's slope, 24 dB / 960 = 0.025 dB, within 1 %.
        let mut prev = 0.0;
        let mut max_step = 0.0f32;
        for &x in &out[..glide] {
            let db = gain_to_db(x);
            max_step = max_step.max((db - prev).abs());
            prev = db;
        }
        assert!(
            max_step < 0.025 * 1.01 && max_step > 0.025 * 0.99,
            "{max_step}"
        );
        // Halfway through the glide the gain is halfway in dB.
        assert!((gain_to_db(out[glide / 2 - 1]) + 12.0).abs() < 0.01);
        assert_eq!(g.current_db(), -24.0);
    }

    #[test]
    fn retarget_mid_glide_starts_from_where_it_is() {
        let mut g = SmoothedGain::new(44_100.0, 64, 1);
        g.set_glide_ms(10.0);
        g.set_gain_db(12.0);
        let mut a = vec![1.0f32; 64];
        g.process(&mut [&mut a]);
        let mid = g.current_db();
        assert!(mid > 1.0 && mid < 12.0);
        g.set_gain_db(0.0);
        let mut b = vec![1.0f32; 64];
        g.process(&mut [&mut b]);
        // Continuous: the first new sample is within one step of the last old one.
        let step = mid / 441.0 + 1e-3;
        assert!((gain_to_db(b[0]) - gain_to_db(a[63])).abs() <= step);
    }

    #[test]
    fn zero_db_is_bit_exact() {
        let mut g = SmoothedGain::new(48_000.0, 64, 1);
        let mut a: Vec<f32> = (0..64).map(|i| (i as f32 * 0.37).sin() * 0.3).collect();
        let orig = a.clone();
        g.process(&mut [&mut a]);
        assert_eq!(a, orig);
    }

    #[test]
    fn non_finite_input_is_silenced() {
        let mut g = SmoothedGain::new(48_000.0, 8, 1);
        g.set_gain_db(6.0);
        let mut a = [f32::NAN, 1.0, f32::INFINITY, 1.0];
        g.process(&mut [&mut a]);
        assert_eq!(a[0], 0.0);
        assert_eq!(a[2], 0.0);
        // The reset jumped to the target.
        assert!((gain_to_db(a[1]) - 6.0).abs() < 1e-4);
    }
}
