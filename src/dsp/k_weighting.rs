//! The K-weighting of ITU-R BS.1770-4 (the loudness meters' filter): the high-frequency shelf
//! (+4 dB above ~1.7 kHz) and the RLB high-pass (~38 Hz) as one fourth-order direct form II
//! section in `f64`, with the coefficients of libebur128 (and of its Rust port, the `ebur128`
//! crate), which reproduce the standard's 48 kHz table at that rate and follow the same analog
//! prototypes at any other.
//!
//! Written by hand, not taken from `ebur128`, because it was measured as a bottleneck: the
//! crate's filter cost 17 % of a whole `auralis master` (it runs twice, on the input's pass 1 and
//! on the rendered output). The crate filters one channel after the other with the recursion
//! summed left to right, so every sample waits for a multiply and four subtractions (~20 cycles);
//! here the terms that do not depend on the previous sample are summed first, leaving one
//! multiply and one subtraction on the recursion, and the channels of a stereo pair run in
//! lockstep as two independent chains. The squared output is summed in the same loop (the
//! meter needs only each 100 ms step's energy), so nothing is written back. The figures match
//! `ebur128`'s to rounding (tests below).

use super::MAX_CHANNELS;

/// The K-weighting filter for up to [`MAX_CHANNELS`] channels.
#[derive(Clone, Debug)]
pub struct KWeighting {
    /// Numerator b0..b4.
    b: [f64; 5],
    /// Denominator a1..a4 (a0 = 1).
    a: [f64; 4],
    /// Per channel, the section's last four internal values w[n-1]..w[n-4].
    state: [[f64; 4]; MAX_CHANNELS],
}

impl KWeighting {
    /// The filter at `sample_rate` Hz.
    pub fn new(sample_rate: f64) -> Self {
        let (b, a) = coefficients(sample_rate);
        Self {
            b,
            a,
            state: [[0.0; 4]; MAX_CHANNELS],
        }
    }

    /// Filters `channels` (planar, at most [`MAX_CHANNELS`], all of at least `len` samples, only
    /// the first `len` used) and returns the sum over channels and samples of the squared
    /// K-weighted signal. A non-finite sample contributes nothing and clears that channel's
    /// state, so it cannot stick.
    pub fn energy(&mut self, channels: &[&[f32]], len: usize) -> f64 {
        let mut total = 0.0;
        let mut c = 0;
        while c + 1 < channels.len().min(MAX_CHANNELS) {
            total += self.pair(c, &channels[c][..len], &channels[c + 1][..len]);
            c += 2;
        }
        if c < channels.len().min(MAX_CHANNELS) {
            total += self.single(c, &channels[c][..len]);
        }
        total
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        self.state = [[0.0; 4]; MAX_CHANNELS];
    }

    fn single(&mut self, c: usize, x: &[f32]) -> f64 {
        let (b, a) = (self.b, self.a);
        let [mut s1, mut s2, mut s3, mut s4] = self.state[c];
        let mut energy = 0.0;
        for &v in x {
            // The part that does not wait for w[n-1] first: one multiply and one subtraction
            // remain on the recursion.
            let t = v as f64 - (a[1] * s2 + a[2] * s3 + a[3] * s4);
            let w = t - a[0] * s1;
            let y = b[0] * w + b[1] * s1 + b[2] * s2 + b[3] * s3 + b[4] * s4;
            energy += y * y;
            (s4, s3, s2, s1) = (s3, s2, s1, w);
        }
        let (state, energy) = settle([s1, s2, s3, s4], energy);
        self.state[c] = state;
        energy
    }

    fn pair(&mut self, c: usize, l: &[f32], r: &[f32]) -> f64 {
        let (b, a, state) = (self.b, self.a, [self.state[c], self.state[c + 1]]);
        #[cfg(target_arch = "x86_64")]
        if has_avx512vl() {
            /// With AVX-512's 32 vector registers the pair's state and coefficients stay in
            /// registers (SSE2's 16 spill); no FMA is formed, so the rounding is the same.
            #[target_feature(enable = "avx512f,avx512vl")]
            unsafe fn wide(k: Sections, state: Pair, l: &[f32], r: &[f32]) -> (Pair, f64) {
                pair_kernel(k, state, l, r)
            }
            // SAFETY: the CPU supports AVX-512 F and VL, checked just above.
            let (state, energy) = unsafe { wide((b, a), state, l, r) };
            [self.state[c], self.state[c + 1]] = state;
            return energy;
        }
        let (state, energy) = pair_kernel((b, a), state, l, r);
        [self.state[c], self.state[c + 1]] = state;
        energy
    }
}

