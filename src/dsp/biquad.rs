//! Second-order sections: coefficient design, frequency response and stereo processing.
//!
//! Coefficients follow Robert Bristow-Johnson's "Cookbook formulae for audio EQ biquad filter
//! coefficients" (the RBJ Audio EQ Cookbook): each design is the bilinear transform of an analog
//! prototype, pre-warped so the prototype's centre or corner frequency lands exactly on `f0`.
//! They are normalised so that `a0 = 1`:
//!
//! `H(z) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2)`.
//!
//! Processing uses the transposed direct form II (TDF-II), with coefficients and the two states
//! in `f64`: at 96 kHz a 40 Hz section has poles within about 0.003 of the unit circle, where
//! `f32` states add audible noise and level error, while `f64` keeps both far below 24-bit
//! resolution. Both channels of a stereo pair run in lockstep so the two independent
//! recurrences overlap (and map onto one SIMD register).

use std::f64::consts::PI;

/// Normalised biquad coefficients (`a0 = 1`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BiquadCoeffs {
    pub b0: f64,
    pub b1: f64,
    pub b2: f64,
    pub a1: f64,
    pub a2: f64,
}

impl Default for BiquadCoeffs {
    fn default() -> Self {
        Self::IDENTITY
    }
}

/// The angular frequency terms every cookbook design shares: `cos w0` and `sin w0`, with `1 - cos
/// w0` computed as `2 sin^2(w0/2)` so it keeps full precision at low frequencies.
struct Warp {
    cos: f64,
    sin: f64,
    one_minus_cos: f64,
}

fn warp(f0: f64, fs: f64) -> Warp {
    let w0 = 2.0 * PI * f0 / fs;
    let half = (0.5 * w0).sin();
    Warp {
        cos: w0.cos(),
        sin: w0.sin(),
        one_minus_cos: 2.0 * half * half,
    }
}

impl BiquadCoeffs {
    /// The section that passes its input unchanged.
    pub const IDENTITY: Self = Self {
        b0: 1.0,
        b1: 0.0,
        b2: 0.0,
        a1: 0.0,
        a2: 0.0,
    };

    /// Divides by `a0` (all constructors go through here).
    fn normalised(b0: f64, b1: f64, b2: f64, a0: f64, a1: f64, a2: f64) -> Self {
        let inv = 1.0 / a0;
        Self {
            b0: b0 * inv,
            b1: b1 * inv,
            b2: b2 * inv,
            a1: a1 * inv,
            a2: a2 * inv,
        }
    }

    /// Peaking EQ (cookbook "peakingEQ"): `gain_db` at `f0`, unity far away; `q` sets the
    /// bandwidth between the half-gain (in dB) points. Analog prototype
    /// `H(s) = (s^2 + s A/Q + 1) / (s^2 + s/(A Q) + 1)`, `A = 10^(gain_db/40)`.
    pub fn peak(f0: f64, q: f64, gain_db: f64, fs: f64) -> Self {
        let a = 10f64.powf(gain_db / 40.0);
        Self::peak_from(&warp(f0, fs), q, a)
    }

    /// Peaking EQ from a precomputed warp and amplitude `A = 10^(gain_db/40)` (used by the Bark EQ
    /// to recompute 25 bands cheaply while gains glide).
    fn peak_from(w: &Warp, q: f64, a: f64) -> Self {
        let alpha = w.sin / (2.0 * q);
        Self::normalised(
            1.0 + alpha * a,
            -2.0 * w.cos,
            1.0 - alpha * a,
            1.0 + alpha / a,
            -2.0 * w.cos,
            1.0 - alpha / a,
        )
    }

    /// Low shelf (cookbook "lowShelf"): `gain_db` at DC, unity at Nyquist, `gain_db / 2` at `f0`.
    /// `q = 1/sqrt(2)` gives the steepest shelf without overshoot.
    pub fn low_shelf(f0: f64, q: f64, gain_db: f64, fs: f64) -> Self {
        let a = 10f64.powf(gain_db / 40.0);
        let w = warp(f0, fs);
        let alpha = w.sin / (2.0 * q);
        let k = 2.0 * a.sqrt() * alpha;
        let (ap, am) = (a + 1.0, a - 1.0);
        Self::normalised(
            a * (ap - am * w.cos + k),
            2.0 * a * (am - ap * w.cos),
            a * (ap - am * w.cos - k),
            ap + am * w.cos + k,
            -2.0 * (am + ap * w.cos),
            ap + am * w.cos - k,
        )
    }

