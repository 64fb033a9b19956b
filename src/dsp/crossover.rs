//! Three-band Linkwitz-Riley crossover with all-pass phase compensation.
//!
//! Each split is a 4th-order Linkwitz-Riley (LR4) pair: the low pass is a Butterworth
//! (`Q = 1/sqrt 2`) low pass squared, the high pass a Butterworth high pass squared, each side
//! falling at 24 dB/octave and -6.02 dB at the crossover frequency. Their sum is the 2nd-order
//! all pass `AP(s) = (s^2 - sqrt2 s + 1) / (s^2 + sqrt2 s + 1)`: unity magnitude (Linkwitz
//! 1976, "Active crossover networks for noncoincident drivers", JAES 24(1)). The bilinear
//! transform preserves this identity exactly, so it holds for the digital sections too.
//!
//! Topology: `low = LP1^2 x`, `rest = HP1^2 x`; `mid = LP2^2 rest`, `high = HP2^2 rest`. The low
//! band also goes through `AP2` (the all pass of the second split), so that
//! `low + mid + high = AP2 (LP1^2 + HP1^2) x = AP2 AP1 x`: a flat magnitude response, only phase
//! rotates. All nine sections run in one per-sample loop with both channels in lockstep
//! (`f64` TDF-II, see `dsp::biquad`), grouped by the tree's depth into four-lane stages:
//! `[LP1 | HP1]` twice on `[x, x]`, then `[LP2 | HP2]` twice on `[rest, rest]` and `AP2` on
//! `low` (each `|` half holding both channels). With AVX (detected at run time) a four-lane
//! stage is one instruction per operation, so the nine sections cost about five.

use crate::dsp::biquad::{BiquadCoeffs, LaneBiquad};
use std::f64::consts::FRAC_1_SQRT_2;

/// Index of each band in [`Crossover3::band_response_db`].
pub const LOW: usize = 0;
pub const MID: usize = 1;
pub const HIGH: usize = 2;

/// A three-band LR4 splitter.
pub struct Crossover3 {
    max_sample_rate: f32,
    sample_rate: f32,
    low_mid_hz: f32,
    mid_high_hz: f32,
    needs_update: bool,
    /// The realised designs: `LP1`, `HP1`, `LP2`, `HP2`, `AP2`.
    coeffs: [BiquadCoeffs; 5],
    /// `[LP1 L, LP1 R, HP1 L, HP1 R]`, two sections deep: `x` in, `[low, rest]` out.
    first: [LaneBiquad<4>; 2],
    /// `[LP2 L, LP2 R, HP2 L, HP2 R]`, two sections deep: `rest` in, `[mid, high]` out.
    second: [LaneBiquad<4>; 2],
    /// `AP2` on both channels of the low band.
    ap2: LaneBiquad<2>,
}

impl Crossover3 {
    /// Holds only filter states; `max_block` and `channels` are accepted for the unit shape.
    pub fn new(max_sample_rate: f32, _max_block: usize, _channels: usize) -> Self {
        let mut x = Self {
            max_sample_rate,
            sample_rate: max_sample_rate,
            low_mid_hz: 120.0,
            mid_high_hz: 2_500.0,
            needs_update: true,
            coeffs: [BiquadCoeffs::IDENTITY; 5],
            first: Default::default(),
            second: Default::default(),
            ap2: Default::default(),
        };
        x.update();
        x
    }

    pub fn set_sample_rate(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate.min(self.max_sample_rate);
        self.needs_update = true;
    }

    /// Sets both crossover frequencies in Hz (sorted, kept between 10 Hz and 0.45 fs).
    pub fn set_frequencies(&mut self, low_mid_hz: f32, mid_high_hz: f32) {
        let (a, b) = if low_mid_hz <= mid_high_hz {
            (low_mid_hz, mid_high_hz)
        } else {
            (mid_high_hz, low_mid_hz)
        };
        if a != self.low_mid_hz || b != self.mid_high_hz {
            self.low_mid_hz = a;
            self.mid_high_hz = b;
            self.needs_update = true;
        }
    }

    pub fn frequencies(&self) -> (f32, f32) {
        (self.low_mid_hz, self.mid_high_hz)
    }

    pub fn latency(&self) -> usize {
        0
    }

