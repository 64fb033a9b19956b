//! Short-time spectrum: Hann-windowed real FFT (`realfft`), energies in the 25 Bark bands with a
//! fast and a slow exponential time average, and the classic shape descriptors.
//!
//! - Band power is the mean-square contribution of each band: one-sided `2 |X_k|^2 / (N sum w^2)`
//!   summed over the bins whose centre lies in the band (Parseval with the window's energy).
//! - Band *density* `power / bandwidth` (dB) is the curve the EQ compares: white noise is flat
//!   and pink noise falls 3 dB/octave.
//! - Tilt: least-squares slope of band density (dB) against `log2(centre)` (dB/octave).
//! - Centroid: power-weighted mean frequency; roll-off: frequency under which 85 % of the power
//!   lies; flatness: geometric over arithmetic mean of bin power (Wiener entropy; Johnston 1988,
//!   "Transform coding of audio signals using perceptual noise criteria"), each over 20 Hz..20 kHz.
//! - Spectral flux of Bark-band levels, half-wave rectified (Bello et al. 2005, "A tutorial on
//!   onset detection in music signals"), the onset signal for [`rhythm`](super::rhythm).
//! - Tonal ratio: share of power in bins that are local maxima standing 6 dB above the mean of
//!   ±8 bins around them (a peak-picking harmonicity estimate); chroma: bin power folded onto the
//!   12 pitch classes between 55 Hz and 5 kHz (Fujishima 1999, "Realtime chord recognition").

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::{one_pole, power_to_db};
use crate::dsp::bark::{self, BANDS, EDGES};
use crate::dsp::lanes;

/// Time constant of the fast band average, seconds.
pub const FAST_TAU_S: f32 = 0.4;
/// Time constant of the slow band average, seconds.
pub const SLOW_TAU_S: f32 = 8.0;

const NO_BAND: u8 = u8::MAX;

/// The shape descriptors (centroid, roll-off, flatness, tonal ratio, chroma) are computed on
/// every this-many-th frame; band powers and flux on every frame.
pub const DESCRIPTOR_EVERY: u32 = 2;

/// Number of broad ranges for the fingerprint's band-energy shares.
pub const RANGES: usize = 7;
/// Edges of the broad ranges, Hz: sub, bass, low mids, mids, upper mids, presence, air.
pub const RANGE_EDGES: [f32; RANGES + 1] =
    [20.0, 60.0, 250.0, 500.0, 2000.0, 4000.0, 8000.0, 20000.0];

/// Descriptors of one frame.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SpectralFrame {
    /// Mean-square power per Bark band.
    pub band_power: [f32; BANDS],
    /// Spectral centroid, Hz.
    pub centroid_hz: f32,
    /// 85 % roll-off frequency, Hz.
    pub rolloff_hz: f32,
    /// Spectral flatness 0..1.
    pub flatness: f32,
    /// Half-wave rectified Bark-band level flux, dB summed over bands.
    pub flux: f32,
    /// Share of power in tonal peaks, 0..1.
    pub tonal_ratio: f32,
    /// Pitch-class power, C = 0.
    pub chroma: [f32; 12],
}

/// Slowly averaged shape descriptors.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SpectralSummary {
    /// Centroid, Hz.
    pub centroid_hz: f32,
    /// Roll-off, Hz.
    pub rolloff_hz: f32,
    /// Flatness, 0..1.
    pub flatness: f32,
    /// Tonal ratio, 0..1.
    pub tonal_ratio: f32,
    /// Largest pitch-class share (1/12 = no pitch focus .. 1 = one pitch class).
    pub chroma_focus: f32,
    /// Mean Pearson correlation of consecutive chroma vectors, -1..1 (noise ~0).
    pub pitch_stability: f32,
}