    /// High shelf (cookbook "highShelf"): unity at DC, `gain_db` at Nyquist, `gain_db / 2` at `f0`.
    pub fn high_shelf(f0: f64, q: f64, gain_db: f64, fs: f64) -> Self {
        let a = 10f64.powf(gain_db / 40.0);
        let w = warp(f0, fs);
        let alpha = w.sin / (2.0 * q);
        let k = 2.0 * a.sqrt() * alpha;
        let (ap, am) = (a + 1.0, a - 1.0);
        Self::normalised(
            a * (ap + am * w.cos + k),
            -2.0 * a * (am + ap * w.cos),
            a * (ap + am * w.cos - k),
            ap - am * w.cos + k,
            2.0 * (am - ap * w.cos),
            ap - am * w.cos - k,
        )
    }

    /// Second-order low pass (cookbook "LPF"), `H(s) = 1 / (s^2 + s/Q + 1)`. With
    /// `q = 1/sqrt(2)` it is a Butterworth section: -3.01 dB at `f0`, -12 dB/octave beyond.
    pub fn low_pass(f0: f64, q: f64, fs: f64) -> Self {
        let w = warp(f0, fs);
        let alpha = w.sin / (2.0 * q);
        let b = 0.5 * w.one_minus_cos;
        Self::normalised(
            b,
            w.one_minus_cos,
            b,
            1.0 + alpha,
            -2.0 * w.cos,
            1.0 - alpha,
        )
    }

    /// Second-order high pass (cookbook "HPF"), `H(s) = s^2 / (s^2 + s/Q + 1)`.
    pub fn high_pass(f0: f64, q: f64, fs: f64) -> Self {
        let w = warp(f0, fs);
        let alpha = w.sin / (2.0 * q);
        let b = 0.5 * (2.0 - w.one_minus_cos);
        Self::normalised(b, -2.0 * b, b, 1.0 + alpha, -2.0 * w.cos, 1.0 - alpha)
    }

    /// Second-order all pass (cookbook "APF"), `H(s) = (s^2 - s/Q + 1) / (s^2 + s/Q + 1)`: unity
    /// magnitude, phase turning through -180 degrees at `f0`. With `q = 1/sqrt(2)` it equals the
    /// sum of a Linkwitz-Riley 4th-order low and high pass at `f0`.
    pub fn all_pass(f0: f64, q: f64, fs: f64) -> Self {
        let w = warp(f0, fs);
        let alpha = w.sin / (2.0 * q);
        Self::normalised(
            1.0 - alpha,
            -2.0 * w.cos,
            1.0 + alpha,
            1.0 + alpha,
            -2.0 * w.cos,
            1.0 - alpha,
        )
    }

    /// True if both poles lie strictly inside the unit circle (the stability triangle
    /// `|a2| < 1`, `|a1| < 1 + a2`).
    pub fn is_stable(&self) -> bool {
        self.a2.abs() < 1.0 && self.a1.abs() < 1.0 + self.a2
    }

    /// True if the section passes its input unchanged (numerator equals denominator).
    pub fn is_identity(&self) -> bool {
        self.b0 == 1.0 && self.b1 == self.a1 && self.b2 == self.a2
    }

    /// `|H(e^jw)|^2` at `w = 2 pi f / fs`, in the cookbook's form with `phi = sin^2(w/2)`, which
    /// stays accurate at low frequencies where `cos w` is close to 1:
    /// `|B|^2 = (b0+b1+b2)^2 - 4 (b0 b1 + 4 b0 b2 + b1 b2) phi + 16 b0 b2 phi^2` (same for A).
    pub fn power_at_phi(&self, phi: f64) -> f64 {
        let Self { b0, b1, b2, a1, a2 } = *self;
        let num = (b0 + b1 + b2).powi(2) - 4.0 * (b0 * b1 + 4.0 * b0 * b2 + b1 * b2) * phi
            + 16.0 * b0 * b2 * phi * phi;
        let den =
            (1.0 + a1 + a2).powi(2) - 4.0 * (a1 + 4.0 * a2 + a1 * a2) * phi + 16.0 * a2 * phi * phi;
        num / den
    }

