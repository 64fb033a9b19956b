//! A cascade of stereo biquads over a block: `y = H_k(...H_1(x))`, both channels in lockstep.
//!
//! Each section's recurrence (TDF-II, see `dsp::biquad`) only waits on its own previous state,
//! so successive samples' work overlaps in the CPU and the cost is bound by arithmetic
//! throughput rather than by the chain of latencies. Two kernels, with identical results (the
//! same IEEE operations on every lane, in the same order, no fused multiply-add):
//!
//! - **Grouped** (portable): [`GROUP`] sections make one pass over the block with their
//!   coefficients and states held in locals (registers); a stereo section is one SSE2 register
//!   wide.
//! - **Wavefront** (AVX, detected at run time): sections go in pairs on four lanes
//!   `[A L, A R, B L, B R]`, so one 256-bit instruction advances two sections. `B` needs `A`'s
//!   output of the same sample, so it runs one sample behind: at step `n`, `A` takes sample `n`
//!   and `B` takes `A`'s output of sample `n - 1`, kept from the previous step. With [`PAIRS`]
//!   pairs in a pass, pair `p` takes sample `n - p` and hands `n - p - 1` on; the first and
//!   last `PAIRS` steps of a block advance only the lanes whose sample lies inside it, so
//!   every section sees exactly the block's samples and nothing is delayed across calls.
//! - **Fused wavefront** (AVX and FMA): the same wavefront with fused multiply-adds, 5
//!   arithmetic instructions per step of a pair instead of 9, and one rounding less per
//!   product. Its results differ from the two kernels above in the last bits (it is the more
//!   exact); it matches [`fused_reference`] exactly. The Bark EQ's cascade and the stereo
//!   imager's sections take it where the CPU has FMA.
//! - **Quad wavefront** (AVX-512): the fused wavefront four sections to a register
//!   `[A L, A R, B L, B R, C L, C R, D L, D R]`, each a sample behind the one before it. One
//!   lane rotation (`valignq`) per step hands every section its predecessor's last output and
//!   takes the next section's input in; the same fused operations per lane, so exactly
//!   [`fused_reference`] too, at about twice the sections per instruction. Written by hand for
//!   the measured bottleneck: the Bark EQ was the largest share of the chain's profile.

use crate::dsp::biquad::StereoBiquad;

/// Sections per pass in the grouped kernel: the states of one group stay in registers.
pub const GROUP: usize = 5;
/// Pairs of sections per pass in the wavefront kernel.
pub const PAIRS: usize = 3;

