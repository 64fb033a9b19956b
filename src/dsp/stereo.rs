//! Stereo width per band, mono bass and a correlation guard, in mid/side.
//!
//! `M = (L + R)/2`, `S = (L - R)/2`; `L = M + S`, `R = M - S`.
//!
//! - **Mono bass**: below `mono_bass_hz` the side is removed by an LR4 high pass (24 dB/oct); the
//!   mid goes through the matching LR4 low + high pass sum so mid and side keep the same phase
//!   above the corner. That sum is the all pass `AP_mb` (see `dsp::crossover`), so the mid runs
//!   through that one section.
//! - **Width per band**: mid and side are split in three bands by the [`Crossover3`]; the mid
//!   bands are summed back and each side band is scaled by its width `w_k` (0 = mono,
//!   1 = unchanged, 2 = twice the side). Width changes glide per sample (20 ms per unit of width).
//!   The crossover's bands sum to the all pass `AP = AP2 AP1`, so this is computed as
//!   `M_out = AP M`, `S_out = w_1 AP S + (w_0 - w_1) S_low + (w_2 - w_1) S_high`: two all-pass
//!   sections on the pair `[M, S]`, plus the split of the side only while the widths differ.
//!   With equal widths (always so in the engine) the correction terms are exactly zero and the
//!   split is not run; it starts from a cleared state when widths part, where its weights start
//!   from zero, so no state jump is heard and the output stays independent of the block split.
//! - **Correlation guard**: since `L R = M^2 - S^2`, the output correlation is negative exactly
//!   when the side's energy exceeds the mid's. The guard keeps smoothed energies and scales the
//!   side by `g = min(1, sqrt(k E_M / E_S))`, `k = (1 - rho)/(1 + rho)`, which holds the
//!   correlation at or above `rho` = [`GUARD_CORRELATION`]. Energies are one-pole averages per
//!   sample over 5 ms (the attack) and 50 ms; the gain falls at once and recovers over 300 ms.
//!   It takes back at most the width the unit adds (`g >= 1 / w`, the widest band's `w`): a mix
//!   already anti-phase is left as wide as it came, as the pass-through at width 1 leaves it, so
//!   nothing jumps between 100 % and 100.03 %.
//!
//! Width 1 on all bands with mono bass off is an exact pass-through: the unit does nothing (the
//! guard only limits width this unit is asked to apply). Entering or leaving that state
//! crossfades over 10 ms. Every glide runs per sample, so the output does not depend on how the
//! audio is split into blocks. Zero latency. A mono input passes through.

use crate::dsp::biquad::{run_dual_cascade, BiquadCoeffs, DualBiquad};
use crate::dsp::crossover::{Crossover3, HIGH, LOW};
use crate::dsp::sanitize;
use std::f64::consts::FRAC_1_SQRT_2;

/// The correlation the guard holds the output at or above.
pub const GUARD_CORRELATION: f32 = 0.05;
/// Time for a width change of 1 (e.g. 100 % to 200 %).
pub const WIDTH_GLIDE_MS: f32 = 20.0;
/// Crossfade when entering or leaving the pass-through state.
pub const FADE_MS: f32 = 10.0;
/// The guard's energy averages: a fast one (its attack) and a slow one.
pub const GUARD_FAST_MS: f32 = 5.0;
pub const GUARD_SLOW_MS: f32 = 50.0;
/// The guard's release time constant.
pub const GUARD_RELEASE_MS: f32 = 300.0;

/// Per-sample coefficients derived from the sample rate.
#[derive(Clone, Copy, Default)]
struct Coefs {
    width_step: f32,
    fade_step: f32,
    fast: f32,
    slow: f32,
    release: f32,
}

/// The correlation guard's smoothed energies and its current side gain.
#[derive(Clone, Copy)]
struct GuardState {
    mid_fast: f32,
    side_fast: f32,
    mid_slow: f32,
    side_slow: f32,
    gain: f32,
}

impl Default for GuardState {
    fn default() -> Self {
        Self {
            mid_fast: 0.0,
            side_fast: 0.0,
            mid_slow: 0.0,
            side_slow: 0.0,
            gain: 1.0,
        }
    }
}