    /// Magnitude response in dB at frequency `f` for sample rate `fs`.
    pub fn magnitude_db(&self, f: f64, fs: f64) -> f64 {
        10.0 * self.power_at_phi(phi(f, fs)).max(1.0e-30).log10()
    }
}

/// `sin^2(pi f / fs)`, the frequency variable of [`BiquadCoeffs::power_at_phi`].
#[inline]
pub fn phi(f: f64, fs: f64) -> f64 {
    let s = (PI * f / fs).sin();
    s * s
}

/// Precomputed design data for a peaking section whose frequency and Q stay fixed while its gain
/// moves: only `A = 10^(gain_db/40)` has to be recomputed.
#[derive(Clone, Copy)]
pub struct PeakDesign {
    warp_cos: f64,
    warp_sin: f64,
    q: f64,
}

impl PeakDesign {
    pub fn new(f0: f64, q: f64, fs: f64) -> Self {
        let w = warp(f0, fs);
        Self {
            warp_cos: w.cos,
            warp_sin: w.sin,
            q,
        }
    }

    /// The peaking section with this gain; exactly [`BiquadCoeffs::IDENTITY`] at 0 dB.
    pub fn coeffs(&self, gain_db: f64) -> BiquadCoeffs {
        if gain_db == 0.0 {
            return BiquadCoeffs::IDENTITY;
        }
        let w = Warp {
            cos: self.warp_cos,
            sin: self.warp_sin,
            one_minus_cos: 1.0 - self.warp_cos,
        };
        BiquadCoeffs::peak_from(&w, self.q, 10f64.powf(gain_db / 40.0))
    }
}

/// One biquad running on a stereo pair (lane 0 = left or mono, lane 1 = right), TDF-II, `f64`.
#[derive(Clone, Copy, Debug, Default)]
pub struct StereoBiquad {
    pub coeffs: BiquadCoeffs,
    s1: [f64; 2],
    s2: [f64; 2],
}

impl StereoBiquad {
    pub fn new(coeffs: BiquadCoeffs) -> Self {
        Self {
            coeffs,
            s1: [0.0; 2],
            s2: [0.0; 2],
        }
    }

    /// One sample of both lanes: `y = b0 x + s1; s1 = (b1 x + s2) - a1 y; s2 = b2 x - a2 y`.
    ///
    /// Grouped so that the feedback path `y -> s1 -> y` is one multiply, one subtraction and one
    /// addition long (`b1 x + s2` is ready before `y`): the recurrence, not the arithmetic,
    /// bounds how fast a section runs.
    #[inline(always)]
    pub fn tick(&mut self, x: [f64; 2]) -> [f64; 2] {
        let c = self.coeffs;
        let mut y = [0.0; 2];
        for ch in 0..2 {
            y[ch] = c.b0 * x[ch] + self.s1[ch];
            self.s1[ch] = (c.b1 * x[ch] + self.s2[ch]) - c.a1 * y[ch];
            self.s2[ch] = c.b2 * x[ch] - c.a2 * y[ch];
        }
        y
    }

    /// [`Self::tick`] with fused multiply-adds: `y = fma(b0, x, s1)`,
    /// `s1 = fma(-a1, y, fma(b1, x, s2))`, `s2 = fma(-a2, y, b2 x)` (the reference of the fused
    /// cascade kernel; slow on a CPU without FMA).
    pub fn tick_fused(&mut self, x: [f64; 2]) -> [f64; 2] {
        let c = self.coeffs;
        let mut y = [0.0; 2];
        for ch in 0..2 {
            y[ch] = c.b0.mul_add(x[ch], self.s1[ch]);
            self.s1[ch] = (-c.a1).mul_add(y[ch], c.b1.mul_add(x[ch], self.s2[ch]));
            self.s2[ch] = (-c.a2).mul_add(y[ch], c.b2 * x[ch]);
        }
        y
    }

