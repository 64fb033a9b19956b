//! Feed-forward, stereo-linked compressor after Giannoulis, Massberg & Reiss (2012), "Digital
//! Dynamic Range Compressor Design - A Tutorial and Analysis", JAES 60(6).
//!
//! Signal path, each stage a separate pass over the block (all but the ballistics vectorize):
//!
//! 1. **Detection** (stereo-linked: one level for both channels): peak `max(|L|, |R|)`, or RMS, a
//!    one-pole mean square of `(L^2 + R^2) / 2` with time constant `rms_ms`, in dB.
//! 2. **Gain computer** ([`gain_computer_db`], the paper's eq. 4): static curve with threshold
//!    `T`, ratio `R` and a quadratic soft knee of width `W`.
//! 3. **Ballistics** in the log domain: the gain reduction `x_L = x_G - y_G` goes through the
//!    paper's smooth branching peak detector (eq. 17):
//!    `y_L[n] = a_A y_L[n-1] + (1 - a_A) x_L[n]` if `x_L[n] > y_L[n-1]`, else the same with `a_R`,
//!    where `a = exp(-1 / (tau fs))`. After a step the reduction reaches `1 - 1/e` (63.2 %) of its
//!    final value after exactly `tau` (attack) and falls to `1/e` of it after `tau` (release).
//!    In RMS mode the RMS averaging adds its own time constant before this stage.
//!    Then the **bass hold**: the smoothed reduction is held at the largest it reached over the
//!    last [`BASS_HOLD_S`] (50 ms, a period of 20 Hz; see [`Compressor::hold_reduction`]). Without
//!    it, between two crests of a bass note the reduction releases and the gain ripples with
//!    the waveform (a 50 Hz sine reduced 6 dB at ratio 1.2, 20/200 ms, read harmonics at
//!    −58 dB; held, under −160 dB). Holding after the ballistics, not the detected level, keeps
//!    the compressor's response to programme what it was (holding the level read a dense
//!    mix's peaks and compressed it several dB deeper); it delays the release by up to 50 ms and
//!    leaves the attack alone.
//! 4. **Makeup** and conversion to a linear gain, applied to every channel.
//!
//! dB conversions use [`fast_log2`] and [`fast_exp2`] (bit-level exponent plus a short series,
//! error under 0.001 dB), which vectorize, unlike the library `log10`/`powf`.
//!
//! [`Compressor::gain_curve`] exposes stages 1-4 on any detector signal (a sidechain) and
//! [`apply_gain`] applies such a curve, so the multiband compressor and other units can reuse it.

use super::dispatch::avx2_dispatch;
use super::sliding_max::{block_max, SlidingMax};
use super::BASS_HOLD_S;
use crate::dsp::sanitize;

/// Samples per chunk of the detector's bass hold.
const HOLD_CHUNK: usize = 32;

/// The detector's bass hold in whole chunks at `fs`: enough completed chunks to span the hold
/// while a chunk is under way.
fn hold_chunks(fs: f32) -> usize {
    ((BASS_HOLD_S * fs).round() as usize).div_ceil(HOLD_CHUNK) + 1
}

/// 20 log10(2): dB per unit of log2.
const DB_PER_LOG2: f32 = 6.020_6;

/// Level detection mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detection {
    Peak,
    Rms,
}

/// Base-2 logarithm for positive normal `x`: exponent from the bits, mantissa `m` folded into
/// `[sqrt(1/2), sqrt(2))` and `log2(m) = 2/ln 2 * atanh(t)`, `t = (m - 1)/(m + 1)`, by its series
/// to `t^9` (`|t| < 0.172`: error below 1e-8).
#[inline(always)]
pub fn fast_log2(x: f32) -> f32 {
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let big = m > std::f32::consts::SQRT_2;
    m = if big { m * 0.5 } else { m };
    e += big as i32;
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let series =
        t * (1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0)))));
    e as f32 + series * (2.0 * std::f32::consts::LOG2_E)
}

/// `2^x` for `x` clamped to `[-126, 126]`: integer part into the exponent bits, `2^f` for
/// `f` in `[-0.5, 0.5]` as `e^(f ln 2)` by its Taylor series to degree 6 (error below 1e-7).
#[inline(always)]
pub fn fast_exp2(x: f32) -> f32 {
    let x = x.clamp(-126.0, 126.0);
    // floor(x + 0.5) + 127, the argument being positive. A NaN maps to 0, as `NaN as i32`
    // does; the unchecked conversion (no saturation fix-ups) vectorises, unlike `as`.
    let y = x + 127.5;
    let y = if y.is_nan() { 0.0 } else { y };
    // SAFETY: `y` is 0 or in [1.5, 253.5], well inside the i32 range.
    let k: i32 = unsafe { y.to_int_unchecked() };
    let f = x - (k - 127) as f32;
    let y = f * std::f32::consts::LN_2;
    let p = 1.0
        + y * (1.0
            + y * (0.5
                + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (1.0 / 120.0 + y * (1.0 / 720.0))))));
    p * f32::from_bits((k as u32) << 23)
}