pub struct StereoImager {
    max_sample_rate: f32,
    sample_rate: f32,
    widths: [f32; 3],
    current_widths: [f32; 3],
    mono_bass_hz: f32,
    /// Corner the mono-bass sections use: the last one switched on (kept while fading out).
    bass_hz: f32,
    /// Crossfade position between the signal without mono bass (0) and with it (1): switching
    /// mono bass on or off while the unit is active fades over [`FADE_MS`].
    bass_mix: f32,
    guard_enabled: bool,
    needs_update: bool,
    was_active: bool,
    /// Splits the side (only while the band widths differ).
    crossover: Crossover3,
    /// Whether the side split ran in the last block (its state is live).
    splitting: bool,
    /// On the pair `[M, S]`: mono bass `[AP_mb | HP_mb]`, `[1 | HP_mb]`, then the crossover's
    /// all passes `[AP1 | AP1]`, `[AP2 | AP2]`.
    sections: [DualBiquad; 4],
    guard: GuardState,
    guard_gain: f32,
    /// Crossfade position between the dry input (0) and the processed signal (1).
    fade: f32,
    coefs: Coefs,
    mid: Vec<f32>,
    side: Vec<f32>,
    /// The guard's side gain per sample of the block.
    guard_gains: Vec<f32>,
    /// `[M, S]` in `f64`, for the AVX kernel of the four sections.
    pair: Vec<[f64; 2]>,
    bands: [[Vec<f32>; 2]; 3],
}

/// [`run_dual_cascade`] of the four sections over `(mid, side)`; with AVX (detected at run
/// time) as two pairs in the wavefront kernel of `dsp::cascade`, with identical results, or
/// with AVX and FMA in its fused form (exactly [`run_dual_cascade_fused`]), `pair` (as long as
/// `mid`) holding the samples in `f64`.
fn run_four_sections(
    sections: &mut [DualBiquad; 4],
    mid: &mut [f32],
    side: &mut [f32],
    pair: &mut [[f64; 2]],
) {
    #[cfg(target_arch = "x86_64")]
    if crate::dsp::biquad::has_avx() {
        for ((p, m), s) in pair.iter_mut().zip(mid.iter()).zip(side.iter()) {
            *p = [*m as f64, *s as f64];
        }
        if crate::dsp::cascade::has_fma() {
            // SAFETY: the CPU supports AVX and FMA, checked just above.
            unsafe { crate::dsp::cascade::wavefront::run_duals_fused(sections, pair) };
        } else {
            // SAFETY: the CPU supports AVX, checked just above.
            unsafe { crate::dsp::cascade::wavefront::run_duals(sections, pair) };
        }
        for ((p, m), s) in pair.iter().zip(mid.iter_mut()).zip(side.iter_mut()) {
            *m = p[0] as f32;
            *s = p[1] as f32;
        }
        for s in sections.iter_mut() {
            s.flush_denormals();
        }
        return;
    }
    run_dual_cascade(sections, mid, side);
}

impl StereoImager {
    pub fn new(max_sample_rate: f32, max_block: usize, channels: usize) -> Self {
        let mut s = Self {
            max_sample_rate,
            sample_rate: max_sample_rate,
            widths: [1.0; 3],
            current_widths: [1.0; 3],
            mono_bass_hz: 0.0,
            bass_hz: 0.0,
            bass_mix: 0.0,
            guard_enabled: true,
            needs_update: true,
            was_active: false,
            crossover: Crossover3::new(max_sample_rate, max_block, channels),
            splitting: false,
            sections: Default::default(),
            guard: GuardState::default(),
            guard_gain: 1.0,
            fade: 0.0,
            coefs: Coefs::default(),
            mid: vec![0.0; max_block],
            side: vec![0.0; max_block],
            guard_gains: vec![1.0; max_block],
            pair: vec![[0.0; 2]; max_block],
            bands: std::array::from_fn(|_| [vec![0.0; max_block], vec![0.0; max_block]]),
        };
        s.update();
        s
    }

    pub fn set_sample_rate(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate.min(self.max_sample_rate);
        self.crossover.set_sample_rate(self.sample_rate);
        self.needs_update = true;
    }
    /// Band split frequencies in Hz, as the multiband's.
    pub fn set_crossover_hz(&mut self, low_mid_hz: f32, mid_high_hz: f32) {
        if (low_mid_hz, mid_high_hz) != self.crossover.frequencies() {
            self.crossover.set_frequencies(low_mid_hz, mid_high_hz);
            self.needs_update = true;
        }
    }
    /// Side gain per band (low, mid, high), 0 to 2.
    pub fn set_band_widths(&mut self, widths: &[f32; 3]) {
        self.widths = widths.map(|w| w.clamp(0.0, 2.0));
    }
    /// Frequency under which the side is removed (LR4), 0 = off.
    pub fn set_mono_bass_hz(&mut self, hz: f32) {
        let hz = hz.max(0.0);
        self.mono_bass_hz = hz;
        if hz > 0.0 && hz != self.bass_hz {
            self.bass_hz = hz;
            self.needs_update = true;
        }
    }
    pub fn set_correlation_guard(&mut self, enabled: bool) {
        self.guard_enabled = enabled;
    }
    /// The guard's current side gain (1 = not narrowing), for meters.
    pub fn guard_gain(&self) -> f32 {
        self.guard_gain
    }
    pub fn latency(&self) -> usize {
        0
    }
    pub fn reset(&mut self) {
        self.crossover.reset();
        self.splitting = false;
        for s in self.sections.iter_mut() {
            s.reset();
        }
        self.guard = GuardState::default();
        self.guard_gain = 1.0;
        self.current_widths = self.widths;
        self.bass_mix = if self.mono_bass_hz > 0.0 { 1.0 } else { 0.0 };
    }