    /// Filters one (mono) or two (stereo, in lockstep) channels in place.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        match channels {
            [l, r] => {
                for (a, b) in l.iter_mut().zip(r.iter_mut()) {
                    let y = self.tick([*a as f64, *b as f64]);
                    *a = y[0] as f32;
                    *b = y[1] as f32;
                }
            }
            [m] => {
                for a in m.iter_mut() {
                    *a = self.tick([*a as f64, 0.0])[0] as f32;
                }
            }
            _ => {}
        }
    }

    /// Clears the states.
    pub fn reset(&mut self) {
        self.s1 = [0.0; 2];
        self.s2 = [0.0; 2];
    }

    /// Flushes states that decayed into the denormal range.
    pub fn flush_denormals(&mut self) {
        for ch in 0..2 {
            self.s1[ch] = crate::dsp::sanitize::flush_denormal_f64(self.s1[ch]);
            self.s2[ch] = crate::dsp::sanitize::flush_denormal_f64(self.s2[ch]);
        }
    }
}

/// `L` independent sections side by side, one per lane, each lane with its own coefficients:
/// `y_i = H_i(z) x_i`. TDF-II in `f64`, the recurrence of [`StereoBiquad`]; the lanes run in
/// lockstep, so the compiler maps them onto SIMD registers (two lanes per SSE2 register, four
/// per AVX register) and a stage costs about as much whatever each lane does.
#[derive(Clone, Copy, Debug)]
pub struct LaneBiquad<const L: usize> {
    b0: [f64; L],
    b1: [f64; L],
    b2: [f64; L],
    a1: [f64; L],
    a2: [f64; L],
    s1: [f64; L],
    s2: [f64; L],
}

/// Two lanes, e.g. mid and side.
pub type DualBiquad = LaneBiquad<2>;

impl LaneBiquad<4> {
    /// Two stereo sections side by side: lanes `[a L, a R, b L, b R]`, coefficients and states.
    pub fn from_pair(a: &StereoBiquad, b: &StereoBiquad) -> Self {
        let mut q = Self::new([a.coeffs, a.coeffs, b.coeffs, b.coeffs]);
        q.s1 = [a.s1[0], a.s1[1], b.s1[0], b.s1[1]];
        q.s2 = [a.s2[0], a.s2[1], b.s2[0], b.s2[1]];
        q
    }

    /// Writes the states back into the two stereo sections of [`Self::from_pair`].
    pub fn store_pair(&self, a: &mut StereoBiquad, b: &mut StereoBiquad) {
        a.s1 = [self.s1[0], self.s1[1]];
        a.s2 = [self.s2[0], self.s2[1]];
        b.s1 = [self.s1[2], self.s1[3]];
        b.s2 = [self.s2[2], self.s2[3]];
    }
}

impl LaneBiquad<8> {
    /// Four stereo sections side by side: lanes `[a L, a R, b L, b R, c L, c R, d L, d R]`,
    /// coefficients and states.
    pub fn from_quad(q: &[StereoBiquad; 4]) -> Self {
        let mut l = Self::new(std::array::from_fn(|i| q[i / 2].coeffs));
        l.s1 = std::array::from_fn(|i| q[i / 2].s1[i % 2]);
        l.s2 = std::array::from_fn(|i| q[i / 2].s2[i % 2]);
        l
    }

    /// Writes the states back into the four stereo sections of [`Self::from_quad`].
    pub fn store_quad(&self, q: &mut [StereoBiquad; 4]) {
        for (k, s) in q.iter_mut().enumerate() {
            s.s1 = [self.s1[2 * k], self.s1[2 * k + 1]];
            s.s2 = [self.s2[2 * k], self.s2[2 * k + 1]];
        }
    }
}

impl LaneBiquad<4> {
    /// Two dual sections side by side: lanes `[a 0, a 1, b 0, b 1]`, coefficients and states.
    pub fn from_duals(a: &DualBiquad, b: &DualBiquad) -> Self {
        let cat = |x: [f64; 2], y: [f64; 2]| [x[0], x[1], y[0], y[1]];
        Self {
            b0: cat(a.b0, b.b0),
            b1: cat(a.b1, b.b1),
            b2: cat(a.b2, b.b2),
            a1: cat(a.a1, b.a1),
            a2: cat(a.a2, b.a2),
            s1: cat(a.s1, b.s1),
            s2: cat(a.s2, b.s2),
        }
    }