/// Runs the sections `sections[active[0]]`, `sections[active[1]]`, ... in series over `buf` in
/// place (lane 0 = left or mono, lane 1 = right).
pub fn run(sections: &mut [StereoBiquad], active: &[u8], buf: &mut [[f64; 2]]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        // SAFETY: the CPU supports AVX-512 F and DQ, checked just above.
        unsafe { quads::run_fused(sections, active, buf) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if crate::dsp::biquad::has_avx() {
        if has_fma() {
            // SAFETY: the CPU supports AVX and FMA, checked just above.
            unsafe { wavefront::run_fused(sections, active, buf) };
        } else {
            // SAFETY: the CPU supports AVX, checked just above.
            unsafe { wavefront::run(sections, active, buf) };
        }
        return;
    }
    grouped(sections, active, buf);
}

/// Whether the CPU has fused multiply-add (cached by the standard library after the first call).
pub fn has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the CPU has AVX-512 F and DQ (512-bit registers: eight `f64` lanes, fused
/// multiply-add included), for the [`quads`] kernel.
pub fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512dq")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// What the fused wavefront computes, one section after the other in scalar code:
/// `y = fma(b0, v, s1); s1 = fma(-a1, y, fma(b1, v, s2)); s2 = fma(-a2, y, b2 v)`. The
/// reference its tests compare against (slow without hardware FMA).
pub fn fused_reference(sections: &mut [StereoBiquad], active: &[u8], buf: &mut [[f64; 2]]) {
    for &k in active {
        let s = &mut sections[k as usize];
        for x in buf.iter_mut() {
            *x = s.tick_fused(*x);
        }
    }
}

/// The grouped kernel.
pub fn grouped(sections: &mut [StereoBiquad], active: &[u8], buf: &mut [[f64; 2]]) {
    let mut groups = active.chunks_exact(GROUP);
    for g in groups.by_ref() {
        run_group::<GROUP>(sections, g, buf);
    }
    match groups.remainder() {
        [] => {}
        [a] => run_group::<1>(sections, &[*a], buf),
        [a, b] => run_group::<2>(sections, &[*a, *b], buf),
        [a, b, c] => run_group::<3>(sections, &[*a, *b, *c], buf),
        rest => {
            for &k in rest {
                run_group::<1>(sections, &[k], buf);
            }
        }
    }
}

/// `G` sections in series over `buf`, stereo lanes in lockstep, states in locals.
#[inline(always)]
fn run_group<const G: usize>(sections: &mut [StereoBiquad], index: &[u8], buf: &mut [[f64; 2]]) {
    let mut bq: [StereoBiquad; G] = std::array::from_fn(|i| sections[index[i] as usize]);
    for x in buf.iter_mut() {
        let mut v = *x;
        for s in bq.iter_mut() {
            v = s.tick(v);
        }
        *x = v;
    }
    for (i, s) in bq.iter().enumerate() {
        sections[index[i] as usize] = *s;
    }
}

/// The wavefront kernel, in AVX intrinsics.
#[cfg(target_arch = "x86_64")]
pub mod wavefront {
    use super::PAIRS;
    use crate::dsp::biquad::{DualBiquad, LaneBiquad, StereoBiquad};
    use std::arch::x86_64::*;

    /// The wavefront kernel over all `active` sections, in as few passes of at most [`PAIRS`]
    /// pairs as possible, of balanced sizes (a pass costs at least its recurrence's latency,
    /// however few sections it holds). An odd last section is paired with an identity section
    /// (`y = 1 x + 0` exactly, its states stay 0).
    ///
    /// # Safety
    /// The CPU must support AVX.
    #[target_feature(enable = "avx")]
    pub unsafe fn run(sections: &mut [StereoBiquad], active: &[u8], buf: &mut [[f64; 2]]) {
        run_passes::<false>(sections, active, buf)
    }

    /// [`run`] with fused multiply-adds: exactly [`super::fused_reference`].
    ///
    /// # Safety
    /// The CPU must support AVX and FMA.
    #[target_feature(enable = "avx,fma")]
    pub unsafe fn run_fused(sections: &mut [StereoBiquad], active: &[u8], buf: &mut [[f64; 2]]) {
        run_passes::<true>(sections, active, buf)
    }

    #[inline(always)]
    unsafe fn run_passes<const F: bool>(
        sections: &mut [StereoBiquad],
        active: &[u8],
        buf: &mut [[f64; 2]],
    ) {
        let pairs = active.len().div_ceil(2);
        let passes = pairs.div_ceil(PAIRS);
        let mut done = 0;
        for pass in 0..passes {
            let size = (pairs - done).div_ceil(passes - pass);
            let index = &active[2 * done..(2 * (done + size)).min(active.len())];
            match size {
                1 => run_pairs::<1, F>(sections, index, buf),
                2 => run_pairs::<2, F>(sections, index, buf),
                3 => run_pairs::<3, F>(sections, index, buf),
                _ => run_pairs::<PAIRS, F>(sections, index, buf),
            }
            done += size;
        }
    }

    /// One pair of sections in registers: coefficients `[b0, b1, b2, a1, a2]` and states
    /// `[s1, s2]`, lanes `[A L, A R, B L, B R]`.
    #[derive(Clone, Copy)]
    struct Pair {
        c: [__m256d; 5],
        s: [__m256d; 2],
    }

    impl Pair {
        /// One step of all four lanes, as `StereoBiquad::tick`:
        /// `y = b0 v + s1; s1 = (b1 v + s2) - a1 y; s2 = b2 v - a2 y`; with `F`, fused as
        /// [`super::fused_reference`] (callers then enable FMA).
        #[inline(always)]
        unsafe fn tick<const F: bool>(&mut self, v: __m256d) -> __m256d {
            let [b0, b1, b2, a1, a2] = self.c;
            if F {
                let y = _mm256_fmadd_pd(b0, v, self.s[0]);
                let t = _mm256_fmadd_pd(b1, v, self.s[1]);
                self.s[0] = _mm256_fnmadd_pd(a1, y, t);
                self.s[1] = _mm256_fnmadd_pd(a2, y, _mm256_mul_pd(b2, v));
                return y;
            }
            let y = _mm256_add_pd(_mm256_mul_pd(b0, v), self.s[0]);
            let s1 = _mm256_add_pd(_mm256_mul_pd(b1, v), self.s[1]);
            self.s[0] = _mm256_sub_pd(s1, _mm256_mul_pd(a1, y));
            self.s[1] = _mm256_sub_pd(_mm256_mul_pd(b2, v), _mm256_mul_pd(a2, y));
            y
        }
    }

    /// `[x L, x R, c L, c R]`.
    #[inline(always)]
    unsafe fn join(x: __m128d, c: __m128d) -> __m256d {
        _mm256_insertf128_pd(_mm256_castpd128_pd256(x), c, 1)
    }

    /// `P` pairs of sections (`index` holds `2 P` section numbers in cascade order, or `2 P - 1`
    /// and an identity section ends the cascade) over `buf`.
    #[inline(always)]
    unsafe fn run_pairs<const P: usize, const F: bool>(
        sections: &mut [StereoBiquad],
        index: &[u8],
        buf: &mut [[f64; 2]],
    ) {
        let section = |sections: &[StereoBiquad], i: usize| {
            index
                .get(i)
                .map_or(StereoBiquad::default(), |&k| sections[k as usize])
        };
        let mut lanes: [LaneBiquad<4>; P] = std::array::from_fn(|p| {
            LaneBiquad::from_pair(&section(sections, 2 * p), &section(sections, 2 * p + 1))
        });
        run_lanes::<P, F>(&mut lanes, buf);
        for (p, l) in lanes.iter().enumerate() {
            let (mut a, mut b) = (section(sections, 2 * p), section(sections, 2 * p + 1));
            l.store_pair(&mut a, &mut b);
            for (i, v) in [(2 * p, a), (2 * p + 1, b)] {
                if let Some(&k) = index.get(i) {
                    sections[k as usize] = v;
                }
            }
        }
    }

    /// Four dual sections in series over the lane pair `buf` (`[M, S]` for the stereo imager),
    /// as [`crate::dsp::biquad::run_dual_cascade`] computes them, in two pairs. The states are
    /// not flushed of denormals.
    ///
    /// # Safety
    /// The CPU must support AVX.
    #[target_feature(enable = "avx")]
    pub unsafe fn run_duals(sections: &mut [DualBiquad; 4], buf: &mut [[f64; 2]]) {
        let [s0, s1, s2, s3] = sections;
        let mut lanes = [
            LaneBiquad::from_duals(s0, s1),
            LaneBiquad::from_duals(s2, s3),
        ];
        run_lanes::<2, false>(&mut lanes, buf);
        lanes[0].store_duals(s0, s1);
        lanes[1].store_duals(s2, s3);
    }

    /// [`run_duals`] with fused multiply-adds: exactly
    /// [`crate::dsp::biquad::run_dual_cascade_fused`].
    ///
    /// # Safety
    /// The CPU must support AVX and FMA.
    #[target_feature(enable = "avx,fma")]
    pub unsafe fn run_duals_fused(sections: &mut [DualBiquad; 4], buf: &mut [[f64; 2]]) {
        let [s0, s1, s2, s3] = sections;
        let mut lanes = [
            LaneBiquad::from_duals(s0, s1),
            LaneBiquad::from_duals(s2, s3),
        ];
        run_lanes::<2, true>(&mut lanes, buf);
        lanes[0].store_duals(s0, s1);
        lanes[1].store_duals(s2, s3);
    }

    /// The wavefront over `P` pairs of sections in series (lanes `[A 0, A 1, B 0, B 1]`, `A`
    /// before `B`, pair `p` before pair `p + 1`); the states are updated in `lanes`.
    #[inline(always)]
    unsafe fn run_lanes<const P: usize, const F: bool>(
        lanes: &mut [LaneBiquad<4>; P],
        buf: &mut [[f64; 2]],
    ) {
        let mut q: [Pair; P] = std::array::from_fn(|p| {
            let (c, s) = lanes[p].parts();
            Pair {
                c: c.map(|v| _mm256_loadu_pd(v.as_ptr())),
                s: s.map(|v| _mm256_loadu_pd(v.as_ptr())),
            }
        });
        let len = buf.len();
        // carry[p]: pair p's A output at the previous step, the input of its B lanes.
        let mut carry = [_mm_setzero_pd(); P];
        for n in 0..P {
            edge_step::<P, F>(&mut q, &mut carry, buf, n);
        }
        for n in P..len {
            let mut x = _mm_loadu_pd(buf[n].as_ptr());
            for (pair, c) in q.iter_mut().zip(carry.iter_mut()) {
                let y = pair.tick::<F>(join(x, *c));
                *c = _mm256_castpd256_pd128(y);
                x = _mm256_extractf128_pd(y, 1);
            }
            _mm_storeu_pd(buf[n - P].as_mut_ptr(), x);
        }
        for n in len.max(P)..len + P {
            edge_step::<P, F>(&mut q, &mut carry, buf, n);
        }
        for (pair, l) in q.iter().zip(lanes.iter_mut()) {
            let mut s = [[0.0f64; 4]; 2];
            _mm256_storeu_pd(s[0].as_mut_ptr(), pair.s[0]);
            _mm256_storeu_pd(s[1].as_mut_ptr(), pair.s[1]);
            l.set_states(s);
        }
    }

    /// Step `n` at the edges of the block: lanes whose sample (`n - p` for pair `p`'s A,
    /// `n - p - 1` for its B) lies outside the block keep their states.
    #[inline(always)]
    unsafe fn edge_step<const P: usize, const F: bool>(
        q: &mut [Pair; P],
        carry: &mut [__m128d; P],
        buf: &mut [[f64; 2]],
        n: usize,
    ) {
        let len = buf.len();
        let inside = |k: usize, back: usize| k >= back && k - back < len;
        let mut x = if n < len {
            _mm_loadu_pd(buf[n].as_ptr())
        } else {
            _mm_setzero_pd()
        };
        for (p, (pair, c)) in q.iter_mut().zip(carry.iter_mut()).enumerate() {
            let (a, b) = (inside(n, p), inside(n, p + 1));
            let old = pair.s;
            let y = pair.tick::<F>(join(x, *c));
            let (ma, mb) = (-(a as i64), -(b as i64));
            let live = _mm256_castsi256_pd(_mm256_set_epi64x(mb, mb, ma, ma));
            for (s, o) in pair.s.iter_mut().zip(old) {
                *s = _mm256_blendv_pd(o, *s, live);
            }
            if a {
                *c = _mm256_castpd256_pd128(y);
            }
            x = _mm256_extractf128_pd(y, 1);
        }
        if inside(n, P) {
            _mm_storeu_pd(buf[n - P].as_mut_ptr(), x);
        }
    }
}

/// The quad wavefront kernel, in AVX-512 intrinsics.
#[cfg(target_arch = "x86_64")]
pub mod quads {
    use crate::dsp::biquad::{LaneBiquad, StereoBiquad};
    use std::arch::x86_64::*;

    /// Quads of sections per pass: with three or more in flight, a step is bound by arithmetic
    /// throughput rather than by one quad's recurrence latency.
    pub const QUADS: usize = 4;

    /// The quad wavefront over all `active` sections, in as few passes of at most [`QUADS`]
    /// quads as possible, of balanced sizes; a last quad short of sections is filled with
    /// identity sections (`y = 1 x + 0` exactly, their states stay 0). Exactly
    /// [`super::fused_reference`].
    ///
    /// # Safety
    /// The CPU must support AVX-512 F and DQ.
    #[target_feature(enable = "avx512f,avx512dq")]
    pub unsafe fn run_fused(sections: &mut [StereoBiquad], active: &[u8], buf: &mut [[f64; 2]]) {
        let quads = active.len().div_ceil(4);
        let passes = quads.div_ceil(QUADS);
        let mut done = 0;
        for pass in 0..passes {
            let size = (quads - done).div_ceil(passes - pass);
            let index = &active[4 * done..(4 * (done + size)).min(active.len())];
            match size {
                1 => run_quads::<1>(sections, index, buf),
                2 => run_quads::<2>(sections, index, buf),
                3 => run_quads::<3>(sections, index, buf),
                _ => run_quads::<QUADS>(sections, index, buf),
            }
            done += size;
        }
    }

    /// One quad of sections in registers: coefficients `[b0, b1, b2, a1, a2]`, states
    /// `[s1, s2]` and the outputs of the previous step, lanes `[A L, A R, ..., D L, D R]`.
    #[derive(Clone, Copy)]
    struct Quad {
        c: [__m512d; 5],
        s: [__m512d; 2],
        prev: __m512d,
    }

    impl Quad {
        /// One step: section `A` takes lanes 6-7 of `x` (the sample coming in), `B`, `C`, `D`
        /// the previous outputs of `A`, `B`, `C`; then the fused tick of
        /// [`super::fused_reference`] on every lane.
        #[inline(always)]
        unsafe fn step(&mut self, x: __m512d) -> __m512d {
            let v = _mm512_castsi512_pd(_mm512_alignr_epi64::<6>(
                _mm512_castpd_si512(self.prev),
                _mm512_castpd_si512(x),
            ));
            let [b0, b1, b2, a1, a2] = self.c;
            let y = _mm512_fmadd_pd(b0, v, self.s[0]);
            let t = _mm512_fmadd_pd(b1, v, self.s[1]);
            self.s[0] = _mm512_fnmadd_pd(a1, y, t);
            self.s[1] = _mm512_fnmadd_pd(a2, y, _mm512_mul_pd(b2, v));
            self.prev = y;
            y
        }
    }

    /// `P` quads of sections (`index` holds up to `4 P` section numbers in cascade order) over
    /// `buf`. Quad `p`'s section `j` takes sample `n - 3 p - j` at step `n`: `D`'s output is
    /// the next quad's `A` input in the same step, so the last output leaves `3 P` steps late.
    #[inline(always)]
    unsafe fn run_quads<const P: usize>(
        sections: &mut [StereoBiquad],
        index: &[u8],
        buf: &mut [[f64; 2]],
    ) {
        let section = |sections: &[StereoBiquad], i: usize| {
            index
                .get(i)
                .map_or(StereoBiquad::default(), |&k| sections[k as usize])
        };
        let mut q: [Quad; P] = std::array::from_fn(|p| {
            let lanes =
                LaneBiquad::from_quad(&std::array::from_fn(|j| section(sections, 4 * p + j)));
            let (c, s) = lanes.parts();
            Quad {
                c: c.map(|v| _mm512_loadu_pd(v.as_ptr())),
                s: s.map(|v| _mm512_loadu_pd(v.as_ptr())),
                prev: _mm512_setzero_pd(),
            }
        });
        let delay = 3 * P;
        let len = buf.len();
        for n in 0..delay {
            edge_step(&mut q, buf, n);
        }
        for n in delay..len {
            let mut x = _mm512_broadcast_f64x2(_mm_loadu_pd(buf[n].as_ptr()));
            for quad in q.iter_mut() {
                x = quad.step(x);
            }
            _mm_storeu_pd(buf[n - delay].as_mut_ptr(), _mm512_extractf64x2_pd::<3>(x));
        }
        for n in len.max(delay)..len + delay {
            edge_step(&mut q, buf, n);
        }
        for (p, quad) in q.iter().enumerate() {
            let mut quad_sections: [StereoBiquad; 4] =
                std::array::from_fn(|j| section(sections, 4 * p + j));
            let mut states = [[0.0f64; 8]; 2];
            _mm512_storeu_pd(states[0].as_mut_ptr(), quad.s[0]);
            _mm512_storeu_pd(states[1].as_mut_ptr(), quad.s[1]);
            let mut lanes = LaneBiquad::from_quad(&quad_sections);
            lanes.set_states(states);
            lanes.store_quad(&mut quad_sections);
            for (j, s) in quad_sections.into_iter().enumerate() {
                if let Some(&k) = index.get(4 * p + j) {
                    sections[k as usize] = s;
                }
            }
        }
    }

    /// Step `n` at the edges of the block: lanes whose sample lies outside the block keep
    /// their states. Their outputs only ever reach lanes of the same sample, outside too.
    #[inline(always)]
    unsafe fn edge_step<const P: usize>(q: &mut [Quad; P], buf: &mut [[f64; 2]], n: usize) {
        let len = buf.len();
        let inside = |back: usize| n >= back && n - back < len;
        let mut x = if n < len {
            _mm512_broadcast_f64x2(_mm_loadu_pd(buf[n].as_ptr()))
        } else {
            _mm512_setzero_pd()
        };
        for (p, quad) in q.iter_mut().enumerate() {
            let live = (0..4).fold(0u8, |m, j| {
                if inside(3 * p + j) {
                    m | (3 << (2 * j))
                } else {
                    m
                }
            });
            let old = quad.s;
            x = quad.step(x);
            for (s, o) in quad.s.iter_mut().zip(old) {
                *s = _mm512_mask_blend_pd(live, o, *s);
            }
        }
        if inside(3 * P) {
            _mm_storeu_pd(buf[n - 3 * P].as_mut_ptr(), _mm512_extractf64x2_pd::<3>(x));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::biquad::BiquadCoeffs;

    /// Both kernels, any number of sections, any block split: bit-identical.
    #[test]
    fn wavefront_and_grouped_kernels_agree_exactly() {
        #[cfg(target_arch = "x86_64")]
        {
            if !crate::dsp::biquad::has_avx() {
                return;
            }
            let fs = 48_000.0;
            let all: Vec<StereoBiquad> = (0..13)
                .map(|k| {
                    let f = 40.0 * 1.6f64.powi(k);
                    let g = if k % 2 == 0 { 4.0 } else { -3.0 };
                    StereoBiquad::new(BiquadCoeffs::peak(f, 1.2, g, fs))
                })
                .collect();
            let input: Vec<[f64; 2]> = (0..1_000)
                .map(|i| {
                    let v = ((i * 7919 % 1013) as f64 / 1013.0 - 0.5) * 0.8;
                    [v, -0.6 * v + 0.1]
                })
                .collect();
            for count in 0..=all.len() {
                let active: Vec<u8> = (0..count as u8).collect();
                for block in [1, 2, 3, 7, 32, 512] {
                    let (mut a, mut b) = (all.clone(), all.clone());
                    let (mut x, mut y) = (input.clone(), input.clone());
                    for (cx, cy) in x.chunks_mut(block).zip(y.chunks_mut(block)) {
                        grouped(&mut a, &active, cx);
                        // SAFETY: AVX is supported, checked above.
                        unsafe { wavefront::run(&mut b, &active, cy) };
                    }
                    assert_eq!(x, y, "{count} sections, block {block}");
                }
            }
        }
    }

    /// The fused wavefront, any number of sections, any block split: exactly the scalar fused
    /// reference, and within 1e-12 of the unfused kernel (the rounding of the products).
    #[test]
    fn fused_wavefront_matches_its_scalar_reference_exactly() {
        #[cfg(target_arch = "x86_64")]
        {
            if !(crate::dsp::biquad::has_avx() && has_fma()) {
                return;
            }
            let fs = 44_100.0;
            let all: Vec<StereoBiquad> = (0..25)
                .map(|k| {
                    let f = 30.0 * 1.3f64.powi(k);
                    let g = if k % 3 == 0 { 5.0 } else { -2.5 };
                    StereoBiquad::new(BiquadCoeffs::peak(f, 0.9, g, fs))
                })
                .collect();
            let input: Vec<[f64; 2]> = (0..2_000)
                .map(|i| {
                    let v = ((i * 7919 % 1013) as f64 / 1013.0 - 0.5) * 0.8;
                    [v, 0.3 * v - 0.2]
                })
                .collect();
            for count in [0, 1, 2, 5, 6, 7, 12, 13, 25] {
                let active: Vec<u8> = (0..count as u8).collect();
                for block in [1, 3, 64, 512] {
                    let (mut a, mut b, mut c) = (all.clone(), all.clone(), all.clone());
                    let (mut x, mut y, mut z) = (input.clone(), input.clone(), input.clone());
                    for ((cx, cy), cz) in x
                        .chunks_mut(block)
                        .zip(y.chunks_mut(block))
                        .zip(z.chunks_mut(block))
                    {
                        fused_reference(&mut a, &active, cx);
                        // SAFETY: AVX and FMA are supported, checked above.
                        unsafe { wavefront::run_fused(&mut b, &active, cy) };
                        grouped(&mut c, &active, cz);
                    }
                    assert_eq!(x, y, "{count} sections, block {block}");
                    let worst = x
                        .iter()
                        .zip(&z)
                        .flat_map(|(p, q)| [(p[0] - q[0]).abs(), (p[1] - q[1]).abs()])
                        .fold(0.0f64, f64::max);
                    assert!(worst < 1e-12, "{count} sections: {worst}");
                    if count > 0 {
                        assert!(x != input, "the sections must change the signal");
                    }
                }
            }
        }
    }

    /// The quad kernel, any number of sections (one to four quads a pass, one to several
    /// passes, a last quad short of sections) and any block split, shorter than its delay
    /// too: exactly the scalar fused reference.
    #[test]
    fn quad_wavefront_matches_the_fused_reference_exactly() {
        #[cfg(target_arch = "x86_64")]
        {
            if !has_avx512() {
                return;
            }
            let fs = 48_000.0;
            let all: Vec<StereoBiquad> = (0..25)
                .map(|k| {
                    let f = 25.0 * 1.33f64.powi(k);
                    let g = if k % 2 == 0 { 6.0 } else { -4.0 };
                    StereoBiquad::new(BiquadCoeffs::peak(f, 1.1, g, fs))
                })
                .collect();
            let input: Vec<[f64; 2]> = (0..1_500)
                .map(|i| {
                    let v = ((i * 7919 % 1013) as f64 / 1013.0 - 0.5) * 0.9;
                    [v, 0.4 - 0.7 * v]
                })
                .collect();
            for count in [0, 1, 3, 4, 5, 8, 11, 12, 15, 16, 17, 20, 24, 25] {
                let active: Vec<u8> = (0..count as u8).rev().collect();
                for block in [1, 2, 5, 12, 13, 100, 512] {
                    let (mut a, mut b) = (all.clone(), all.clone());
                    let (mut x, mut y) = (input.clone(), input.clone());
                    for (cx, cy) in x.chunks_mut(block).zip(y.chunks_mut(block)) {
                        fused_reference(&mut a, &active, cx);
                        // SAFETY: AVX-512 F and DQ are supported, checked above.
                        unsafe { quads::run_fused(&mut b, &active, cy) };
                    }
                    assert_eq!(x, y, "{count} sections, block {block}");
                    if count > 0 {
                        assert!(x != input, "the sections must change the signal");
                    }
                }
            }
        }
    }
}