    fn update(&mut self) {
        self.needs_update = false;
        let per_sample = |ms: f32| 1.0 - (-1.0 / (ms * 0.001 * self.sample_rate)).exp();
        self.coefs = Coefs {
            width_step: 1.0 / (WIDTH_GLIDE_MS * 0.001 * self.sample_rate),
            fade_step: 1.0 / (FADE_MS * 0.001 * self.sample_rate),
            fast: per_sample(GUARD_FAST_MS),
            slow: per_sample(GUARD_SLOW_MS),
            release: 1.0 - per_sample(GUARD_RELEASE_MS),
        };
        let fs = self.sample_rate as f64;
        let f = (self.bass_hz as f64).clamp(10.0, 0.45 * fs);
        let hp = BiquadCoeffs::high_pass(f, FRAC_1_SQRT_2, fs);
        let ap = BiquadCoeffs::all_pass(f, FRAC_1_SQRT_2, fs);
        let [ap1, ap2] = self.crossover.all_pass_coeffs();
        self.sections[0].set_coeffs([ap, hp]);
        self.sections[1].set_coeffs([BiquadCoeffs::IDENTITY, hp]);
        self.sections[2].set_coeffs([ap1; 2]);
        self.sections[3].set_coeffs([ap2; 2]);
    }

    fn is_neutral(&self) -> bool {
        self.widths == [1.0; 3]
            && self.current_widths == [1.0; 3]
            && self.mono_bass_hz == 0.0
            && self.bass_mix == 0.0
    }

    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        if sanitize::replace_non_finite(channels) {
            self.reset();
        }
        let [l, r] = channels else { return };
        let neutral = self.is_neutral();
        if neutral && !self.was_active {
            return;
        }
        if self.needs_update {
            self.update();
        }
        let len = l.len();
        if !self.was_active {
            // Entering from pass-through: start clean and fade in.
            self.reset();
            self.fade = 0.0;
        }
        let (mid, side) = (&mut self.mid[..len], &mut self.side[..len]);
        for (((m, s), a), b) in mid
            .iter_mut()
            .zip(side.iter_mut())
            .zip(l.iter())
            .zip(r.iter())
        {
            *m = 0.5 * (a + b);
            *s = 0.5 * (a - b);
        }
        // Band widths that differ (now or while gliding) need the side split in bands.
        let equal = |w: &[f32; 3]| w[0] == w[1] && w[1] == w[2];
        let split = !(equal(&self.widths) && equal(&self.current_widths));
        // Mono bass switched on or off while active: the sections run and their output is
        // crossfaded with their input.
        let bass_target = if self.mono_bass_hz > 0.0 { 1.0 } else { 0.0 };
        let blending = self.bass_mix != bass_target;
        if blending && self.bass_mix == 0.0 {
            // Fading in: start the sections clean (their state is stale).
            self.sections[0].reset();
            self.sections[1].reset();
        }
        let [bass_a, bass_b, ap1, ap2] = &mut self.sections;
        let mono_bass = self.mono_bass_hz > 0.0 && !blending;
        if split || !mono_bass {
            // Mono bass: M through AP_mb (= LP^2 + HP^2), S through HP^2.
            if mono_bass || blending {
                let dry = &mut self.pair[..len];
                if blending {
                    for ((d, m), s) in dry.iter_mut().zip(mid.iter()).zip(side.iter()) {
                        *d = [*m as f64, *s as f64];
                    }
                }
                let mut bass = [*bass_a, *bass_b];
                run_dual_cascade(&mut bass, mid, side);
                [*bass_a, *bass_b] = bass;
                if blending {
                    let step = self.coefs.fade_step;
                    let mut mix = self.bass_mix;
                    for ((d, m), s) in dry.iter().zip(mid.iter_mut()).zip(side.iter_mut()) {
                        mix = glide(mix, bass_target, step);
                        let (dm, ds) = (d[0] as f32, d[1] as f32);
                        *m = dm + mix * (*m - dm);
                        *s = ds + mix * (*s - ds);
                    }
                    self.bass_mix = mix;
                }
            }
            if split {
                let [[a0, a1], [b0, b1], [c0, c1]] = &mut self.bands;
                let mut bands: [[&mut [f32]; 2]; 3] = [
                    [&mut a0[..len], &mut a1[..len]],
                    [&mut b0[..len], &mut b1[..len]],
                    [&mut c0[..len], &mut c1[..len]],
                ];
                self.crossover.split(&[side], &mut bands);
            }
            let mut all_pass = [*ap1, *ap2];
            run_dual_cascade(&mut all_pass, mid, side);
            [*ap1, *ap2] = all_pass;
        } else {
            run_four_sections(&mut self.sections, mid, side, &mut self.pair[..len]);
        }
        if !split && self.splitting {
            // The split stopped with zero weights: clear it for the next time widths part.
            self.crossover.reset();
        }
        self.splitting = split;
        // Recombine: the mid at unity, the side by the gliding widths; then the guard and the
        // crossfade with the dry input. Every glide and average runs per sample with fixed
        // time constants, so the result does not depend on how the audio is split into blocks.
        // Three passes over the block, each with the operations of one per-sample loop in the
        // same order (so the same result): the side at its widths (in place), the guard's gains,
        // then the output. Where nothing glides, a pass is a plain loop that vectorises.
        let to = self.widths;
        let active = !neutral;
        let c = self.coefs;
        let mut widths = self.current_widths;
        let mid = &self.mid[..len];
        let side = &mut self.side[..len];
        if split {
            let (s_low, s_high) = (&self.bands[LOW][0][..len], &self.bands[HIGH][0][..len]);
            if widths == to {
                // Settled: every glide step returns its target.
                let [w0, w1, w2] = widths;
                for ((s, &lo), &hi) in side.iter_mut().zip(s_low).zip(s_high) {
                    *s = w1 * *s + ((w0 - w1) * lo + (w2 - w1) * hi);
                }
            } else {
                for ((s, &lo), &hi) in side.iter_mut().zip(s_low).zip(s_high) {
                    for (w, t) in widths.iter_mut().zip(to) {
                        *w = glide(*w, t, c.width_step);
                    }
                    let [w0, w1, w2] = widths;
                    *s = w1 * *s + ((w0 - w1) * lo + (w2 - w1) * hi);
                }
            }
        } else if widths[1] == to[1] {
            // All widths are equal, settled.
            widths = [to[1]; 3];
            let w = widths[1];
            for s in side.iter_mut() {
                *s *= w;
            }
        } else {
            // All widths are equal and glide alike.
            for s in side.iter_mut() {
                widths = [glide(widths[1], to[1], c.width_step); 3];
                *s *= widths[1];
            }
        }
        let side = &self.side[..len];
        let gains = &mut self.guard_gains[..len];
        let mut st = self.guard;
        if self.guard_enabled {
            let k = (1.0 - GUARD_CORRELATION) / (1.0 + GUARD_CORRELATION);
            // The guard takes back at most the width this unit adds: the side never ends up
            // narrower than the input's own (the widest band's width sets the floor), so a
            // width just over 100 % does just about what the exact pass-through at 100 % does.
            let floor = 1.0 / to.iter().fold(1.0f32, |m, &w| m.max(w));
            for ((g, &m), &sd) in gains.iter_mut().zip(mid).zip(side) {
                let (mm, ss) = (m * m, sd * sd);
                st.mid_fast += c.fast * (mm - st.mid_fast);
                st.side_fast += c.fast * (ss - st.side_fast);
                st.mid_slow += c.slow * (mm - st.mid_slow);
                st.side_slow += c.slow * (ss - st.side_slow);
                // The side may carry at most k times the mid's energy (on both averages).
                let allowed = if k * st.mid_slow < st.side_slow || k * st.mid_fast < st.side_fast {
                    (k * st.mid_slow / st.side_slow.max(1.0e-20))
                        .min(k * st.mid_fast / st.side_fast.max(1.0e-20))
                        .sqrt()
                        .clamp(floor, 1.0)
                } else {
                    1.0
                };
                st.gain = if allowed < st.gain {
                    allowed
                } else {
                    allowed + c.release * (st.gain - allowed)
                };
                *g = st.gain;
            }
        } else {
            gains.fill(1.0);
        }
        let gains = &self.guard_gains[..len];
        let mut fade = self.fade;
        if active && fade == 1.0 {
            // Fully in: the fade stays at 1 and the processed signal is the output.
            for ((((a, b), &m), &sd), &g) in
                l.iter_mut().zip(r.iter_mut()).zip(mid).zip(side).zip(gains)
            {
                *a = m + g * sd;
                *b = m - g * sd;
            }
        } else {
            for ((((a, b), &m), &sd), &g) in
                l.iter_mut().zip(r.iter_mut()).zip(mid).zip(side).zip(gains)
            {
                let (wl, wr) = (m + g * sd, m - g * sd);
                fade = if active {
                    (fade + c.fade_step).min(1.0)
                } else {
                    (fade - c.fade_step).max(0.0)
                };
                if fade == 1.0 {
                    *a = wl;
                    *b = wr;
                } else {
                    *a += fade * (wl - *a);
                    *b += fade * (wr - *b);
                }
            }
        }
        self.current_widths = widths;
        self.fade = fade;
        st.mid_fast = sanitize::flush_denormal(st.mid_fast);
        st.side_fast = sanitize::flush_denormal(st.side_fast);
        st.mid_slow = sanitize::flush_denormal(st.mid_slow);
        st.side_slow = sanitize::flush_denormal(st.side_slow);
        self.guard = st;
        self.guard_gain = st.gain;
        self.was_active = fade > 0.0;
        if !self.was_active {
            self.reset();
        }
    }
}