/// The coefficients: numerator b0..b4, denominator a1..a4.
type Sections = ([f64; 5], [f64; 4]);
/// The states of a stereo pair.
type Pair = [[f64; 4]; 2];

/// True if the CPU has AVX-512 F and VL (detected at run time, cached by `std`).
#[cfg(target_arch = "x86_64")]
fn has_avx512vl() -> bool {
    std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vl")
}

/// A stereo pair in lockstep: two independent recursions in one loop, which the compiler packs
/// into one vector per state. Returns the new states and the pair's summed energy.
#[inline(always)]
fn pair_kernel((b, a): Sections, state: Pair, l: &[f32], r: &[f32]) -> (Pair, f64) {
    let [[mut l1, mut l2, mut l3, mut l4], [mut r1, mut r2, mut r3, mut r4]] = state;
    let (mut el, mut er) = (0.0, 0.0);
    for (&x, &z) in l.iter().zip(r) {
        let tl = x as f64 - (a[1] * l2 + a[2] * l3 + a[3] * l4);
        let tr = z as f64 - (a[1] * r2 + a[2] * r3 + a[3] * r4);
        let wl = tl - a[0] * l1;
        let wr = tr - a[0] * r1;
        let yl = b[0] * wl + b[1] * l1 + b[2] * l2 + b[3] * l3 + b[4] * l4;
        let yr = b[0] * wr + b[1] * r1 + b[2] * r2 + b[3] * r3 + b[4] * r4;
        el += yl * yl;
        er += yr * yr;
        (l4, l3, l2, l1) = (l3, l2, l1, wl);
        (r4, r3, r2, r1) = (r3, r2, r1, wr);
    }
    let (left, el) = settle([l1, l2, l3, l4], el);
    let (right, er) = settle([r1, r2, r3, r4], er);
    ([left, right], el + er)
}

/// After a block: a state gone non-finite is cleared (and its block's energy dropped); values
/// under the normal range are flushed to zero, so a decaying tail never runs on subnormals.
fn settle(state: [f64; 4], energy: f64) -> ([f64; 4], f64) {
    if !(energy.is_finite() && state.iter().all(|s| s.is_finite())) {
        return ([0.0; 4], 0.0);
    }
    (
        state.map(|s| if s.abs() < f64::MIN_POSITIVE { 0.0 } else { s }),
        energy,
    )
}