/// The static curve (Giannoulis et al. 2012, eq. 4): output level `y_G` in dB for input level
/// `x_G` in dB, threshold `t` dB, ratio `r` (>= 1) and knee width `w` dB (0 = hard knee).
/// - `2 (x - t) < -w`: `y = x`;
/// - `2 |x - t| <= w`: `y = x + (1/r - 1) (x - t + w/2)^2 / (2 w)`;
/// - `2 (x - t) > w`: `y = t + (x - t) / r`.
#[inline(always)]
pub fn gain_computer_db(x: f32, t: f32, r: f32, w: f32) -> f32 {
    let over = x - t;
    let slope = 1.0 / r - 1.0;
    let inv_2w = if w > 0.0 { 0.5 / w } else { 0.0 };
    let k = over + 0.5 * w;
    let knee = x + slope * k * k * inv_2w;
    let above = t + over / r;
    if 2.0 * over < -w {
        x
    } else if 2.0 * over > w {
        above
    } else if w > 0.0 {
        knee
    } else {
        above
    }
}

/// Multiplies every channel by the linear gain curve `gains`.
pub fn apply_gain(channels: &mut [&mut [f32]], gains: &[f32]) {
    for ch in channels.iter_mut() {
        multiply(ch, gains);
    }
}

/// The vectorisable loops of the compressors, each written once as a kernel and run through
/// [`avx2_dispatch`].
pub(crate) mod kernels {
    use super::{fast_exp2, fast_log2, gain_computer_db, DB_PER_LOG2};

    /// Stereo-linked peak level `max(|l|, |r|)`, a non-finite one counting as silence.
    #[inline(always)]
    pub fn peak_levels(levels: &mut [f32], l: &[f32], r: &[f32]) {
        for ((lv, a), b) in levels.iter_mut().zip(l).zip(r) {
            let p = a.abs().max(b.abs());
            *lv = if p.is_finite() { p } else { 0.0 };
        }
    }

    /// The largest of `levels` (0 if empty), in eight partial maxima so it vectorises (the
    /// maximum does not depend on the order).
    #[inline(always)]
    pub fn max_level(levels: &[f32]) -> f32 {
        let mut acc = [0.0f32; 8];
        let mut chunks = levels.chunks_exact(8);
        for c in chunks.by_ref() {
            for (a, &v) in acc.iter_mut().zip(c) {
                *a = a.max(v);
            }
        }
        let tail = chunks.remainder().iter().fold(0.0f32, |m, &v| m.max(v));
        acc.iter().fold(tail, |m, &v| m.max(v))
    }

    /// Stages 1 (logarithm) and 2 in place: linear level in, wanted reduction in dB out.
    #[inline(always)]
    pub fn log_reduction(levels: &mut [f32], log_scale: f32, floor: f32, curve: [f32; 3]) {
        let [t, ratio, w] = curve;
        for lv in levels.iter_mut() {
            let x = log_scale * fast_log2(lv.max(floor)) * DB_PER_LOG2;
            *lv = x - gain_computer_db(x, t, ratio, w);
        }
    }

    /// Stage 4 in place: smoothed reduction in dB in, linear gain with `makeup_db` out.
    #[inline(always)]
    pub fn to_gain(reduction: &mut [f32], makeup_db: f32) {
        for g in reduction.iter_mut() {
            *g = fast_exp2((makeup_db - *g) * (1.0 / DB_PER_LOG2));
        }
    }

    /// `x *= g`, sample by sample.
    #[inline(always)]
    pub fn multiply(x: &mut [f32], gains: &[f32]) {
        for (x, g) in x.iter_mut().zip(gains) {
            *x *= *g;
        }
    }

    /// `out = g0 a + g1 b + g2 c`, sample by sample (the multiband sum).
    #[inline(always)]
    pub fn weighted_sum3(out: &mut [f32], bands: [&[f32]; 3], gains: [&[f32]; 3]) {
        let len = out.len();
        let [a, b, c] = bands.map(|x| &x[..len]);
        let [g0, g1, g2] = gains.map(|x| &x[..len]);
        for (n, o) in out.iter_mut().enumerate() {
            *o = a[n] * g0[n] + b[n] * g1[n] + c[n] * g2[n];
        }
    }
}