/// One step of a linear glide of `step` per sample from `w` toward `to`.
#[inline(always)]
fn glide(w: f32, to: f32, step: f32) -> f32 {
    if to > w {
        (w + step).min(to)
    } else {
        (w - step).max(to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::PI;

    const FS: f32 = 48_000.0;
    const BLOCK: usize = 480;

    fn sine(f: f32, amp: f32, start: usize) -> Vec<f32> {
        (start..start + BLOCK)
            .map(|i| amp * (2.0 * PI * f * i as f32 / FS).sin())
            .collect()
    }

    /// Runs `blocks` blocks of `gen(block_index) -> (L, R)`; returns the last second.
    fn run(
        s: &mut StereoImager,
        blocks: usize,
        gen: impl Fn(usize) -> (Vec<f32>, Vec<f32>),
    ) -> (Vec<f32>, Vec<f32>) {
        let (mut ol, mut or) = (Vec::new(), Vec::new());
        for b in 0..blocks {
            let (mut l, mut r) = gen(b);
            s.process(&mut [&mut l, &mut r]);
            if b + 100 >= blocks {
                ol.extend_from_slice(&l);
                or.extend_from_slice(&r);
            }
        }
        (ol, or)
    }

    fn correlation(l: &[f32], r: &[f32]) -> f32 {
        let lr: f32 = l.iter().zip(r).map(|(a, b)| a * b).sum();
        let ll: f32 = l.iter().map(|a| a * a).sum();
        let rr: f32 = r.iter().map(|b| b * b).sum();
        lr / (ll * rr).sqrt().max(1.0e-30)
    }

    fn wide_pair(b: usize) -> (Vec<f32>, Vec<f32>) {
        let a = sine(440.0, 0.4, b * BLOCK);
        let c = sine(1_250.0, 0.4, b * BLOCK);
        let l = a.iter().zip(&c).map(|(x, y)| x + y).collect();
        let r = a.iter().zip(&c).map(|(x, y)| 0.2 * x - y).collect();
        (l, r)
    }

    #[test]
    fn width_one_without_mono_bass_is_an_exact_pass_through() {
        let mut s = StereoImager::new(FS, BLOCK, 2);
        let (l0, r0) = wide_pair(3);
        let (mut l, mut r) = (l0.clone(), r0.clone());
        s.process(&mut [&mut l, &mut r]);
        assert_eq!((l.clone(), r.clone()), (l0.clone(), r0.clone()));
        // After a round trip through another width, it is exact again.
        s.set_band_widths(&[1.5, 0.5, 1.2]);
        run(&mut s, 5, wide_pair);
        s.set_band_widths(&[1.0; 3]);
        run(&mut s, 3, wide_pair);
        let (mut l, mut r) = (l0.clone(), r0.clone());
        s.process(&mut [&mut l, &mut r]);
        assert_eq!((l, r), (l0, r0));
    }

    #[test]
    fn width_zero_gives_identical_channels() {
        let mut s = StereoImager::new(FS, BLOCK, 2);
        s.set_band_widths(&[0.0; 3]);
        let (l, r) = run(&mut s, 110, wide_pair);
        assert_eq!(l, r);
        assert!(l.iter().any(|&v| v.abs() > 0.1));
    }

    #[test]
    fn mono_bass_removes_low_side_and_keeps_high_side() {
        let mut s = StereoImager::new(FS, BLOCK, 2);
        s.set_correlation_guard(false);
        s.set_mono_bass_hz(150.0);
        let side_only = |f: f32| {
            move |b: usize| {
                let x = sine(f, 0.5, b * BLOCK);
                let y = x.iter().map(|v| -v).collect();
                (x, y)
            }
        };
        let side_db = |l: &[f32], r: &[f32]| {
            let e: f32 = l.iter().zip(r).map(|(a, b)| (0.5 * (a - b)).powi(2)).sum();
            10.0 * (e / l.len() as f32 / (0.5f32 * 0.5 / 2.0)).log10()
        };
        let (l, r) = run(&mut s, 150, side_only(40.0));
        let low = side_db(&l, &r);
        // LR4 high pass at 40/150: -20 log10(1 + (150/40)^4) = -46 dB.
        assert!(low < -40.0, "side at 40 Hz: {low} dB");
        s.reset();
        let (l, r) = run(&mut s, 150, side_only(2_000.0));
        let high = side_db(&l, &r);
        assert!(high.abs() < 0.05, "side at 2 kHz: {high} dB");
    }

    /// Switching mono bass on or off, at width 100 % (where off is the pass-through) or at
    /// another width, in any block, fades: no sample-to-sample jump beyond the music's own.
    #[test]
    fn switching_mono_bass_on_and_off_does_not_click() {
        // A stereo bass: 55 Hz wide, so mono bass changes it a lot.
        let bass = |b: usize| {
            let x = sine(55.0, 0.5, b * BLOCK);
            let y = sine(55.0, 0.5, b * BLOCK + 200);
            (x, y)
        };
        let music_jump = 2.0 * PI * 55.0 / FS * 0.5;
        for width in [1.0, 1.4] {
            let mut s = StereoImager::new(FS, BLOCK, 2);
            s.set_band_widths(&[width; 3]);
            let mut worst = 0.0f32;
            let mut last = (0.0f32, 0.0f32);
            for b in 0..200 {
                // On for 7 blocks, off for 5, and on and off in consecutive blocks.
                let on = match b % 40 {
                    0..=6 => true,
                    7..=11 => false,
                    n => n % 2 == 0,
                };
                s.set_mono_bass_hz(if on { 120.0 } else { 0.0 });
                let (mut l, mut r) = bass(b);
                s.process(&mut [&mut l, &mut r]);
                for (a, c) in l.iter().zip(&r) {
                    if b > 0 {
                        worst = worst.max((a - last.0).abs()).max((c - last.1).abs());
                    }
                    last = (*a, *c);
                }
            }
            assert!(
                worst < 3.0 * music_jump,
                "width {width}: a jump of {worst} (the music's largest: {music_jump})"
            );
        }
    }

    /// Widening a mix whose side outweighs its mid (correlation under 0): the guard takes the
    /// added width back, down to the input's own and no further (side gain 1/1.3); without the
    /// guard the output is more anti-phase than the input.
    #[test]
    fn guard_takes_back_the_width_it_adds_to_anti_phase_input() {
        let mut s = StereoImager::new(FS, BLOCK, 2);
        s.set_band_widths(&[1.3; 3]);
        let (l0, r0) = (0..100)
            .map(wide_pair)
            .fold((vec![], vec![]), |(mut a, mut b), (l, r)| {
                a.extend(l);
                b.extend(r);
                (a, b)
            });
        assert!(
            correlation(&l0, &r0) < -0.2,
            "input {}",
            correlation(&l0, &r0)
        );
        let input = correlation(&l0, &r0);
        let (l, r) = run(&mut s, 300, wide_pair);
        let c = correlation(&l, &r);
        assert!((c - input).abs() < 0.02, "output {c}, input {input}");
        assert!(
            (s.guard_gain() - 1.0 / 1.3).abs() < 1.0e-4,
            "{}",
            s.guard_gain()
        );
        let mut s = StereoImager::new(FS, BLOCK, 2);
        s.set_band_widths(&[1.3; 3]);
        s.set_correlation_guard(false);
        let (l, r) = run(&mut s, 300, wide_pair);
        assert!(
            correlation(&l, &r) < input - 0.05,
            "{}",
            correlation(&l, &r)
        );
    }

    /// Widening a positively correlated mix until its side would outweigh its mid: the guard
    /// holds the output at the guard's correlation, inside what it may take back.
    #[test]
    fn guard_holds_widened_correlated_input_at_its_correlation() {
        let pair = |b: usize| {
            let a = sine(440.0, 0.4, b * BLOCK);
            let c = sine(1_250.0, 0.3, b * BLOCK);
            let l: Vec<f32> = a.iter().zip(&c).map(|(x, y)| x + y).collect();
            let r: Vec<f32> = a.iter().zip(&c).map(|(x, y)| x - y).collect();
            (l, r)
        };
        let (l0, r0) = pair(3);
        assert!(correlation(&l0, &r0) > 0.2);
        let mut s = StereoImager::new(FS, BLOCK, 2);
        s.set_band_widths(&[2.0; 3]);
        let (l, r) = run(&mut s, 300, pair);
        let c = correlation(&l, &r);
        assert!(
            (c - GUARD_CORRELATION).abs() < 0.03,
            "output correlation {c}"
        );
        assert!(
            s.guard_gain() > 0.5 && s.guard_gain() < 1.0,
            "{}",
            s.guard_gain()
        );
    }

    /// Just over 100 % the guard does next to nothing (the pass-through at exactly 100 % does
    /// nothing): on anti-phase input its gain stays within the added 0.03 % of 1, and the
    /// output is the unguarded one within -60 dB.
    #[test]
    fn a_width_just_over_one_is_next_to_the_pass_through() {
        let mut guarded = StereoImager::new(FS, BLOCK, 2);
        let mut free = StereoImager::new(FS, BLOCK, 2);
        free.set_correlation_guard(false);
        for s in [&mut guarded, &mut free] {
            s.set_band_widths(&[1.0003; 3]);
        }
        let (l, r) = run(&mut guarded, 300, wide_pair);
        let (fl, fr) = run(&mut free, 300, wide_pair);
        assert!(guarded.guard_gain() >= 1.0 / 1.0003 - 1.0e-6);
        let worst = l
            .iter()
            .zip(&fl)
            .chain(r.iter().zip(&fr))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1.0e-3, "largest difference {worst}");
    }

    #[test]
    fn guard_leaves_positively_correlated_input_alone() {
        let mut s = StereoImager::new(FS, BLOCK, 2);
        s.set_band_widths(&[1.2; 3]);
        run(&mut s, 200, |b| {
            let a = sine(440.0, 0.4, b * BLOCK);
            let c = sine(1_250.0, 0.1, b * BLOCK);
            let l = a.iter().zip(&c).map(|(x, y)| x + y).collect();
            let r = a.iter().zip(&c).map(|(x, y)| x - y).collect();
            (l, r)
        });
        assert_eq!(s.guard_gain(), 1.0);
    }

    /// The direct form of the module doc: mono bass by LR4 low + high pass sums, then every
    /// band of the [`Crossover3`] split of `[M, S]` recombined with its width (no guard).
    fn reference(widths: [f32; 3], bass_hz: f64, l: &[f32], r: &[f32]) -> (Vec<f32>, Vec<f32>) {
        use crate::dsp::biquad::StereoBiquad;
        let fs = FS as f64;
        let q = FRAC_1_SQRT_2;
        let mut lp = [StereoBiquad::new(BiquadCoeffs::low_pass(bass_hz, q, fs)); 2];
        let mut hp = [StereoBiquad::new(BiquadCoeffs::high_pass(bass_hz, q, fs)); 2];
        let n = l.len();
        let (mut m, mut s) = (vec![0.0f32; n], vec![0.0f32; n]);
        for i in 0..n {
            let x = [0.5 * (l[i] + r[i]) as f64, 0.5 * (l[i] - r[i]) as f64];
            let lo = lp[0].tick(x);
            let lo = lp[1].tick(lo);
            let hi = hp[0].tick(x);
            let hi = hp[1].tick(hi);
            m[i] = (lo[0] + hi[0]) as f32;
            s[i] = hi[1] as f32;
        }
        let mut x = Crossover3::new(FS, n, 2);
        let mut b: [[Vec<f32>; 2]; 3] = std::array::from_fn(|_| [vec![0.0; n], vec![0.0; n]]);
        {
            let [[a0, a1], [b0, b1], [c0, c1]] = &mut b;
            x.split(&[&m, &s], &mut [[a0, a1], [b0, b1], [c0, c1]]);
        }
        (0..n)
            .map(|i| {
                let m = b[0][0][i] + b[1][0][i] + b[2][0][i];
                let s: f32 = (0..3).map(|k| widths[k] * b[k][1][i]).sum();
                (m + s, m - s)
            })
            .unzip()
    }

    #[test]
    fn all_pass_form_matches_the_band_split() {
        let n = 9_600;
        let l: Vec<f32> = (0..n)
            .map(|i| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * 0.8)
            .collect();
        let r: Vec<f32> = l.iter().rev().map(|v| 0.7 * v).collect();
        for widths in [[1.3; 3], [0.5, 1.8, 1.2]] {
            let mut s = StereoImager::new(FS, BLOCK, 2);
            s.set_correlation_guard(false);
            s.set_band_widths(&widths);
            s.set_mono_bass_hz(120.0);
            let (mut a, mut b) = (l.clone(), r.clone());
            for (x, y) in a.chunks_mut(BLOCK).zip(b.chunks_mut(BLOCK)) {
                s.process(&mut [x, y]);
            }
            let (ra, rb) = reference(widths, 120.0, &l, &r);
            // Past the 10 ms fade-in, the two forms agree to rounding.
            let fade = (FADE_MS * 0.001 * FS) as usize + 1;
            let worst = (fade..n)
                .map(|i| (a[i] - ra[i]).abs().max((b[i] - rb[i]).abs()))
                .fold(0.0f32, f32::max);
            assert!(worst < 1.0e-5, "{widths:?}: {worst}");
        }
    }

    #[test]
    fn output_does_not_depend_on_the_block_split() {
        let n = 9_600;
        let input: Vec<[f32; 2]> = (0..n)
            .map(|i| {
                let t = i as f32 / FS;
                let a = (2.0 * PI * 60.0 * t).sin();
                let b = (2.0 * PI * 3_000.0 * t).sin();
                [0.5 * a + 0.3 * b, -0.4 * a + 0.3 * b]
            })
            .collect();
        let render = |block: usize| {
            let mut s = StereoImager::new(FS, 512, 2);
            s.set_sample_rate(FS);
            s.set_band_widths(&[0.5, 1.8, 1.2]);
            s.set_mono_bass_hz(120.0);
            let mut l: Vec<f32> = input.iter().map(|x| x[0]).collect();
            let mut r: Vec<f32> = input.iter().map(|x| x[1]).collect();
            for (i, (a, b)) in l.chunks_mut(block).zip(r.chunks_mut(block)).enumerate() {
                if i * block > n / 2 && i * block < n / 2 + block {
                    s.set_band_widths(&[1.0, 0.2, 2.0]);
                }
                s.process(&mut [a, b]);
            }
            (l, r)
        };
        let reference = render(480);
        assert_eq!(render(480), reference);
        for block in [1, 7, 64, 512] {
            let (l, r) = render(block);
            let same = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| x == y);
            // The width change lands at a block start, so compare only the part before it.
            let upto = n / 2;
            assert!(same(&l[..upto], &reference.0[..upto]), "block {block}");
            assert!(same(&r[..upto], &reference.1[..upto]), "block {block}");
        }
    }

    /// The AVX kernel of the four sections gives exactly the portable cascade's output, for any
    /// block length.
    #[test]
    fn four_section_kernel_matches_the_portable_cascade() {
        let mut im = StereoImager::new(44_100.0, 512, 2);
        im.set_mono_bass_hz(120.0);
        im.set_band_widths(&[1.3; 3]);
        im.update();
        let mut a = im.sections;
        let mut b = im.sections;
        let mut pair = vec![[0.0f64; 2]; 512];
        let mut offset = 0;
        for len in [0, 1, 2, 3, 5, 64, 512, 7] {
            let m: Vec<f32> = (0..len)
                .map(|i| (((i + offset) * 7919 % 1013) as f32 / 1013.0 - 0.5) * 0.8)
                .collect();
            let s: Vec<f32> = m.iter().map(|v| 0.3 * v - 0.01).collect();
            offset += len;
            let (mut m0, mut s0) = (m.clone(), s.clone());
            let (mut m1, mut s1) = (m, s);
            // The reference of the kernel this CPU gets.
            let fused = crate::dsp::biquad::has_avx() && crate::dsp::cascade::has_fma();
            if fused {
                crate::dsp::biquad::run_dual_cascade_fused(&mut a, &mut m0, &mut s0);
            } else {
                run_dual_cascade(&mut a, &mut m0, &mut s0);
            }
            run_four_sections(&mut b, &mut m1, &mut s1, &mut pair[..len]);
            assert_eq!((m0, s0), (m1, s1), "block of {len}");
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(format!("{x:?}"), format!("{y:?}"));
            }
        }
    }
}
