//! Gated loudness from 100 ms K-weighted energies: integrated loudness after ITU-R BS.1770-4
//! (400 ms blocks every 100 ms, absolute gate -70 LUFS, relative gate -10 LU) and loudness range
//! after EBU Tech 3342 (3 s short-term blocks every second, as libebur128 takes them; absolute
//! gate -70 LUFS, relative gate -20 LU, 10th to 95th percentile).
//!
//! The K-weighting and the 100 ms energies come from the `ebur128` crate (see `loudness`); this
//! is only the bookkeeping on top, done once per 100 ms instead of `ebur128`'s re-summing of every
//! 400 ms block and 3 s block from its samples (a quarter of the analysis's and of the command's
//! render cost). Memory is fixed and nothing allocates after `new`: blocks are counted in 0.1 LU
//! bins from -70 to +30 LUFS, each bin also holding the exact sum of its blocks' energies, so
//! the integrated loudness is exact but for the blocks in the one bin that the relative gate
//! cuts through (taken whole when the bin's mean lies above the gate). The range is read off
//! the bins, to 0.1 LU, as `ebur128`'s histogram mode does.

/// Absolute gate, LUFS.
pub const ABSOLUTE_GATE_LUFS: f64 = -70.0;
/// The histograms' lowest bin edge, LUFS, bin width, LU, and bins (up to +30 LUFS; louder
/// blocks count in the top bin, their energies still exact).
const LOW_LUFS: f64 = -70.0;
const BIN_LU: f64 = 0.1;
const BINS: usize = 1000;