use kernels::{
    log_reduction as log_reduction_kernel, max_level as max_level_kernel,
    multiply as multiply_kernel, peak_levels as peak_levels_kernel, to_gain as to_gain_kernel,
    weighted_sum3 as weighted_sum3_kernel,
};

avx2_dispatch! {
    /// [`kernels::peak_levels`], AVX2 if available.
    fn peak_levels => peak_levels_kernel(levels: &mut [f32], l: &[f32], r: &[f32]);
}
avx2_dispatch! {
    /// [`kernels::max_level`], AVX2 if available.
    fn max_level => max_level_kernel(levels: &[f32]) -> f32;
}
avx2_dispatch! {
    /// [`kernels::log_reduction`], AVX2 if available.
    fn log_reduction => log_reduction_kernel(levels: &mut [f32], log_scale: f32, floor: f32, curve: [f32; 3]);
}
avx2_dispatch! {
    /// [`kernels::to_gain`], AVX2 if available.
    fn to_gain_curve => to_gain_kernel(reduction: &mut [f32], makeup_db: f32);
}
avx2_dispatch! {
    /// [`kernels::multiply`], AVX2 if available.
    fn multiply => multiply_kernel(x: &mut [f32], gains: &[f32]);
}
avx2_dispatch! {
    /// [`kernels::weighted_sum3`], AVX2 if available.
    pub fn weighted_sum3 => weighted_sum3_kernel(out: &mut [f32], bands: [&[f32]; 3], gains: [&[f32]; 3]);
}

/// One feed-forward stereo-linked compressor.
pub struct Compressor {
    max_sample_rate: f32,
    sample_rate: f32,
    threshold_db: f32,
    ratio: f32,
    knee_db: f32,
    attack_ms: f32,
    release_ms: f32,
    rms_ms: f32,
    makeup_db: f32,
    detection: Detection,
    needs_update: bool,
    attack_coef: f32,
    release_coef: f32,
    rms_coef: f32,
    /// Smoothed gain reduction `y_L` in dB (>= 0).
    envelope_db: f32,
    /// Mean square of the RMS detector.
    mean_square: f32,
    /// The bass hold: the running maximum of the per-chunk maxima of the smoothed reduction.
    hold: SlidingMax,
    /// The largest reduction of the chunk under way (dB), and how far into it the hold is.
    chunk_peak: f32,
    chunk_pos: usize,
    /// The hold's maximum over the completed chunks it spans, dB.
    held_level: f32,
    /// The last reduction the hold gave out, dB (the meter's reading).
    held_db: f32,
    gains: Vec<f32>,
}

impl Compressor {
    pub fn new(max_sample_rate: f32, max_block: usize, _channels: usize) -> Self {
        let mut c = Self {
            max_sample_rate,
            sample_rate: max_sample_rate,
            threshold_db: -18.0,
            ratio: 2.0,
            knee_db: 6.0,
            attack_ms: 10.0,
            release_ms: 150.0,
            rms_ms: 10.0,
            makeup_db: 0.0,
            detection: Detection::Peak,
            needs_update: true,
            attack_coef: 0.0,
            release_coef: 0.0,
            rms_coef: 0.0,
            envelope_db: 0.0,
            mean_square: 0.0,
            hold: SlidingMax::new(hold_chunks(max_sample_rate)),
            chunk_peak: 0.0,
            chunk_pos: 0,
            held_level: 0.0,
            held_db: 0.0,
            gains: vec![1.0; max_block],
        };
        c.update();
        c
    }

    pub fn set_sample_rate(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate.min(self.max_sample_rate);
        self.needs_update = true;
    }
    pub fn set_threshold_db(&mut self, db: f32) {
        self.threshold_db = db;
    }
    /// Ratio, at least 1 (1 = no compression).
    pub fn set_ratio(&mut self, ratio: f32) {
        self.ratio = ratio.max(1.0);
    }
    /// Knee width in dB (0 = hard knee).
    pub fn set_knee_db(&mut self, db: f32) {
        self.knee_db = db.max(0.0);
    }
    pub fn set_attack_ms(&mut self, ms: f32) {
        self.attack_ms = ms.max(0.0);
        self.needs_update = true;
    }
    pub fn set_release_ms(&mut self, ms: f32) {
        self.release_ms = ms.max(0.0);
        self.needs_update = true;
    }
    /// Averaging time of the RMS detector.
    pub fn set_rms_ms(&mut self, ms: f32) {
        self.rms_ms = ms.max(0.0);
        self.needs_update = true;
    }
    pub fn set_makeup_db(&mut self, db: f32) {
        self.makeup_db = db;
    }
    pub fn set_detection(&mut self, detection: Detection) {
        self.detection = detection;
    }