/// Streaming spectrum analyser fed whole frames of `fft_size` samples every hop.
pub struct Spectrum {
    fft: Arc<dyn RealToComplex<f32>>,
    fft_size: usize,
    usable: usize,
    window: Vec<f32>,
    input: Vec<f32>,
    spec: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    power: Vec<f32>,
    /// Scratch for the tonal ratio's window sums.
    box_a: Vec<f32>,
    box_b: Vec<f32>,
    chroma_of_bin: Vec<u8>,
    band_bins: (usize, usize),
    band_span: [(usize, usize); BANDS],
    range_span: [(usize, usize); RANGES],
    chroma_bins: (usize, usize),
    bin_hz: f32,
    scale: f32,
    frames: u32,
    desc_a: f32,
    desc_count: u32,
    fast_a: f32,
    slow_a: f32,
    /// The slow band averages are plain means over every active frame (learning a whole pass)
    /// instead of one-poles over [`SLOW_TAU_S`].
    whole_pass: bool,
    slow_count: u32,
    prev_levels: [f32; BANDS],
    prev_chroma: [f32; 12],
    /// The last frame's descriptors.
    pub frame: SpectralFrame,
    /// Fast average of band power (every frame).
    pub band_fast: [f32; BANDS],
    /// Slow average of band power (active frames only).
    pub band_slow: [f32; BANDS],
    /// Slow average of the power in the seven [`RANGE_EDGES`] ranges (active frames only).
    pub ranges_slow: [f32; RANGES],
    ranges: [f32; RANGES],
    /// Slow averages of the shape descriptors (active frames only).
    pub summary: SpectralSummary,
}