    /// Writes the states back into the two dual sections of [`Self::from_duals`].
    pub fn store_duals(&self, a: &mut DualBiquad, b: &mut DualBiquad) {
        a.s1 = [self.s1[0], self.s1[1]];
        a.s2 = [self.s2[0], self.s2[1]];
        b.s1 = [self.s1[2], self.s1[3]];
        b.s2 = [self.s2[2], self.s2[3]];
    }
}

impl<const L: usize> Default for LaneBiquad<L> {
    /// Every lane passes its input unchanged.
    fn default() -> Self {
        Self::new([BiquadCoeffs::IDENTITY; L])
    }
}

impl<const L: usize> LaneBiquad<L> {
    pub fn new(lanes: [BiquadCoeffs; L]) -> Self {
        let mut s = Self {
            b0: [0.0; L],
            b1: [0.0; L],
            b2: [0.0; L],
            a1: [0.0; L],
            a2: [0.0; L],
            s1: [0.0; L],
            s2: [0.0; L],
        };
        s.set_coeffs(lanes);
        s
    }

    /// Sets each lane's coefficients; the states stay.
    pub fn set_coeffs(&mut self, lanes: [BiquadCoeffs; L]) {
        self.b0 = lanes.map(|c| c.b0);
        self.b1 = lanes.map(|c| c.b1);
        self.b2 = lanes.map(|c| c.b2);
        self.a1 = lanes.map(|c| c.a1);
        self.a2 = lanes.map(|c| c.a2);
    }

    /// One sample of every lane, the same recurrence as [`StereoBiquad::tick`].
    #[inline(always)]
    pub fn tick(&mut self, x: [f64; L]) -> [f64; L] {
        let mut y = [0.0; L];
        for ch in 0..L {
            y[ch] = self.b0[ch] * x[ch] + self.s1[ch];
            self.s1[ch] = (self.b1[ch] * x[ch] + self.s2[ch]) - self.a1[ch] * y[ch];
            self.s2[ch] = self.b2[ch] * x[ch] - self.a2[ch] * y[ch];
        }
        y
    }

    /// [`Self::tick`] with fused multiply-adds, as [`StereoBiquad::tick_fused`]. Fast only
    /// where compiled with FMA enabled (a `#[target_feature(enable = "fma")]` caller).
    #[inline(always)]
    pub fn tick_fused(&mut self, x: [f64; L]) -> [f64; L] {
        let mut y = [0.0; L];
        for ch in 0..L {
            y[ch] = self.b0[ch].mul_add(x[ch], self.s1[ch]);
            self.s1[ch] = (-self.a1[ch]).mul_add(y[ch], self.b1[ch].mul_add(x[ch], self.s2[ch]));
            self.s2[ch] = (-self.a2[ch]).mul_add(y[ch], self.b2[ch] * x[ch]);
        }
        y
    }

    /// The coefficients `[b0, b1, b2, a1, a2]` and the states `[s1, s2]`, each lane by lane (for
    /// kernels that hold them in SIMD registers).
    pub fn parts(&self) -> ([[f64; L]; 5], [[f64; L]; 2]) {
        (
            [self.b0, self.b1, self.b2, self.a1, self.a2],
            [self.s1, self.s2],
        )
    }

    /// Sets the states `[s1, s2]` lane by lane (see [`Self::parts`]).
    pub fn set_states(&mut self, states: [[f64; L]; 2]) {
        [self.s1, self.s2] = states;
    }

    /// Clears the states.
    pub fn reset(&mut self) {
        self.s1 = [0.0; L];
        self.s2 = [0.0; L];
    }

    /// Flushes states that decayed into the denormal range.
    pub fn flush_denormals(&mut self) {
        for ch in 0..L {
            self.s1[ch] = crate::dsp::sanitize::flush_denormal_f64(self.s1[ch]);
            self.s2[ch] = crate::dsp::sanitize::flush_denormal_f64(self.s2[ch]);
        }
    }
}

/// Runs the cascade `sections` over the lane pair `(a, b)` in place, widening to `f64` per
/// sample. The sections are copied into locals for the pass so their states stay in registers;
/// each section's recurrence only waits on its own state, so successive samples overlap.
pub fn run_dual_cascade<const N: usize>(
    sections: &mut [DualBiquad; N],
    a: &mut [f32],
    b: &mut [f32],
) {
    run_dual_cascade_with::<N, false>(sections, a, b)
}