    pub fn latency(&self) -> usize {
        0
    }

    pub fn reset(&mut self) {
        self.envelope_db = 0.0;
        self.mean_square = 0.0;
        self.hold.reset();
        self.chunk_peak = 0.0;
        self.chunk_pos = 0;
        self.held_level = 0.0;
        self.held_db = 0.0;
    }

    /// Current gain reduction in dB, positive (0 = none), for meters.
    pub fn gain_reduction_db(&self) -> f32 {
        self.held_db
    }

    /// `exp(-1 / (tau fs))`, 0 for an instant time constant.
    fn coefficient(&self, ms: f32) -> f32 {
        let samples = ms * 1.0e-3 * self.sample_rate;
        if samples > 0.0 {
            (-1.0 / samples).exp()
        } else {
            0.0
        }
    }

    fn update(&mut self) {
        self.needs_update = false;
        self.attack_coef = self.coefficient(self.attack_ms);
        self.release_coef = self.coefficient(self.release_ms);
        self.rms_coef = self.coefficient(self.rms_ms);
        let hold = hold_chunks(self.sample_rate);
        if self.hold.window() != hold {
            self.hold.set_window(hold);
            self.chunk_peak = 0.0;
            self.chunk_pos = 0;
            self.held_level = 0.0;
        }
    }

    /// Compresses the block in place (self-detected).
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        if sanitize::replace_non_finite(channels) {
            self.reset();
        }
        let len = channels.first().map_or(0, |c| c.len());
        let mut gains = std::mem::take(&mut self.gains);
        {
            let detector: [&[f32]; 2] = match channels {
                [l, r] => [l, r],
                [m] => [m, m],
                _ => return self.gains = gains,
            };
            self.gain_curve(&detector, &mut gains[..len]);
        }
        apply_gain(channels, &gains[..len]);
        self.gains = gains;
    }

    /// Compresses `channels` with the gain detected on `sidechain` (1 or 2 channels, same length).
    pub fn process_sidechain(&mut self, channels: &mut [&mut [f32]], sidechain: &[&[f32]]) {
        if sanitize::replace_non_finite(channels) {
            self.reset();
        }
        let len = channels.first().map_or(0, |c| c.len());
        let mut gains = std::mem::take(&mut self.gains);
        self.gain_curve(sidechain, &mut gains[..len]);
        apply_gain(channels, &gains[..len]);
        self.gains = gains;
    }

    /// Stages 1-4 on a detector signal: writes the linear gain (makeup included) for each sample
    /// into `gains` (at most `max_block` long). A non-finite detector sample counts as silence.
    pub fn gain_curve(&mut self, sidechain: &[&[f32]], gains: &mut [f32]) {
        if self.needs_update {
            self.update();
        }
        let idle = if self.ratio == 1.0 && self.is_at_rest() {
            // At ratio 1 the curve is the identity: the wanted reduction is 0 dB at every level
            // (the full path computes `x - (t + (x - t))`, within an f32 rounding of 0: test
            // `ratio_one_at_rest_skips_the_detector_within_rounding`), so detection is skipped.
            gains.fill(0.0);
            true
        } else {
            self.wanted_reduction(sidechain, gains)
        };
        if idle && self.is_at_rest() {
            // Nothing to reduce, release or hold: the reduction stays exactly at 0 dB (the hold
            // still counts the block's zeros, so its chunks stay on the same grid).
            self.hold_reduction(gains);
            gains.fill(self.makeup_gain());
            return;
        }
        self.smooth(gains);
        self.hold_reduction(gains);
        self.to_gain(gains);
    }

    /// Stages 1-2: writes the wanted reduction `x_L = x_G - y_G` in dB for each sample of the
    /// detector signal into `out` (at most `max_block` long). Returns true if it is 0 throughout
    /// (the block never reaches the knee), in which case the logarithms were skipped.
    pub fn wanted_reduction(&mut self, sidechain: &[&[f32]], out: &mut [f32]) -> bool {
        if self.needs_update {
            self.update();
        }
        let len = out.len();
        let (l, r) = match sidechain {
            [l, r] => (&l[..len], &r[..len]),
            [m] => (&m[..len], &m[..len]),
            _ => {
                out.fill(0.0);
                return true;
            }
        };
        // 1. Detection, in log2 units of amplitude: first the linear level (amplitude, or mean
        // square for RMS), then its logarithm.
        let levels = out;
        let log_scale = match self.detection {
            Detection::Peak => {
                peak_levels(levels, l, r);
                1.0
            }
            Detection::Rms => {
                let c = self.rms_coef;
                let mut ms = self.mean_square;
                for ((lv, a), b) in levels.iter_mut().zip(l).zip(r) {
                    let p = 0.5 * (a * a + b * b);
                    let p = if p.is_finite() { p } else { 0.0 };
                    ms = p + c * (ms - p);
                    *lv = ms;
                }
                self.mean_square = sanitize::flush_denormal(ms);
                0.5
            }
        };
        // The bass hold (peak detection): every level becomes the largest of the last 50 ms.
        let (t, ratio, w) = (self.threshold_db, self.ratio, self.knee_db);
        // Below `t - w/2` the curve is the identity and the reduction exactly 0. If the block's
        // largest level stays 0.01 dB under that (a margin far above the logarithm's error),
        // every sample would give 0: skip the logarithms.
        let floor = if log_scale == 1.0 { 1.0e-10 } else { 1.0e-20 };
        let peak = max_level(levels);
        let peak_db = log_scale * fast_log2(peak.max(floor)) * DB_PER_LOG2;
        if 2.0 * (peak_db - t) < -w - 0.02 {
            levels.fill(0.0);
            return true;
        }
        // 2. Gain computer: the wanted reduction x_L = x_G - y_G in dB.
        log_reduction(levels, log_scale, floor, [t, ratio, w]);
        false
    }

    /// The bass hold (end of stage 3), in place on the smoothed reduction (dB): each value becomes at
    /// least the largest of the completed chunks of the last 50 ms or so. On a steady tone the
    /// smoothed reduction ripples with the same period as the tone, and every chunk span holds
    /// a whole period, so the held reduction is constant. Decimated (a maximum per 32-sample
    /// chunk, in a wedge) rather than a per-sample sliding window, which cost the multiband
    /// compressor 45 % of its speed (`cargo bench --bench realtime`).
    pub fn hold_reduction(&mut self, levels: &mut [f32]) {
        let mut i = 0;
        while i < levels.len() {
            let m = (HOLD_CHUNK - self.chunk_pos).min(levels.len() - i);
            let part = &mut levels[i..i + m];
            self.chunk_peak = block_max(self.chunk_peak, part);
            let held = self.held_level;
            for v in part.iter_mut() {
                *v = v.max(held);
            }
            i += m;
            self.chunk_pos += m;
            if self.chunk_pos == HOLD_CHUNK {
                self.chunk_pos = 0;
                self.held_level = self.hold.push(self.chunk_peak);
                self.chunk_peak = 0.0;
            }
        }
        if let Some(&last) = levels.last() {
            self.held_db = last;
        }
    }

    /// Stage 3 in place: the wanted reduction in, the smoothed reduction `y_L` out.
    pub fn smooth(&mut self, reduction: &mut [f32]) {
        smooth_reductions([self], [reduction]);
    }

    /// Stage 4 in place: the smoothed reduction in dB in, the linear gain with makeup out.
    pub fn to_gain(&self, reduction: &mut [f32]) {
        to_gain_curve(reduction, self.makeup_db);
    }

    /// The linear gain with no reduction: the makeup alone, as [`Self::to_gain`] computes it.
    pub fn makeup_gain(&self) -> f32 {
        fast_exp2(self.makeup_db * (1.0 / DB_PER_LOG2))
    }

    /// True if the envelope is at rest (no reduction in progress, none held).
    pub fn is_at_rest(&self) -> bool {
        self.envelope_db == 0.0 && self.held_level == 0.0 && self.chunk_peak == 0.0
    }
}