impl Spectrum {
    /// An analyser for frames of `fft_size` samples (a power of two) arriving every `hop`
    /// samples at `sample_rate` Hz. Allocates everything here.
    pub fn new(sample_rate: f32, fft_size: usize, hop: usize) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(fft_size);
        let window: Vec<f32> = (0..fft_size)
            .map(|n| {
                let x = std::f32::consts::PI * 2.0 * n as f32 / fft_size as f32;
                0.5 - 0.5 * x.cos()
            })
            .collect();
        let wsum: f32 = window.iter().map(|w| w * w).sum();
        let bins = fft_size / 2 + 1;
        let bin_hz = sample_rate / fft_size as f32;
        let top = 20_000.0f32.min(0.5 * sample_rate);
        let band_of_bin: Vec<u8> = (0..bins)
            .map(|k| {
                let f = k as f32 * bin_hz;
                if f < EDGES[0] || f >= top {
                    return NO_BAND;
                }
                (0..BANDS)
                    .find(|&b| f >= EDGES[b] && f < EDGES[b + 1])
                    .map_or(NO_BAND, |b| b as u8)
            })
            .collect();
        let chroma_of_bin = (0..bins)
            .map(|k| {
                let f = k as f32 * bin_hz;
                if !(55.0..=5000.0).contains(&f) {
                    return NO_BAND;
                }
                let midi = 69.0 + 12.0 * (f / 440.0).log2();
                (midi.round() as i32).rem_euclid(12) as u8
            })
            .collect();
        let range_of_bin = (0..bins)
            .map(|k| {
                let f = k as f32 * bin_hz;
                if f < RANGE_EDGES[0] || f >= top {
                    return NO_BAND;
                }
                (0..RANGES)
                    .find(|&r| f >= RANGE_EDGES[r] && f < RANGE_EDGES[r + 1])
                    .map_or(NO_BAND, |r| r as u8)
            })
            .collect();
        let dt = hop as f32 / sample_rate;
        let span = |map: &Vec<u8>| {
            let lo = map.iter().position(|&b| b != NO_BAND).unwrap_or(0);
            let hi = map
                .iter()
                .rposition(|&b| b != NO_BAND)
                .map_or(lo, |i| i + 1);
            (lo, hi)
        };
        let band_bins = span(&band_of_bin);
        // Bins of one band (or range) are contiguous: keep [first, last + 1) per band.
        let spans = |map: &Vec<u8>, i: usize| {
            let lo = map.iter().position(|&b| b as usize == i);
            let hi = map.iter().rposition(|&b| b as usize == i);
            match (lo, hi) {
                (Some(lo), Some(hi)) => (lo, hi + 1),
                _ => (0, 0),
            }
        };
        let band_span = std::array::from_fn(|b| spans(&band_of_bin, b));
        let range_span = std::array::from_fn(|r| spans(&range_of_bin, r));
        let chroma_bins = span(&chroma_of_bin);
        Self {
            scratch: fft.make_scratch_vec(),
            spec: fft.make_output_vec(),
            input: fft.make_input_vec(),
            fft,
            fft_size,
            usable: bark::usable_bands(sample_rate),
            window,
            power: vec![0.0; bins],
            box_a: vec![0.0; bins],
            box_b: vec![0.0; bins],
            chroma_of_bin,
            band_bins,
            band_span,
            range_span,
            chroma_bins,
            bin_hz,
            frames: 0,
            desc_a: one_pole(DESCRIPTOR_EVERY as f32 * dt, SLOW_TAU_S),
            desc_count: 0,
            scale: 2.0 / (fft_size as f32 * wsum),
            fast_a: one_pole(dt, FAST_TAU_S),
            slow_a: one_pole(dt, SLOW_TAU_S),
            whole_pass: false,
            slow_count: 0,
            prev_levels: [-100.0; BANDS],
            prev_chroma: [0.0; 12],
            frame: SpectralFrame::default(),
            band_fast: [0.0; BANDS],
            band_slow: [0.0; BANDS],
            ranges_slow: [0.0; RANGES],
            ranges: [0.0; RANGES],
            summary: SpectralSummary::default(),
        }
    }

    /// Bands whose centre lies below 0.45 fs.
    pub fn usable_bands(&self) -> usize {
        self.usable
    }

    /// Analyses one frame (`frame.len() == fft_size`, oldest sample first). `active` frames
    /// (not silence, not a quiet passage) also update the slow averages.
    pub fn process(&mut self, frame: &[f32], active: bool) {
        debug_assert_eq!(frame.len(), self.fft_size);
        for ((d, s), w) in self.input.iter_mut().zip(frame).zip(&self.window) {
            *d = s * w;
        }
        if self
            .fft
            .process_with_scratch(&mut self.input, &mut self.spec, &mut self.scratch)
            .is_err()
        {
            return;
        }
        let mut f = SpectralFrame::default();
        for (p, c) in self.power.iter_mut().zip(&self.spec) {
            *p = c.norm_sqr() * self.scale;
        }
        let sum = |(lo, hi): (usize, usize)| -> f32 { lanes::sum(&self.power[lo..hi]) };
        for (bp, span) in f.band_power.iter_mut().zip(self.band_span) {
            *bp = sum(span);
        }
        for (rp, span) in self.ranges.iter_mut().zip(self.range_span) {
            *rp = sum(span);
        }
        let total: f32 = f.band_power.iter().sum();
        // The shape descriptors are slow-averaged: every DESCRIPTOR_EVERY-th frame suffices.
        let describe = self.frames.is_multiple_of(DESCRIPTOR_EVERY);
        self.frames = self.frames.wrapping_add(1);
        if describe {
            self.describe(&mut f, total);
        } else {
            let last = &self.frame;
            f.centroid_hz = last.centroid_hz;
            f.rolloff_hz = last.rolloff_hz;
            f.flatness = last.flatness;
            f.tonal_ratio = last.tonal_ratio;
            f.chroma = last.chroma;
        }
        for b in 0..BANDS {
            let l = power_to_db(f.band_power[b] + 1.0e-10);
            f.flux += (l - self.prev_levels[b]).max(0.0);
            self.prev_levels[b] = l;
            self.band_fast[b] += self.fast_a * (f.band_power[b] - self.band_fast[b]);
        }
        if active && total > 1.0e-14 {
            // Cumulative mean until the one-pole takes over: fast start, same long-term weight.
            self.slow_count = self.slow_count.saturating_add(1);
            let mean = 1.0 / self.slow_count as f32;
            let a = if self.whole_pass {
                mean
            } else {
                self.slow_a.max(mean)
            };
            for b in 0..BANDS {
                self.band_slow[b] += a * (f.band_power[b] - self.band_slow[b]);
            }
            for r in 0..RANGES {
                self.ranges_slow[r] += a * (self.ranges[r] - self.ranges_slow[r]);
            }
        }
        if describe && active && total > 1.0e-14 {
            self.desc_count = self.desc_count.saturating_add(1);
            let a = self.desc_a.max(1.0 / self.desc_count as f32);
            let csum: f32 = f.chroma.iter().sum();
            let (focus, similarity) = if csum > 1.0e-14 {
                let cmax = f.chroma.iter().fold(0.0f32, |m, &v| m.max(v));
                (
                    cmax / csum,
                    chroma_correlation(&f.chroma, &self.prev_chroma),
                )
            } else {
                (1.0 / 12.0, 0.0)
            };
            self.prev_chroma = f.chroma;
            let s = &mut self.summary;
            s.centroid_hz += a * (f.centroid_hz - s.centroid_hz);
            s.rolloff_hz += a * (f.rolloff_hz - s.rolloff_hz);
            s.flatness += a * (f.flatness - s.flatness);
            s.tonal_ratio += a * (f.tonal_ratio - s.tonal_ratio);
            s.chroma_focus += a * (focus - s.chroma_focus);
            s.pitch_stability += a * (similarity - s.pitch_stability);
        }
        self.frame = f;
    }

    fn describe(&mut self, f: &mut SpectralFrame, total: f32) {
        let (lo, hi) = self.band_bins;
        let (clo, chi) = self.chroma_bins;
        for k in clo..chi {
            f.chroma[self.chroma_of_bin[k] as usize] += self.power[k];
        }
        let counted = hi - lo;
        if total > 1.0e-14 && counted > 0 {
            let (weighted, log_sum) = weighted_and_log_sums(&self.power[lo..hi], lo);
            f.centroid_hz = weighted / total * self.bin_hz;
            let arith = total / counted as f32;
            f.flatness = ((log_sum / counted as f32).exp2() / arith).clamp(0.0, 1.0);
            f.rolloff_hz = self.rolloff_bin(&f.band_power, 0.85 * total) as f32 * self.bin_hz;
            f.tonal_ratio = self.tonal_ratio(total);
        }
    }

    /// The first bin at which the cumulative power reaches `share`: the band where the running
    /// sum of band powers crosses it, then the bins of that band.
    fn rolloff_bin(&self, band_power: &[f32; BANDS], share: f32) -> usize {
        let mut acc = 0.0f32;
        for (b, &(blo, bhi)) in self.band_span.iter().enumerate() {
            if acc + band_power[b] < share {
                acc += band_power[b];
                continue;
            }
            for k in blo..bhi {
                acc += self.power[k];
                if acc >= share {
                    return k;
                }
            }
            // Rounding between the band's sum and its bins: the band's last bin.
            return bhi.saturating_sub(1).max(blo);
        }
        self.band_bins.1.saturating_sub(1)
    }

    /// Share of the power in bins that are local maxima standing 6 dB (4x) above the mean of
    /// the 17 bins centred on them, counted with their two neighbours. The 17-bin sums are
    /// built by doubling (pairs, fours, eights, sixteens, plus one: five vector passes, no
    /// running sum to drift) and the peaks picked without branches.
    fn tonal_ratio(&mut self, total: f32) -> f32 {
        const HALF: usize = 8;
        const WIDTH: usize = 2 * HALF + 1;
        let n = self.power.len();
        if n < WIDTH + 2 {
            return 0.0;
        }
        // Bins outside the Bark bands are not counted; those within reach of the ends have no
        // full window.
        let (lo, hi) = self.band_bins;
        let first = lo.max(HALF);
        let last = hi.min(n - HALF - 1);
        if first >= last {
            return 0.0;
        }
        // a[k] = sum of p[k..k + 2^j] after pass j; the 17-bin window at k is then
        // a[k - 8] (16 bins) + p[k + 8].
        let p = &self.power;
        let (a, b) = (&mut self.box_a, &mut self.box_b);
        for (d, w) in a.iter_mut().zip(p.windows(2)) {
            *d = w[0] + w[1];
        }
        let mut len = n - 1;
        for step in [2, 4, 8] {
            for ((d, x), y) in b[..len - step].iter_mut().zip(&a[..len]).zip(&a[step..len]) {
                *d = x + y;
            }
            len -= step;
            std::mem::swap(a, b);
        }
        // a[k] now sums p[k..k + 16] for k < n - 15.
        let span = last - first;
        let centre = &p[first..last];
        let left = &p[first - 1..last - 1];
        let right = &p[first + 1..last + 1];
        let sixteen = &a[first - HALF..last - HALF];
        let end = &p[first + HALF..last + HALF];
        let mut tonal = [0.0f32; lanes::LANES];
        let mut k = 0;
        while k + lanes::LANES <= span {
            for (i, t) in tonal.iter_mut().enumerate() {
                let j = k + i;
                *t += tonal_peak(left[j], centre[j], right[j], sixteen[j] + end[j]);
            }
            k += lanes::LANES;
        }
        let rest: f32 = (k..span)
            .map(|j| tonal_peak(left[j], centre[j], right[j], sixteen[j] + end[j]))
            .sum();
        ((lanes::total(tonal) + rest) / total).clamp(0.0, 1.0)
    }

    /// Clears the averages.
    /// Averages the band powers over the whole pass (plain means of every active frame) or,
    /// when false, over the last [`SLOW_TAU_S`] seconds or so.
    pub fn set_whole_pass(&mut self, whole_pass: bool) {
        self.whole_pass = whole_pass;
    }

    pub fn reset(&mut self) {
        self.band_fast = [0.0; BANDS];
        self.band_slow = [0.0; BANDS];
        self.ranges_slow = [0.0; RANGES];
        self.slow_count = 0;
        self.desc_count = 0;
        self.frames = 0;
        self.prev_levels = [-100.0; BANDS];
        self.prev_chroma = [0.0; 12];
        self.summary = SpectralSummary::default();
        self.frame = SpectralFrame::default();
    }
}