/// [`run_dual_cascade`] with fused multiply-adds ([`LaneBiquad::tick_fused`]): the reference of
/// the fused kernel of `dsp::cascade` (slow without hardware FMA).
pub fn run_dual_cascade_fused<const N: usize>(
    sections: &mut [DualBiquad; N],
    a: &mut [f32],
    b: &mut [f32],
) {
    run_dual_cascade_with::<N, true>(sections, a, b)
}

#[inline(always)]
fn run_dual_cascade_with<const N: usize, const F: bool>(
    sections: &mut [DualBiquad; N],
    a: &mut [f32],
    b: &mut [f32],
) {
    let mut s = *sections;
    for (x, y) in a.iter_mut().zip(b.iter_mut()) {
        let mut v = [*x as f64, *y as f64];
        for sec in s.iter_mut() {
            v = if F { sec.tick_fused(v) } else { sec.tick(v) };
        }
        *x = v[0] as f32;
        *y = v[1] as f32;
    }
    for sec in s.iter_mut() {
        sec.flush_denormals();
    }
    *sections = s;
}

/// True if the CPU runs AVX (256-bit registers: four `f64` lanes per instruction). Kernels
/// written as plain lane loops are compiled twice, with and without AVX, and pick at run time;
/// both perform the same IEEE operations (no fused multiply-add), so their results are
/// identical.
#[inline]
pub fn has_avx() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FS: f64 = 48_000.0;

    /// Bilinear transform frequency mapping: the digital response at `f` equals the analog
    /// prototype's at `omega = tan(pi f / fs) / tan(pi f0 / fs)`.
    fn warped(f: f64, f0: f64, fs: f64) -> f64 {
        (PI * f / fs).tan() / (PI * f0 / fs).tan()
    }

    /// Measures the gain of a section on a sine after it settled (RMS ratio over whole periods).
    fn measured_db(c: BiquadCoeffs, f: f64, fs: f64) -> f64 {
        let mut bq = StereoBiquad::new(c);
        let n = (fs * 2.0) as usize;
        let x: Vec<f32> = (0..n)
            .map(|i| (2.0 * PI * f * i as f64 / fs).sin() as f32 * 0.5)
            .collect();
        let mut y = x.clone();
        let mut chans: [&mut [f32]; 1] = [&mut y];
        bq.process(&mut chans);
        let start = n / 2;
        let e_in: f64 = x[start..].iter().map(|&v| (v as f64).powi(2)).sum();
        let e_out: f64 = y[start..].iter().map(|&v| (v as f64).powi(2)).sum();
        10.0 * (e_out / e_in).log10()
    }

    #[test]
    fn peak_matches_the_analog_prototype_through_the_bilinear_map() {
        let (f0, q, g) = (1_000.0, 1.4, 7.5);
        let c = BiquadCoeffs::peak(f0, q, g, FS);
        let a = 10f64.powf(g / 40.0);
        for f in [30.0, 200.0, 700.0, 1_000.0, 1_300.0, 5_000.0, 20_000.0] {
            let w = warped(f, f0, FS);
            let re = 1.0 - w * w;
            let analog = 10.0
                * ((re * re + (w * a / q).powi(2)) / (re * re + (w / (a * q)).powi(2))).log10();
            let digital = c.magnitude_db(f, FS);
            assert!(
                (digital - analog).abs() < 1e-9,
                "{f} Hz: {digital} vs {analog}"
            );
        }
        assert!((c.magnitude_db(f0, FS) - g).abs() < 1e-9);
    }

    #[test]
    fn shelves_reach_their_gain_and_half_gain_at_f0() {
        let g = -9.0;
        let ls = BiquadCoeffs::low_shelf(300.0, std::f64::consts::FRAC_1_SQRT_2, g, FS);
        assert!((ls.magnitude_db(0.0, FS) - g).abs() < 1e-9);
        assert!(ls.magnitude_db(FS / 2.0, FS).abs() < 1e-9);
        assert!((ls.magnitude_db(300.0, FS) - g / 2.0).abs() < 1e-9);
        let hs = BiquadCoeffs::high_shelf(6_000.0, std::f64::consts::FRAC_1_SQRT_2, g, FS);
        assert!(hs.magnitude_db(0.0, FS).abs() < 1e-9);
        assert!((hs.magnitude_db(FS / 2.0, FS) - g).abs() < 1e-9);
        assert!((hs.magnitude_db(6_000.0, FS) - g / 2.0).abs() < 1e-9);
    }

    #[test]
    fn butterworth_low_and_high_pass_are_3db_down_at_f0_and_fall_12db_per_octave() {
        let q = std::f64::consts::FRAC_1_SQRT_2;
        let f0 = 500.0;
        let lp = BiquadCoeffs::low_pass(f0, q, FS);
        let hp = BiquadCoeffs::high_pass(f0, q, FS);
        let minus3 = -10.0 * 2f64.log10(); // -3.0103 dB
        assert!((lp.magnitude_db(f0, FS) - minus3).abs() < 1e-9);
        assert!((hp.magnitude_db(f0, FS) - minus3).abs() < 1e-9);
        // Two octaves away: |H|^2 = 1 / (1 + W^4), about -24.1 dB.
        let w = warped(4.0 * f0, f0, FS);
        let lp_expect = -10.0 * (1.0 + w.powi(4)).log10();
        assert!((lp.magnitude_db(4.0 * f0, FS) - lp_expect).abs() < 1e-9);
        assert!((lp_expect + 24.1).abs() < 0.2, "{lp_expect}");
        let w = warped(f0 / 4.0, f0, FS);
        let hp_expect = -10.0 * (1.0 + w.powi(-4)).log10();
        assert!((hp.magnitude_db(f0 / 4.0, FS) - hp_expect).abs() < 1e-9);
        assert!((hp_expect + 24.1).abs() < 0.2, "{hp_expect}");
    }

    #[test]
    fn all_pass_has_unity_magnitude() {
        let ap = BiquadCoeffs::all_pass(2_000.0, std::f64::consts::FRAC_1_SQRT_2, FS);
        for f in [20.0, 500.0, 2_000.0, 15_000.0] {
            assert!(ap.magnitude_db(f, FS).abs() < 1e-9);
        }
    }

    #[test]
    fn stability_triangle() {
        for c in [
            BiquadCoeffs::peak(20.0, 0.5, 12.0, 96_000.0),
            BiquadCoeffs::low_shelf(20.0, 0.7, -12.0, 96_000.0),
            BiquadCoeffs::high_shelf(20_000.0, 0.7, 12.0, 44_100.0),
            BiquadCoeffs::low_pass(10.0, 0.7, 96_000.0),
            BiquadCoeffs::high_pass(21_000.0, 0.7, 44_100.0),
        ] {
            assert!(c.is_stable(), "{c:?}");
        }
        let unstable = BiquadCoeffs {
            a2: 1.05,
            ..BiquadCoeffs::IDENTITY
        };
        assert!(!unstable.is_stable());
        assert!(BiquadCoeffs::peak(1_000.0, 1.0, 0.0, FS).is_identity());
    }

    #[test]
    fn tdf2_processing_matches_the_response_even_at_40_hz_and_96_khz() {
        let fs = 96_000.0;
        let c = BiquadCoeffs::peak(40.0, 0.6, 6.0, fs);
        let m = measured_db(c, 40.0, fs);
        assert!((m - 6.0).abs() < 0.01, "{m}");
        let c = BiquadCoeffs::high_pass(1_000.0, std::f64::consts::FRAC_1_SQRT_2, FS);
        let m = measured_db(c, 250.0, FS);
        assert!((m - c.magnitude_db(250.0, FS)).abs() < 0.01, "{m}");
    }

    #[test]
    fn peak_design_is_exact_identity_at_zero_db() {
        let d = PeakDesign::new(1_000.0, 2.0, FS);
        assert_eq!(d.coeffs(0.0), BiquadCoeffs::IDENTITY);
        let direct = BiquadCoeffs::peak(1_000.0, 2.0, 3.0, FS);
        let fast = d.coeffs(3.0);
        assert!((direct.magnitude_db(1_000.0, FS) - fast.magnitude_db(1_000.0, FS)).abs() < 1e-9);
    }
}