/// Stage 3 for `N` compressors at once, each on its own reduction curve (in place; all of the
/// same length): the smooth branching peak detector
/// `y[n] = x[n] + a (y[n-1] - x[n])`, `a = a_A` if `x[n] > y[n-1]` else `a_R`.
///
/// Each recurrence waits on its previous sample, so one runs at the latency of its few
/// operations per sample; running the `N` independent ones in the same loop overlaps them.
pub fn smooth_reductions<const N: usize>(comps: [&mut Compressor; N], curves: [&mut [f32]; N]) {
    let len = curves.iter().map(|c| c.len()).min().unwrap_or(0);
    let aa: [f32; N] = std::array::from_fn(|k| comps[k].attack_coef);
    let ar: [f32; N] = std::array::from_fn(|k| comps[k].release_coef);
    let mut env: [f32; N] = std::array::from_fn(|k| comps[k].envelope_db);
    let curves = curves.map(|c| &mut c[..len]);
    // Samples outermost, bands innermost: the N recurrences advance together.
    #[allow(clippy::needless_range_loop)]
    for n in 0..len {
        for k in 0..N {
            let x = curves[k][n];
            let a = if x > env[k] { aa[k] } else { ar[k] };
            env[k] = x + a * (env[k] - x);
            curves[k][n] = env[k];
        }
    }
    for (c, e) in comps.into_iter().zip(env) {
        c.envelope_db = sanitize::flush_denormal(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FS: f32 = 48_000.0;

    /// The dispatched kernels (AVX2 where the CPU has it) give exactly the portable build's
    /// output, for every length (vector body and scalar tail).
    #[test]
    fn avx2_and_portable_kernels_agree_exactly() {
        let signal = |k: usize, n: usize| -> Vec<f32> {
            (0..n)
                .map(|i| {
                    let v = ((i * 7919 + k * 104_729) % 1013) as f32 / 1013.0 - 0.5;
                    v * 10f32.powf(((i * 31 + k) % 97) as f32 / 97.0 * 6.0 - 5.0)
                })
                .collect()
        };
        for n in [0, 1, 5, 8, 13, 64, 511, 512] {
            let (l, r) = (signal(1, n), signal(2, n));
            let (mut a, mut b) = (vec![0.0f32; n], vec![0.0f32; n]);
            kernels::peak_levels(&mut a, &l, &r);
            peak_levels(&mut b, &l, &r);
            assert_eq!(a, b);
            assert_eq!(kernels::max_level(&a).to_bits(), max_level(&b).to_bits());
            for (scale, floor, curve) in [
                (1.0, 1.0e-10, [-30.0, 2.5, 6.0]),
                (0.5, 1.0e-20, [-12.0, 4.0, 0.0]),
            ] {
                let (mut x, mut y) = (a.clone(), a.clone());
                kernels::log_reduction(&mut x, scale, floor, curve);
                log_reduction(&mut y, scale, floor, curve);
                assert_eq!(x, y);
                kernels::to_gain(&mut x, 1.5);
                to_gain_curve(&mut y, 1.5);
                assert_eq!(x, y);
            }
            let (mut x, mut y) = (l.clone(), l.clone());
            kernels::multiply(&mut x, &r);
            multiply(&mut y, &r);
            assert_eq!(x, y);
            let bands = [&l[..], &r[..], &a[..]];
            let gains = [&r[..], &a[..], &l[..]];
            kernels::weighted_sum3(&mut x, bands, gains);
            weighted_sum3(&mut y, bands, gains);
            assert_eq!(x, y);
        }
    }

    #[test]
    fn fast_log_and_exp_are_accurate_to_a_thousandth_of_a_db() {
        let mut x = 1.0e-9f32;
        while x < 1.0e3 {
            let db_err = DB_PER_LOG2 * (fast_log2(x) - x.log2());
            assert!(db_err.abs() < 1e-3, "log2({x}) off by {db_err} dB");
            x *= 1.37;
        }
        let mut y = -60.0f32;
        while y < 60.0 {
            let rel = fast_exp2(y) / y.exp2();
            assert!((rel - 1.0).abs() < 1.2e-4, "exp2({y}) off by {rel}"); // 0.001 dB
            y += 0.173;
        }
    }

    /// Feeds a constant level and reads the settled gain reduction.
    fn static_reduction(c: &mut Compressor, level_db: f32) -> f32 {
        c.reset();
        let a = 10f32.powf(level_db / 20.0);
        let mut l = vec![a; 4_096];
        let mut r = vec![-a; 4_096];
        for _ in 0..30 {
            l.fill(a);
            r.fill(-a);
            c.process(&mut [&mut l, &mut r]);
        }
        -20.0 * (l[4_095] / a).log10()
    }

    #[test]
    fn static_curve_matches_the_formula_with_and_without_knee() {
        for knee in [0.0, 10.0] {
            let mut c = Compressor::new(FS, 4_096, 2);
            c.set_threshold_db(-20.0);
            c.set_ratio(4.0);
            c.set_knee_db(knee);
            c.set_attack_ms(1.0);
            c.set_release_ms(5.0);
            for level in [-40.0, -26.0, -22.0, -20.0, -17.0, -14.0, -6.0, 0.0] {
                let got = static_reduction(&mut c, level);
                // Hand-written expectation, piecewise as in the paper.
                let (t, r, w) = (-20.0f32, 4.0f32, knee);
                let y = if 2.0 * (level - t) < -w {
                    level
                } else if 2.0 * (level - t) > w || w == 0.0 {
                    t + (level - t) / r
                } else {
                    level + (1.0 / r - 1.0) * (level - t + w / 2.0).powi(2) / (2.0 * w)
                };
                let want = level - y;
                assert!(
                    (got - want).abs() < 0.1,
                    "knee {knee}, {level} dB: {got} vs {want}"
                );
                assert!((c.gain_reduction_db() - want).abs() < 0.1);
            }
        }
        // Known points: 12 dB over a 4:1 hard knee is reduced by 9 dB; at the threshold of a
        // 10 dB knee by (1 - 1/4) * 5^2 / 20 = 0.9375 dB.
        assert!((-20.0 + 12.0 - gain_computer_db(-8.0, -20.0, 4.0, 0.0) - 9.0).abs() < 1e-5);
        assert!((-20.0 - gain_computer_db(-20.0, -20.0, 4.0, 10.0) - 0.9375).abs() < 1e-5);
    }

    #[test]
    fn rms_detection_reads_a_sine_at_its_rms_level() {
        let mut c = Compressor::new(FS, 4_800, 1);
        c.set_detection(Detection::Rms);
        c.set_threshold_db(-30.0);
        c.set_ratio(3.0);
        c.set_knee_db(0.0);
        c.set_rms_ms(50.0);
        let amp = 0.5f32; // RMS -9.03 dBFS: 21 dB over, reduced by 14 dB
        let mut gr = 0.0;
        for b in 0..40 {
            let mut x: Vec<f32> = (0..4_800)
                .map(|i| {
                    let n = (b * 4_800 + i) as f32;
                    amp * (2.0 * std::f32::consts::PI * 1_000.0 * n / FS).sin()
                })
                .collect();
            c.process(&mut [&mut x]);
            gr = c.gain_reduction_db();
        }
        let rms_db = 20.0 * (amp / 2f32.sqrt()).log10();
        let want = (rms_db + 30.0) * (1.0 - 1.0 / 3.0);
        assert!((gr - want).abs() < 0.1, "{gr} vs {want}");
    }

    /// First sample index where `f` holds, on the per-sample gain reduction of a level step.
    fn step_response(c: &mut Compressor, from_db: f32, to_db: f32) -> Vec<f32> {
        let (a0, a1) = (10f32.powf(from_db / 20.0), 10f32.powf(to_db / 20.0));
        for _ in 0..50 {
            let mut x = vec![a0; 4_800];
            c.process(&mut [&mut x]);
        }
        let mut out = Vec::new();
        for _ in 0..20 {
            let mut x = vec![a1; 4_800];
            c.process(&mut [&mut x]);
            out.extend(x.iter().map(|&y| -20.0 * (y / a1).log10()));
        }
        out
    }

    #[test]
    fn attack_and_release_reach_63_percent_after_their_time_constants() {
        let mut c = Compressor::new(FS, 4_800, 1);
        c.set_threshold_db(-20.0);
        c.set_ratio(4.0);
        c.set_knee_db(0.0);
        c.set_attack_ms(20.0);
        c.set_release_ms(200.0);
        // Attack: from -40 dB (no reduction) to 0 dB (15 dB of reduction).
        let gr = step_response(&mut c, -40.0, 0.0);
        let n = gr.iter().position(|&g| g >= 0.632 * 15.0).unwrap() as f32;
        let want = 0.020 * FS;
        assert!(
            (n - want).abs() < 0.1 * want,
            "attack 63% at {n}, want {want}"
        );
        assert!((gr[gr.len() - 1] - 15.0).abs() < 0.05);
        // Release: back to -40 dB; the reduction falls to 36.8 % of 15 dB 200 ms after the
        // 50 ms hold.
        let gr = step_response(&mut c, 0.0, -40.0);
        let n = gr.iter().position(|&g| g <= 0.368 * 15.0).unwrap() as f32;
        let want = (0.200 + BASS_HOLD_S) * FS;
        assert!(
            (n - want).abs() < 0.1 * want,
            "release 37% at {n}, want {want}"
        );
    }

    /// Harmonics 2-10 of a 50 Hz sine reduced by about 6 dB, over the settled last 2 of 4 s, and
    /// the reduction reached. Peak detection, 20 ms attack, 200 ms release and a 6 dB knee, as
    /// the engine runs it (`controls::COMP_*`).
    fn bass_thd_db(ratio: f32, fs: f32) -> (f64, f32) {
        let mut c = Compressor::new(fs, 4_800, 2);
        c.set_sample_rate(fs);
        c.set_ratio(ratio);
        c.set_knee_db(6.0);
        c.set_attack_ms(20.0);
        c.set_release_ms(200.0);
        // A -6 dBFS peak level, 6 dB of reduction past the knee: T = L - 6 / (1 - 1/R).
        let level_db = -6.0f32;
        c.set_threshold_db(level_db - 6.0 / (1.0 - 1.0 / ratio));
        let amp = 10f32.powf(level_db / 20.0);
        let tau = std::f64::consts::TAU;
        let x: Vec<f32> = (0..(4.0 * fs) as usize)
            .map(|j| (amp as f64 * (tau * 50.0 * j as f64 / fs as f64).sin()) as f32)
            .collect();
        let (mut l, mut r) = (x.clone(), x);
        for (bl, br) in l.chunks_mut(471).zip(r.chunks_mut(471)) {
            c.process(&mut [bl, br]);
        }
        let thd = crate::dsp::tone_meter::harmonics_db(&l, fs, 2.0, 50.0);
        (thd, c.gain_reduction_db())
    }

    #[test]
    fn a_compressed_bass_tone_stays_clean() {
        // The ratios the analysis picks for dense material (about 1.2) up to the presets' most.
        for &fs in &[44_100.0f32, 48_000.0] {
            for &ratio in &[1.2f32, 2.5, 4.0] {
                let (thd, gr) = bass_thd_db(ratio, fs);
                println!("{fs} Hz ratio {ratio}: {gr:.2} dB reduction, harmonics {thd:.1} dB");
                // About 6 dB: the attack-smoothed reduction settles a little under the crest's.
                assert!((5.0..6.5).contains(&gr), "{gr}");
                assert!(thd < -70.0, "{fs} Hz ratio {ratio}: {thd:.1} dB");
            }
        }
    }

    #[test]
    fn makeup_sidechain_and_gain_curve_agree() {
        let mut c = Compressor::new(FS, 512, 2);
        c.set_threshold_db(-10.0);
        c.set_ratio(2.0);
        c.set_knee_db(0.0);
        c.set_attack_ms(0.0);
        c.set_makeup_db(3.0);
        // A loud sidechain (0 dBFS: 5 dB of reduction) on a quiet programme.
        let key = vec![1.0f32; 512];
        let mut l = vec![0.01f32; 512];
        let mut r = vec![0.01f32; 512];
        c.process_sidechain(&mut [&mut l, &mut r], &[&key]);
        let db = 20.0 * (l[511] / 0.01).log10();
        assert!((db - (3.0 - 5.0)).abs() < 0.01, "{db}");
        let mut gains = vec![0.0f32; 512];
        c.gain_curve(&[&key, &key], &mut gains);
        assert!((20.0 * gains[0].log10() + 2.0).abs() < 0.01);
    }

    #[test]
    fn non_finite_input_is_silenced_and_the_compressor_recovers() {
        let mut c = Compressor::new(FS, 256, 2);
        let mut l = vec![0.5f32; 256];
        let mut r = vec![0.5f32; 256];
        l[3] = f32::NAN;
        r[9] = f32::NEG_INFINITY;
        c.process(&mut [&mut l, &mut r]);
        assert!(l.iter().chain(&r).all(|v| v.is_finite()));
        assert!(c.gain_reduction_db().is_finite());
        let mut l = vec![0.5f32; 256];
        c.process(&mut [&mut l]);
        assert!(l.iter().all(|v| v.is_finite() && *v > 0.0));
    }

    /// At ratio 1 with the envelope at rest, the detector is skipped; the gain is the makeup
    /// alone, within -120 dB of what the full path (detection, gain computer, smoothing, hold,
    /// gain) computes on loud material well over the threshold, and the compressor is not left
    /// at rest when the ratio then rises.
    #[test]
    fn ratio_one_at_rest_skips_the_detector_within_rounding() {
        let n = 4096;
        let x: Vec<f32> = (0..n)
            .map(|i| 0.9 * (i as f32 * 0.05).sin() * (1.0 + 0.5 * (i as f32 * 0.001).sin()))
            .collect();
        let mut fast = Compressor::new(FS, n, 2);
        let mut full = Compressor::new(FS, n, 2);
        for c in [&mut fast, &mut full] {
            c.set_threshold_db(-30.0);
            c.set_ratio(1.0);
            c.set_knee_db(6.0);
            c.set_makeup_db(2.0);
        }
        let mut g_fast = vec![0.0f32; n];
        fast.gain_curve(&[&x, &x], &mut g_fast);
        let mut g_full = vec![0.0f32; n];
        let idle = full.wanted_reduction(&[&x, &x], &mut g_full);
        assert!(
            !idle,
            "the material must reach the knee for the full path to run"
        );
        full.smooth(&mut g_full);
        full.hold_reduction(&mut g_full);
        full.to_gain(&mut g_full);
        let worst = g_fast
            .iter()
            .zip(&g_full)
            .map(|(a, b)| ((a - b) / b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 1.0e-6,
            "relative difference {worst} (-120 dB is 1e-6)"
        );
        assert_eq!(g_fast[0], fast.makeup_gain());
        fast.set_ratio(4.0);
        fast.gain_curve(&[&x, &x], &mut g_fast);
        assert!(g_fast.iter().any(|&g| g < 0.5 * fast.makeup_gain()));
    }
}