/// `(sum of p[i] * (first + i), sum of log2(p[i] + 1e-20))` over `p`, eight lanes at a time.
/// The logarithms are summed as a product: each value's binary exponent is added up and its
/// mantissa (in [1, 2)) multiplied in, renormalised every 16 chunks (a product of 16 mantissas
/// stays under 2^16), and one `log2` per lane ends it.
fn weighted_and_log_sums(p: &[f32], first: usize) -> (f32, f32) {
    const MANTISSA: u32 = 0x007f_ffff;
    const ONE: u32 = 0x3f80_0000;
    let split = |x: f32| {
        let bits = x.to_bits();
        (
            ((bits >> 23) & 0xff) as i32 - 127,
            f32::from_bits((bits & MANTISSA) | ONE),
        )
    };
    let mut weighted = [0.0f32; 8];
    let mut exponents = [0i32; 8];
    let mut product = [1.0f32; 8];
    let mut index: [f32; 8] = std::array::from_fn(|i| (first + i) as f32);
    let chunks = p.chunks_exact(8);
    let tail = chunks.remainder();
    for (n, c) in chunks.enumerate() {
        for i in 0..8 {
            weighted[i] += c[i] * index[i];
            let (e, m) = split(c[i] + 1.0e-20);
            exponents[i] += e;
            product[i] *= m;
            index[i] += 8.0;
        }
        if n % 16 == 15 {
            for i in 0..8 {
                let (e, m) = split(product[i]);
                exponents[i] += e;
                product[i] = m;
            }
        }
    }
    let mut w = lanes::total(weighted);
    let mut l = 0.0f32;
    for i in 0..8 {
        l += exponents[i] as f32 + product[i].log2();
    }
    for (i, &v) in tail.iter().enumerate() {
        w += v * index[i];
        l += (v + 1.0e-20).log2();
    }
    (w, l)
}