/// Loudness of a mean-square K-weighted energy (channel-weighted sum), LUFS.
pub fn energy_to_lufs(e: f64) -> f64 {
    if e > 0.0 {
        -0.691 + 10.0 * e.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// The energy of a loudness, the inverse of [`energy_to_lufs`].
pub fn lufs_to_energy(l: f64) -> f64 {
    if l.is_finite() {
        10f64.powf((l + 0.691) / 10.0)
    } else {
        0.0
    }
}

/// Blocks counted in 0.1 LU bins, with their energies summed per bin.
struct Histogram {
    count: Box<[u64; BINS]>,
    energy: Box<[f64; BINS]>,
}

impl Histogram {
    fn new() -> Self {
        Self {
            count: Box::new([0; BINS]),
            energy: Box::new([0.0; BINS]),
        }
    }

    fn clear(&mut self) {
        self.count.fill(0);
        self.energy.fill(0.0);
    }

    /// Adds a block unless it lies under the absolute gate.
    fn add(&mut self, e: f64) {
        let l = energy_to_lufs(e);
        // `-inf` (silence) and NaN fall under the gate too.
        if l.is_nan() || l < ABSOLUTE_GATE_LUFS {
            return;
        }
        let bin = (((l - LOW_LUFS) / BIN_LU) as usize).min(BINS - 1);
        self.count[bin] += 1;
        self.energy[bin] += e;
    }

    /// The first bin at or above `offset_lu` under the mean energy of all blocks: the relative
    /// gate. A bin is taken when the mean of its blocks lies above the gate.
    fn gate(&self, offset_lu: f64) -> Option<usize> {
        let n: u64 = self.count.iter().sum();
        if n == 0 {
            return None;
        }
        let mean = self.energy.iter().sum::<f64>() / n as f64;
        let gate = lufs_to_energy(energy_to_lufs(mean) + offset_lu);
        (0..BINS).find(|&b| self.count[b] > 0 && self.energy[b] / self.count[b] as f64 > gate)
    }
}

/// Integrated loudness and loudness range from consecutive 100 ms energies.
pub struct Gating {
    /// The last 30 sub-block energies, a ring.
    recent: [f64; 30],
    next: usize,
    /// Sub-blocks seen since the last reset.
    seen: u64,
    blocks: Histogram,
    short_terms: Histogram,
}

impl Default for Gating {
    fn default() -> Self {
        Self::new()
    }
}

impl Gating {
    pub fn new() -> Self {
        Self {
            recent: [0.0; 30],
            next: 0,
            seen: 0,
            blocks: Histogram::new(),
            short_terms: Histogram::new(),
        }
    }

    pub fn reset(&mut self) {
        self.recent = [0.0; 30];
        self.next = 0;
        self.seen = 0;
        self.blocks.clear();
        self.short_terms.clear();
    }

    /// Adds the next 100 ms sub-block's energy.
    pub fn push(&mut self, energy: f64) {
        self.recent[self.next] = energy.max(0.0);
        self.next = (self.next + 1) % 30;
        self.seen += 1;
        if self.seen >= 4 {
            self.blocks.add(self.mean_of_last(4));
        }
        if self.seen >= 30 && self.seen.is_multiple_of(10) {
            self.short_terms.add(self.mean_of_last(30));
        }
    }

    /// Mean energy of the last `n` sub-blocks (n ≤ 30).
    pub fn mean_of_last(&self, n: usize) -> f64 {
        (1..=n)
            .map(|i| self.recent[(self.next + 30 - i) % 30])
            .sum::<f64>()
            / n as f64
    }

    /// Gated integrated loudness, LUFS; `-inf` until a block passes the absolute gate.
    pub fn integrated(&self) -> f64 {
        let Some(start) = self.blocks.gate(-10.0) else {
            return f64::NEG_INFINITY;
        };
        let n: u64 = self.blocks.count[start..].iter().sum();
        let e: f64 = self.blocks.energy[start..].iter().sum();
        energy_to_lufs(e / n as f64)
    }

    /// Loudness range, LU (0 until two short-term blocks pass the gates).
    pub fn range(&self) -> f64 {
        let Some(start) = self.short_terms.gate(-20.0) else {
            return 0.0;
        };
        let counts = &self.short_terms.count[start..];
        let n: u64 = counts.iter().sum();
        // The bins holding the values ranked as libebur128 ranks them: round((n - 1) p).
        let rank = |p: f64| ((n - 1) as f64 * p + 0.5) as u64;
        let bin_of = |k: u64| {
            let mut seen = 0;
            for (b, &c) in counts.iter().enumerate() {
                seen += c;
                if seen > k {
                    return b;
                }
            }
            counts.len() - 1
        };
        (bin_of(rank(0.95)) - bin_of(rank(0.10))) as f64 * BIN_LU
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebur128::{EbuR128, Mode};

    /// A programme whose level wanders: pink-ish noise with a slow level walk and a few
    /// silences, stereo.
    fn programme(fs: u32, seconds: u32, seed: u32) -> [Vec<f32>; 2] {
        let n = (fs * seconds) as usize;
        let mut s = seed | 1;
        let mut rnd = move || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s as f32 / u32::MAX as f32 - 0.5
        };
        let (mut b0, mut b1) = (0.0f32, 0.0f32);
        let mut level_db = -20.0f32;
        let mut l = Vec::with_capacity(n);
        let mut r = Vec::with_capacity(n);
        for i in 0..n {
            if i % (fs as usize / 2) == 0 {
                level_db = (level_db + 6.0 * rnd()).clamp(-45.0, -6.0);
            }
            let silent = (i / fs as usize) % 17 == 16;
            let g = if silent {
                0.0
            } else {
                10f32.powf(level_db / 20.0)
            };
            b0 = 0.97 * b0 + rnd();
            b1 = 0.5 * b1 + rnd();
            l.push(g * (0.2 * b0 + b1));
            r.push(g * (0.15 * b0 - 0.8 * b1 + 0.3 * rnd()));
        }
        [l, r]
    }

    /// Against `ebur128`'s own integrated loudness and range (full precision, not its
    /// histogram mode), fed the same audio: within 0.01 LU and 0.1 LU (the bins' width).
    #[test]
    fn matches_ebur128_integrated_and_range() {
        for (fs, seconds, seed) in [(48_000, 90, 1), (44_100, 61, 7), (8_000, 200, 3)] {
            let [l, r] = programme(fs, seconds, seed);
            let mut reference = EbuR128::new(2, fs, Mode::I | Mode::LRA).unwrap();
            reference.add_frames_planar_f32(&[&l, &r]).unwrap();
            let mut windows = EbuR128::new(2, fs, Mode::M).unwrap();
            let mut gating = Gating::new();
            let step = (fs as usize).div_ceil(10);
            for (a, b) in l.chunks_exact(step).zip(r.chunks_exact(step)) {
                windows.add_frames_planar_f32(&[a, b]).unwrap();
                gating.push(lufs_to_energy(windows.loudness_window(100).unwrap()));
            }
            let i_ref = reference.loudness_global().unwrap();
            let lra_ref = reference.loudness_range().unwrap();
            let (i, lra) = (gating.integrated(), gating.range());
            assert!((i - i_ref).abs() < 0.01, "{fs}: I {i} vs {i_ref}");
            assert!(
                (lra - lra_ref).abs() <= 0.1 + 1e-9,
                "{fs}: LRA {lra} vs {lra_ref}"
            );
            assert!(
                lra_ref > 3.0,
                "the programme must have a range to measure: {lra_ref}"
            );
        }
    }

    #[test]
    fn silence_and_a_reset_read_nothing() {
        let mut g = Gating::new();
        for _ in 0..100 {
            g.push(0.0);
        }
        assert_eq!(g.integrated(), f64::NEG_INFINITY);
        assert_eq!(g.range(), 0.0);
        // The blocks straddling the step from silence read lower, within the relative gate.
        for _ in 0..100 {
            g.push(lufs_to_energy(-23.0));
        }
        let i = g.integrated();
        assert!(i < -23.0 && i > -23.2, "{i}");
        g.reset();
        assert_eq!(g.integrated(), f64::NEG_INFINITY);
        for _ in 0..100 {
            g.push(lufs_to_energy(-23.0));
        }
        assert!((g.integrated() + 23.0).abs() < 1e-9);
        assert!(g.range().abs() < 1e-9);
    }
}