    pub fn reset(&mut self) {
        for s in self.first.iter_mut().chain(self.second.iter_mut()) {
            s.reset();
        }
        self.ap2.reset();
    }

    fn flush_denormals(&mut self) {
        for s in self.first.iter_mut().chain(self.second.iter_mut()) {
            s.flush_denormals();
        }
        self.ap2.flush_denormals();
    }

    /// The two split frequencies as realised: kept between 10 Hz and 0.45 fs.
    fn realised_hz(&self) -> (f64, f64) {
        let top = 0.45 * self.sample_rate as f64;
        (
            (self.low_mid_hz as f64).clamp(10.0, top),
            (self.mid_high_hz as f64).clamp(10.0, top),
        )
    }

    /// The all passes the three bands sum to: `low + mid + high = AP2 AP1 x` (see the module
    /// doc), `AP_i` the cookbook all pass with `Q = 1/sqrt 2` at split `i`. Running these two
    /// sections gives the bands' sum without splitting.
    pub fn all_pass_coeffs(&self) -> [BiquadCoeffs; 2] {
        let fs = self.sample_rate as f64;
        let (f1, f2) = self.realised_hz();
        [
            BiquadCoeffs::all_pass(f1, FRAC_1_SQRT_2, fs),
            BiquadCoeffs::all_pass(f2, FRAC_1_SQRT_2, fs),
        ]
    }

    fn update(&mut self) {
        self.needs_update = false;
        let fs = self.sample_rate as f64;
        let (f1, f2) = self.realised_hz();
        let q = FRAC_1_SQRT_2;
        let (lp1, hp1) = (
            BiquadCoeffs::low_pass(f1, q, fs),
            BiquadCoeffs::high_pass(f1, q, fs),
        );
        let (lp2, hp2) = (
            BiquadCoeffs::low_pass(f2, q, fs),
            BiquadCoeffs::high_pass(f2, q, fs),
        );
        let ap2 = BiquadCoeffs::all_pass(f2, q, fs);
        self.coeffs = [lp1, hp1, lp2, hp2, ap2];
        for s in self.first.iter_mut() {
            s.set_coeffs([lp1, lp1, hp1, hp1]);
        }
        for s in self.second.iter_mut() {
            s.set_coeffs([lp2, lp2, hp2, hp2]);
        }
        self.ap2.set_coeffs([ap2; 2]);
    }

    /// Magnitude in dB of one band's path (`LOW`, `MID` or `HIGH`) at `f` Hz, from the realised
    /// coefficients.
    pub fn band_response_db(&mut self, band: usize, f: f32) -> f32 {
        if self.needs_update {
            self.update();
        }
        let (f, fs) = (f as f64, self.sample_rate as f64);
        let [lp1, hp1, lp2, hp2, ap2] = self.coeffs.map(|c| c.magnitude_db(f, fs));
        let v = match band {
            LOW => 2.0 * lp1 + ap2,
            MID => 2.0 * hp1 + 2.0 * lp2,
            _ => 2.0 * hp1 + 2.0 * hp2,
        };
        v as f32
    }

    /// Splits `input` (1 or 2 channels) into `bands[LOW]`, `bands[MID]`, `bands[HIGH]`, each with
    /// as many channels as the input and of the same length. A non-finite input resets the
    /// states and is split as silence.
    pub fn split(&mut self, input: &[&[f32]], bands: &mut [[&mut [f32]; 2]; 3]) {
        if self.needs_update {
            self.update();
        }
        if !input
            .iter()
            .all(|c| c.iter().fold(true, |ok, x| ok & x.is_finite()))
        {
            self.reset();
            for band in bands.iter_mut() {
                for ch in band.iter_mut() {
                    ch.fill(0.0);
                }
            }
            return;
        }
        let (l, r, stereo) = match input {
            [l, r] => (*l, *r, true),
            // Mono runs in the left lanes with silence in the right ones.
            [m] => (*m, &[][..], false),
            _ => return,
        };
        let mut states = Stages {
            first: self.first,
            second: self.second,
            ap2: self.ap2,
        };
        #[cfg(target_arch = "x86_64")]
        if crate::dsp::biquad::has_avx() && crate::dsp::cascade::has_fma() {
            // SAFETY: the CPU supports AVX and FMA, checked just above.
            unsafe { split_avx_fma(&mut states, l, r, stereo, bands) };
        } else if crate::dsp::biquad::has_avx() {
            // SAFETY: the CPU supports AVX, checked just above.
            unsafe { split_avx(&mut states, l, r, stereo, bands) };
        } else {
            split_lanes::<false>(&mut states, l, r, stereo, bands);
        }
        #[cfg(not(target_arch = "x86_64"))]
        split_lanes::<false>(&mut states, l, r, stereo, bands);
        self.first = states.first;
        self.second = states.second;
        self.ap2 = states.ap2;
        self.flush_denormals();
    }
}