/// The shelf and the high-pass of BS.1770-4 at `rate`, multiplied into one fourth-order
/// section (libebur128's derivation): returns (b0..b4, a1..a4).
#[allow(non_snake_case)]
fn coefficients(rate: f64) -> ([f64; 5], [f64; 4]) {
    // The high shelf.
    let f0 = 1681.974450955533;
    let G = 3.999843853973347;
    let Q = 0.7071752369554196;
    let K = (std::f64::consts::PI * f0 / rate).tan();
    let Vh = 10f64.powf(G / 20.0);
    let Vb = Vh.powf(0.4996667741545416);
    let a0 = 1.0 + K / Q + K * K;
    let pb = [
        (Vh + Vb * K / Q + K * K) / a0,
        2.0 * (K * K - Vh) / a0,
        (Vh - Vb * K / Q + K * K) / a0,
    ];
    let pa = [1.0, 2.0 * (K * K - 1.0) / a0, (1.0 - K / Q + K * K) / a0];
    // The RLB high-pass.
    let f0 = 38.13547087602444;
    let Q = 0.5003270373238773;
    let K = (std::f64::consts::PI * f0 / rate).tan();
    let rb = [1.0, -2.0, 1.0];
    let ra = [
        1.0,
        2.0 * (K * K - 1.0) / (1.0 + K / Q + K * K),
        (1.0 - K / Q + K * K) / (1.0 + K / Q + K * K),
    ];
    (
        [
            pb[0] * rb[0],
            pb[0] * rb[1] + pb[1] * rb[0],
            pb[0] * rb[2] + pb[1] * rb[1] + pb[2] * rb[0],
            pb[1] * rb[2] + pb[2] * rb[1],
            pb[2] * rb[2],
        ],
        [
            pa[0] * ra[1] + pa[1] * ra[0],
            pa[0] * ra[2] + pa[1] * ra[1] + pa[2] * ra[0],
            pa[1] * ra[2] + pa[2] * ra[1],
            pa[2] * ra[2],
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebur128::{EbuR128, Mode};

    fn noise(seed: u64, n: usize) -> Vec<f32> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.8
            })
            .collect()
    }

    /// Each 100 ms step's energy, summed over channels, against `ebur128`'s 100 ms window
    /// (whose loudness is -0.691 + 10 log10 of the same sum over the step's frames), for mono
    /// and stereo at three rates, fed in odd-sized blocks.
    #[test]
    fn step_energies_match_ebur128() {
        for rate in [44_100u32, 48_000, 96_000] {
            for channels in [1usize, 2] {
                let step = rate as usize / 10;
                let signal: Vec<Vec<f32>> = (0..channels)
                    .map(|c| noise(c as u64 + rate as u64, step * 12))
                    .collect();
                let mut ours = KWeighting::new(rate as f64);
                let mut reference = EbuR128::new(channels as u32, rate, Mode::M).unwrap();
                let mut worst = 0.0f64;
                for s in 0..12 {
                    let mut energy = 0.0;
                    let mut pos = s * step;
                    let mut blocks = [777usize, 1, 333].iter().cycle();
                    while pos < (s + 1) * step {
                        let k = (*blocks.next().unwrap()).min((s + 1) * step - pos);
                        let part: Vec<&[f32]> = signal.iter().map(|c| &c[pos..pos + k]).collect();
                        energy += ours.energy(&part, k);
                        reference.add_frames_planar_f32(&part).unwrap();
                        pos += k;
                    }
                    let ours_lufs = -0.691 + 10.0 * (energy / step as f64).log10();
                    let theirs = reference.loudness_window(100).unwrap();
                    worst = worst.max((ours_lufs - theirs).abs());
                }
                assert!(worst < 1.0e-9, "{rate} Hz, {channels} ch: {worst} LU");
            }
        }
    }

    /// The response at 1 kHz is the standard's +0.691 dB (so a 1 kHz sine reads its level in
    /// LUFS), 10 kHz is lifted by the shelf's +4 dB and 20 Hz cut by the high-pass.
    #[test]
    fn response_follows_the_standard() {
        let rate = 48_000.0;
        let gain_db = |hz: f64| {
            let n = 48_000 * 2;
            let x: Vec<f32> = (0..n)
                .map(|i| (std::f64::consts::TAU * hz * i as f64 / rate).sin() as f32)
                .collect();
            let mut k = KWeighting::new(rate);
            k.energy(&[&x[..n / 2]], n / 2);
            let e = k.energy(&[&x[n / 2..]], n / 2) / (n / 2) as f64;
            10.0 * (e / 0.5).log10()
        };
        assert!(
            (gain_db(1000.0) - 0.691).abs() < 0.01,
            "{}",
            gain_db(1000.0)
        );
        assert!(
            (gain_db(10_000.0) - 4.0).abs() < 0.1,
            "{}",
            gain_db(10_000.0)
        );
        assert!(gain_db(20.0) < -9.0, "{}", gain_db(20.0));
    }

    /// A NaN clears the channel's state instead of sticking: the next block reads as if the
    /// filter had started there.
    #[test]
    fn a_non_finite_sample_does_not_stick() {
        let x = noise(3, 4800);
        let mut k = KWeighting::new(48_000.0);
        let mut poisoned = x.clone();
        poisoned[100] = f32::NAN;
        assert_eq!(k.energy(&[&poisoned], 4800), 0.0);
        let mut fresh = KWeighting::new(48_000.0);
        assert_eq!(k.energy(&[&x], 4800), fresh.energy(&[&x], 4800));
    }
}