/// The power a bin contributes to the tonal ratio: its own and its neighbours' when it is a
/// local maximum above 4x the mean of its 17-bin `window` (sum), else 0. Branch-free.
#[inline(always)]
fn tonal_peak(left: f32, centre: f32, right: f32, window: f32) -> f32 {
    let peak = (centre > left) & (centre >= right) & (centre * 17.0 > 4.0 * window);
    if peak {
        left + centre + right
    } else {
        0.0
    }
}

/// Pearson correlation of two chroma vectors (0 when either is flat or empty): high when the
/// same pitch classes dominate consecutive frames, near 0 for noise.
pub fn chroma_correlation(a: &[f32; 12], b: &[f32; 12]) -> f32 {
    let ma = a.iter().sum::<f32>() / 12.0;
    let mb = b.iter().sum::<f32>() / 12.0;
    let (mut ab, mut aa, mut bb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma) * (x - ma);
        bb += (y - mb) * (y - mb);
    }
    let d = (aa * bb).sqrt();
    if d > 1.0e-20 {
        (ab / d).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// Band density level, dB: `10 log10(power / bandwidth)`, the spectrum-shape curve (white noise
/// flat, pink noise -3 dB/octave).
pub fn density_db(band_power: &[f32; BANDS]) -> [f32; BANDS] {
    std::array::from_fn(|b| power_to_db(band_power[b] / (EDGES[b + 1] - EDGES[b]) + 1.0e-20))
}

/// Least-squares slope of `levels` (dB) against `log2(centre)` over the first `usable` bands:
/// spectral tilt in dB/octave.
pub fn tilt_db_per_oct(levels: &[f32; BANDS], usable: usize) -> f32 {
    let n = usable.min(BANDS);
    if n < 2 {
        return 0.0;
    }
    let xs: [f32; BANDS] = std::array::from_fn(|b| bark::centre(b).log2());
    let mx = xs[..n].iter().sum::<f32>() / n as f32;
    let my = levels[..n].iter().sum::<f32>() / n as f32;
    let mut sxy = 0.0;
    let mut sxx = 0.0;
    for b in 0..n {
        sxy += (xs[b] - mx) * (levels[b] - my);
        sxx += (xs[b] - mx) * (xs[b] - mx);
    }
    sxy / sxx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_signals::*;

    fn run(x: &[f32]) -> Spectrum {
        let mut s = Spectrum::new(48_000.0, 2048, 512);
        for start in (0..x.len() - 2048).step_by(512) {
            s.process(&x[start..start + 2048], true);
        }
        s
    }

    /// The lane-wise descriptors equal their plain per-bin definitions (summed in f64) on
    /// noise, a chord over noise, and a steep spectrum, at 44.1 and 48 kHz.
    #[test]
    fn descriptors_match_their_per_bin_definitions() {
        for (fs, seed) in [(48_000.0f32, 1u64), (44_100.0, 2)] {
            let noise = pink(seed, 2048, 0.3);
            let chord: Vec<f32> = (0..2048)
                .map(|i| {
                    let t = i as f32 / fs;
                    [220.0f32, 277.2, 329.6, 1760.0]
                        .iter()
                        .map(|f| 0.2 * (std::f32::consts::TAU * f * t).sin())
                        .sum::<f32>()
                        + 0.01 * noise[i]
                })
                .collect();
            let steep = lowpass(&white(seed + 7, 2048, 0.5), fs as u32, 300.0, 4);
            for x in [&noise, &chord, &steep] {
                let mut s = Spectrum::new(fs, 2048, 512);
                s.process(x, true);
                let f = s.frame;
                let p: Vec<f64> = s.power.iter().map(|&v| v as f64).collect();
                let (lo, hi) = s.band_bins;
                let total: f64 = p[lo..hi].iter().sum();
                let centroid =
                    (lo..hi).map(|k| p[k] * k as f64).sum::<f64>() / total * s.bin_hz as f64;
                let geo = ((lo..hi).map(|k| (p[k] + 1.0e-20).log2()).sum::<f64>()
                    / (hi - lo) as f64)
                    .exp2();
                let flatness = geo / (total / (hi - lo) as f64);
                let mut acc = 0.0;
                let rolloff = (lo..hi)
                    .find(|&k| {
                        acc += p[k];
                        acc >= 0.85 * total
                    })
                    .unwrap() as f64
                    * s.bin_hz as f64;
                let mut tonal = 0.0;
                for k in lo.max(8)..hi.min(p.len() - 9) {
                    let window: f64 = p[k - 8..=k + 8].iter().sum();
                    if p[k] > p[k - 1] && p[k] >= p[k + 1] && p[k] > 4.0 * window / 17.0 {
                        tonal += p[k - 1] + p[k] + p[k + 1];
                    }
                }
                let tonal = tonal / total;
                let close =
                    |a: f32, b: f64, tol: f64| (a as f64 - b).abs() <= tol * b.abs().max(1e-3);
                assert!(
                    close(f.centroid_hz, centroid, 1e-4),
                    "{} {centroid}",
                    f.centroid_hz
                );
                assert!(
                    close(f.flatness, flatness, 1e-3),
                    "{} {flatness}",
                    f.flatness
                );
                assert!(
                    (f.rolloff_hz as f64 - rolloff).abs() <= s.bin_hz as f64,
                    "{} {rolloff}",
                    f.rolloff_hz
                );
                assert!(
                    close(f.tonal_ratio, tonal, 1e-4),
                    "{} {tonal}",
                    f.tonal_ratio
                );
            }
        }
    }

    #[test]
    fn pink_noise_tilts_minus_three_db_per_octave() {
        let s = run(&pink(3, 48_000 * 20, 1.0));
        let t = tilt_db_per_oct(&density_db(&s.band_slow), s.usable_bands());
        assert!((t + 3.0).abs() < 0.5, "pink tilt {t}");
        let w = run(&white(4, 48_000 * 10, 0.5));
        let t = tilt_db_per_oct(&density_db(&w.band_slow), w.usable_bands());
        assert!(t.abs() < 0.5, "white tilt {t}");
    }

    #[test]
    fn band_power_sums_to_mean_square() {
        let x = sine(48_000, 1000.0, -6.0, 2.0);
        let s = run(&x);
        let total: f32 = s.band_slow.iter().sum();
        let expected = 0.5 * 10f32.powf(-6.0 / 10.0);
        assert!((power_to_db(total) - power_to_db(expected)).abs() < 0.2);
        // All the power sits in the band holding 1 kHz (920..1080 Hz, band 8).
        assert!(s.band_slow[8] > 0.95 * total);
        assert!((s.summary.centroid_hz - 1000.0).abs() < 30.0);
        assert!(s.summary.tonal_ratio > 0.9, "{}", s.summary.tonal_ratio);
        assert!(s.summary.flatness < 0.05);
        assert!(
            s.summary.pitch_stability > 0.9,
            "{}",
            s.summary.pitch_stability
        );
        let w = run(&white(9, 48_000 * 2, 0.5));
        assert!(w.summary.flatness > 0.4, "{}", w.summary.flatness);
        assert!(w.summary.tonal_ratio < 0.3, "{}", w.summary.tonal_ratio);
        assert!(
            w.summary.pitch_stability.abs() < 0.3,
            "{}",
            w.summary.pitch_stability
        );
    }
}