/// The filter states of one split, copied into locals for a pass.
#[derive(Clone, Copy)]
struct Stages {
    first: [LaneBiquad<4>; 2],
    second: [LaneBiquad<4>; 2],
    ap2: LaneBiquad<2>,
}

impl Stages {
    /// One stereo sample through the nine sections: `[low, mid, high]`, each `[L, R]`; with
    /// `F`, in fused multiply-adds ([`LaneBiquad::tick_fused`]).
    #[inline(always)]
    fn tick<const F: bool>(&mut self, l: f64, r: f64) -> [[f64; 2]; 3] {
        fn step<const F: bool, const L: usize>(s: &mut LaneBiquad<L>, x: [f64; L]) -> [f64; L] {
            if F {
                s.tick_fused(x)
            } else {
                s.tick(x)
            }
        }
        let [f0, f1] = &mut self.first;
        let y = step::<F, 4>(f1, step::<F, 4>(f0, [l, r, l, r]));
        let [s0, s1] = &mut self.second;
        let z = step::<F, 4>(s1, step::<F, 4>(s0, [y[2], y[3], y[2], y[3]]));
        let low = step::<F, 2>(&mut self.ap2, [y[0], y[1]]);
        [low, [z[0], z[1]], [z[2], z[3]]]
    }
}

/// [`split_lanes`] compiled for AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn split_avx(
    st: &mut Stages,
    l: &[f32],
    r: &[f32],
    stereo: bool,
    bands: &mut [[&mut [f32]; 2]; 3],
) {
    split_lanes::<false>(st, l, r, stereo, bands)
}

/// [`split_lanes`] compiled for AVX and FMA, in fused multiply-adds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,fma")]
unsafe fn split_avx_fma(
    st: &mut Stages,
    l: &[f32],
    r: &[f32],
    stereo: bool,
    bands: &mut [[&mut [f32]; 2]; 3],
) {
    split_lanes::<true>(st, l, r, stereo, bands)
}

/// The per-sample loop of [`Crossover3::split`] (`r` is ignored unless `stereo`).
#[inline(always)]
fn split_lanes<const F: bool>(
    st_out: &mut Stages,
    l: &[f32],
    r: &[f32],
    stereo: bool,
    bands: &mut [[&mut [f32]; 2]; 3],
) {
    let len = l.len();
    // A local copy, so the states can live in registers for the pass.
    let mut local = *st_out;
    let st = &mut local;
    let [[l0, r0], [l1, r1], [l2, r2]] = bands;
    let (l0, l1, l2) = (&mut l0[..len], &mut l1[..len], &mut l2[..len]);
    if stereo {
        let r = &r[..len];
        let (r0, r1, r2) = (&mut r0[..len], &mut r1[..len], &mut r2[..len]);
        for n in 0..len {
            let y = st.tick::<F>(l[n] as f64, r[n] as f64);
            l0[n] = y[0][0] as f32;
            r0[n] = y[0][1] as f32;
            l1[n] = y[1][0] as f32;
            r1[n] = y[1][1] as f32;
            l2[n] = y[2][0] as f32;
            r2[n] = y[2][1] as f32;
        }
    } else {
        for n in 0..len {
            let y = st.tick::<F>(l[n] as f64, 0.0);
            l0[n] = y[0][0] as f32;
            l1[n] = y[1][0] as f32;
            l2[n] = y[2][0] as f32;
        }
    }
    *st_out = local;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    const FS: f32 = 44_100.0;
    const N: usize = 16_384;

    /// Impulse responses of the three bands (mono).
    fn impulse_responses(x: &mut Crossover3) -> [Vec<f32>; 3] {
        let mut imp = vec![0.0f32; N];
        imp[0] = 1.0;
        let mut b = [vec![0.0f32; N], vec![0.0f32; N], vec![0.0f32; N]];
        let mut dummy = [vec![0.0f32; N], vec![0.0f32; N], vec![0.0f32; N]];
        {
            let [b0, b1, b2] = &mut b;
            let [d0, d1, d2] = &mut dummy;
            let mut bands: [[&mut [f32]; 2]; 3] = [[b0, d0], [b1, d1], [b2, d2]];
            x.split(&[&imp], &mut bands);
        }
        b
    }

    /// |DFT| in dB of `h` at frequency `f`.
    fn dft_db(h: &[f32], f: f64, fs: f64) -> f64 {
        let w = 2.0 * PI * f / fs;
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (n, &v) in h.iter().enumerate() {
            let (s, c) = (w * n as f64).sin_cos();
            re += v as f64 * c;
            im -= v as f64 * s;
        }
        10.0 * (re * re + im * im).log10()
    }

    #[test]
    fn bands_sum_flat_within_five_hundredths_of_a_db() {
        let mut x = Crossover3::new(FS, N, 1);
        x.set_frequencies(180.0, 2_800.0);
        let [lo, mid, hi] = impulse_responses(&mut x);
        let sum: Vec<f32> = (0..N).map(|n| lo[n] + mid[n] + hi[n]).collect();
        let mut worst = 0.0f64;
        let mut f = 20.0;
        while f <= 20_000.0 {
            worst = worst.max(dft_db(&sum, f, FS as f64).abs());
            f *= 1.05;
        }
        assert!(worst < 0.05, "worst deviation {worst} dB");
    }

    #[test]
    fn each_band_falls_24_db_per_octave() {
        let (f1, f2) = (200.0f64, 3_000.0f64);
        let mut x = Crossover3::new(FS, N, 1);
        x.set_frequencies(f1 as f32, f2 as f32);
        let [lo, mid, hi] = impulse_responses(&mut x);
        let fs = FS as f64;
        // LR4 low pass through the bilinear map: |H| = 1 / (1 + W^4), W the warped ratio.
        let warped = |f: f64, fc: f64| (PI * f / fs).tan() / (PI * fc / fs).tan();
        let lr4_lp = |f: f64, fc: f64| -20.0 * (1.0 + warped(f, fc).powi(4)).log10();
        let lr4_hp = |f: f64, fc: f64| -20.0 * (1.0 + warped(f, fc).powi(-4)).log10();
        // Low band two and three octaves above f1 (mid high split adds its all pass only).
        let (a, b) = (dft_db(&lo, 4.0 * f1, fs), dft_db(&lo, 8.0 * f1, fs));
        assert!((a - lr4_lp(4.0 * f1, f1)).abs() < 0.05, "{a}");
        assert!(
            ((a - b) - 24.0).abs() < 0.3,
            "low band octave slope {}",
            a - b
        );
        // High band two and three octaves below f2: the LR4 high pass at f2 times the one at f1
        // (which still takes 0.7 dB at f2 / 8 = 375 Hz).
        let (a, b) = (dft_db(&hi, f2 / 4.0, fs), dft_db(&hi, f2 / 8.0, fs));
        let (ea, eb) = (
            lr4_hp(f2 / 4.0, f2) + lr4_hp(f2 / 4.0, f1),
            lr4_hp(f2 / 8.0, f2) + lr4_hp(f2 / 8.0, f1),
        );
        assert!(
            (a - ea).abs() < 0.05 && (b - eb).abs() < 0.05,
            "{a} {b} vs {ea} {eb}"
        );
        let own = lr4_hp(f2 / 4.0, f2) - lr4_hp(f2 / 8.0, f2);
        assert!((own - 24.0).abs() < 0.3, "high band octave slope {own}");
        // Mid band on both sides, and -6.02 dB at each crossover for the outer bands.
        let (a, b) = (dft_db(&mid, f1 / 4.0, fs), dft_db(&mid, f1 / 8.0, fs));
        assert!(
            ((a - b) - 24.0).abs() < 0.3,
            "mid band lower slope {}",
            a - b
        );
        // Above f2 the bilinear map steepens the slope toward Nyquist: compare with the formula.
        for f in [f2 * 2.0, f2 * 4.0] {
            let (m, e) = (dft_db(&mid, f, fs), lr4_lp(f, f2) + lr4_hp(f, f1));
            assert!((m - e).abs() < 0.05, "mid band at {f}: {m} vs {e}");
        }
        assert!((dft_db(&lo, f1, fs) + 6.0206).abs() < 0.05);
        assert!((dft_db(&hi, f2, fs) + 6.0206).abs() < 0.05);
        // The analytic response agrees with the measured one.
        for f in [50.0, 200.0, 1_000.0, 3_000.0, 9_000.0] {
            let m = dft_db(&mid, f, fs);
            let p = x.band_response_db(MID, f as f32) as f64;
            assert!((m - p).abs() < 0.05, "{f}: {m} vs {p}");
        }
    }

    #[test]
    fn stereo_lanes_match_mono_processing() {
        let mut a = Crossover3::new(FS, 256, 2);
        let mut m = Crossover3::new(FS, 256, 1);
        let l: Vec<f32> = (0..256)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 60.0)
            .collect();
        let r: Vec<f32> = l.iter().map(|v| -0.5 * v).collect();
        let mut s = [
            [vec![0.0f32; 256], vec![0.0f32; 256]],
            [vec![0.0f32; 256], vec![0.0f32; 256]],
            [vec![0.0f32; 256], vec![0.0f32; 256]],
        ];
        let mut t = s.clone();
        {
            let [[a0, a1], [b0, b1], [c0, c1]] = &mut s;
            a.split(&[&l, &r], &mut [[a0, a1], [b0, b1], [c0, c1]]);
            let [[a0, a1], [b0, b1], [c0, c1]] = &mut t;
            m.split(&[&l], &mut [[a0, a1], [b0, b1], [c0, c1]]);
        }
        for band in 0..3 {
            assert_eq!(s[band][0], t[band][0]);
        }
    }

    /// The fused build (AVX + FMA) and the portable one compute the same filters: the bands
    /// agree to f32 rounding over a long noisy run at both ends of the crossover range.
    #[test]
    fn fused_and_portable_splits_agree() {
        #[cfg(target_arch = "x86_64")]
        {
            if !(crate::dsp::biquad::has_avx() && crate::dsp::cascade::has_fma()) {
                return;
            }
            let mut x = Crossover3::new(FS, 512, 2);
            x.set_frequencies(60.0, 9_000.0);
            let mut seed = 12345u32;
            let l: Vec<f32> = (0..512)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as f32 / u32::MAX as f32 - 0.5
                })
                .collect();
            let r: Vec<f32> = l.iter().rev().copied().collect();
            let mut fused = Stages {
                first: x.first,
                second: x.second,
                ap2: x.ap2,
            };
            let mut plain = fused;
            let mut a: [[Vec<f32>; 2]; 3] = Default::default();
            let mut b: [[Vec<f32>; 2]; 3] = Default::default();
            for v in a.iter_mut().chain(b.iter_mut()).flatten() {
                *v = vec![0.0; 512];
            }
            let mut worst = 0.0f32;
            for _ in 0..200 {
                {
                    let [[a0, a1], [b0, b1], [c0, c1]] = &mut a;
                    // SAFETY: AVX and FMA are supported, checked above.
                    unsafe {
                        split_avx_fma(
                            &mut fused,
                            &l,
                            &r,
                            true,
                            &mut [[a0, a1], [b0, b1], [c0, c1]],
                        )
                    };
                    let [[a0, a1], [b0, b1], [c0, c1]] = &mut b;
                    split_lanes::<false>(
                        &mut plain,
                        &l,
                        &r,
                        true,
                        &mut [[a0, a1], [b0, b1], [c0, c1]],
                    );
                }
                for (p, q) in a.iter().flatten().zip(b.iter().flatten()) {
                    for (u, v) in p.iter().zip(q) {
                        worst = worst.max((u - v).abs());
                    }
                }
            }
            assert!(worst < 1e-6, "{worst}");
            assert!(
                a[0][0].iter().any(|v| v.abs() > 0.01),
                "the low band carries signal"
            );
        }
    }
}
